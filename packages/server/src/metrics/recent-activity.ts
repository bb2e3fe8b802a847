/**
 * The last hour of this instance, minute by minute, for the live dashboard (R16): requests,
 * failures and a latency sketch per minute in a ring of 60 slots. Constant memory; nothing
 * about a request is kept but its status class and latency bucket.
 */
import { emptySketch, latencyBucket, mergeSketch } from '@nir/core';

interface Minute {
  /** Minutes since the epoch this slot holds. */
  minute: number;
  requests: number;
  failed: number;
  latency: number[];
}

/** One minute of the last hour. */
export interface MinuteActivity {
  /** ISO instant of the minute's start. */
  at: string;
  requests: number;
  failed: number;
  latency: number[];
}

/** Per-minute activity of the last hour. */
export class RecentActivity {
  readonly #slots: Minute[] = Array.from({ length: 60 }, () => ({
    minute: -1,
    requests: 0,
    failed: 0,
    latency: emptySketch(),
  }));
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Counts one response. */
  record(status: number, latencyMs: number): void {
    const minute = Math.floor(this.#now() / 60_000);
    const slot = this.#slots[minute % 60] as Minute;
    if (slot.minute !== minute) {
      slot.minute = minute;
      slot.requests = 0;
      slot.failed = 0;
      slot.latency = emptySketch();
    }
    slot.requests++;
    if (status >= 400) slot.failed++;
    const bucket = latencyBucket(latencyMs);
    slot.latency[bucket] = (slot.latency[bucket] ?? 0) + 1;
  }

  /** The last 60 minutes, oldest first (minutes without traffic are zero). */
  lastHour(): MinuteActivity[] {
    const current = Math.floor(this.#now() / 60_000);
    return Array.from({ length: 60 }, (_, i) => {
      const minute = current - 59 + i;
      const slot = this.#slots[((minute % 60) + 60) % 60] as Minute;
      const live = slot.minute === minute;
      return {
        at: new Date(minute * 60_000).toISOString(),
        requests: live ? slot.requests : 0,
        failed: live ? slot.failed : 0,
        latency: live ? [...slot.latency] : emptySketch(),
      };
    });
  }

  /** The whole last hour's latency sketch. */
  hourSketch(): number[] {
    return this.lastHour().reduce((into, m) => mergeSketch(into, m.latency), emptySketch());
  }
}
