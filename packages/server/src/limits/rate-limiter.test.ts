import { describe, expect, it } from 'vitest';
import type { RateLimitConfig } from '../config.ts';
import { ResilienceCounters } from '../resilience/counters.ts';
import { RateLimiter } from './rate-limiter.ts';

const CONFIG: RateLimitConfig = {
  clientPerMinute: 30_000,
  organisationPerMinute: 30_000,
  tokensPerMinute: 600,
  instances: 1,
  enabled: true,
};

function spend(limiter: RateLimiter, n: number, subject: Parameters<RateLimiter['request']>[0]) {
  let refused = 0;
  for (let i = 0; i < n; i++) if (limiter.request(subject)) refused++;
  return refused;
}

describe('RateLimiter (issue 14, point 9)', () => {
  it("defaults to NRL's 30,000 requests a minute per application", () => {
    const limiter = new RateLimiter(CONFIG, undefined, () => 0);
    expect(spend(limiter, 30_000, { clientId: 'c' })).toBe(0);
    const refused = limiter.request({ clientId: 'c' });
    expect(refused?.error.status).toBe(429);
    expect(refused?.error.issues[0]?.code).toBe('TOO_MANY_REQUESTS');
    expect(refused?.retryAfterSeconds).toBe(1);
  });

  it('takes the quota of the client from the catalogue, and counts refusals', () => {
    const counters = new ResilienceCounters();
    const limiter = new RateLimiter(CONFIG, counters, () => 0);
    expect(spend(limiter, 5, { clientId: 'c', clientPerMinute: 3 })).toBe(2);
    expect(counters.snapshot()['rate-limited-client']).toBe(2);
  });

  it("limits an organisation across its clients with the organisation's quota", () => {
    const counters = new ResilienceCounters();
    const limiter = new RateLimiter(CONFIG, counters, () => 0);
    expect(spend(limiter, 2, { clientId: 'a', odsCode: 'RWY', organisationPerMinute: 3 })).toBe(0);
    expect(spend(limiter, 2, { clientId: 'b', odsCode: 'RWY', organisationPerMinute: 3 })).toBe(1);
    expect(spend(limiter, 1, { clientId: 'b', odsCode: 'RR8', organisationPerMinute: 3 })).toBe(0);
    expect(counters.snapshot()['rate-limited-organisation']).toBe(1);
    expect(
      limiter.request({ clientId: 'a', odsCode: 'RWY', organisationPerMinute: 3 })?.error.issues[0]
        ?.diagnostics,
    ).toMatch(/Organisation 'RWY' is over its request quota/);
  });

  it('counts an organisation alone for the token endpoint', () => {
    const limiter = new RateLimiter(CONFIG, undefined, () => 0);
    expect(limiter.organisation('RWY', 1)).toBeUndefined();
    expect(limiter.organisation('RWY', 1)?.error.status).toBe(429);
    expect(limiter.request({ clientId: 'c', odsCode: 'RWY', organisationPerMinute: 1 })?.error.status).toBe(
      429,
    );
  });

  it('gives each of several instances its share of the quota', () => {
    const limiter = new RateLimiter({ ...CONFIG, instances: 4 }, undefined, () => 0);
    expect(spend(limiter, 10, { clientId: 'c', clientPerMinute: 20 })).toBe(5);
  });

  it('caps the tokens a client obtains a minute, from the catalogue or the default', () => {
    const counters = new ResilienceCounters();
    const limiter = new RateLimiter({ ...CONFIG, tokensPerMinute: 2 }, counters, () => 0);
    expect(limiter.token('c', undefined)).toBeUndefined();
    expect(limiter.token('c', undefined)).toBeUndefined();
    expect(limiter.token('c', undefined)?.error.status).toBe(429);
    expect(limiter.token('d', 1)).toBeUndefined();
    expect(limiter.token('d', 1)?.retryAfterSeconds).toBe(60);
    expect(counters.snapshot()['token-cap']).toBe(2);
  });

  it('does nothing when switched off (measurement only)', () => {
    const limiter = new RateLimiter({ ...CONFIG, enabled: false }, undefined, () => 0);
    expect(spend(limiter, 10, { clientId: 'c', clientPerMinute: 1 })).toBe(0);
    expect(limiter.token('c', 1)).toBeUndefined();
    expect(limiter.token('c', 1)).toBeUndefined();
  });
});
