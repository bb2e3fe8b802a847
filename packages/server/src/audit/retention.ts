/**
 * The retention job (R7): audit is kept `retentionMonths` whole months, then dropped a month
 * partition at a time, never row by row. The drop and its own AuditEvent commit in one
 * transaction, so a retention run is never unaudited; a failed run is audited as a failure.
 * Each run also creates the partitions of the coming months and forgets expired export jobs.
 */
import type { AuditRecord } from '@nir/core';
import { monthStart } from '@nir/store';
import type { AuditService } from './service.ts';

/** The identifier system of dropped partitions named by a retention event. */
export const AUDIT_PARTITION_SYSTEM = 'https://fhir.nir.nhs.uk/Id/audit-partition';

/** Months of partitions kept ready ahead of the current month. */
export const PARTITIONS_AHEAD = 3;

/** What one retention run did. */
export interface RetentionReport {
  cutoff: string;
  dropped: string[];
  created: string[];
  purgedJobs: number;
}

function retentionRecord(service: AuditService, months: number, cutoff: Date): AuditRecord {
  return {
    recorded: new Date().toISOString(),
    kind: { subtype: 'audit-retention', action: 'D' },
    status: 200,
    client: {
      clientId: 'nir-registry',
      name: 'National Imaging Registry audit retention job',
      verified: true,
    },
    serverUrl: service.publicUrl,
    patients: [],
    pointers: [],
    custodians: [],
    description: `Retention ${months} months: partitions ending on or before ${cutoff.toISOString()} dropped`,
  };
}

/** Runs retention once, for `now`. */
export async function runAuditRetention(
  service: AuditService,
  retentionMonths: number,
  now: Date = new Date(),
): Promise<RetentionReport> {
  const cutoff = monthStart(now, -retentionMonths);
  const created = await service.store.ensurePartitions(now, PARTITIONS_AHEAD);
  const base = retentionRecord(service, retentionMonths, cutoff);
  let dropped: string[] = [];
  try {
    dropped = await service.store.transaction(async (trx) => {
      const names = await service.store.dropPartitionsBefore(cutoff, trx);
      if (names.length > 0) {
        await service.recordWithin(
          { ...base, objects: names.map((value) => ({ system: AUDIT_PARTITION_SYSTEM, value })) },
          trx,
        );
      }
      return names;
    });
  } catch (error) {
    await service.record({
      ...base,
      status: 500,
      failure: {
        code: 'INTERNAL_SERVER_ERROR',
        diagnostics: `Retention failed: ${(error as Error).message}`,
      },
    });
    throw error;
  }
  const purgedJobs = await service.jobs.purgeExpired(now);
  return { cutoff: cutoff.toISOString(), dropped, created, purgedJobs };
}
