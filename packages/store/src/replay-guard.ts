/**
 * Remembers every client assertion `jti` until its assertion expires (R18; SMART Backend
 * Services: a reused jti is refused). Kept in the database so that a replay is refused after a
 * restart and on every other server instance.
 */
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

/** Single-use claim of assertion ids. */
export class ReplayGuard {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  /**
   * Claims `jti` for `clientId` until `expiresAt`. Returns false when it was already claimed
   * (a replay). The unique key makes this atomic across instances.
   */
  async claim(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('client_assertion_jti')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .returning('jti')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** Forgets ids whose assertions have expired (they can no longer be replayed). Returns how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const result = await this.#db
      .deleteFrom('client_assertion_jti')
      .where('expires_at', '<', sql<Date>`${now.toISOString()}::timestamptz`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
