/**
 * Plain counters of the registry's protective refusals (issue 14, points 6, 8, 9, 10): rate
 * limits, token caps, load shedding, database unavailability, cut streams and deferred audit.
 * Metrics (issue 16) can read {@link ResilienceCounters.snapshot} or listen to `count` events;
 * nothing here knows about a metrics format.
 */
import { EventEmitter } from 'node:events';

/** What is counted. */
export const RESILIENCE_EVENTS = [
  'rate-limited-client',
  'rate-limited-organisation',
  'token-cap',
  'load-shed',
  'database-unavailable',
  'stream-aborted',
  'audit-deferred',
  'audit-deferred-written',
  'audit-deferred-dropped',
] as const;
export type ResilienceEvent = (typeof RESILIENCE_EVENTS)[number];

/** Counters since the process started; emits `count` (event, by) on every increment. */
export class ResilienceCounters extends EventEmitter<{ count: [event: ResilienceEvent, by: number] }> {
  readonly #counts = new Map<ResilienceEvent, number>(RESILIENCE_EVENTS.map((e) => [e, 0]));

  /** Adds `by` (default 1) to `event`. */
  increment(event: ResilienceEvent, by = 1): void {
    this.#counts.set(event, (this.#counts.get(event) ?? 0) + by);
    this.emit('count', event, by);
  }

  /** Every counter now. */
  snapshot(): Record<ResilienceEvent, number> {
    return Object.fromEntries(this.#counts) as Record<ResilienceEvent, number>;
  }
}
