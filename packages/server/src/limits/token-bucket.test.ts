import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket.ts';

describe('TokenBuckets (issue 14, point 9)', () => {
  it('allows a minute of quota at once, then refuses with the seconds until the next token', () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    for (let i = 0; i < 60; i++) expect(buckets.take('a', 60)).toBe(0);
    expect(buckets.take('a', 60)).toBe(1);
    now += 999;
    expect(buckets.take('a', 60)).toBe(1);
    now += 2;
    expect(buckets.take('a', 60)).toBe(0);
    expect(buckets.take('a', 60)).toBe(1);
  });

  it('computes Retry-After from the refill rate', () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    expect(buckets.take('slow', 2)).toBe(0);
    expect(buckets.take('slow', 2)).toBe(0);
    expect(buckets.take('slow', 2)).toBe(30);
    now += 15_000;
    expect(buckets.take('slow', 2)).toBe(15);
  });

  it('keeps keys apart', () => {
    const buckets = new TokenBuckets(() => 0);
    expect(buckets.take('a', 1)).toBe(0);
    expect(buckets.take('a', 1)).toBeGreaterThan(0);
    expect(buckets.take('b', 1)).toBe(0);
  });

  it('applies a lowered quota at once (the catalogue changed)', () => {
    const buckets = new TokenBuckets(() => 0);
    expect(buckets.take('a', 100)).toBe(0);
    // 99 left under the old quota; the new one holds at most 2.
    expect(buckets.take('a', 2)).toBe(0);
    expect(buckets.take('a', 2)).toBe(0);
    expect(buckets.take('a', 2)).toBeGreaterThan(0);
  });

  it('undoes a take exactly, refill at the old quota included, when nothing was taken since', () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    expect(buckets.take('a', 3)).toBe(0); // 2 left
    now += 500; // under a stale quota of 600 a minute, 5 tokens would have refilled
    expect(buckets.take('a', 600)).toBe(0);
    const receipt = buckets.lastReceipt();
    if (!receipt) throw new Error('no receipt');
    buckets.undo(receipt);
    // Counted again under the real quota of 3: 2 + a trickle, then 1 left, then none.
    expect(buckets.take('a', 3)).toBe(0);
    expect(buckets.take('a', 3)).toBe(0);
    expect(buckets.take('a', 3)).toBeGreaterThan(0);
  });

  it('gives one token back when another take came between a take and its undo', () => {
    const buckets = new TokenBuckets(() => 0);
    expect(buckets.take('a', 2)).toBe(0);
    const receipt = buckets.lastReceipt();
    expect(buckets.take('a', 2)).toBe(0);
    if (!receipt) throw new Error('no receipt');
    buckets.undo(receipt);
    expect(buckets.take('a', 2)).toBe(0);
    expect(buckets.take('a', 2)).toBeGreaterThan(0);
  });

  it('forgets a bucket its undone take created', () => {
    const buckets = new TokenBuckets(() => 0);
    buckets.take('new', 5);
    const receipt = buckets.lastReceipt();
    if (!receipt) throw new Error('no receipt');
    buckets.undo(receipt);
    expect(buckets.size).toBe(0);
  });

  it('forgets idle buckets, so memory follows the active clients', () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    for (let i = 0; i < 9_999; i++) buckets.take(`k${i}`, 10);
    expect(buckets.size).toBe(9_999);
    now += 61_000;
    buckets.take('fresh', 10);
    expect(buckets.size).toBe(1);
  });
});
