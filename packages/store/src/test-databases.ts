/**
 * Both databases for tests (the registry runs on either; every store and end-to-end test runs
 * on both). PGlite is always available, in memory. PostgreSQL comes from `TEST_DATABASE_URL`
 * or the local server on 127.0.0.1:5432; each opened store gets a fresh database that is
 * dropped afterwards. With `NIR_REQUIRE_POSTGRES=1` (as in CI) an unreachable server fails the
 * run instead of leaving PostgreSQL out.
 *
 * Citus (issue 19): when `TEST_DATABASE_URL` names a Citus coordinator (its admin database has
 * the `citus` extension and nodes in `pg_dist_node`), each fresh database is made a working
 * Citus database: created on the coordinator and on every worker the admin database lists,
 * `CREATE EXTENSION citus` in each, the coordinator and the workers registered in it (as in
 * the admin database), so the migrator's Citus step distributes the tables; it is dropped on
 * every node afterwards. Its tables get `NIR_TEST_CITUS_SHARD_COUNT` shards (default 4: two a
 * worker, every plan still spread over both; creating a database stays quick).
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

async function adminQuery<Row = unknown>(text: string, url = POSTGRES_ADMIN_URL): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Row[];
  } finally {
    await client.end();
  }
}

/** A node of the Citus cluster behind the admin URL. */
interface CitusNode {
  host: string;
  port: number;
  coordinator: boolean;
}

let citusNodes: Promise<CitusNode[] | undefined> | undefined;

/** The Citus nodes the admin database lists, or undefined when it is not a Citus coordinator. */
function citusCluster(): Promise<CitusNode[] | undefined> {
  citusNodes ??= (async () => {
    const [row] = await adminQuery<{ citus: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus",
    );
    if (!row?.citus) return undefined;
    const nodes = await adminQuery<{ nodename: string; nodeport: number; groupid: number }>(
      "SELECT nodename, nodeport, groupid FROM pg_dist_node WHERE noderole = 'primary' ORDER BY groupid",
    );
    return nodes.map((n) => ({ host: n.nodename, port: n.nodeport, coordinator: n.groupid === 0 }));
  })();
  return citusNodes;
}

/** The admin URL of `node` with `database` in place of the admin database. */
function nodeUrl(node: CitusNode, database: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.hostname = node.host;
  url.port = String(node.port);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Makes `name` (created on the coordinator) a Citus database over every worker. */
async function makeCitusDatabase(name: string, nodes: CitusNode[]): Promise<void> {
  const adminDatabase = new URL(POSTGRES_ADMIN_URL).pathname.slice(1) || 'postgres';
  const workers = nodes.filter((n) => !n.coordinator);
  await Promise.all(workers.map((w) => adminQuery(`CREATE DATABASE ${name}`, nodeUrl(w, adminDatabase))));
  await Promise.all(workers.map((w) => adminQuery('CREATE EXTENSION citus', nodeUrl(w, name))));
  const coordinator = nodes.find((n) => n.coordinator);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const shards = Number(process.env.NIR_TEST_CITUS_SHARD_COUNT ?? 4);
  await adminQuery(`ALTER DATABASE ${name} SET citus.shard_count = ${shards}`);
  await adminQuery(
    [
      'CREATE EXTENSION citus',
      ...(coordinator
        ? [`SELECT citus_set_coordinator_host('${coordinator.host}', ${coordinator.port})`]
        : []),
      ...workers.map((w) => `SELECT citus_add_node('${w.host}', ${w.port})`),
    ].join(';\n'),
    url.toString(),
  );
}

async function freshDatabaseUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `nir_test_${randomBytes(6).toString('hex')}`;
  const citus = await citusCluster();
  const adminDatabase = new URL(POSTGRES_ADMIN_URL).pathname.slice(1) || 'postgres';
  const drop = async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    for (const worker of citus?.filter((n) => !n.coordinator) ?? []) {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, nodeUrl(worker, adminDatabase));
    }
  };
  await adminQuery(`CREATE DATABASE ${name}`);
  if (citus) {
    try {
      await makeCitusDatabase(name, citus);
    } catch (error) {
      await drop().catch(() => undefined);
      throw error;
    }
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
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
