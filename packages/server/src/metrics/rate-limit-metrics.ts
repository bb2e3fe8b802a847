/**
 * Wires the rate limiter's refusals (counted in `ResilienceCounters`, issue 14) into the
 * Prometheus counter `nir_rate_limit_refusals_total{scope}` (R16). The limiter knows nothing of
 * metrics; this is the one place that translates its events into bounded label values.
 */
import type { ResilienceCounters, ResilienceEvent } from '../resilience/counters.ts';
import type { RegistryMetrics } from './registry-metrics.ts';

/** The scope label of each rate-limit event; other resilience events are not rate limits. */
export const RATE_LIMIT_SCOPES: Partial<Record<ResilienceEvent, 'client' | 'organisation' | 'token'>> = {
  'rate-limited-client': 'client',
  'rate-limited-organisation': 'organisation',
  'token-cap': 'token',
};

/** Counts every rate-limit refusal `counters` reports into `metrics`, from now on. */
export function countRateLimitRefusals(counters: ResilienceCounters, metrics: RegistryMetrics): void {
  counters.on('count', (event, by) => {
    const scope = RATE_LIMIT_SCOPES[event];
    if (scope) metrics.rateLimitRefusals.inc({ scope }, by);
  });
}
