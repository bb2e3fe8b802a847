import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from './open-store.ts';
import type { DatabaseSchema } from './schema.ts';
import { SigningKeyStore } from './signing-key-store.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const GRACE_SECONDS = 600;

function key(kid: string) {
  return {
    kid,
    alg: 'ES384',
    publicJwk: { kty: 'EC', crv: 'P-384', kid, x: `x-${kid}`, y: `y-${kid}` },
    privateJwk: { kty: 'EC', crv: 'P-384', kid, x: `x-${kid}`, y: `y-${kid}`, d: `d-${kid}` },
  };
}

describe.each(backends)('SigningKeyStore on $name', (backend) => {
  let store: Store | undefined;

  beforeAll(async () => {
    store = await backend.open();
  });

  afterAll(async () => {
    await store?.close();
  });

  function db(): Kysely<DatabaseSchema> {
    if (!store) throw new Error('store is not open');
    return store.db;
  }

  beforeEach(async () => {
    await db().deleteFrom('signing_key').execute();
  });

  async function activeKids(): Promise<string[]> {
    const rows = await db().selectFrom('signing_key').select('kid').where('retired_at', 'is', null).execute();
    return rows.map((r) => r.kid);
  }

  async function allKids(): Promise<string[]> {
    const rows = await db().selectFrom('signing_key').select('kid').execute();
    return rows.map((r) => r.kid).sort();
  }

  /** Pretends `kid` was retired `secondsAgo` seconds ago. */
  async function retiredAgo(kid: string, secondsAgo: number): Promise<void> {
    await db()
      .updateTable('signing_key')
      .set({ retired_at: new Date(Date.now() - secondsAgo * 1000) })
      .where('kid', '=', kid)
      .execute();
  }

  it('activates the first key and publishes it with its private part', async () => {
    const keys = new SigningKeyStore(db());
    expect(await keys.activate(key('k1'))).toBe(true);
    const published = await keys.listPublishable(GRACE_SECONDS);
    expect(published).toEqual([
      {
        kid: 'k1',
        alg: 'ES384',
        publicJwk: key('k1').publicJwk,
        privateJwk: key('k1').privateJwk,
        createdAt: expect.stringMatching(ISO),
        retiredAt: null,
      },
    ]);
  });

  it('R18: activating a new key retires the previous one (exactly one active key)', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('k1'));
    expect(await keys.activate(key('k2'))).toBe(true);
    expect(await activeKids()).toEqual(['k2']);
    const published = await keys.listPublishable(GRACE_SECONDS);
    const k1 = published.find((k) => k.kid === 'k1');
    const k2 = published.find((k) => k.kid === 'k2');
    expect(k2?.retiredAt).toBeNull();
    expect(k1?.retiredAt).toMatch(ISO);
    await keys.activate(key('k3'));
    expect(await activeKids()).toEqual(['k3']);
    expect(await allKids()).toEqual(['k1', 'k2', 'k3']);
  });

  it('with onlyIfNone, does nothing when a key is active', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('k1'));
    expect(await keys.activate(key('k2'), { onlyIfNone: true })).toBe(false);
    expect(await activeKids()).toEqual(['k1']);
    expect(await allKids()).toEqual(['k1']);
  });

  it('with onlyIfNone, activates when there is no key', async () => {
    const keys = new SigningKeyStore(db());
    expect(await keys.activate(key('k1'), { onlyIfNone: true })).toBe(true);
    expect(await activeKids()).toEqual(['k1']);
  });

  it('with onlyIfNone, activates when every key is retired', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('k1'));
    await retiredAgo('k1', 10);
    expect(await keys.activate(key('k2'), { onlyIfNone: true })).toBe(true);
    expect(await activeKids()).toEqual(['k2']);
  });

  it('of several instances starting at once with onlyIfNone, exactly one activates its key', async () => {
    const keys = new SigningKeyStore(db());
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((kid) => keys.activate(key(kid), { onlyIfNone: true })),
    );
    expect(results.filter((r) => r)).toHaveLength(1);
    expect(await activeKids()).toHaveLength(1);
    expect(await allKids()).toHaveLength(1);
  });

  it('a failed activation (duplicate kid) leaves the previous key active', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('k1'));
    await expect(keys.activate(key('k1'))).rejects.toThrow();
    expect(await activeKids()).toEqual(['k1']);
  });

  it('R18: publishes a key retired within the grace period', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('old'));
    await keys.activate(key('new'));
    await retiredAgo('old', GRACE_SECONDS - 60);
    expect((await keys.listPublishable(GRACE_SECONDS)).map((k) => k.kid).sort()).toEqual(['new', 'old']);
  });

  it('R18: stops publishing a key retired longer ago than the grace period', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('old'));
    await keys.activate(key('new'));
    await retiredAgo('old', GRACE_SECONDS + 60);
    expect((await keys.listPublishable(GRACE_SECONDS)).map((k) => k.kid)).toEqual(['new']);
    // A longer grace brings it back: the decision is made on retired_at, not on deletion.
    expect((await keys.listPublishable(GRACE_SECONDS * 2)).map((k) => k.kid).sort()).toEqual(['new', 'old']);
  });

  it('always publishes the active key, even with no grace', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('old'));
    await keys.activate(key('new'));
    await retiredAgo('old', 5);
    expect((await keys.listPublishable(0)).map((k) => k.kid)).toEqual(['new']);
  });

  it('lists the newest key first', async () => {
    const keys = new SigningKeyStore(db());
    await keys.activate(key('first'));
    await keys.activate(key('second'));
    await keys.activate(key('third'));
    const base = Date.now();
    for (const [kid, minutesAgo] of [
      ['first', 3],
      ['second', 2],
      ['third', 1],
    ] as const) {
      await db()
        .updateTable('signing_key')
        .set({ created_at: new Date(base - minutesAgo * 60_000) })
        .where('kid', '=', kid)
        .execute();
    }
    const published = await keys.listPublishable(GRACE_SECONDS);
    expect(published.map((k) => k.kid)).toEqual(['third', 'second', 'first']);
    for (const k of published) expect(k.createdAt).toMatch(ISO);
  });

  it('publishes nothing when there is no key', async () => {
    expect(await new SigningKeyStore(db()).listPublishable(GRACE_SECONDS)).toEqual([]);
  });
});
