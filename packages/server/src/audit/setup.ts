/**
 * Wiring of the audit trail for the composition root: the store, the group-commit writer, the
 * export jobs and the custody port, and the daily job that keeps partitions ready and applies
 * retention.
 */
import type { BatchReport, CatalogueRepository, CustodyCheck, Store } from '@nir/store';
import { AuditExportJobs, AuditStore, GroupCommitWriter, pointerTableCustody } from '@nir/store';
import type { Logger } from 'pino';
import type { AccessTokens } from '../auth/access-token.ts';
import type { ResilienceCounters } from '../resilience/counters.ts';
import { PARTITIONS_AHEAD, runAuditRetention } from './retention.ts';
import { AuditService } from './service.ts';

/** What the audit trail is built from. */
export interface AuditSetup {
  store: Store;
  tokens: AccessTokens;
  catalogue: CatalogueRepository;
  publicUrl: string;
  logger: Logger;
  serverAsid?: string | undefined;
  batchEvents?: number | undefined;
  /** Benchmarks only: the group-commit writer drops its batches (see `ServerConfig.auditDiscard`). */
  discard?: boolean | undefined;
  /**
   * R9: does an organisation hold pointers for a patient? Defaults to a query of the `pointer`
   * table; the pointer store may provide its own.
   */
  custody?: CustodyCheck | undefined;
  /** Issue 14: counters of protective refusals (503s, shed load, cut streams, rate limits). */
  counters?: ResilienceCounters | undefined;
  /** R17: maintain the service-review rollup with the events (default true; benchmarks may turn it off). */
  rollup?: boolean | undefined;
  /** R16: told of every group-commit batch (metrics). */
  onBatch?: ((batch: BatchReport) => void) | undefined;
}

/** Builds the audit service and creates the partitions of this month and the next ones. */
export async function createAuditService(setup: AuditSetup): Promise<AuditService> {
  const store = new AuditStore(setup.store.db, { rollup: setup.rollup ?? true });
  await store.ensurePartitions(new Date(), PARTITIONS_AHEAD);
  return new AuditService({
    store,
    writer: new GroupCommitWriter(setup.discard ? async () => undefined : (events) => store.insert(events), {
      maxBatchEvents: setup.batchEvents ?? 1000,
      onBatch: setup.onBatch,
    }),
    jobs: new AuditExportJobs(setup.store.db),
    custody: setup.custody ?? pointerTableCustody(setup.store.db),
    tokens: setup.tokens,
    catalogue: setup.catalogue,
    publicUrl: setup.publicUrl,
    serverAsid: setup.serverAsid,
    logger: setup.logger,
    counters: setup.counters,
  });
}

/** How often partitions are prepared and retention applied. */
export const AUDIT_MAINTENANCE_INTERVAL_MS = 6 * 3600_000;

/** Runs audit maintenance now (in the background) and every few hours; returns the timer. */
export function scheduleAuditMaintenance(service: AuditService, retentionMonths: number): NodeJS.Timeout {
  const run = () => {
    runAuditRetention(service, retentionMonths)
      .then((report) => {
        if (report.dropped.length > 0)
          service.logger.info(report, 'audit retention dropped expired partitions');
      })
      .catch((error: unknown) => service.logger.error({ err: error }, 'audit maintenance failed'));
  };
  setImmediate(run);
  const timer = setInterval(run, AUDIT_MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return timer;
}
