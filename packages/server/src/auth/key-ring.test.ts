import { SigningKeyStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSigningKey, KeyRing, REGISTRY_TOKEN_ALG, UnknownKeyError } from './key-ring.ts';

const backends = await testBackends();

const GRACE_SECONDS = 60;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe.each(backends)('KeyRing on $name', (backend) => {
  let opened: Store | undefined;

  beforeAll(async () => {
    opened = await backend.open();
  });
  afterAll(async () => {
    await opened?.close();
  });

  function store(): Store {
    if (!opened) throw new Error('store is not open');
    return opened;
  }

  function ring(): KeyRing {
    return new KeyRing(new SigningKeyStore(store().db), { graceSeconds: GRACE_SECONDS });
  }

  async function storedKeys(): Promise<{ kid: string; retired: boolean }[]> {
    const rows = await store().db.selectFrom('signing_key').select(['kid', 'retired_at']).execute();
    return rows.map((row) => ({ kid: row.kid, retired: row.retired_at !== null }));
  }

  function kids(keyRing: KeyRing): string[] {
    return keyRing
      .jwks()
      .keys.map((k) => k.kid ?? '')
      .sort();
  }

  beforeEach(async () => {
    await store().db.deleteFrom('signing_key').execute();
  });

  it('initialise creates one active key and signs with it', async () => {
    const keys = ring();
    await keys.initialise();
    const stored = await storedKeys();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.retired).toBe(false);
    expect(keys.signingKey().kid).toBe(stored[0]?.kid);
    expect(kids(keys)).toEqual([stored[0]?.kid]);
  });

  it('signingKey refuses before initialise', () => {
    expect(() => ring().signingKey()).toThrow(/no active signing key/);
  });

  it('two key rings initialising at once on one store create exactly one active key', async () => {
    const first = ring();
    const second = ring();
    await Promise.all([first.initialise(), second.initialise()]);
    const stored = await storedKeys();
    expect(stored).toHaveLength(1);
    expect(stored.filter((k) => !k.retired)).toHaveLength(1);
    expect(first.signingKey().kid).toBe(stored[0]?.kid);
    expect(second.signingKey().kid).toBe(stored[0]?.kid);
  });

  it('initialise keeps an existing active key', async () => {
    const first = ring();
    await first.initialise();
    const later = ring();
    await later.initialise();
    expect(await storedKeys()).toHaveLength(1);
    expect(later.signingKey().kid).toBe(first.signingKey().kid);
  });

  it('rotate signs with a new kid and publishes both keys', async () => {
    const keys = ring();
    await keys.initialise();
    const oldKid = keys.signingKey().kid;
    const newKid = await keys.rotate();
    expect(newKid).not.toBe(oldKid);
    expect(keys.signingKey().kid).toBe(newKid);
    expect(kids(keys)).toEqual([oldKid, newKid].sort());
    const stored = await storedKeys();
    expect(stored.filter((k) => !k.retired).map((k) => k.kid)).toEqual([newKid]);
  });

  it('a token signed before a rotation still verifies with the retired key', async () => {
    const keys = ring();
    await keys.initialise();
    const { kid, key } = keys.signingKey();
    const token = await new SignJWT({ x: 1 }).setProtectedHeader({ alg: REGISTRY_TOKEN_ALG, kid }).sign(key);
    await keys.rotate();
    const { payload } = await jwtVerify(token, keys.resolve, { algorithms: [REGISTRY_TOKEN_ALG] });
    expect(payload.x).toBe(1);
    expect(decodeProtectedHeader(token).kid).toBe(kid);
  });

  it('drops a key retired longer ago than graceSeconds on refresh', async () => {
    const keys = ring();
    await keys.initialise();
    const oldKid = keys.signingKey().kid;
    const newKid = await keys.rotate();
    expect(kids(keys)).toContain(oldKid);
    await expect(keys.resolve({ kid: oldKid })).resolves.toBeDefined();

    await store()
      .db.updateTable('signing_key')
      .set({ retired_at: new Date(Date.now() - 3600_000) })
      .where('kid', '=', oldKid)
      .execute();
    // Still cached until the next refresh.
    expect(kids(keys)).toContain(oldKid);
    await keys.refresh();

    expect(kids(keys)).toEqual([newKid]);
    expect(keys.signingKey().kid).toBe(newKid);
    await expect(keys.resolve({ kid: oldKid })).rejects.toBeInstanceOf(UnknownKeyError);
  });

  it('keeps a key retired within graceSeconds', async () => {
    const keys = ring();
    await keys.initialise();
    const oldKid = keys.signingKey().kid;
    await keys.rotate();
    await store()
      .db.updateTable('signing_key')
      .set({ retired_at: new Date(Date.now() - (GRACE_SECONDS - 20) * 1000) })
      .where('kid', '=', oldKid)
      .execute();
    await keys.refresh();
    expect(kids(keys)).toContain(oldKid);
  });

  it('resolve of an unknown or missing kid throws UnknownKeyError', async () => {
    const keys = ring();
    await keys.initialise();
    await expect(keys.resolve({ alg: REGISTRY_TOKEN_ALG, kid: 'nir-unknown' })).rejects.toBeInstanceOf(
      UnknownKeyError,
    );
    await expect(keys.resolve({ alg: REGISTRY_TOKEN_ALG })).rejects.toBeInstanceOf(UnknownKeyError);
    await expect(keys.resolve({ alg: REGISTRY_TOKEN_ALG, kid: 'nir-unknown' })).rejects.toThrow(
      'unknown signing key',
    );
  });

  it('resolves a key rotated by another key ring over the same store at once', async () => {
    const first = ring();
    const second = ring();
    await first.initialise();
    await second.initialise();
    const newKid = await second.rotate();
    expect(kids(first)).not.toContain(newKid);

    const { key } = second.signingKey();
    const token = await new SignJWT({ rotated: true })
      .setProtectedHeader({ alg: REGISTRY_TOKEN_ALG, kid: newKid })
      .sign(key);
    const { payload } = await jwtVerify(token, first.resolve, { algorithms: [REGISTRY_TOKEN_ALG] });
    expect(payload.rotated).toBe(true);
    // The reload also made the new key the one this ring signs with.
    expect(first.signingKey().kid).toBe(newKid);
    expect(kids(first)).toContain(newKid);
  });

  it('resolves a key rotated elsewhere at once, even straight after a reload', async () => {
    const first = ring();
    const second = ring();
    await first.initialise();
    await second.initialise();
    await first.refresh();
    const newKid = await second.rotate();
    await expect(first.resolve({ alg: REGISTRY_TOKEN_ALG, kid: newKid })).resolves.toBeDefined();
  });

  it('shares reloads: many unknown kids at once cost one reload in flight and one queued', async () => {
    let reloads = 0;
    class CountingStore extends SigningKeyStore {
      override listPublishable(grace: number) {
        reloads += 1;
        return super.listPublishable(grace);
      }
    }
    const counting = new KeyRing(new CountingStore(store().db), { graceSeconds: GRACE_SECONDS });
    await counting.initialise();
    reloads = 0;
    const junk = Array.from({ length: 50 }, (_, i) =>
      counting.resolve({ kid: `junk-${i}` }).catch((e: unknown) => e),
    );
    const results = await Promise.all(junk);
    expect(results.every((r) => r instanceof UnknownKeyError)).toBe(true);
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(2);
  });

  it('publishes only public members in the JWKS', async () => {
    const keys = ring();
    await keys.initialise();
    await keys.rotate();
    const { keys: published } = keys.jwks();
    expect(published).toHaveLength(2);
    for (const jwk of published) {
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: REGISTRY_TOKEN_ALG, use: 'sig' });
      expect(typeof jwk.kid).toBe('string');
    }
    expect(JSON.stringify(keys.jwks())).not.toMatch(/"d"\s*:/);
  });
});

describe('generateSigningKey', () => {
  it('makes an ES256 pair with the same kid on both halves, private only in privateJwk', async () => {
    const key = await generateSigningKey();
    expect(key.alg).toBe('ES256');
    expect(key.kid).toMatch(/^nir-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    expect(key.publicJwk.kid).toBe(key.kid);
    expect(key.privateJwk.kid).toBe(key.kid);
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(typeof key.privateJwk.d).toBe('string');
    expect((await generateSigningKey()).kid).not.toBe(key.kid);
  });
});
