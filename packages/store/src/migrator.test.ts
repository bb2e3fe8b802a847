import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, listMigrations, openStore, type Store } from './index.ts';
import { CITUS_MIGRATIONS, splitStatements } from './migrator.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

/** True when the store's database has the citus extension (a Citus test topology). */
async function onCitus(store: Store): Promise<boolean> {
  const { rows } = await sql<{ citus: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`.execute(store.db);
  return rows[0]?.citus === true;
}

/** What must be applied: every file of migrations/, then on Citus those of migrations/citus/. */
async function expectedMigrations(citus: boolean): Promise<string[]> {
  const files = (await listMigrations(DEFAULT_MIGRATIONS_DIR)).map((m) => m.name);
  if (!citus) return files;
  const steps = await listMigrations(path.join(DEFAULT_MIGRATIONS_DIR, CITUS_MIGRATIONS));
  expect(steps.length, 'the Citus step exists').toBeGreaterThan(0);
  return [...files, ...steps.map((m) => `${CITUS_MIGRATIONS}/${m.name}`)];
}

describe.each(backends)('migrations on $name', (backend) => {
  it('applies every migration once and records it', async () => {
    const store = await backend.open();
    try {
      const files = await expectedMigrations(await onCitus(store));
      expect(store.migrations.applied).toEqual(files);
      const rows = await store.db.selectFrom('schema_migration').select('name').orderBy('name').execute();
      expect(rows.map((r) => r.name)).toEqual([...files].sort());
      // Issue 19: without Citus its step is neither applied nor pending (readiness, R16).
      expect(await store.pendingMigrations()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('leaves the schema as it was when a migration fails (all of it rolls back)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nir-mig-'));
    await writeFile(path.join(dir, '0001_ok.sql'), 'CREATE TABLE first_table (id int);');
    await writeFile(
      path.join(dir, '0002_bad.sql'),
      'CREATE TABLE half_done (id int);\nINSERT INTO no_such_table VALUES (1);',
    );
    const target =
      backend.name === 'pglite'
        ? {
            config: { dataDir: await mkdtemp(path.join(tmpdir(), 'nir-pglite-')) },
            drop: async () => undefined,
          }
        : await backend.freshDatabaseUrl?.().then((d) => ({ config: { databaseUrl: d.url }, drop: d.drop }));
    if (!target) throw new Error('backend gives a fresh database');
    try {
      await expect(openStore({ ...target.config, migrationsDir: dir })).rejects.toThrow(
        /0002_bad.sql failed/,
      );
      const after = await openStore({ ...target.config, migrate: false });
      const tables = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(after.db);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['first_table', 'schema_migration']);
      await after.close();
    } finally {
      await target.drop();
    }
  });
});

describe('migrations under concurrency (PostgreSQL)', () => {
  const postgres = backends.find((b) => b.name === 'postgres');
  it.runIf(postgres)('two instances starting together apply each migration exactly once', async () => {
    const database = await postgres?.freshDatabaseUrl?.();
    if (!database) throw new Error('no database');
    try {
      const [a, b] = await Promise.all([
        openStore({ databaseUrl: database.url }),
        openStore({ databaseUrl: database.url }),
      ]);
      const applied = [...a.migrations.applied, ...b.migrations.applied].sort();
      const files = await expectedMigrations(await onCitus(a));
      expect(applied).toEqual(files.sort());
      await Promise.all([a.close(), b.close()]);
    } finally {
      await database.drop();
    }
  });
});

describe('splitStatements (the Citus step is sent one statement at a time)', () => {
  it('splits at semicolons outside quotes, dollar-quoted bodies and comments', () => {
    const script = [
      '-- a comment; with a semicolon',
      "SELECT 'a;b';",
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;',
      'DO $body$ BEGIN PERFORM 1; END $body$;',
      'SELECT 2',
    ].join('\n');
    expect(splitStatements(script).map((s) => s.trim())).toEqual([
      "-- a comment; with a semicolon\nSELECT 'a;b';",
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;',
      'DO $body$ BEGIN PERFORM 1; END $body$;',
      'SELECT 2',
    ]);
  });
});
