/**
 * Applies the SQL files in `migrations/` in name order, each in its own transaction, under a
 * Postgres advisory lock so that server instances starting together never race. A failing file
 * rolls back whole (Postgres DDL is transactional), leaving the schema as it was.
 *
 * Written here rather than with Kysely's Migrator because our migrations are plain,
 * multi-statement SQL files shared verbatim by PostgreSQL and PGlite, and because the lock must
 * be a session-level advisory lock held across all files.
 *
 * Issue 19: a database with the `citus` extension installed also gets the files of
 * `migrations/citus/` (recorded as `citus/<file>`), after the ordinary ones and under the same
 * lock; they decide where rows live (distributed and reference tables) and change no SQL the
 * registry runs. PostgreSQL and PGlite neither apply nor list them.
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

/** The folder, under the migrations folder, of the steps applied only on Citus. */
export const CITUS_MIGRATIONS = 'citus';

/** True when the `citus` extension is installed in the session's database. */
export async function citusInstalled(session: Pick<ScriptSession, 'query'>): Promise<boolean> {
  const rows = await session.query<{ citus: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus",
  );
  return rows[0]?.citus === true;
}

/**
 * The migrations that apply to the session's database, in order: those of `dir`, then on
 * Citus those of `dir/citus/` (named `citus/<file>`).
 */
export async function applicableMigrations(
  session: Pick<ScriptSession, 'query'>,
  dir: string,
): Promise<{ name: string; file: string }[]> {
  const ordinary = await listMigrations(dir);
  if (!(await citusInstalled(session))) return ordinary;
  const citus = await listMigrations(path.join(dir, CITUS_MIGRATIONS)).catch(() => []);
  return [...ordinary, ...citus.map((m) => ({ name: `${CITUS_MIGRATIONS}/${m.name}`, file: m.file }))];
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
    for (const { name, file } of await applicableMigrations(session, dir)) {
      if (done.has(name)) {
        report.alreadyApplied.push(name);
        continue;
      }
      const script = await readFile(file, 'utf8');
      await session.exec('BEGIN');
      try {
        // Citus forwards some commands to the workers as the text they arrived in, which must
        // then hold that one statement: its steps are sent one statement at a time.
        if (name.startsWith(`${CITUS_MIGRATIONS}/`)) {
          for (const statement of splitStatements(script)) await session.exec(statement);
        } else {
          await session.exec(script);
        }
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

/**
 * The statements of a SQL script, split at each `;` outside quotes, dollar-quoted bodies and
 * comments (enough for our migration files; not a SQL parser).
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < script.length) {
    const rest = script.slice(i);
    if (rest.startsWith('--')) {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end + 1;
    } else if (rest.startsWith("'")) {
      const end = script.indexOf("'", i + 1);
      i = end === -1 ? script.length : end + 1;
    } else if (rest.startsWith('$')) {
      const tag = /^\$[A-Za-z_]*\$/.exec(rest)?.[0];
      if (tag) {
        const end = script.indexOf(tag, i + tag.length);
        i = end === -1 ? script.length : end + tag.length;
      } else {
        i++;
      }
    } else if (rest.startsWith(';')) {
      statements.push(script.slice(start, i + 1));
      start = ++i;
    } else {
      i++;
    }
  }
  const tail = script.slice(start);
  if (tail.replace(/--[^\n]*/g, '').trim() !== '') statements.push(tail);
  return statements.filter((s) => s.replace(/--[^\n]*/g, '').trim() !== '');
}
