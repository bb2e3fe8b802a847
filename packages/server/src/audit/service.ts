/**
 * The audit trail's server side in one object: turns records into BALP/PARS events and writes
 * them, through the group-commit writer (reads, searches, refusals) or inside a caller's
 * transaction (writes). Everything the audit middleware, the audit API and the retention job
 * share.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { type AuditRecord, toAuditEvents } from '@nir/core';
import type {
  AuditExecutor,
  AuditExportJobs,
  AuditStore,
  CatalogueRepository,
  CustodyCheck,
  GroupCommitWriter,
} from '@nir/store';
import type { Logger } from 'pino';
import type { AccessTokens } from '../auth/access-token.ts';
import { ResilienceCounters } from '../resilience/counters.ts';
import { DeferredAudit } from '../resilience/deferred-audit.ts';

/** What the audit trail needs. */
export interface AuditServiceDeps {
  store: AuditStore;
  writer: GroupCommitWriter;
  jobs: AuditExportJobs;
  /** R9: does an organisation hold pointers for a patient (subject access requests)? */
  custody: CustodyCheck;
  /** Re-reads a refused request's token, to name its user and client (best effort). */
  tokens: AccessTokens;
  catalogue: CatalogueRepository;
  publicUrl: string;
  /** The registry's ASID (PARS `source.observer`), when it has one. */
  serverAsid?: string | undefined;
  logger: Logger;
  /** Counters of protective refusals (a fresh set when not given). */
  counters?: ResilienceCounters | undefined;
}

/** Records audit events for the whole server. */
export class AuditService {
  readonly store: AuditStore;
  readonly writer: GroupCommitWriter;
  readonly jobs: AuditExportJobs;
  readonly custody: CustodyCheck;
  readonly tokens: AccessTokens;
  readonly catalogue: CatalogueRepository;
  readonly publicUrl: string;
  readonly serverAsid: string | undefined;
  readonly logger: Logger;
  readonly counters: ResilienceCounters;
  /** Failure events kept while the database is away, written when it answers again. */
  readonly deferred: DeferredAudit;

  constructor(deps: AuditServiceDeps) {
    this.store = deps.store;
    this.writer = deps.writer;
    this.jobs = deps.jobs;
    this.custody = deps.custody;
    this.tokens = deps.tokens;
    this.catalogue = deps.catalogue;
    this.publicUrl = deps.publicUrl;
    this.serverAsid = deps.serverAsid;
    this.logger = deps.logger;
    this.counters = deps.counters ?? new ResilienceCounters();
    this.deferred = new DeferredAudit({
      write: (events) => this.writer.record(events),
      logger: deps.logger,
      counters: this.counters,
    });
  }

  /** The events of `record`, with the registry's ASID. */
  events(record: AuditRecord): AuditEvent[] {
    return toAuditEvents(this.serverAsid ? { ...record, serverAsid: this.serverAsid } : record);
  }

  /** Writes `record`'s events by group commit; resolves once they are committed. */
  async record(record: AuditRecord): Promise<AuditEvent[]> {
    const events = this.events(record);
    await this.writer.record(events);
    return events;
  }

  /** Writes `record`'s events inside `executor` (a transaction): they commit or roll back with it. */
  async recordWithin(record: AuditRecord, executor: AuditExecutor): Promise<AuditEvent[]> {
    const events = this.events(record);
    await this.store.insert(events, executor);
    return events;
  }
}
