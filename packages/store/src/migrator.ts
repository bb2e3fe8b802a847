/**
 * Applies the SQL files in `migrations/` in name order, each in its own transaction, under a
 * Postgres advisory lock so that server instances starting together never race. A failing file
 * rolls back whole (Postgres DDL is transactional), leaving the schema as it was.
 *
 * Written here rather than with Kysely's Migrator because our migrations are plain,
 * multi-statement SQL files shared verbatim by PostgreSQL and PGlite, and because the lock must
 * be a session-level advisory lock held across all files.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The two things migration needs from a database session. */
export interface ScriptSession {
  /** Runs a multi-statement script (simple query protocol). */
  exec(script: string): Promise<void>;
  /** Runs one parameterised statement and returns its rows. */
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** Arbitrary but fixed: the key of the advisory lock that serialises migrations. */
export const MIGRATION_LOCK_KEY = 727_272_001;

/** The result of one migration run. */
export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

/** Lists `*.sql` files of a folder in name order. */
export async function listMigrations(dir: string): Promise<{ name: string; file: string }[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  return names.map((name) => ({ name, file: path.join(dir, name) }));
}

/** Applies every pending migration of `dir`; see the module comment for the guarantees. */
export async function migrate(session: ScriptSession, dir: string): Promise<MigrationReport> {
  await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await session.exec(
      `CREATE TABLE IF NOT EXISTS schema_migration (
         name text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = new Set(
      (await session.query<{ name: string }>('SELECT name FROM schema_migration')).map((r) => r.name),
    );
    const report: MigrationReport = { applied: [], alreadyApplied: [] };
    for (const { name, file } of await listMigrations(dir)) {
      if (done.has(name)) {
        report.alreadyApplied.push(name);
        continue;
      }
      const script = await readFile(file, 'utf8');
      await session.exec('BEGIN');
      try {
        await session.exec(script);
        await session.query('INSERT INTO schema_migration (name) VALUES ($1)', [name]);
        await session.exec('COMMIT');
      } catch (error) {
        await session.exec('ROLLBACK');
        throw new Error(`Migration ${name} failed and was rolled back: ${(error as Error).message}`, {
          cause: error,
        });
      }
      report.applied.push(name);
    }
    return report;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
