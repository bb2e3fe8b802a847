import { describe, expect, it } from 'vitest';
import { decide, INITIAL_STATE, type KeeperState, type NodeObservation, SYNC_NAMES } from './keeper.ts';

const policy = { graceMs: 2000, failoverMs: 1500 };
const primaryA = (streams: NodeObservation['streams'], syncNames = SYNC_NAMES): NodeObservation => ({
  name: 'a',
  reachable: true,
  standby: false,
  syncNames,
  streams,
});
const standbyB: NodeObservation = { name: 'b', reachable: true, standby: true };
const downA: NodeObservation = { name: 'a', reachable: false };
const syncStream = [{ application: 'nir_b', state: 'streaming', syncState: 'quorum' }];
const synchronous: KeeperState = { ...INITIAL_STATE, primary: 'a', mode: 'synchronous', syncStandby: 'b' };

describe('keeper: synchronous replication without an answered write on one node unknowingly', () => {
  it('records the synchronous standby while one streams', () => {
    const { state, action } = decide(INITIAL_STATE, [primaryA(syncStream), standbyB], 0, policy);
    expect(action).toEqual({ kind: 'none' });
    expect(state).toMatchObject({ primary: 'a', mode: 'synchronous', syncStandby: 'b' });
  });

  it('waits the grace period before the primary stops waiting for a missing standby', () => {
    let { state, action } = decide(
      synchronous,
      [primaryA([]), { name: 'b', reachable: false }],
      1000,
      policy,
    );
    expect(action.kind).toBe('none');
    expect(state.mode).toBe('synchronous');
    ({ state, action } = decide(state, [primaryA([]), { name: 'b', reachable: false }], 2999, policy));
    expect(action.kind).toBe('none');
    ({ state, action } = decide(state, [primaryA([]), { name: 'b', reachable: false }], 3000, policy));
    expect(action).toEqual({ kind: 'degrade', node: 'a' });
    expect(state.mode).toBe('degraded');
  });

  it('turns synchronous replication back on as soon as a standby streams again', () => {
    const degraded: KeeperState = { ...synchronous, mode: 'degraded', syncStandby: undefined };
    const streamingAsync = [{ application: 'nir_b', state: 'streaming', syncState: 'async' }];
    const { action } = decide(degraded, [primaryA(streamingAsync, ''), standbyB], 0, policy);
    expect(action).toEqual({ kind: 'restore', node: 'a' });
    const catchingUp = [{ application: 'nir_b', state: 'catchup', syncState: 'async' }];
    expect(decide(degraded, [primaryA(catchingUp, ''), standbyB], 0, policy).action.kind).toBe('none');
  });

  it('promotes the synchronous standby once the primary has been silent for the failover time', () => {
    let { state, action } = decide(synchronous, [downA, standbyB], 10_000, policy);
    expect(action.kind).toBe('none');
    ({ state, action } = decide(state, [downA, standbyB], 11_499, policy));
    expect(action.kind).toBe('none');
    ({ state, action } = decide(state, [downA, standbyB], 11_500, policy));
    expect(action).toEqual({ kind: 'promote', node: 'b' });
    expect(state.primary).toBe('b');
  });

  it('never promotes while degraded: the standby may lack answered writes', () => {
    let state: KeeperState = { ...synchronous, mode: 'degraded', syncStandby: undefined };
    for (const now of [0, 5000, 60_000]) {
      const decision = decide(state, [downA, standbyB], now, policy);
      expect(decision.action.kind).toBe('none');
      state = decision.state;
    }
  });

  it('a primary that comes back after a promotion is fenced, not followed', () => {
    const promoted: KeeperState = { ...INITIAL_STATE, primary: 'b', mode: 'degraded' };
    const both = [
      primaryA([], SYNC_NAMES),
      { name: 'b', reachable: true, standby: false, syncNames: '', streams: [] },
    ];
    expect(decide(promoted, both, 0, policy).action).toEqual({ kind: 'fence', node: 'a' });
  });
});
