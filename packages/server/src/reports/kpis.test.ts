import { emptySketch, latencyBucket } from '@nir/core';
import type { RollupRow } from '@nir/store';
import { describe, expect, it } from 'vitest';
import { addMonths, daysOf, parseMonth, serviceReview } from './kpis.ts';

function row(overrides: Partial<RollupRow>, latencies: number[] = []): RollupRow {
  const latency = emptySketch();
  for (const ms of latencies) latency[latencyBucket(ms)] = (latency[latencyBucket(ms)] ?? 0) + 1;
  return {
    day: '2026-11-03',
    ods: 'RR8',
    base: 'consumer',
    interaction: 'search-type',
    action: 'E',
    outcome: '0',
    code: '',
    events: 1,
    disclosed: 0,
    timed: latencies.length,
    latency,
    ...overrides,
  };
}

describe('R17 service review KPIs', () => {
  it('counts requests, failures, pointer changes, searches, subject access requests and tokens from rollup rows', () => {
    const review = serviceReview(
      '2026-11',
      'RR8',
      [
        row({ events: 10, disclosed: 7 }, [5, 5, 5, 5, 5, 5, 5, 5, 5, 400]),
        row({ outcome: '4', code: 'INVALID_PARAMETER', events: 2 }),
        row({ base: 'producer', interaction: 'create', action: 'C', events: 4 }),
        row({ base: 'producer', interaction: 'delete', action: 'D', events: 1, day: '2026-11-30' }),
        row({ base: 'audit', interaction: 'operation', action: 'E', events: 3 }),
        row({ base: 'audit', interaction: 'operation', action: 'R', events: 5 }),
        row({ base: 'token', interaction: 'token-issue', events: 6 }),
        row({ base: 'token', interaction: 'token-issue', outcome: '4', code: 'invalid_client', events: 1 }),
        row({ day: '2026-10-15', events: 100 }),
        row({ day: '2025-11-30', events: 1000 }),
      ],
      [
        {
          day: '2026-11-03',
          custodian: 'RR8',
          ods: 'RWY',
          base: 'consumer',
          interaction: 'search-type',
          outcome: '0',
          events: 5,
        },
        {
          day: '2026-11-04',
          custodian: 'RR8',
          ods: 'RWY',
          base: 'consumer',
          interaction: 'read',
          outcome: '0',
          events: 2,
        },
        {
          day: '2026-11-04',
          custodian: 'RR8',
          ods: 'RAE',
          base: 'consumer',
          interaction: 'read',
          outcome: '4',
          events: 9,
        },
      ],
    );
    expect(review.totals).toMatchObject({ events: 32, failed: 3 });
    expect(review.totals.errorRate).toBeCloseTo(3 / 32);
    expect(review.pointers).toEqual({ created: 4, updated: 0, deleted: 1, transactions: 0 });
    expect(review.searches).toEqual({ total: 10, found: 7, empty: 3 });
    expect(review.subjectAccessRequests).toBe(3);
    expect(review.tokens).toEqual({ issued: 6, refused: 1 });
    expect(review.errorsByCode).toEqual([
      { code: 'INVALID_PARAMETER', events: 2 },
      { code: 'invalid_client', events: 1 },
    ]);
    // Only successful accesses count as accesses to the organisation's pointers.
    expect(review.accessedBy).toEqual([{ ods: 'RWY', events: 7 }]);
    const search = review.byInteraction.find((g) => g.base === 'consumer' && g.interaction === 'search-type');
    expect(search?.latency.p50).toBeGreaterThanOrEqual(5);
    expect(search?.latency.p50).toBeLessThan(5 * Math.SQRT2 + 0.01);
    expect(search?.latency.p99).toBeGreaterThanOrEqual(400);
    expect(review.daily).toHaveLength(30);
    expect(review.daily[2]).toEqual({ day: '2026-11-03', events: 31, failed: 3 });
    expect(review.trend.map((m) => m.month)).toEqual(
      [...Array(12)].map((_, i) => addMonths('2026-11', i - 11)),
    );
    expect(review.trend.at(-2)?.events).toBe(100);
    // November 2025 is thirteen months back: outside the trend.
    expect(review.trend.reduce((n, m) => n + m.events, 0)).toBe(132);
  });

  it('reads months strictly', () => {
    expect(parseMonth('2026-11')).toBe('2026-11');
    for (const bad of ['2026-13', '2026-1', '26-11', '2026-11-01', undefined, ['2026-11']])
      expect(parseMonth(bad)).toBeUndefined();
    expect(daysOf('2028-02')).toHaveLength(29);
    expect(addMonths('2026-01', -1)).toBe('2025-12');
  });
});
