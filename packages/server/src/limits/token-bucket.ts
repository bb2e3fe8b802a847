/**
 * Token buckets keyed by name, in memory (issue 14, point 9). A bucket holds up to a minute's
 * quota and refills at the quota over 60 s, so a client may spend its minute in a burst and
 * then proceeds at the quota's rate: over any minute at most twice the quota, over longer
 * periods the quota. Checking is synchronous and allocation-free on the hot path (one Map
 * lookup per key); idle buckets (full again) are swept now and then, so memory follows the
 * number of active clients.
 *
 * Hand-written rather than a library: each key's quota comes from the Controller Catalogue
 * and may change at any request, and the check must stay synchronous on the consumer search.
 */

interface Bucket {
  tokens: number;
  at: number;
  perMinute: number;
  /** Takes so far: a receipt can undo a take only while no other take followed it. */
  takes: number;
}

/** What one take changed, so that it can be undone exactly (see {@link TokenBuckets.undo}). */
export interface TakeReceipt {
  key: string;
  /** The bucket before the take; undefined when the take created it. */
  before: Omit<Bucket, 'takes'> | undefined;
  /** The bucket's take count after this take. */
  takes: number;
}

const MINUTE_MS = 60_000;

/** Buckets by key. `now` is injectable for tests. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #takes = 0;
  #lastReceipt: TakeReceipt | undefined;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * Takes one token of `key`'s bucket, whose quota is `perMinute`. Returns 0 when allowed,
   * else the whole seconds until a token is there (for `Retry-After`, at least 1).
   */
  take(key: string, perMinute: number): number {
    const now = this.#now();
    if (++this.#takes % 10_000 === 0) this.#sweep(now);
    let bucket = this.#buckets.get(key);
    this.#lastReceipt = {
      key,
      before: bucket && { tokens: bucket.tokens, at: bucket.at, perMinute: bucket.perMinute },
      takes: (bucket?.takes ?? 0) + 1,
    };
    if (!bucket) {
      bucket = { tokens: perMinute, at: now, perMinute, takes: 1 };
      this.#buckets.set(key, bucket);
    } else {
      bucket.takes += 1;
      // A quota changed in the catalogue applies from now; the bucket never holds more than it.
      bucket.perMinute = perMinute;
      bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) * perMinute) / MINUTE_MS);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * MINUTE_MS) / perMinute / 1000));
  }

  /** What the last {@link take} changed (read it right after the take: takes are synchronous). */
  lastReceipt(): TakeReceipt | undefined {
    return this.#lastReceipt;
  }

  /**
   * Undoes a take (the same request is being counted again, on a newer quota): the bucket as it
   * was, refill included, when no other take came since; else one token given back.
   */
  undo(receipt: TakeReceipt): void {
    const bucket = this.#buckets.get(receipt.key);
    if (!bucket) return;
    if (bucket.takes === receipt.takes) {
      if (!receipt.before) {
        this.#buckets.delete(receipt.key);
        return;
      }
      Object.assign(bucket, receipt.before);
      bucket.takes -= 1;
      return;
    }
    bucket.tokens = Math.min(bucket.perMinute, bucket.tokens + 1);
  }

  /** Buckets held now (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at >= MINUTE_MS) this.#buckets.delete(key);
    }
  }
}
