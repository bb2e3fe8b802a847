/**
 * How stale a streaming replica is, in time (issue 19). Bytes of WAL behind say nothing about
 * time, so the monitor samples the primary's WAL position with the time it asked
 * (`pg_current_wal_lsn()`, every {@link LAG_SAMPLE_INTERVAL_MS}) and the replica's replayed
 * position (`pg_last_wal_replay_lsn()`) with the time it answered. Every commit acknowledged
 * before a primary sample was asked lies at or below that sample's position; so once the
 * replica has replayed past a sample taken at time t, the replica holds every commit made
 * before t. The staleness of the replica at time `now` is therefore `now − t` for the newest
 * such sample (taken before the replica's answer): an upper bound, over by at most one
 * sampling interval and a round trip. An idle primary keeps being sampled, so an idle replica
 * that has replayed everything is fresh; a replica whose replay is paused, or that stops
 * answering, grows stale by the clock, and is not used once past the bound.
 */
import { type Kysely, sql } from 'kysely';

/** Milliseconds between samples of the primary's and the replica's WAL positions. */
export const LAG_SAMPLE_INTERVAL_MS = 200;

/** A WAL position (`X/Y`) as a number, for comparing. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!match) throw new Error(`not a WAL position: '${lsn}'`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Why the replica is not used now. */
export type ReplicaUnusable = 'lag' | 'unmeasured';

/**
 * The arithmetic of the staleness bound, on timestamps the caller gives (milliseconds of a
 * monotonic clock), so that it can be tested without a replica.
 */
export class LagTracker {
  /** Primary samples, oldest first: the time the position was asked, and the position. */
  readonly #samples: { at: number; lsn: bigint }[] = [];
  /** The newest primary sample time the replica is known to have replayed, if any. */
  #replayedAt: number | undefined;
  readonly #keepMs: number;

  /** `keepMs`: how far back samples are kept (older ones could only prove a staleness over the bound). */
  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  /** The primary was at `lsn` when asked at `at`. */
  primary(at: number, lsn: bigint): void {
    this.#samples.push({ at, lsn });
    const horizon = at - this.#keepMs;
    while ((this.#samples[0]?.at ?? Number.POSITIVE_INFINITY) < horizon) this.#samples.shift();
  }

  /** The replica had replayed up to `lsn` when it answered at `at`. */
  replica(at: number, lsn: bigint): void {
    // The newest sample asked before the answer and at or below what is replayed.
    for (let i = this.#samples.length - 1; i >= 0; i--) {
      const sample = this.#samples[i] as { at: number; lsn: bigint };
      if (sample.at <= at && sample.lsn <= lsn) {
        if (this.#replayedAt === undefined || sample.at > this.#replayedAt) this.#replayedAt = sample.at;
        return;
      }
    }
  }

  /** Milliseconds the replica may be behind at `now`, or undefined when nothing is known. */
  staleness(now: number): number | undefined {
    return this.#replayedAt === undefined ? undefined : Math.max(0, now - this.#replayedAt);
  }
}

/** What the registry asks the monitor before sending a read to the replica. */
export interface ReplicaHealth {
  /** Undefined when the replica may be used now, else why not. */
  unusable(): ReplicaUnusable | undefined;
  /** The replica's staleness now in milliseconds, or undefined when unknown (metrics). */
  stalenessMs(): number | undefined;
  /** A read on the replica failed: it is not used until a sample taken after the failure succeeds. */
  failed(): void;
}

/** Options of a {@link ReplicaLagMonitor}. */
export interface ReplicaLagOptions {
  /** The bound: a replica staler than this is not used (`NIR_REPLICA_MAX_LAG`). */
  maxLagMs: number;
  intervalMs?: number;
  /** Told when sampling fails (logging); sampling carries on. */
  onError?: (side: 'primary' | 'replica', error: unknown) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: the monitor reads two functions, not the schema.
type AnyDb = Kysely<any>;

/** Samples the primary and the replica and says whether the replica may serve a read now. */
export class ReplicaLagMonitor implements ReplicaHealth {
  readonly maxLagMs: number;
  readonly intervalMs: number;
  readonly #tracker: LagTracker;
  readonly #primary: AnyDb;
  readonly #replica: AnyDb;
  readonly #onError: ReplicaLagOptions['onError'];
  #timer: NodeJS.Timeout | undefined;
  #primaryBusy = false;
  #replicaBusy = false;
  /** Set by a failed read; cleared by a replica sample asked after it. */
  #failedAt: number | undefined;
  /** The replica answered that it is not in recovery (promoted): not a replica any more. */
  #notStandby = false;

  constructor(primary: AnyDb, replica: AnyDb, options: ReplicaLagOptions) {
    this.#primary = primary;
    this.#replica = replica;
    this.maxLagMs = options.maxLagMs;
    this.intervalMs = options.intervalMs ?? LAG_SAMPLE_INTERVAL_MS;
    this.#onError = options.onError;
    this.#tracker = new LagTracker(options.maxLagMs + 10 * this.intervalMs);
  }

  /** Starts sampling (the first sample at once). */
  start(): void {
    if (this.#timer) return;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  unusable(): ReplicaUnusable | undefined {
    if (this.#failedAt !== undefined || this.#notStandby) return 'unmeasured';
    const staleness = this.#tracker.staleness(performance.now());
    if (staleness === undefined) return 'unmeasured';
    return staleness > this.maxLagMs ? 'lag' : undefined;
  }

  stalenessMs(): number | undefined {
    return this.#tracker.staleness(performance.now());
  }

  failed(): void {
    this.#failedAt = performance.now();
  }

  #sample(): void {
    // A sample still waiting (a frozen server) is not joined by another: the clock runs on.
    if (!this.#primaryBusy) {
      this.#primaryBusy = true;
      const asked = performance.now();
      sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`
        .execute(this.#primary)
        .then(({ rows }) => this.#tracker.primary(asked, parseLsn(rows[0]?.lsn ?? '')))
        .catch((error: unknown) => this.#onError?.('primary', error))
        .finally(() => {
          this.#primaryBusy = false;
        });
    }
    if (!this.#replicaBusy) {
      this.#replicaBusy = true;
      const asked = performance.now();
      sql<{ lsn: string | null }>`SELECT pg_last_wal_replay_lsn()::text AS lsn`
        .execute(this.#replica)
        .then(({ rows }) => {
          const lsn = rows[0]?.lsn;
          if (lsn === null || lsn === undefined) {
            if (!this.#notStandby)
              this.#onError?.('replica', new Error('the replica is not in recovery (promoted?)'));
            this.#notStandby = true;
            return;
          }
          this.#notStandby = false;
          this.#tracker.replica(performance.now(), parseLsn(lsn as string));
          if (this.#failedAt !== undefined && asked > this.#failedAt) this.#failedAt = undefined;
        })
        .catch((error: unknown) => this.#onError?.('replica', error))
        .finally(() => {
          this.#replicaBusy = false;
        });
    }
  }
}
