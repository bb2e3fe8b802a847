/**
 * Group commit of audit events (R7: durable before the response, at little cost). Concurrent
 * `record()` calls are batched into one multi-row INSERT: while a batch is being written, new
 * calls queue, and the next batch takes them all. Each caller's promise resolves only after
 * the batch holding its events committed; if that batch fails, every caller in it is rejected
 * (and none of its events is stored: one statement, all or nothing).
 */
import type { AuditEvent } from '@medplum/fhirtypes';

/** Writes one batch in one statement (e.g. `AuditStore.insert`). */
export type AuditBatchInsert = (events: AuditEvent[]) => Promise<void>;

/** How the writer batches. */
export interface GroupCommitOptions {
  /** Most events in one INSERT (a caller's events are never split). Default 1000. */
  maxBatchEvents?: number;
  /** Batches written at the same time. Default 1: the classic group commit. */
  maxInFlight?: number;
  /** Told of every batch written (R16 metrics): its records, events, duration and failure. */
  onBatch?: ((batch: BatchReport) => void) | undefined;
}

/** One batch the writer wrote (or failed to). */
export interface BatchReport {
  records: number;
  events: number;
  durationMs: number;
  failed: boolean;
}

/** What the writer has done, for measurement. */
export interface GroupCommitStats {
  batches: number;
  records: number;
  events: number;
  failedBatches: number;
  largestBatch: number;
  /** Number of batches by records per batch, bucketed: "1", "2-4", "5-16", "17-64", "65+". */
  histogram: Record<string, number>;
}

interface Pending {
  events: readonly AuditEvent[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const BUCKETS: [number, string][] = [
  [1, '1'],
  [4, '2-4'],
  [16, '5-16'],
  [64, '17-64'],
];

function bucket(records: number): string {
  return BUCKETS.find(([max]) => records <= max)?.[1] ?? '65+';
}

/** Batches concurrent audit writes into one INSERT each. */
export class GroupCommitWriter {
  readonly #insert: AuditBatchInsert;
  readonly #maxBatchEvents: number;
  readonly #maxInFlight: number;
  readonly #onBatch: ((batch: BatchReport) => void) | undefined;
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  readonly #idle: (() => void)[] = [];
  readonly #stats: GroupCommitStats = {
    batches: 0,
    records: 0,
    events: 0,
    failedBatches: 0,
    largestBatch: 0,
    histogram: {},
  };

  constructor(insert: AuditBatchInsert, options: GroupCommitOptions = {}) {
    this.#insert = insert;
    this.#maxBatchEvents = Math.max(1, options.maxBatchEvents ?? 1000);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.#onBatch = options.onBatch;
  }

  /** Writes `events`; resolves once they are committed, rejects if their batch failed. */
  record(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when nothing is queued or being written (for a clean shutdown). */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** A copy of the statistics so far. */
  stats(): GroupCommitStats {
    return { ...this.#stats, histogram: { ...this.#stats.histogram } };
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    this.#scheduled = true;
    // After pending I/O callbacks: calls made in this turn of the event loop, and those that
    // other responses finishing right now make, join the same batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#queue.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    const batch: Pending[] = [];
    let size = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Pending;
      if (batch.length > 0 && size + next.events.length > this.#maxBatchEvents) break;
      this.#queue.shift();
      batch.push(next);
      size += next.events.length;
    }
    this.#inFlight++;
    const started = performance.now();
    try {
      await this.#insert(batch.flatMap((p) => p.events));
      this.#count(batch.length, size, false);
      this.#onBatch?.({
        records: batch.length,
        events: size,
        durationMs: performance.now() - started,
        failed: false,
      });
      for (const pending of batch) pending.resolve();
    } catch (error) {
      this.#count(batch.length, size, true);
      this.#onBatch?.({
        records: batch.length,
        events: size,
        durationMs: performance.now() - started,
        failed: true,
      });
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#inFlight--;
      this.#schedule();
      if (this.#queue.length === 0 && this.#inFlight === 0) {
        for (const resolve of this.#idle.splice(0)) resolve();
      }
    }
  }

  #count(records: number, events: number, failed: boolean): void {
    const s = this.#stats;
    s.batches++;
    s.records += records;
    s.events += events;
    if (failed) s.failedBatches++;
    s.largestBatch = Math.max(s.largestBatch, records);
    const key = bucket(records);
    s.histogram[key] = (s.histogram[key] ?? 0) + 1;
  }
}
