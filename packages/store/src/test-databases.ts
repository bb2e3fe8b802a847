/**
 * Both databases for tests (the registry runs on either; every store and end-to-end test runs
 * on both). PGlite is always available, in memory. PostgreSQL comes from `TEST_DATABASE_URL`
 * or the local server on 127.0.0.1:5432; each opened store gets a fresh database that is
 * dropped afterwards. With `NIR_REQUIRE_POSTGRES=1` (as in CI) an unreachable server fails the
 * run instead of leaving PostgreSQL out.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreConfig } from './open-store.ts';

/** One database backend a test suite runs against. */
export interface TestBackend {
  name: 'pglite' | 'postgres';
  /** Opens a fresh, migrated, empty store; `close()` also drops its database. */
  open(config?: Omit<StoreConfig, 'databaseUrl' | 'dataDir'>): Promise<Store>;
  /** A URL for a fresh database (PostgreSQL only); `drop` removes it. */
  freshDatabaseUrl?(): Promise<{ url: string; drop(): Promise<void> }>;
}

/** The admin URL used to create per-test databases. */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** True when the test PostgreSQL answers. */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function freshDatabaseUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `nir_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

const pgliteBackend: TestBackend = {
  name: 'pglite',
  open: (config = {}) => openStore({ ...config, dataDir: 'memory://' }),
};

const postgresBackend: TestBackend = {
  name: 'postgres',
  freshDatabaseUrl,
  async open(config = {}) {
    const database = await freshDatabaseUrl();
    let store: Store;
    try {
      store = await openStore({ ...config, databaseUrl: database.url });
    } catch (error) {
      await database.drop();
      throw error;
    }
    return {
      ...store,
      db: store.db,
      ping: () => store.ping(),
      async close() {
        await store.close();
        await database.drop();
      },
    };
  },
};

let cached: Promise<TestBackend[]> | undefined;

/** The backends available here: PGlite always, PostgreSQL when reachable (or required). */
export function testBackends(): Promise<TestBackend[]> {
  cached ??= (async () => {
    if (await postgresReachable()) return [pgliteBackend, postgresBackend];
    if (process.env.NIR_REQUIRE_POSTGRES === '1') {
      throw new Error(`NIR_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL}`);
    }
    console.warn(`PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: tests run on PGlite only`);
    return [pgliteBackend];
  })();
  return cached;
}
