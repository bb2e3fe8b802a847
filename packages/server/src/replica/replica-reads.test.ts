import type { PointerRepository, ReplicaHealth, ReplicaUnusable } from '@nir/store';
import { describe, expect, it } from 'vitest';
import { primaryReads, type ReplicaFallbackReason, ReplicaReads } from './replica-reads.ts';

/** A stand-in repository: which database a read ran on, and that database's catalogue version. */
function repository(name: string, version: number, options: { fails?: boolean; current?: boolean } = {}) {
  return {
    name,
    version,
    fails: options.fails ?? false,
    searchFacts: { current: options.current ?? true },
  } as unknown as PointerRepository & { name: string; version: number; fails: boolean };
}

type Fake = ReturnType<typeof repository>;

const read = async (pointers: PointerRepository) => {
  const fake = pointers as Fake;
  if (fake.fails) throw Object.assign(new Error('replica gone'), { code: 'ECONNREFUSED' });
  return { on: fake.name, catalogueVersion: fake.version };
};

function setup(options: {
  unusable?: ReplicaUnusable;
  primaryVersion?: number;
  replicaVersion?: number;
  replicaFails?: boolean;
  reindexing?: boolean;
}) {
  const events: string[] = [];
  let failures = 0;
  const health: ReplicaHealth = {
    unusable: () => options.unusable,
    stalenessMs: () => 0,
    failed: () => {
      failures++;
    },
  };
  const primary = repository('primary', options.primaryVersion ?? 7, { current: !options.reindexing });
  const replica = repository('replica', options.replicaVersion ?? 7, { fails: options.replicaFails });
  const reads = new ReplicaReads({
    primary,
    replica,
    health,
    primaryVersion: async () => primary.version,
    events: {
      served: () => events.push('served'),
      fellBack: (reason: ReplicaFallbackReason) => events.push(reason),
    },
  });
  return { reads, events, failures: () => failures };
}

describe('ReplicaReads (issue 19)', () => {
  it('serves from the replica when it is within the bound and has the primary catalogue version', async () => {
    const { reads, events } = setup({});
    expect(await reads.run(read)).toEqual({ on: 'replica', catalogueVersion: 7 });
    expect(events).toEqual(['served']);
  });

  it.each(['lag', 'unmeasured'] as const)('runs on the primary when the replica is %s', async (reason) => {
    const { reads, events } = setup({ unusable: reason });
    expect((await reads.run(read)).on).toBe('primary');
    expect(events).toEqual([reason]);
  });

  it('R6: a replica that has not replayed the newest catalogue change is not trusted', async () => {
    const { reads, events } = setup({ primaryVersion: 8, replicaVersion: 7 });
    // The primary's statement reads version 8: the guard's confirmCatalogue redoes the request on it.
    expect(await reads.run(read)).toEqual({ on: 'primary', catalogueVersion: 8 });
    expect(events).toEqual(['catalogue']);
  });

  it('a failed replica statement is run again on the primary, and the replica is marked failed', async () => {
    const { reads, events, failures } = setup({ replicaFails: true });
    expect((await reads.run(read)).on).toBe('primary');
    expect(events).toEqual(['failed']);
    expect(failures()).toBe(1);
  });

  it('stays on the primary while search facts are recomputed (a search may write)', async () => {
    const { reads, events } = setup({ reindexing: true });
    expect((await reads.run(read)).on).toBe('primary');
    expect(events).toEqual(['reindex']);
  });

  it('the plain path reads the primary', async () => {
    expect((await primaryReads(repository('primary', 3)).run(read)).on).toBe('primary');
  });
});
