/**
 * Bulk export jobs of the audit API (FHIR Bulk Data): kept in the database so that any
 * instance can answer a poll, serve a file or cancel. A job holds its query only; its files
 * are streamed from `audit_event` when downloaded.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AuditExportJobTable, DatabaseSchema } from './schema.ts';
import { isoTimestamp } from './schema.ts';

/** One export job. */
export interface AuditExportJob {
  id: string;
  /** The organisation that asked: the export holds what it may see (R8). */
  odsCode: string;
  clientId: string;
  /** The kick-off request URL (Bulk Data manifest `request`). */
  requestUrl: string;
  /** `_since`, when given. */
  since: string | undefined;
  /** Events recorded before this instant are exported (manifest `transactionTime`). */
  transactionTime: string;
  status: 'active' | 'cancelled';
  createdAt: string;
  expiresAt: string;
}

/** What a new job needs. */
export type NewAuditExportJob = Omit<AuditExportJob, 'status' | 'createdAt'>;

function toJob(row: Selectable<AuditExportJobTable>): AuditExportJob {
  return {
    id: row.id,
    odsCode: row.ods_code,
    clientId: row.client_id,
    requestUrl: row.request_url,
    since: row.since === null ? undefined : isoTimestamp(row.since),
    transactionTime: isoTimestamp(row.transaction_time),
    status: row.status === 'cancelled' ? 'cancelled' : 'active',
    createdAt: isoTimestamp(row.created_at),
    expiresAt: isoTimestamp(row.expires_at),
  };
}

/** Creates, reads and cancels export jobs. */
export class AuditExportJobs {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async create(job: NewAuditExportJob): Promise<AuditExportJob> {
    const row = await this.#db
      .insertInto('audit_export_job')
      .values({
        id: job.id,
        ods_code: job.odsCode,
        client_id: job.clientId,
        request_url: job.requestUrl,
        since: job.since ?? null,
        transaction_time: job.transactionTime,
        status: 'active',
        created_at: new Date(),
        expires_at: job.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toJob(row);
  }

  async get(id: string): Promise<AuditExportJob | undefined> {
    const row = await this.#db
      .selectFrom('audit_export_job')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toJob(row);
  }

  /** Marks a job cancelled; returns false when there was no active job. */
  async cancel(id: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('audit_export_job')
      .set({ status: 'cancelled' })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Forgets jobs that expired before `now`. Returns how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const result = await this.#db
      .deleteFrom('audit_export_job')
      .where('expires_at', '<', now.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
