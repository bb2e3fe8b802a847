import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from './open-store.ts';
import { ReplayGuard } from './replay-guard.ts';
import type { DatabaseSchema } from './schema.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

const MINUTE = 60_000;

describe.each(backends)('ReplayGuard on $name', (backend) => {
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
    await db().deleteFrom('client_assertion_jti').execute();
  });

  async function storedJtis(): Promise<string[]> {
    const rows = await db().selectFrom('client_assertion_jti').select(['client_id', 'jti']).execute();
    return rows.map((r) => `${r.client_id}/${r.jti}`).sort();
  }

  it('R18: claims a jti once; the same jti from the same client is a replay', async () => {
    const guard = new ReplayGuard(db());
    const expires = new Date(Date.now() + 5 * MINUTE);
    expect(await guard.claim('client-a', 'jti-1', expires)).toBe(true);
    expect(await guard.claim('client-a', 'jti-1', expires)).toBe(false);
    expect(await guard.claim('client-a', 'jti-1', new Date(Date.now() + 10 * MINUTE))).toBe(false);
  });

  it('R18: the same jti from another client is not a replay', async () => {
    const guard = new ReplayGuard(db());
    const expires = new Date(Date.now() + 5 * MINUTE);
    expect(await guard.claim('client-a', 'shared-jti', expires)).toBe(true);
    expect(await guard.claim('client-b', 'shared-jti', expires)).toBe(true);
    expect(await guard.claim('client-b', 'shared-jti', expires)).toBe(false);
  });

  it('R18: another jti from the same client is not a replay', async () => {
    const guard = new ReplayGuard(db());
    const expires = new Date(Date.now() + 5 * MINUTE);
    expect(await guard.claim('client-a', 'jti-1', expires)).toBe(true);
    expect(await guard.claim('client-a', 'jti-2', expires)).toBe(true);
  });

  it('R18: a claim made through one instance is seen by another (shared database)', async () => {
    const expires = new Date(Date.now() + 5 * MINUTE);
    expect(await new ReplayGuard(db()).claim('client-a', 'jti-x', expires)).toBe(true);
    expect(await new ReplayGuard(db()).claim('client-a', 'jti-x', expires)).toBe(false);
  });

  it('R18: of several simultaneous claims of one jti, exactly one wins', async () => {
    const guard = new ReplayGuard(db());
    const expires = new Date(Date.now() + 5 * MINUTE);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => guard.claim('client-a', 'race', expires)),
    );
    expect(results.filter((r) => r)).toHaveLength(1);
  });

  it('purgeExpired removes only expired ids and says how many', async () => {
    const guard = new ReplayGuard(db());
    const now = new Date();
    await guard.claim('client-a', 'old-1', new Date(now.getTime() - 10 * MINUTE));
    await guard.claim('client-b', 'old-2', new Date(now.getTime() - 1000));
    await guard.claim('client-a', 'live-1', new Date(now.getTime() + 1000));
    await guard.claim('client-b', 'live-2', new Date(now.getTime() + 10 * MINUTE));
    expect(await guard.purgeExpired(now)).toBe(2);
    expect(await storedJtis()).toEqual(['client-a/live-1', 'client-b/live-2']);
    expect(await guard.purgeExpired(now)).toBe(0);
  });

  it('R18: after a purge, unexpired ids are still refused', async () => {
    const guard = new ReplayGuard(db());
    const now = new Date();
    await guard.claim('client-a', 'old', new Date(now.getTime() - MINUTE));
    await guard.claim('client-a', 'live', new Date(now.getTime() + MINUTE));
    await guard.purgeExpired(now);
    expect(await guard.claim('client-a', 'live', new Date(now.getTime() + MINUTE))).toBe(false);
  });

  it('purgeExpired uses the current time by default', async () => {
    const guard = new ReplayGuard(db());
    await guard.claim('client-a', 'old', new Date(Date.now() - MINUTE));
    await guard.claim('client-a', 'live', new Date(Date.now() + 5 * MINUTE));
    expect(await guard.purgeExpired()).toBe(1);
    expect(await storedJtis()).toEqual(['client-a/live']);
  });

  it('purgeExpired honours the time it is given, not the clock', async () => {
    const guard = new ReplayGuard(db());
    await guard.claim('client-a', 'in-5-min', new Date(Date.now() + 5 * MINUTE));
    expect(await guard.purgeExpired(new Date(Date.now() + MINUTE))).toBe(0);
    expect(await guard.purgeExpired(new Date(Date.now() + 10 * MINUTE))).toBe(1);
    expect(await storedJtis()).toEqual([]);
  });
});
