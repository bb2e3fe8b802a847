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
import { listMigrations, type MigrationReport, migrate, type ScriptSession } from './migrator.ts';
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
    const observers = new Set<QueryObserver>();
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize ?? 4 });
    pool.on('error', config.onPoolError ?? (() => undefined));
    pool.on('connect', (client) => prepareStatementsOn(client));
    try {
      const migrations = shouldMigrate
        ? await withPgSession(pool, (s) => migrate(s, migrationsDir))
        : NO_MIGRATIONS;
      return makeStore(
        new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }), log: queryLog(observers) }),
        'postgres',
        migrations,
        migrationsDir,
        () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
        observers,
      );
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

async function withPgSession<T>(pool: pg.Pool, work: (session: ScriptSession) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work({
      exec: async (script) => {
        await client.query(script);
      },
      query: async <Row>(text: string, params?: unknown[]) =>
        (await client.query(text, params)).rows as Row[],
    });
  } finally {
    client.release();
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
      return (await listMigrations(migrationsDir)).map((m) => m.name).filter((name) => !done.has(name));
    },
    async ping() {
      try {
        await sql`SELECT 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
