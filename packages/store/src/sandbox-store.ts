/**
 * The conformance sandbox's database side (R15, migrations/0009_sandbox.sql): the permanent
 * mark that makes a database a sandbox, and the operator's reset of one supplier's sandbox data
 * and audit. The audit trail and the pointer history stay immutable everywhere else: the
 * triggers let a reset delete only in a marked database, inside the reset's own transaction.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { type Kysely, sql } from 'kysely';
import { AuditStore } from './audit-store.ts';
import type { DatabaseSchema } from './schema.ts';

type Db = Kysely<DatabaseSchema>;

/** What a sandbox reset removed. */
export interface SandboxResetResult {
  pointers: number;
  historyRows: number;
  auditEvents: number;
}

/** Reads and writes the sandbox mark; resets a supplier's sandbox data. */
export class SandboxStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** True when the database is a sandbox. */
  async isMarked(): Promise<boolean> {
    const { rows } = await sql<{ marked: boolean }>`
      SELECT EXISTS (SELECT 1 FROM sandbox_registry) AS marked`.execute(this.#db);
    return rows[0]?.marked === true;
  }

  /**
   * Marks the database as a sandbox (once; a no-op when marked). The database refuses when it
   * has ever held a pointer: a production database can never become a sandbox.
   */
  async mark(): Promise<void> {
    await sql`INSERT INTO sandbox_registry DEFAULT VALUES ON CONFLICT (only_row) DO NOTHING`.execute(
      this.#db,
    );
  }

  /**
   * Removes everything `clientId` wrote and everything the audit trail holds of it: the
   * pointers it created (live rows, locator rows, history) and the AuditEvents naming it as the
   * client. `record` (the reset's own AuditEvents) commits in the same transaction, so a reset
   * is never unaudited. Refused by the database unless it is a sandbox.
   */
  async reset(clientId: string, record: readonly AuditEvent[] = []): Promise<SandboxResetResult> {
    return this.#db.transaction().execute(async (trx) => {
      if (!(await new SandboxStore(trx).isMarked())) {
        throw new Error('this database is not a sandbox: its audit and pointer history are immutable');
      }
      // SET LOCAL, not set_config(): Citus passes SET LOCAL on to the workers, where the
      // triggers that read it run (migrations/citus).
      await sql`SET LOCAL nir.sandbox_reset = 'on'`.execute(trx);
      const ids = (
        await trx
          .selectFrom('pointer_history')
          .select('id')
          .distinct()
          .where('client_id', '=', clientId)
          .execute()
      ).map((row) => row.id);
      let pointers = 0;
      let historyRows = 0;
      if (ids.length > 0) {
        const located = await trx
          .selectFrom('pointer_locator')
          .select(['id', 'nhs_number'])
          .where('id', 'in', ids)
          .execute();
        for (const row of located) {
          const removed = await trx
            .deleteFrom('pointer')
            .where('nhs_number', '=', row.nhs_number)
            .where('id', '=', row.id)
            .executeTakeFirst();
          pointers += Number(removed.numDeletedRows);
        }
        await trx.deleteFrom('pointer_locator').where('id', 'in', ids).execute();
        const history = await trx.deleteFrom('pointer_history').where('id', 'in', ids).executeTakeFirst();
        historyRows = Number(history.numDeletedRows);
      }
      const audit = await trx.deleteFrom('audit_event').where('client_id', '=', clientId).executeTakeFirst();
      await new AuditStore(trx).insert(record, trx);
      return { pointers, historyRows, auditEvents: Number(audit.numDeletedRows) };
    });
  }
}
