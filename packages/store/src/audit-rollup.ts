/**
 * The service-review rollup (R17, migrations/0008): the rows one batch of AuditEvents adds,
 * written in the same statement as the events (see `AuditStore.insert`), and the reads the
 * monthly report and the dashboard make. Reports read only these tables, never `audit_event`.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import {
  type AuditFacts,
  emptySketch,
  mergeSketch,
  type RollupKey,
  rollupContribution,
  rollupKeyString,
} from '@nir/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

/** Shards transactional writers spread over (shard 0 is the group-commit writer's). */
export const ROLLUP_SHARDS = 15;

/** One row of `audit_rollup` (its shards summed). */
export interface RollupRow extends RollupKey {
  events: number;
  disclosed: number;
  timed: number;
  latency: number[];
}

/** One row of `audit_access_rollup`: `ods` accessed pointers of `custodian`. */
export interface AccessRollupRow {
  day: string;
  custodian: string;
  ods: string;
  base: string;
  interaction: string;
  outcome: string;
  events: number;
}

/** The rows a batch adds, aggregated, in key order (so concurrent writers lock rows in one order). */
export function rollupRows(
  events: readonly AuditEvent[],
  facts: readonly AuditFacts[],
): {
  rollup: RollupRow[];
  access: AccessRollupRow[];
} {
  const rollup = new Map<string, RollupRow>();
  const access = new Map<string, AccessRollupRow>();
  events.forEach((event, i) => {
    const c = rollupContribution(event, facts[i] as AuditFacts);
    const key = rollupKeyString(c.key);
    let row = rollup.get(key);
    if (!row) {
      row = { ...c.key, events: 0, disclosed: 0, timed: 0, latency: emptySketch() };
      rollup.set(key, row);
    }
    row.events++;
    row.disclosed += c.disclosed;
    if (c.bucket !== undefined) {
      row.timed++;
      row.latency[c.bucket] = (row.latency[c.bucket] ?? 0) + 1;
    }
    for (const custodian of c.custodians) {
      const accessKey = [c.key.day, custodian, c.key.ods, c.key.base, c.key.interaction, c.key.outcome].join(
        '|',
      );
      const a = access.get(accessKey);
      if (a) a.events++;
      else
        access.set(accessKey, {
          day: c.key.day,
          custodian,
          ods: c.key.ods,
          base: c.key.base,
          interaction: c.key.interaction,
          outcome: c.key.outcome,
          events: 1,
        });
    }
  });
  const sorted = <T>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return { rollup: sorted(rollup), access: sorted(access) };
}

/**
 * The data-modifying CTEs that add `rows` to the rollup tables, for the WITH clause of the
 * audit INSERT (one statement: the events and their rollup commit together or not at all).
 */
export function rollupCtes(rows: ReturnType<typeof rollupRows>, shard: number): RawBuilder<unknown>[] {
  const ctes: RawBuilder<unknown>[] = [];
  const { rollup, access } = rows;
  if (rollup.length > 0) {
    const col = <T>(pick: (r: RollupRow) => T) => rollup.map(pick);
    ctes.push(sql`rollup_add AS (
      INSERT INTO audit_rollup AS t (day, shard, ods, base, interaction, action, outcome, code, events, disclosed, timed, latency)
      SELECT r.day, ${shard}::smallint, r.ods, r.base, r.interaction, r.action, r.outcome, r.code, r.events, r.disclosed, r.timed,
             r.latency::bigint[]
      FROM unnest(${col((r) => r.day)}::date[], ${col((r) => r.ods)}::text[], ${col((r) => r.base)}::text[],
                  ${col((r) => r.interaction)}::text[], ${col((r) => r.action)}::text[], ${col((r) => r.outcome)}::text[],
                  ${col((r) => r.code)}::text[], ${col((r) => r.events)}::bigint[], ${col((r) => r.disclosed)}::bigint[],
                  ${col((r) => r.timed)}::bigint[], ${col((r) => `{${r.latency.join(',')}}`)}::text[])
        AS r(day, ods, base, interaction, action, outcome, code, events, disclosed, timed, latency)
      ON CONFLICT (day, ods, base, interaction, action, outcome, code, shard) DO UPDATE SET
        events = t.events + excluded.events,
        disclosed = t.disclosed + excluded.disclosed,
        timed = t.timed + excluded.timed,
        latency = ARRAY(SELECT a + b FROM unnest(t.latency, excluded.latency) WITH ORDINALITY AS x(a, b, n) ORDER BY n))`);
  }
  if (access.length > 0) {
    const col = <T>(pick: (r: AccessRollupRow) => T) => access.map(pick);
    ctes.push(sql`access_add AS (
      INSERT INTO audit_access_rollup AS t (day, custodian, ods, base, interaction, outcome, events, shard)
      SELECT *, ${shard}::smallint FROM unnest(${col((r) => r.day)}::date[], ${col((r) => r.custodian)}::text[], ${col((r) => r.ods)}::text[],
                           ${col((r) => r.base)}::text[], ${col((r) => r.interaction)}::text[],
                           ${col((r) => r.outcome)}::text[], ${col((r) => r.events)}::bigint[])
      ON CONFLICT (custodian, day, ods, base, interaction, outcome, shard) DO UPDATE SET events = t.events + excluded.events)`);
  }
  return ctes;
}

function dayString(value: unknown): string {
  if (value instanceof Date) {
    // A `date` comes back as local midnight from pg and as UTC midnight from PGlite.
    const local = new Date(value.getTime() - value.getTimezoneOffset() * 60_000);
    return (value.getUTCHours() === 0 ? value : local).toISOString().slice(0, 10);
  }
  return String(value).slice(0, 10);
}

/** Which rollup rows to read: days `from` ≤ day < `to` (`YYYY-MM-DD`), optionally one organisation's. */
export interface RollupQuery {
  from: string;
  to: string;
  ods?: string | undefined;
}

/** Reads the rollup tables (the report and the dashboard never read `audit_event`). */
export class AuditRollupStore {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  /** Rollup rows of the days asked for (an organisation's: those it requested). */
  async rows(query: RollupQuery): Promise<RollupRow[]> {
    const { rows } = await sql<Record<string, unknown>>`
      SELECT day::text AS day, ods, base, interaction, action, outcome, code, events, disclosed, timed, latency
      FROM audit_rollup WHERE day >= ${query.from}::date AND day < ${query.to}::date
      ${query.ods === undefined ? sql`` : sql`AND ods = ${query.ods}`}
      ORDER BY day, ods, base, interaction, action, outcome, code`.execute(this.#db);
    return mergeShards(
      rows.map((r) => ({
        day: dayString(r.day),
        ods: String(r.ods),
        base: r.base as RollupRow['base'],
        interaction: String(r.interaction),
        action: r.action as RollupRow['action'],
        outcome: r.outcome as RollupRow['outcome'],
        code: String(r.code),
        events: Number(r.events),
        disclosed: Number(r.disclosed),
        timed: Number(r.timed),
        latency: (r.latency as (string | number)[]).map(Number),
      })),
    );
  }

  /** Access rollup rows of the days asked for (an organisation's: accesses to pointers it is custodian of). */
  async access(query: RollupQuery): Promise<AccessRollupRow[]> {
    const { rows } = await sql<Record<string, unknown>>`
      SELECT day::text AS day, custodian, ods, base, interaction, outcome, events
      FROM audit_access_rollup WHERE day >= ${query.from}::date AND day < ${query.to}::date
      ${query.ods === undefined ? sql`` : sql`AND custodian = ${query.ods}`}
      ORDER BY day, custodian, ods, base, interaction, outcome`.execute(this.#db);
    const merged = new Map<string, AccessRollupRow>();
    for (const r of rows) {
      const row: AccessRollupRow = {
        day: dayString(r.day),
        custodian: String(r.custodian),
        ods: String(r.ods),
        base: String(r.base),
        interaction: String(r.interaction),
        outcome: String(r.outcome),
        events: Number(r.events),
      };
      const key = [row.day, row.custodian, row.ods, row.base, row.interaction, row.outcome].join('|');
      const seen = merged.get(key);
      if (seen) seen.events += row.events;
      else merged.set(key, row);
    }
    return [...merged.values()];
  }
}

/** Sums the shards of each rollup key (rows arrive in key order, shards of a key adjacent). */
function mergeShards(rows: RollupRow[]): RollupRow[] {
  const out: RollupRow[] = [];
  let last: RollupRow | undefined;
  let lastKey = '';
  for (const row of rows) {
    const key = rollupKeyString(row);
    if (last && key === lastKey) {
      last.events += row.events;
      last.disclosed += row.disclosed;
      last.timed += row.timed;
      mergeSketch(last.latency, row.latency);
      continue;
    }
    out.push(row);
    last = row;
    lastKey = key;
  }
  return out;
}
