/**
 * Issue 14, points 8 and 10, on a real PostgreSQL pool: the pressure the load shedder reads
 * (requests waiting, pool size, how long a connection is held), and the bounded waits (a
 * statement or a wait for a connection past its timeout fails, as "unavailable", instead of
 * hanging). PGlite has no pool and no timeouts.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './database-unavailable.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();
const postgres = backends.find((backend) => backend.name === 'postgres');
const pglite = backends.find((backend) => backend.name === 'pglite');

describe.runIf(postgres)('pool pressure and bounded waits on PostgreSQL', () => {
  it('counts requests waiting for a connection and the time a connection is held', async () => {
    const store = await (postgres as NonNullable<typeof postgres>).open({
      poolSize: 1,
      timeouts: { connectMs: 5000, statementMs: 5000, lockMs: 1000, readMs: 7000 },
    });
    try {
      const holding = sql`SELECT pg_sleep(0.3)`.execute(store.db);
      const waiting = [1, 2, 3].map(() => sql`SELECT 1`.execute(store.db));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(store.pressure()).toMatchObject({ waiting: 3, size: 1 });
      await Promise.all([holding, ...waiting]);
      const after = store.pressure();
      expect(after?.waiting).toBe(0);
      expect(after?.holdMs).toBeGreaterThan(1);
    } finally {
      await store.close();
    }
  });

  it('ends a statement past statement_timeout and a wait for a connection past the connect timeout, as unavailable', async () => {
    const store = await (postgres as NonNullable<typeof postgres>).open({
      poolSize: 1,
      timeouts: { connectMs: 300, statementMs: 500, lockMs: 300, readMs: 2000 },
    });
    try {
      const slow = sql`SELECT pg_sleep(3)`.execute(store.db);
      const queued = sql`SELECT 1`.execute(store.db);
      const [slowResult, queuedResult] = await Promise.allSettled([slow, queued]);
      expect(slowResult.status).toBe('rejected');
      expect((slowResult as PromiseRejectedResult).reason).toMatchObject({ code: '57014' });
      expect(isDatabaseUnavailable((slowResult as PromiseRejectedResult).reason)).toBe(true);
      expect(queuedResult.status).toBe('rejected');
      expect(isDatabaseUnavailable((queuedResult as PromiseRejectedResult).reason)).toBe(true);
      // And the pool still works afterwards.
      expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(store.db)).rows[0]?.one).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe.runIf(pglite)('pool pressure on PGlite', () => {
  it('has none: one in-process connection, nothing to shed', async () => {
    const store = await (pglite as NonNullable<typeof pglite>).open();
    try {
      expect(store.pressure()).toBeUndefined();
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
  });
});
