/**
 * Opens the registry's database: PostgreSQL through `pg` when a URL is given, otherwise the
 * embedded PGlite (a WASM Postgres) in a data directory, so that a bare machine runs the whole
 * registry. Both sit behind the same Kysely instance and the same SQL migrations.
 */
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, type LogConfig, type LogEvent, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import { applicableMigrations, type MigrationReport, migrate, type ScriptSession } from './migrator.ts';
import { HostLocator, isDoomed, multiHostClientClass, parseMultiHostUrl } from './multi-host.ts';
import { prepareStatementsOn } from './prepared-statements.ts';
import type { DatabaseSchema } from './schema.ts';

/** Where the registry keeps its data. */
export interface StoreConfig {
  /** A PostgreSQL connection URL. When absent, PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` keeps nothing (tests). */
  dataDir?: string | undefined;
  /** PostgreSQL pool size (small pools suit a 2-core machine). */
  poolSize?: number | undefined;
  /** Folder of SQL migrations; defaults to the repository's `migrations/`. */
  migrationsDir?: string | undefined;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean | undefined;
  /** Told when an idle PostgreSQL connection fails (pg drops it from the pool; this must not crash the process). */
  onPoolError?: ((error: Error) => void) | undefined;
  /**
   * Bounded waits on PostgreSQL (issue 14, point 8), unset ones from {@link DEFAULT_DB_TIMEOUTS}.
   * Absent: no timeouts, for tools and batch jobs (the loader's VACUUM, a CLI export); the
   * server always sets them.
   */
  timeouts?: Partial<DatabaseTimeouts> | undefined;
}

/**
 * How long the registry waits on PostgreSQL. Not applied to PGlite: it is in-process, one
 * connection, no network, so it cannot be unreachable or frozen apart from the process itself.
 */
export interface DatabaseTimeouts {
  /** Longest wait for a connection: opening one, or a free one from the pool. */
  connectMs: number;
  /** PostgreSQL `statement_timeout`: longest a statement may run. */
  statementMs: number;
  /** PostgreSQL `lock_timeout`: longest a statement waits for a lock. */
  lockMs: number;
  /**
   * Client-side read timeout (node-postgres `query_timeout`): notices a server that stopped
   * answering (frozen, partitioned), which its own `statement_timeout` cannot.
   */
  readMs: number;
}

export const DEFAULT_DB_TIMEOUTS: DatabaseTimeouts = {
  connectMs: 3000,
  statementMs: 5000,
  lockMs: 3000,
  readMs: 7000,
};

/** How busy the connection pool is: for load shedding (issue 14, point 10). */
export interface PoolPressure {
  /** Requests waiting for a connection now. */
  waiting: number;
  /** Connections the pool may hold. */
  size: number;
  /** Moving average of how long a request holds a connection, milliseconds. */
  holdMs: number;
}

/** Told how long a statement took (R16 metrics); `failed` when it raised. */
export type QueryObserver = (durationMs: number, failed: boolean) => void;

/** Connections of the PostgreSQL pool (R16 metrics). */
export interface PoolStats {
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

/** An open database. */
export interface Store {
  readonly db: Kysely<DatabaseSchema>;
  readonly backend: 'postgres' | 'pglite';
  /** What the migrations did when the store opened. */
  readonly migrations: MigrationReport;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  /** The pool's pressure now (PostgreSQL); undefined for PGlite, which has no pool. */
  pressure(): PoolPressure | undefined;
  /** The pool's connections (PostgreSQL; undefined for the embedded database, which has one). */
  poolStats(): PoolStats | undefined;
  /** Tells `observer` how long every statement takes from now on (R16 metrics). */
  observeQueries(observer: QueryObserver): void;
  /** The migration files of the migrations folder not recorded as applied (readiness, R16). */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

/** The repository's migrations folder. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** Default PGlite data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = '.data/pglite';

const NO_MIGRATIONS: MigrationReport = { applied: [], alreadyApplied: [] };

/** Opens (and by default migrates) the database described by `config`. */
export async function openStore(config: StoreConfig = {}): Promise<Store> {
  const migrationsDir = config.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const shouldMigrate = config.migrate ?? true;
  if (config.databaseUrl) {
    const timeouts = config.timeouts && { ...DEFAULT_DB_TIMEOUTS, ...config.timeouts };
    const size = config.poolSize ?? 4;
    // A multi-host URL (libpq syntax) gets a client class that finds its host; one host: as is.
    const multiHost = parseMultiHostUrl(config.databaseUrl);
    const locator = multiHost && new HostLocator(multiHost, timeouts?.connectMs);
    const Client = locator ? multiHostClientClass(locator) : pg.Client;
    const pool = new pg.Pool({
      connectionString: multiHost ? multiHost.urlFor(multiHost.hosts[0] as never) : config.databaseUrl,
      ...(locator && { Client }),
      max: size,
      keepAlive: true,
      ...(timeouts && {
        connectionTimeoutMillis: timeouts.connectMs,
        statement_timeout: timeouts.statementMs,
        lock_timeout: timeouts.lockMs,
        query_timeout: timeouts.readMs,
        idle_in_transaction_session_timeout: Math.max(timeouts.readMs, 10_000),
      }),
    });
    const observers = new Set<QueryObserver>();
    pool.on('error', config.onPoolError ?? (() => undefined));
    pool.on('connect', (client) => {
      // A checked-out connection that the server drops (shutdown, restart) emits 'error' with
      // no pool listener attached: unheard, it would crash the process. Its query fails too,
      // which is what the request sees (a 503); the pool discards the connection on release.
      client.on('error', (error) => (config.onPoolError ?? (() => undefined))(error));
      prepareStatementsOn(client);
    });
    // A connection that showed it is on a demoted or read-only server is not reused.
    if (locator) pool.on('release', (_error: unknown, client: pg.PoolClient) => doom(client));
    const hold = holdTimer(pool);
    try {
      // Migrations may build indexes for minutes: their own connection, without the timeouts.
      const migrations = shouldMigrate
        ? await withPgSession(config.databaseUrl, (s) => migrate(s, migrationsDir), Client)
        : NO_MIGRATIONS;
      return {
        ...makeStore(
          new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }), log: queryLog(observers) }),
          'postgres',
          migrations,
          migrationsDir,
          () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
          observers,
          timeouts?.connectMs,
        ),
        pressure: () => ({ waiting: pool.waitingCount, size, holdMs: hold() }),
      };
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  const dataDir = config.dataDir ?? DEFAULT_DATA_DIR;
  const unlock = dataDir.startsWith('memory://') ? async () => undefined : await lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  try {
    const session: ScriptSession = {
      exec: async (script) => {
        await pglite.exec(script);
      },
      query: async <Row>(text: string, params?: unknown[]) => (await pglite.query<Row>(text, params)).rows,
    };
    const migrations = shouldMigrate ? await migrate(session, migrationsDir) : NO_MIGRATIONS;
    const observers = new Set<QueryObserver>();
    const store = makeStore(
      new Kysely<DatabaseSchema>({ dialect: new PGliteDialect({ pglite }), log: queryLog(observers) }),
      'pglite',
      migrations,
      migrationsDir,
      () => undefined,
      observers,
    );
    return { ...store, close: () => store.close().finally(unlock) };
  } catch (error) {
    await pglite.close();
    await unlock();
    throw error;
  }
}

/** Moving average of how long a connection is held between checkout and release. */
function holdTimer(pool: pg.Pool): () => number {
  const since = new WeakMap<pg.PoolClient, number>();
  let average = 1;
  pool.on('acquire', (client) => since.set(client, performance.now()));
  pool.on('release', (_error: unknown, client: pg.PoolClient) => {
    const start = since.get(client);
    if (start !== undefined) average += (performance.now() - start - average) * 0.05;
  });
  return () => average;
}

/** Ends a pool connection that {@link isDoomed} on release: the pool then drops it. */
function doom(client: pg.PoolClient): void {
  if (isDoomed(client)) client.end().catch(() => undefined);
}

async function withPgSession<T>(
  url: string,
  work: (session: ScriptSession) => Promise<T>,
  Client: typeof pg.Client = pg.Client,
): Promise<T> {
  const multiHost = parseMultiHostUrl(url);
  const client = new Client({
    connectionString: multiHost ? multiHost.urlFor(multiHost.hosts[0] as never) : url,
  });
  await client.connect();
  try {
    return await work({
      exec: async (script) => {
        await client.query(script);
      },
      query: async <Row>(text: string, params?: unknown[]) =>
        (await client.query(text, params)).rows as Row[],
    });
  } finally {
    await client.end();
  }
}

function queryLog(observers: Set<QueryObserver>): LogConfig {
  return (event: LogEvent) => {
    for (const observe of observers) observe(event.queryDurationMillis, event.level === 'error');
  };
}

function makeStore(
  db: Kysely<DatabaseSchema>,
  backend: Store['backend'],
  migrations: MigrationReport,
  migrationsDir: string,
  poolStats: () => PoolStats | undefined,
  observers: Set<QueryObserver>,
  pingTimeoutMs = DEFAULT_DB_TIMEOUTS.connectMs,
): Store {
  return {
    db,
    backend,
    migrations,
    poolStats,
    observeQueries(observer) {
      observers.add(observer);
    },
    async pendingMigrations() {
      const { rows } = await sql<{ name: string }>`SELECT name FROM schema_migration`.execute(db);
      const done = new Set(rows.map((r) => r.name));
      const session = {
        query: async <Row>(text: string) => (await sql.raw<Row>(text).execute(db)).rows,
      };
      return (await applicableMigrations(session, migrationsDir))
        .map((m) => m.name)
        .filter((name) => !done.has(name));
    },
    async ping() {
      // A frozen server must not hold /_status: the answer is "no" after the connect timeout.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), pingTimeoutMs);
      });
      try {
        return await Promise.race([
          sql`SELECT 1`.execute(db).then(
            () => true,
            () => false,
          ),
          late,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    pressure: () => undefined,
    close: () => db.destroy(),
  };
}
