/**
 * The batching both group commits share (the audit writer and the producer's grouped
 * transactions): callers' items queue; after the I/O callbacks of this turn of the event loop,
 * the next batch takes what queued (as `take` decides) and `write` writes it, at most
 * `maxInFlight` batches at a time; `drain` waits until nothing is queued or being written.
 * `write` writes a batch and returns how to settle its callers: the pump calls that in the
 * same turn as it frees the batch's slot and schedules the next, so a caller answered and the
 * next batch's start are never a turn apart. `write` must not throw.
 */
export class BatchPump<T> {
  readonly #take: (queue: T[]) => T[];
  readonly #write: (batch: T[]) => Promise<() => void>;
  readonly #maxInFlight: number;
  readonly #queue: T[] = [];
  readonly #idle: (() => void)[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(take: (queue: T[]) => T[], write: (batch: T[]) => Promise<() => void>, maxInFlight: number) {
    this.#take = take;
    this.#write = write;
    this.#maxInFlight = Math.max(1, maxInFlight);
  }

  /** Queues `item` for the next batch. */
  push(item: T): void {
    this.#queue.push(item);
    this.#schedule();
  }

  /** Resolves when nothing is queued or being written (for a clean shutdown). */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    this.#scheduled = true;
    // After pending I/O callbacks: items queued in this turn of the event loop, and those that
    // requests and responses finishing right now queue, join the same batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#queue.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    const batch = this.#take(this.#queue);
    this.#inFlight++;
    const settle = await this.#write(batch);
    this.#inFlight--;
    settle();
    this.#schedule();
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
