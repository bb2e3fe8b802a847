/**
 * The keeper's decisions (pure; the runner is keeper-main.ts). The keeper watches the two
 * PostgreSQL nodes of the replicated topology and keeps one promise: **an answered write is on
 * two nodes, or the keeper knows it is not**. It
 * - keeps synchronous replication on while a standby streams (every commit then waits for the
 *   standby's flush before the registry answers);
 * - turns it off (degrades) when the standby has been gone for `graceMs`, so that writes do not
 *   hang forever on a dead standby; while degraded it never promotes, since the standby may
 *   lack answered writes;
 * - turns it back on as soon as a standby streams again;
 * - promotes the standby when the primary has not answered for `failoverMs` and the standby was
 *   the synchronous one the last time the primary was seen (so it has every answered commit);
 * - fences: a node that answers as a primary beside the one the keeper promoted is stopped.
 * This is the part of pg_auto_failover's state machine a two-node loopback topology needs; a
 * production deployment uses a failover manager with a witness (docs/SCALING.md).
 */

/** The value of synchronous_standby_names while replication is synchronous. */
export const SYNC_NAMES = 'ANY 1 (nir_a, nir_b)';

/** A standby as the primary's pg_stat_replication shows it. */
export interface StandbyStream {
  application: string;
  state: string;
  syncState: string;
}

/** What the keeper saw of one node in one round. */
export interface NodeObservation {
  name: string;
  reachable: boolean;
  /** pg_is_in_recovery(). */
  standby?: boolean;
  /** synchronous_standby_names (primaries). */
  syncNames?: string;
  /** pg_stat_replication (primaries). */
  streams?: StandbyStream[];
}

/** What the keeper remembers between rounds. */
export interface KeeperState {
  primary: string | undefined;
  mode: 'starting' | 'synchronous' | 'degraded';
  /** The standby confirmed synchronous in the last round the primary was seen. */
  syncStandby: string | undefined;
  standbyMissingSince: number | undefined;
  primaryDownSince: number | undefined;
}

/** One thing to do this round. */
export type KeeperAction =
  | { kind: 'none' }
  | { kind: 'degrade'; node: string }
  | { kind: 'restore'; node: string }
  | { kind: 'promote'; node: string }
  | { kind: 'fence'; node: string };

/** How patient the keeper is. */
export interface KeeperPolicy {
  /** A standby missing this long makes the primary stop waiting for it. */
  graceMs: number;
  /** A primary silent this long is replaced by its synchronous standby. */
  failoverMs: number;
}

/** The state before the first round. */
export const INITIAL_STATE: KeeperState = {
  primary: undefined,
  mode: 'starting',
  syncStandby: undefined,
  standbyMissingSince: undefined,
  primaryDownSince: undefined,
};

/** Decides this round's action from what was seen at `now`. */
export function decide(
  state: KeeperState,
  nodes: NodeObservation[],
  now: number,
  policy: KeeperPolicy,
): { state: KeeperState; action: KeeperAction } {
  const primaries = nodes.filter((n) => n.reachable && n.standby === false);
  const believed = state.primary;
  // Fencing: a second primary beside the one we believe in is stopped.
  const intruder = believed !== undefined ? primaries.find((n) => n.name !== believed) : undefined;
  if (intruder && primaries.some((n) => n.name === believed)) {
    return { state, action: { kind: 'fence', node: intruder.name } };
  }
  const primary =
    primaries.find((n) => n.name === believed) ?? (believed === undefined ? primaries[0] : undefined);
  if (primary) return primarySeen(state, primary, now, policy);
  return primaryMissing(state, nodes, now, policy);
}

function primarySeen(
  state: KeeperState,
  primary: NodeObservation,
  now: number,
  policy: KeeperPolicy,
): { state: KeeperState; action: KeeperAction } {
  const sync = (primary.streams ?? []).find(
    (s) => s.state === 'streaming' && ['sync', 'quorum'].includes(s.syncState),
  );
  const streaming = (primary.streams ?? []).find((s) => s.state === 'streaming');
  const synchronousOn = (primary.syncNames ?? '') !== '';
  const base = { ...state, primary: primary.name, primaryDownSince: undefined };
  if (synchronousOn && sync) {
    return {
      state: {
        ...base,
        mode: 'synchronous',
        syncStandby: sync.application.replace(/^nir_/, ''),
        standbyMissingSince: undefined,
      },
      action: { kind: 'none' },
    };
  }
  if (!synchronousOn) {
    // Degraded (or never synchronous): back to synchronous once a standby streams.
    const next = {
      ...base,
      mode: 'degraded' as const,
      syncStandby: undefined,
      standbyMissingSince: undefined,
    };
    return { state: next, action: streaming ? { kind: 'restore', node: primary.name } : { kind: 'none' } };
  }
  // Synchronous on, but no synchronous standby: commits wait. Degrade after the grace period.
  const since = state.standbyMissingSince ?? now;
  if (now - since >= policy.graceMs) {
    return {
      state: { ...base, mode: 'degraded', syncStandby: undefined, standbyMissingSince: undefined },
      action: { kind: 'degrade', node: primary.name },
    };
  }
  return { state: { ...base, standbyMissingSince: since }, action: { kind: 'none' } };
}

function primaryMissing(
  state: KeeperState,
  nodes: NodeObservation[],
  now: number,
  policy: KeeperPolicy,
): { state: KeeperState; action: KeeperAction } {
  if (state.primary === undefined) return { state, action: { kind: 'none' } };
  const since = state.primaryDownSince ?? now;
  const next = { ...state, primaryDownSince: since };
  const candidate = nodes.find((n) => n.name === state.syncStandby && n.reachable && n.standby === true);
  if (state.mode === 'synchronous' && candidate && now - since >= policy.failoverMs) {
    return {
      state: {
        ...next,
        primary: candidate.name,
        mode: 'degraded',
        syncStandby: undefined,
        primaryDownSince: undefined,
      },
      action: { kind: 'promote', node: candidate.name },
    };
  }
  return { state: next, action: { kind: 'none' } };
}
