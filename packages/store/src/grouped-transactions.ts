/**
 * Group commit of whole write transactions (issue 15, item 4): concurrent producer writes share
 * one database transaction and one commit (one WAL flush) the way audit events do in
 * {@link GroupCommitWriter}, yet each write stays on its own:
 *
 * - While a batch is being written, new writes queue; the next batch takes them all (up to
 *   `maxBatch`). A batch is one transaction on one connection; its writes run one after the
 *   other, each behind its own `SAVEPOINT`.
 * - A write that throws (a domain refusal such as 409/422, a failing statement, or its `check`)
 *   is rolled back to its savepoint alone; its caller gets its own error, never another's.
 *   Later writes of the batch do not see what it did.
 * - Every caller is answered only after the batch's COMMIT returned: a successful write resolves
 *   once it is durable; if the commit (or the connection) fails, every write of the batch that
 *   had succeeded is rejected with that error, so no caller is told 2xx for a write that is not
 *   stored. A write's audit event is written by the write itself inside the same transaction
 *   (R7, R10), so it commits exactly when its write does.
 *
 * - Rows a write adds to a table that only ever receives inserts (its AuditEvent) may be handed to
 *   {@link addBeforeCommit} instead of inserted at once: the batch then writes those of every
 *   write that succeeded in one statement just before COMMIT (those of a write rolled back to
 *   its savepoint are dropped with it). If that statement fails, the whole batch fails: still
 *   no write is answered without its audit (R7).
 *
 * A write sees the writes before it in its batch (same transaction), as it would see them had
 * they committed just before it: the outcome is the one a serial execution in batch order gives.
 */

import { type Kysely, sql, type Transaction } from 'kysely';
import { BatchPump } from './batch-pump.ts';
import type { DatabaseSchema } from './schema.ts';

type Db = Kysely<DatabaseSchema>;
type Trx = Transaction<DatabaseSchema>;

/**
 * A check run inside the shared transaction just before a write, behind the write's savepoint:
 * if it throws, only that write fails, with the thrown error (e.g. a catalogue version that
 * moved, so that its caller reloads and redoes the request, issue 15 item 1).
 */
export type WriteCheck = (trx: Trx) => Promise<void>;

/** How writes are grouped. */
export interface GroupedTransactionOptions {
  /**
   * Most writes in one transaction. Each write is a subtransaction; PostgreSQL keeps up to 64
   * per backend in shared memory before snapshots must consult pg_subtrans, so stay below.
   * Default 32.
   */
  maxBatch?: number;
  /**
   * Batches in flight at once, each on its own connection. Default 1: the classic group commit,
   * and two batches can then never wait on each other's row locks (no deadlock between writes
   * that would not deadlock alone).
   */
  maxInFlight?: number;
  /** Told of every batch (for metrics and tests). */
  onBatch?: ((batch: GroupedBatchReport) => void) | undefined;
}

/** One batch as written. */
export interface GroupedBatchReport {
  /** Writes in the batch. */
  writes: number;
  /** Of which rolled back to their savepoint (their callers got their own error). */
  failedWrites: number;
  /** True when the transaction itself failed (every write of the batch was rejected). */
  failed: boolean;
  durationMs: number;
}

interface Pending {
  work: (trx: Trx) => Promise<unknown>;
  check: WriteCheck | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes the items writes deferred to just before their batch's commit, in one go. */
export type BeforeCommitSink<T> = (items: T[], trx: Trx) => Promise<void>;

/** The batch a transaction belongs to: which write runs, and what each deferred. */
interface BatchState {
  current: number;
  deferred: Map<BeforeCommitSink<never>, { write: number; items: readonly unknown[] }[]>;
}

const batches = new WeakMap<object, BatchState>();

/**
 * Defers `items` to `sink`, called once with the items of every successful write of the batch
 * just before its COMMIT, inside the transaction. True when `trx` is a grouped batch (the items
 * are then taken); false otherwise (the caller writes them itself). `sink` must be the same
 * function for items that belong in one statement.
 */
export function addBeforeCommit<T>(trx: Trx, sink: BeforeCommitSink<T>, items: readonly T[]): boolean {
  const batch = batches.get(trx);
  if (!batch) return false;
  const key = sink as BeforeCommitSink<never>;
  let list = batch.deferred.get(key);
  if (!list) {
    list = [];
    batch.deferred.set(key, list);
  }
  list.push({ write: batch.current, items });
  return true;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Runs concurrent writes in shared transactions, one savepoint each, one commit per batch. */
export class GroupedTransactions {
  readonly #db: Db;
  readonly #onBatch: ((batch: GroupedBatchReport) => void) | undefined;
  readonly #pump: BatchPump<Pending>;

  constructor(db: Db, options: GroupedTransactionOptions = {}) {
    this.#db = db;
    const maxBatch = Math.max(1, options.maxBatch ?? 32);
    this.#onBatch = options.onBatch;
    this.#pump = new BatchPump(
      (queue) => queue.splice(0, maxBatch),
      (batch) => this.#writeBatch(batch),
      options.maxInFlight ?? 1,
    );
  }

  /**
   * Runs `work` in the next batch's transaction (after `check`, if given); resolves with its
   * result once that transaction committed, rejects with its own error if it threw, or with
   * the transaction's error if the batch could not commit.
   */
  run<T>(work: (trx: Trx) => Promise<T>, check?: WriteCheck): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.#pump.push({ work, check, resolve: resolve as (value: unknown) => void, reject }),
    );
  }

  /** Resolves when nothing is queued or being written (for a clean shutdown). */
  drain(): Promise<void> {
    return this.#pump.drain();
  }

  async #writeBatch(batch: Pending[]): Promise<() => void> {
    const started = performance.now();
    const settled: Settled[] = [];
    let failure: { error: unknown } | undefined;
    try {
      await this.#db.transaction().execute(async (trx) => {
        const state: BatchState = { current: 0, deferred: new Map() };
        batches.set(trx, state);
        for (const [i, pending] of batch.entries()) {
          state.current = i;
          // One savepoint per write (plain simple-protocol text, no parameters): a failing write
          // undoes only what it did. No RELEASE: the savepoints end with the transaction.
          await sql.raw(`SAVEPOINT w${i}`).execute(trx);
          try {
            if (pending.check) await pending.check(trx);
            settled.push({ ok: true, value: await pending.work(trx) });
          } catch (error) {
            settled.push({ ok: false, error });
            // If even this fails the transaction is unusable: the batch fails as a whole.
            await sql.raw(`ROLLBACK TO SAVEPOINT w${i}`).execute(trx);
          }
        }
        // What the successful writes deferred (their audit events): one statement per sink.
        for (const [sink, list] of state.deferred) {
          const items = list.filter((d) => settled[d.write]?.ok).flatMap((d) => d.items);
          if (items.length > 0) await (sink as BeforeCommitSink<unknown>)(items, trx);
        }
        batches.delete(trx);
      });
    } catch (error) {
      failure = { error };
    }
    const failedWrites = settled.filter((s) => !s.ok).length;
    this.#onBatch?.({
      writes: batch.length,
      failedWrites,
      failed: failure !== undefined,
      durationMs: performance.now() - started,
    });
    // Answers only after COMMIT (or its failure): a write's own error stands; a write that
    // succeeded but whose batch did not commit gets the batch's error.
    return () => {
      for (const [i, pending] of batch.entries()) {
        const outcome = settled[i];
        if (outcome && !outcome.ok) pending.reject(outcome.error);
        else if (failure) pending.reject(failure.error);
        else pending.resolve(outcome?.value);
      }
    };
  }
}
