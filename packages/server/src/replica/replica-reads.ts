/**
 * Consumer reads on a streaming replica (issue 19). A consumer search, count or read by id runs
 * on the replica when the lag monitor says it is within the staleness bound
 * (`NIR_REPLICA_MAX_LAG`), else on the primary; a replica statement that fails is run again on
 * the primary, so no replica fault reaches the client. Everything else (the producer API, the
 * catalogue, the audit) never comes here: it uses the primary.
 *
 * R6 stays strict. The consumer statements read the catalogue version beside their rows, and
 * on a replica that is the replica's version. So while the replica statement runs, the
 * primary's version is read too (one single-row read, in parallel): when they differ the
 * replica has not replayed the newest catalogue change, and the request runs on the primary,
 * whose statement reads the primary's version; the guard's `confirmCatalogue` then redoes the
 * request on the newer catalogue as on the plain path. When they agree, the replica has
 * replayed every catalogue change committed before the request began, whatever its lag.
 */
import type { PointerRepository, ReplicaHealth } from '@nir/store';

/** Why a read that could have gone to the replica ran on the primary (a bounded label set). */
export const REPLICA_FALLBACK_REASONS = ['lag', 'unmeasured', 'failed', 'catalogue', 'reindex'] as const;
export type ReplicaFallbackReason = (typeof REPLICA_FALLBACK_REASONS)[number];

/** A consumer read: its statement reads the catalogue version beside its rows. */
export type ConsumerRead<T extends { catalogueVersion: number }> = (
  pointers: PointerRepository,
) => Promise<T>;

/** Where the consumer's searches, counts and reads run. */
export interface ConsumerReads {
  run<T extends { catalogueVersion: number }>(read: ConsumerRead<T>): Promise<T>;
}

/** No replica: every read on the primary, with nothing in between (the plain path). */
export function primaryReads(primary: PointerRepository): ConsumerReads {
  return { run: (read) => read(primary) };
}

/** What {@link ReplicaReads} is told about each read (metrics, logs). */
export interface ReplicaReadEvents {
  served(): void;
  fellBack(reason: ReplicaFallbackReason, error?: unknown): void;
}

/** Reads on the replica when allowed, on the primary otherwise (see the module comment). */
export class ReplicaReads implements ConsumerReads {
  readonly #primary: PointerRepository;
  readonly #replica: PointerRepository;
  readonly #health: ReplicaHealth;
  readonly #primaryVersion: () => Promise<number>;
  readonly #events: ReplicaReadEvents;

  /** `primaryVersion`: the catalogue's version on the primary (one single-row read). */
  constructor(deps: {
    primary: PointerRepository;
    replica: PointerRepository;
    health: ReplicaHealth;
    primaryVersion: () => Promise<number>;
    events: ReplicaReadEvents;
  }) {
    this.#primary = deps.primary;
    this.#replica = deps.replica;
    this.#health = deps.health;
    this.#primaryVersion = deps.primaryVersion;
    this.#events = deps.events;
  }

  async run<T extends { catalogueVersion: number }>(read: ConsumerRead<T>): Promise<T> {
    // While the primary recomputes older search facts, a search may write: primary only.
    const unusable = this.#primary.searchFacts.current ? this.#health.unusable() : 'reindex';
    if (unusable) {
      this.#events.fellBack(unusable);
      return read(this.#primary);
    }
    const primaryVersion = this.#primaryVersion();
    // Awaited below; a failure while the replica statement runs must not go unhandled meanwhile.
    primaryVersion.catch(() => undefined);
    let result: T;
    try {
      result = await read(this.#replica);
    } catch (error) {
      this.#health.failed();
      this.#events.fellBack('failed', error);
      return read(this.#primary);
    }
    // The primary's version is the truth (R6); if it cannot be read the request fails as on
    // the plain path (503 when the primary is away).
    if (result.catalogueVersion !== (await primaryVersion)) {
      this.#events.fellBack('catalogue');
      return read(this.#primary);
    }
    this.#events.served();
    return result;
  }
}
