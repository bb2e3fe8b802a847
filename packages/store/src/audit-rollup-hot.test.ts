import { toAuditEvents } from '@nir/core';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { generatedActivity } from '../../../test/support/audit-activity.ts';
import { AuditStore } from './audit-store.ts';
import { openStore } from './open-store.ts';
import { testBackends } from './test-databases.ts';

const postgres = (await testBackends()).find((b) => b.name === 'postgres');

describe.runIf(postgres)('issue 15: the rollup rows updated by every audit batch', () => {
  it('stay on their page (HOT updates) while a reader holds an older snapshot', async () => {
    const fresh = postgres?.freshDatabaseUrl;
    if (!fresh) throw new Error('the PostgreSQL backend makes fresh databases');
    const database = await fresh();
    const store = await openStore({ databaseUrl: database.url });
    const reader = new pg.Client({ connectionString: database.url });
    try {
      const audit = new AuditStore(store.db);
      await audit.ensurePartitions(new Date('2026-10-01T00:00:00Z'), 0);
      const records = generatedActivity('2026-10', 300, 5);
      const batch = () => records.flatMap((r) => toAuditEvents(r));
      await audit.insert(batch());
      // The page (heap block) each rollup row's current version is on, by its key.
      const where = sql<{
        tab: string;
        key: string;
        page: number;
      }>`SELECT tab, key, (ctid::text::point)[0]::int AS page FROM (
          SELECT 'rollup' AS tab, concat_ws('|', day, ods, base, interaction, action, outcome, code, shard) AS key, ctid FROM audit_rollup
          UNION ALL
          SELECT 'access', concat_ws('|', day, custodian, ods, base, interaction, outcome, shard), ctid FROM audit_access_rollup) x
        ORDER BY 1, 2`;
      const before = (await where.execute(store.db)).rows;
      expect(before.length).toBeGreaterThan(20);

      // A concurrent reader's snapshot: the versions the next batches replace stay visible to
      // it, so page pruning cannot reclaim them; only free room on the page keeps updates HOT.
      await reader.connect();
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query('SELECT count(*) FROM audit_rollup');
      for (let i = 0; i < 3; i++) await audit.insert(batch());
      const after = (await where.execute(store.db)).rows;
      await reader.query('COMMIT');

      expect(after).toEqual(before);
    } finally {
      await reader.end().catch(() => undefined);
      await store.close();
      await database.drop();
    }
  });
});
