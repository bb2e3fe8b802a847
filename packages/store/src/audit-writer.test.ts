import type { AuditEvent } from '@medplum/fhirtypes';
import { INTERACTION_KINDS, toAuditEvents } from '@nir/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from './audit-store.ts';
import { GroupCommitWriter } from './audit-writer.ts';
import type { Store } from './open-store.ts';
import { testBackends } from './test-databases.ts';

function fakeEvent(n: number): AuditEvent {
  return { resourceType: 'AuditEvent', id: `e${n}` } as AuditEvent;
}

/** An insert that holds each batch until released. */
function gatedInsert() {
  const batches: AuditEvent[][] = [];
  const gates: { release: () => void; fail: (error: Error) => void }[] = [];
  const insert = (events: AuditEvent[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(events);
      gates.push({ release: resolve, fail: reject });
    });
  return { insert, batches, gates };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitWriter', () => {
  it('batches the calls that arrive while a batch is written into one insert', async () => {
    const { insert, batches, gates } = gatedInsert();
    const writer = new GroupCommitWriter(insert);
    const settled: string[] = [];
    const first = writer.record([fakeEvent(1)]).then(() => settled.push('1'));
    await tick();
    expect(batches).toHaveLength(1);
    const rest = [2, 3, 4, 5].map((n) => writer.record([fakeEvent(n)]).then(() => settled.push(String(n))));
    await tick();
    // Still one insert in flight: the others wait for it.
    expect(batches).toHaveLength(1);
    gates[0]?.release();
    await first;
    await tick();
    expect(batches).toHaveLength(2);
    expect(batches[1]?.map((e) => e.id)).toEqual(['e2', 'e3', 'e4', 'e5']);
    // Nobody of the second batch is told before it commits.
    expect(settled).toEqual(['1']);
    gates[1]?.release();
    await Promise.all(rest);
    expect(settled).toEqual(['1', '2', '3', '4', '5']);
    const stats = writer.stats();
    expect(stats).toMatchObject({ batches: 2, records: 5, events: 5, largestBatch: 4, failedBatches: 0 });
    expect(stats.histogram).toEqual({ '1': 1, '2-4': 1 });
  });

  it('calls made in the same turn share one batch', async () => {
    const { insert, batches, gates } = gatedInsert();
    const writer = new GroupCommitWriter(insert);
    const all = Promise.all([1, 2, 3].map((n) => writer.record([fakeEvent(n), fakeEvent(n + 10)])));
    await tick();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(6);
    gates[0]?.release();
    await all;
  });

  it('a failed batch rejects every caller in it, and only them', async () => {
    const { insert, batches, gates } = gatedInsert();
    const writer = new GroupCommitWriter(insert);
    const first = writer.record([fakeEvent(1)]);
    await tick();
    const second = writer.record([fakeEvent(2)]);
    const third = writer.record([fakeEvent(3)]);
    gates[0]?.release();
    await first;
    await tick();
    gates[1]?.fail(new Error('disk full'));
    await expect(second).rejects.toThrow('disk full');
    await expect(third).rejects.toThrow('disk full');
    // The writer carries on.
    const fourth = writer.record([fakeEvent(4)]);
    await tick();
    gates[2]?.release();
    await fourth;
    expect(batches.map((b) => b.length)).toEqual([1, 2, 1]);
    expect(writer.stats().failedBatches).toBe(1);
  });

  it('caps a batch by events without splitting a caller, and writes nothing for no events', async () => {
    const { insert, batches, gates } = gatedInsert();
    const writer = new GroupCommitWriter(insert, { maxBatchEvents: 3 });
    await writer.record([]);
    expect(batches).toHaveLength(0);
    const calls = [
      writer.record([fakeEvent(1), fakeEvent(2)]),
      writer.record([fakeEvent(3), fakeEvent(4)]),
      writer.record([fakeEvent(5)]),
    ];
    await tick();
    expect(batches.map((b) => b.length)).toEqual([2]);
    gates[0]?.release();
    await calls[0];
    await tick();
    expect(batches.map((b) => b.length)).toEqual([2, 3]);
    gates[1]?.release();
    await Promise.all(calls);
  });

  it('drain waits until everything queued is written', async () => {
    const { insert, gates } = gatedInsert();
    const writer = new GroupCommitWriter(insert);
    const write = writer.record([fakeEvent(1)]);
    let drained = false;
    const draining = writer.drain().then(() => {
      drained = true;
    });
    await tick();
    expect(drained).toBe(false);
    gates[0]?.release();
    await write;
    await draining;
    expect(drained).toBe(true);
    await writer.drain();
  });
});

const backends = await testBackends();

describe.each(backends)('GroupCommitWriter over AuditStore on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('R7: 200 concurrent records commit in far fewer inserts, each durable when its promise resolves', async () => {
    const audit = new AuditStore(store.db);
    await audit.ensurePartitions();
    const writer = new GroupCommitWriter((events) => audit.insert(events));
    const events = Array.from({ length: 200 }, (_, i) =>
      toAuditEvents({
        recorded: new Date().toISOString(),
        requestId: `burst-${i}`,
        kind: INTERACTION_KINDS.read,
        status: 200,
        serverUrl: 'http://nir.test',
        patients: [],
        pointers: [],
        custodians: [],
      }),
    );
    await Promise.all(
      events.map(async (batch) => {
        await writer.record(batch);
        const [event] = batch;
        expect(await audit.exists(event?.id ?? '', event?.recorded ?? '')).toBe(true);
      }),
    );
    const stats = writer.stats();
    expect(stats.records).toBe(200);
    expect(stats.batches).toBeLessThan(200);
  });

  it('a batch that fails in the database stores none of its events and rejects all its callers', async () => {
    const audit = new AuditStore(store.db);
    const writer = new GroupCommitWriter((events) => audit.insert(events));
    const [good] = toAuditEvents({
      recorded: new Date().toISOString(),
      kind: INTERACTION_KINDS.read,
      status: 200,
      serverUrl: 'http://nir.test',
      patients: [],
      pointers: [],
      custodians: [],
    });
    if (!good) throw new Error('no event');
    // Same id twice in one statement: a primary key violation fails the whole INSERT.
    const results = await Promise.allSettled([writer.record([good]), writer.record([{ ...good }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await audit.exists(good.id ?? '', good.recorded)).toBe(false);
  });
});
