import { describe, expect, it } from 'vitest';
import { type Answer, figures } from './mixed-burst.ts';

const answer = (askedAt: number, answeredAt: number, status: number): Answer => ({
  kind: 'search',
  requestId: `r${askedAt}`,
  askedAt,
  answeredAt,
  status,
});

describe('fault figures', () => {
  it('counts failures by status and the longest stretch of them, not the span of scattered ones', () => {
    const result = figures(
      'f',
      [
        answer(0, 10, 200),
        answer(1000, 1200, 503),
        answer(1500, 1700, 0),
        answer(2500, 2600, 503),
        answer(9000, 9100, 503),
        answer(9200, 9300, 201),
      ],
      0,
    );
    expect(result).toMatchObject({
      requests: 6,
      acknowledged: 2,
      failed: 4,
      failedStatuses: { 0: 1, 503: 3 },
    });
    // 1000 → 2600 is one stretch (gaps under a second); 9000 → 9100 another.
    expect(result.errorWindowSeconds).toBe(1.6);
    expect(result.slowestMs).toBe(200);
  });

  it('reports no window when nothing failed', () => {
    expect(figures('f', [answer(0, 5, 200)], 0).errorWindowSeconds).toBe(0);
  });
});
