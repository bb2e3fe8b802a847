import { describe, expect, it } from 'vitest';
import { LagTracker, parseLsn } from './replica-lag.ts';

describe('parseLsn', () => {
  it('orders WAL positions across the high word', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(() => parseLsn('nonsense')).toThrow(/WAL position/);
  });
});

describe('LagTracker: staleness in time, not bytes (issue 19)', () => {
  it('knows nothing before the replica has answered', () => {
    const lag = new LagTracker(10_000);
    lag.primary(0, 100n);
    expect(lag.staleness(50)).toBeUndefined();
  });

  it('is the age of the newest primary sample the replica has replayed', () => {
    const lag = new LagTracker(10_000);
    lag.primary(0, 100n);
    lag.primary(200, 150n);
    lag.primary(400, 300n);
    // Replayed 160 when answering at 450: every commit before 200 is there, not those before 400.
    lag.replica(450, 160n);
    expect(lag.staleness(450)).toBe(250);
    expect(lag.staleness(1000)).toBe(800);
  });

  it('an idle primary keeps a caught-up replica fresh (same position, newer samples)', () => {
    const lag = new LagTracker(10_000);
    for (let t = 0; t <= 2000; t += 200) {
      lag.primary(t, 500n);
      lag.replica(t + 5, 500n);
    }
    expect(lag.staleness(2005)).toBe(5);
  });

  it('paused replay under writes grows stale by the clock', () => {
    const lag = new LagTracker(10_000);
    lag.primary(0, 100n);
    lag.replica(10, 100n);
    for (let t = 200; t <= 3000; t += 200) {
      lag.primary(t, BigInt(100 + t));
      lag.replica(t + 10, 100n);
    }
    expect(lag.staleness(3010)).toBe(3010);
  });

  it('an unanswering replica grows stale even when the primary is idle', () => {
    const lag = new LagTracker(10_000);
    lag.primary(0, 100n);
    lag.replica(10, 100n);
    // The replica stops answering; the primary's later samples prove nothing about it.
    for (let t = 200; t <= 3000; t += 200) lag.primary(t, 100n);
    expect(lag.staleness(3000)).toBe(3000);
  });

  it('never counts a sample asked after the replica answered', () => {
    const lag = new LagTracker(10_000);
    lag.primary(0, 100n);
    lag.primary(500, 100n);
    lag.replica(300, 100n);
    expect(lag.staleness(600)).toBe(600);
  });

  it('never goes back in time when an older answer arrives late', () => {
    const lag = new LagTracker(10_000);
    lag.primary(0, 100n);
    lag.primary(200, 200n);
    lag.replica(250, 200n);
    lag.replica(260, 100n);
    expect(lag.staleness(300)).toBe(100);
  });
});
