import { toAuditEvents } from '@nir/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedActivity } from '../../../test/support/audit-activity.ts';
import { prng } from '../../../test/support/prng.ts';
import { AuditRollupStore } from './audit-rollup.ts';
import { AuditStore } from './audit-store.ts';
import type { Store } from './open-store.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

/**
 * The rollup recomputed the slow way, by a full scan of audit_event, in SQL written apart from
 * the code that maintains it: endpoint from `source.site`, error code from `outcomeDesc`,
 * latency bucket from `period` (bucket i holds ≤ 2^(i/2) ms).
 */
const SCAN = sql<Record<string, unknown>>`
  WITH e AS (
    SELECT (recorded AT TIME ZONE 'UTC')::date::text AS day, coalesce(requester_ods, '-') AS ods,
           coalesce(substring(resource->'source'->>'site' from '/(producer|consumer|audit)/FHIR/R4$'),
                    substring(resource->'source'->>'site' from '/oauth2/(token)$'),
                    substring(resource->'source'->>'site' from '/(admin)$'), 'other') AS base,
           subtype AS interaction, action, outcome,
           CASE WHEN outcome = '0' THEN '' ELSE coalesce(substring(resource->>'outcomeDesc'
                from '^([A-Za-z][A-Za-z0-9_ ]{0,47})(?::|$)'), 'OTHER') END AS code,
           cardinality(custodian_ods) > 0 AS disclosed,
           extract(epoch FROM recorded - (resource->'period'->>'start')::timestamptz) * 1000 AS ms
    FROM audit_event)
  SELECT day, ods, base, interaction, action, outcome, code, count(*) AS events,
         count(*) FILTER (WHERE disclosed) AS disclosed, count(ms) AS timed,
         array_agg(CASE WHEN ms <= 1 THEN 0 ELSE least(31, ceil(2 * log(2, ms::numeric)))::int END)
           FILTER (WHERE ms IS NOT NULL) AS buckets
  FROM e GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7`;

const ACCESS_SCAN = sql<Record<string, unknown>>`
  SELECT (recorded AT TIME ZONE 'UTC')::date::text AS day, c AS custodian, coalesce(requester_ods, '-') AS ods,
         subtype AS interaction, outcome, count(*) AS events
  FROM audit_event, unnest(custodian_ods) AS c GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`;

describe.each(backends)('R17: the service-review rollup on $name', (backend) => {
  let store: Store;
  let audit: AuditStore;

  beforeAll(async () => {
    store = await backend.open();
    audit = new AuditStore(store.db);
    // The months' partitions exist before concurrent writers need them.
    await audit.ensurePartitions(new Date('2026-10-01T00:00:00Z'), 1);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('agrees with a full scan of the audit table, written by group commit and inside transactions alike', async () => {
    const random = prng(8);
    const records = [...generatedActivity('2026-10', 700, 1), ...generatedActivity('2026-11', 900, 2)];
    // Batches of varied size, about a third inside a transaction, concurrently: as the server writes.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < records.length; ) {
      const size = 1 + Math.floor(random() * 40);
      const events = records.slice(i, i + size).flatMap((r) => toAuditEvents(r));
      i += size;
      writes.push(
        random() < 0.3 ? audit.transaction((trx) => audit.insert(events, trx)) : audit.insert(events),
      );
    }
    await Promise.all(writes);

    const reader = new AuditRollupStore(store.db);
    const rollup = await reader.rows({ from: '2026-10-01', to: '2026-12-01' });
    const scanned = (await SCAN.execute(store.db)).rows.map((r) => {
      const latency = new Array<number>(32).fill(0);
      for (const b of (r.buckets as number[] | null) ?? [])
        latency[Number(b)] = (latency[Number(b)] ?? 0) + 1;
      return {
        day: r.day,
        ods: r.ods,
        base: r.base,
        interaction: r.interaction,
        action: r.action,
        outcome: r.outcome,
        code: r.code,
        events: Number(r.events),
        disclosed: Number(r.disclosed),
        timed: Number(r.timed),
        latency,
      };
    });
    expect(scanned.length).toBeGreaterThan(100);
    // Transactions wrote to several shards: the reader sums them.
    const shards = await sql<{ n: string }>`SELECT count(DISTINCT shard) AS n FROM audit_rollup`.execute(
      store.db,
    );
    expect(Number(shards.rows[0]?.n)).toBeGreaterThan(2);
    expect(rollup).toEqual(scanned);
    const total = rollup.reduce((n, r) => n + r.events, 0);
    expect(total).toBe(
      Number((await sql<{ n: string }>`SELECT count(*) AS n FROM audit_event`.execute(store.db)).rows[0]?.n),
    );

    const access = (await reader.access({ from: '2026-10-01', to: '2026-12-01' })).map(
      ({ base: _base, ...rest }) => rest,
    );
    const merged = new Map<string, (typeof access)[number]>();
    for (const row of access) {
      const key = [row.day, row.custodian, row.ods, row.interaction, row.outcome].join('|');
      const seen = merged.get(key);
      if (seen) seen.events += row.events;
      else merged.set(key, { ...row });
    }
    const accessScan = (await ACCESS_SCAN.execute(store.db)).rows.map((r) => ({
      day: String(r.day),
      custodian: String(r.custodian),
      ods: String(r.ods),
      interaction: String(r.interaction),
      outcome: String(r.outcome),
      events: Number(r.events),
    }));
    expect(accessScan.length).toBeGreaterThan(10);
    const order = (r: (typeof access)[number]) =>
      [r.day, r.custodian, r.ods, r.interaction, r.outcome].join('|');
    const byKey = (a: (typeof access)[number], b: (typeof access)[number]) => (order(a) < order(b) ? -1 : 1);
    expect([...merged.values()].sort(byKey)).toEqual(accessScan.sort(byKey));
  });

  it('an organisation reads only its own rows', async () => {
    const reader = new AuditRollupStore(store.db);
    const rows = await reader.rows({ from: '2026-11-01', to: '2026-12-01', ods: 'RAE' });
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.ods))).toEqual(new Set(['RAE']));
    const access = await reader.access({ from: '2026-11-01', to: '2026-12-01', ods: 'RAE' });
    expect(new Set(access.map((r) => r.custodian))).toEqual(new Set(['RAE']));
  });
});
