/**
 * The monthly service review's KPIs (R17), computed from rollup rows only (pure: no HTTP, no
 * SQL). One function for an organisation's review and the whole registry's: the caller passes
 * the rows it may see (an organisation's own requests, and accesses to its own pointers).
 */
import { emptySketch, mergeSketch, sketchQuantile } from '@nir/core';
import type { AccessRollupRow, RollupRow } from '@nir/store';

/** Latency percentiles in ms (bucket upper bounds, within a factor √2). */
export interface Percentiles {
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  timed: number;
}

/** Requests of one endpoint and interaction. */
export interface InteractionKpi {
  base: string;
  interaction: string;
  events: number;
  failed: number;
  latency: Percentiles;
}

/** Everything the report shows. */
export interface ServiceReview {
  /** `YYYY-MM`. */
  month: string;
  /** The organisation reviewed; undefined for the whole registry. */
  ods: string | undefined;
  totals: { events: number; failed: number; errorRate: number; latency: Percentiles };
  byInteraction: InteractionKpi[];
  errorsByCode: { code: string; events: number }[];
  pointers: { created: number; updated: number; deleted: number; transactions: number };
  searches: { total: number; found: number; empty: number };
  subjectAccessRequests: number;
  tokens: { issued: number; refused: number };
  /** Accesses to the organisation's pointers (or everyone's), by accessing organisation. */
  accessedBy: { ods: string; events: number }[];
  /** Requests by requesting organisation (the whole registry's review). */
  byOrganisation: { ods: string; events: number; failed: number }[];
  /** Each day of the month. */
  daily: { day: string; events: number; failed: number }[];
  /** The twelve months ending with this one. */
  trend: { month: string; events: number; failed: number; p95: number | undefined }[];
}

function percentiles(sketch: readonly number[]): Percentiles {
  return {
    p50: sketchQuantile(sketch, 0.5),
    p95: sketchQuantile(sketch, 0.95),
    p99: sketchQuantile(sketch, 0.99),
    timed: sketch.reduce((a, b) => a + b, 0),
  };
}

/** `YYYY-MM` of the month `offset` months from `month`. */
export function addMonths(month: string, offset: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + offset, 1));
  return d.toISOString().slice(0, 7);
}

/** The days of `month` (`YYYY-MM-DD`). */
export function daysOf(month: string): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

/** A month parameter (`YYYY-MM`), or undefined when malformed. */
export function parseMonth(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(value) ? value : undefined;
}

const failed = (r: RollupRow) => (r.outcome === '0' ? 0 : r.events);

function sumBy<T>(
  items: readonly T[],
  key: (item: T) => string,
  value: (item: T) => number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + value(item));
  return out;
}

/**
 * The review of `month` from `rows` (rollup rows of the twelve months ending with it) and
 * `access` (access rows of the month).
 */
export function serviceReview(
  month: string,
  ods: string | undefined,
  rows: readonly RollupRow[],
  access: readonly AccessRollupRow[],
): ServiceReview {
  const inMonth = rows.filter((r) => r.day.startsWith(month));
  const all = emptySketch();
  const groups = new Map<string, InteractionKpi & { sketch: number[] }>();
  for (const r of inMonth) {
    mergeSketch(all, r.latency);
    const key = `${r.base}|${r.interaction}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        base: r.base,
        interaction: r.interaction,
        events: 0,
        failed: 0,
        latency: percentiles([]),
        sketch: emptySketch(),
      };
      groups.set(key, g);
    }
    g.events += r.events;
    g.failed += failed(r);
    mergeSketch(g.sketch, r.latency);
  }
  const byInteraction = [...groups.values()]
    .map(({ sketch, ...g }) => ({ ...g, latency: percentiles(sketch) }))
    .sort((a, b) => b.events - a.events || (a.base + a.interaction < b.base + b.interaction ? -1 : 1));
  const events = inMonth.reduce((n, r) => n + r.events, 0);
  const failures = inMonth.reduce((n, r) => n + failed(r), 0);
  const ok = inMonth.filter((r) => r.outcome === '0');
  const count = (pred: (r: RollupRow) => boolean, value: (r: RollupRow) => number = (r) => r.events) =>
    inMonth.filter(pred).reduce((n, r) => n + value(r), 0);
  const producerOk = (interaction: string) =>
    ok
      .filter((r) => r.base === 'producer' && r.interaction === interaction)
      .reduce((n, r) => n + r.events, 0);
  const searches = ok.filter((r) => r.base === 'consumer' && r.interaction === 'search-type');
  const found = searches.reduce((n, r) => n + r.disclosed, 0);
  const searchTotal = searches.reduce((n, r) => n + r.events, 0);
  const dailyEvents = sumBy(
    inMonth,
    (r) => r.day,
    (r) => r.events,
  );
  const dailyFailed = sumBy(inMonth, (r) => r.day, failed);
  const trend = Array.from({ length: 12 }, (_, i) => addMonths(month, i - 11)).map((m) => {
    const monthRows = rows.filter((r) => r.day.startsWith(m));
    const sketch = emptySketch();
    for (const r of monthRows) mergeSketch(sketch, r.latency);
    return {
      month: m,
      events: monthRows.reduce((n, r) => n + r.events, 0),
      failed: monthRows.reduce((n, r) => n + failed(r), 0),
      p95: sketchQuantile(sketch, 0.95),
    };
  });
  const orgEvents = sumBy(
    inMonth,
    (r) => r.ods,
    (r) => r.events,
  );
  const orgFailed = sumBy(inMonth, (r) => r.ods, failed);
  const accessed = sumBy(
    access.filter((a) => a.day.startsWith(month) && a.outcome === '0'),
    (a) => a.ods,
    (a) => a.events,
  );
  return {
    month,
    ods,
    totals: {
      events,
      failed: failures,
      errorRate: events === 0 ? 0 : failures / events,
      latency: percentiles(all),
    },
    byInteraction,
    errorsByCode: [
      ...sumBy(
        inMonth.filter((r) => r.outcome !== '0'),
        (r) => r.code || 'OTHER',
        (r) => r.events,
      ),
    ]
      .map(([code, n]) => ({ code, events: n }))
      .sort((a, b) => b.events - a.events || (a.code < b.code ? -1 : 1)),
    pointers: {
      created: producerOk('create'),
      updated: producerOk('update'),
      deleted: producerOk('delete'),
      transactions: producerOk('transaction'),
    },
    searches: { total: searchTotal, found, empty: searchTotal - found },
    subjectAccessRequests: count(
      (r) => r.outcome === '0' && r.base === 'audit' && r.interaction === 'operation' && r.action === 'E',
    ),
    tokens: {
      issued: count((r) => r.base === 'token' && r.outcome === '0'),
      refused: count((r) => r.base === 'token' && r.outcome !== '0'),
    },
    accessedBy: [...accessed]
      .map(([o, n]) => ({ ods: o, events: n }))
      .sort((a, b) => b.events - a.events || (a.ods < b.ods ? -1 : 1)),
    byOrganisation: [...orgEvents]
      .map(([o, n]) => ({ ods: o, events: n, failed: orgFailed.get(o) ?? 0 }))
      .sort((a, b) => b.events - a.events || (a.ods < b.ods ? -1 : 1)),
    daily: daysOf(month).map((day) => ({
      day,
      events: dailyEvents.get(day) ?? 0,
      failed: dailyFailed.get(day) ?? 0,
    })),
    trend,
  };
}
