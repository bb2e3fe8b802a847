/**
 * A fresh store on the Citus test topology for test/citus (issue 19): TEST_DATABASE_URL must
 * name a Citus coordinator, whose fresh test databases are Citus databases
 * (packages/store/src/test-databases.ts). Anything else fails the run: these tests are only run
 * by `pnpm test:citus`, never skipped.
 */
import { openStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { sql } from 'kysely';

/** A migrated Citus store and its database URL; `close()` drops it on every node. */
export async function openCitusStore(): Promise<{ store: Store; url: string; close(): Promise<void> }> {
  const postgres = (await testBackends()).find((b) => b.name === 'postgres');
  if (!postgres?.freshDatabaseUrl) {
    throw new Error('test/citus needs TEST_DATABASE_URL at a Citus coordinator (pnpm test:citus)');
  }
  const database = await postgres.freshDatabaseUrl();
  const store = await openStore({ databaseUrl: database.url });
  const { rows } = await sql<{ citus: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`.execute(store.db);
  if (rows[0]?.citus !== true) {
    await store.close();
    await database.drop();
    throw new Error('TEST_DATABASE_URL is not a Citus coordinator: test/citus runs only there');
  }
  return {
    store,
    url: database.url,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}
