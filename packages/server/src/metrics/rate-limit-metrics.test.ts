import { describe, expect, it } from 'vitest';
import { ResilienceCounters } from '../resilience/counters.ts';
import { countRateLimitRefusals } from './rate-limit-metrics.ts';
import { RegistryMetrics } from './registry-metrics.ts';

async function refusals(metrics: RegistryMetrics): Promise<Record<string, number>> {
  const metric = await metrics.rateLimitRefusals.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.scope), v.value]));
}

describe('rate-limit refusals as metrics (R16)', () => {
  it('counts each rate-limit event under its scope and nothing else', async () => {
    const counters = new ResilienceCounters();
    const metrics = new RegistryMetrics();
    countRateLimitRefusals(counters, metrics);
    counters.increment('rate-limited-client');
    counters.increment('rate-limited-client', 2);
    counters.increment('rate-limited-organisation');
    counters.increment('token-cap');
    counters.increment('load-shed');
    counters.increment('database-unavailable');
    expect(await refusals(metrics)).toEqual({ client: 3, organisation: 1, token: 1 });
  });
});
