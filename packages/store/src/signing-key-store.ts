/**
 * The registry's access-token signing keys. Exactly one key is active (signs new tokens);
 * retired keys stay published until `retired_at` + the longest token lifetime, so tokens they
 * signed keep verifying while a rotation happens (no downtime).
 *
 * The private key lives in the database so that every instance signs with the same key.
 * A production deployment would hold it in an HSM or KMS instead; see docs/ARCHITECTURE.md.
 */
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { isoTimestamp } from './schema.ts';

/** One stored signing key. */
export interface StoredSigningKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
  createdAt: string;
  retiredAt: string | null;
}

/** Reads and rotates signing keys. */
export class SigningKeyStore {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  /** Keys that are active, or retired less than `graceSeconds` ago (still verify tokens). */
  async listPublishable(graceSeconds: number): Promise<StoredSigningKey[]> {
    return this.#list(graceSeconds);
  }

  /** Every key ever made, newest first (for operators; includes long-retired keys). */
  async listAll(): Promise<StoredSigningKey[]> {
    return this.#list(undefined);
  }

  async #list(graceSeconds: number | undefined): Promise<StoredSigningKey[]> {
    let query = this.#db.selectFrom('signing_key').selectAll();
    if (graceSeconds !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('retired_at', 'is', null),
          eb('retired_at', '>', sql<Date>`now() - make_interval(secs => ${graceSeconds})`),
        ]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').execute();
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg,
      publicJwk: row.public_jwk as Record<string, unknown>,
      privateJwk: row.private_jwk as Record<string, unknown>,
      createdAt: isoTimestamp(row.created_at),
      retiredAt: row.retired_at === null ? null : isoTimestamp(row.retired_at),
    }));
  }

  /**
   * Makes `key` the active key and retires the previous one, atomically. With `onlyIfNone`,
   * does nothing when an active key exists (first start of several instances at once).
   * Returns false when it did nothing.
   */
  async activate(
    key: { kid: string; alg: string; publicJwk: object; privateJwk: object },
    options: { onlyIfNone?: boolean } = {},
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      // Serialise rotations across instances.
      await sql`SELECT pg_advisory_xact_lock(727272002)`.execute(trx);
      const active = await trx
        .selectFrom('signing_key')
        .select('kid')
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (active && options.onlyIfNone) return false;
      if (active) {
        await trx
          .updateTable('signing_key')
          .set({ retired_at: new Date() })
          .where('kid', '=', active.kid)
          .execute();
      }
      await trx
        .insertInto('signing_key')
        .values({
          kid: key.kid,
          alg: key.alg,
          public_jwk: JSON.stringify(key.publicJwk),
          private_jwk: JSON.stringify(key.privateJwk),
          created_at: new Date(),
        })
        .execute();
      return true;
    });
  }
}
