/**
 * Group commit of audit events (R7: durable before the response, at little cost). Concurrent
 * `record()` calls are batched into one multi-row INSERT: while a batch is being written, new
 * calls queue, and the next batch takes them all. Each caller's promise resolves only after
 * the batch holding its events committed; if that batch fails, every caller in it is rejected
 * (and none of its events is stored: one statement, all or nothing).
 */

import type { AuditEvent } from '@medplum/fhirtypes';
import { BatchPump } from './batch-pump.ts';

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
  readonly #onBatch: ((batch: BatchReport) => void) | undefined;
  readonly #pump: BatchPump<Pending>;
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
    this.#onBatch = options.onBatch;
    this.#pump = new BatchPump(
      (queue) => this.#take(queue),
      (batch) => this.#writeBatch(batch),
      options.maxInFlight ?? 1,
    );
  }

  /** Writes `events`; resolves once they are committed, rejects if their batch failed. */
  record(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#pump.push({ events, resolve, reject }));
  }

  /** Resolves when nothing is queued or being written (for a clean shutdown). */
  drain(): Promise<void> {
    return this.#pump.drain();
  }

  /** A copy of the statistics so far. */
  stats(): GroupCommitStats {
    return { ...this.#stats, histogram: { ...this.#stats.histogram } };
  }

  /** The next batch: queued records up to `maxBatchEvents` events (at least one record). */
  #take(queue: Pending[]): Pending[] {
    const batch: Pending[] = [];
    let size = 0;
    while (queue.length > 0) {
      const next = queue[0] as Pending;
      if (batch.length > 0 && size + next.events.length > this.#maxBatchEvents) break;
      queue.shift();
      batch.push(next);
      size += next.events.length;
    }
    return batch;
  }

  /** Writes a batch; returns how to answer its callers (all committed, or all failed with the error). */
  async #writeBatch(batch: Pending[]): Promise<() => void> {
    const size = batch.reduce((n, p) => n + p.events.length, 0);
    const started = performance.now();
    let failure: { error: unknown } | undefined;
    try {
      await this.#insert(batch.flatMap((p) => p.events));
    } catch (error) {
      failure = { error };
    }
    this.#count(batch.length, size, failure !== undefined);
    this.#onBatch?.({
      records: batch.length,
      events: size,
      durationMs: performance.now() - started,
      failed: failure !== undefined,
    });
    return () => {
      for (const pending of batch) {
        if (failure) pending.reject(failure.error);
        else pending.resolve();
      }
    };
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
