/**
 * The PostgreSQL pool prepares the statements it runs (issue 6: the consumer search was planned
 * on every request). Runs where PostgreSQL is reachable; the embedded database has no pool.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { prepareStatementsOn } from './prepared-statements.ts';
import { testBackends } from './test-databases.ts';

const postgres = (await testBackends()).find((backend) => backend.name === 'postgres');

describe.runIf(postgres)('prepared statements on PostgreSQL connections', () => {
  it('names each parameterised statement once per connection and reuses it', async () => {
    const store = await (postgres as NonNullable<typeof postgres>).open({ poolSize: 1 });
    try {
      const twice = sql<{ n: number }>`SELECT ${21}::int * 2 AS n`;
      expect((await twice.execute(store.db)).rows[0]?.n).toBe(42);
      expect((await sql<{ n: number }>`SELECT ${5}::int * 2 AS n`.execute(store.db)).rows[0]?.n).toBe(10);
      await sql`SELECT 1`.execute(store.db); // no parameters: unnamed
      const { rows } = await sql<{ name: string; statement: string }>`
        SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%::int * 2%'`.execute(
        store.db,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.name).toMatch(/^nir_\d+$/);
    } finally {
      await store.close();
    }
  });

  it('stops naming new statements at the bound, running the rest unnamed', async () => {
    const url = await (postgres as NonNullable<typeof postgres>).freshDatabaseUrl?.();
    if (!url) throw new Error('PostgreSQL test backend gives fresh databases');
    const pool = new pg.Pool({ connectionString: url.url, max: 1 });
    pool.on('connect', (client) => prepareStatementsOn(client, 2));
    try {
      for (let i = 0; i < 4; i++) {
        const { rows } = await pool.query(`SELECT $1::int + ${i} AS n`, [1]);
        expect(rows[0]?.n).toBe(1 + i);
      }
      const { rows } = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'nir\\_%'",
      );
      expect(Number(rows[0]?.n)).toBe(2);
    } finally {
      await pool.end();
      await url.drop();
    }
  });
});
