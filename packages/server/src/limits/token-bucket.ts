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
}

const MINUTE_MS = 60_000;

/** Buckets by key. `now` is injectable for tests. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #takes = 0;

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
    if (!bucket) {
      bucket = { tokens: perMinute, at: now, perMinute };
      this.#buckets.set(key, bucket);
    } else {
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
