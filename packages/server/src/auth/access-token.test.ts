import { randomUUID } from 'node:crypto';
import type { IuaClaims } from '@nir/core';
import { openStore, SigningKeyStore, type Store } from '@nir/store';
import { decodeJwt, decodeProtectedHeader, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccessTokens } from './access-token.ts';
import { KeyRing, REGISTRY_TOKEN_ALG } from './key-ring.ts';

const ISSUER = 'https://nir.example.nhs.uk';
const TTL_SECONDS = 30;

const IUA: IuaClaims = {
  subject_name: 'Dr Ada Example',
  subject_id: '555000000001',
  subject_organization_id: 'RR8',
  subject_organization: 'Leeds Teaching Hospitals',
  subject_role: [{ system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000' }],
  purpose_of_use: [
    {
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
      code: 'TREAT',
      display: 'treatment',
    },
  ],
};

describe('AccessTokens', () => {
  let store: Store | undefined;
  let keys: KeyRing;
  let tokens: AccessTokens;

  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' });
    keys = new KeyRing(new SigningKeyStore(store.db), { graceSeconds: 600 });
    await keys.initialise();
    tokens = new AccessTokens(keys, ISSUER, TTL_SECONDS);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** Signs a token as `issue` would, with `payload` and `header` changes. */
  async function forge(payload: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
    const { kid, key } = keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: ISSUER,
      aud: ISSUER,
      sub: 'client-a',
      client_id: 'client-a',
      scope: 'nir/consumer.read',
      jti: randomUUID(),
      iat: now,
      exp: now + TTL_SECONDS,
      ...payload,
    })
      .setProtectedHeader({ alg: REGISTRY_TOKEN_ALG, kid, typ: 'at+jwt', ...header })
      .sign(key);
  }

  it('round-trips client, scopes and IUA claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await tokens.issue('client-a', ['nir/consumer.read', 'nir/producer.write'], IUA);
    const claims = await tokens.verify(token);
    expect(claims.clientId).toBe('client-a');
    expect(claims.scopes).toEqual(['nir/consumer.read', 'nir/producer.write']);
    expect(claims.iua).toEqual(IUA);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.expiresAt).toBeGreaterThanOrEqual(before + TTL_SECONDS);
    expect(claims.expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + TTL_SECONDS);
    expect(tokens.ttlSeconds).toBe(TTL_SECONDS);
  });

  it('issues an RFC 9068 token signed with the active key', async () => {
    const token = await tokens.issue('client-a', [], {});
    expect(decodeProtectedHeader(token)).toEqual({
      alg: REGISTRY_TOKEN_ALG,
      kid: keys.signingKey().kid,
      typ: 'at+jwt',
    });
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: 'client-a', client_id: 'client-a' });
    expect(payload.exp).toBe((payload.iat ?? 0) + TTL_SECONDS);
    expect((await tokens.verify(token)).scopes).toEqual([]);
    expect(await tokens.issue('client-a', [], {})).not.toBe(token);
  });

  it('gives each token its own jti', async () => {
    const a = await tokens.verify(await tokens.issue('client-a', [], {}));
    const b = await tokens.verify(await tokens.issue('client-a', [], {}));
    expect(a.jti).not.toBe(b.jti);
  });

  it('verifies a token forged with the defaults (control for the refusals below)', async () => {
    const claims = await tokens.verify(await forge());
    expect(claims.clientId).toBe('client-a');
    expect(claims.scopes).toEqual(['nir/consumer.read']);
  });

  it('refuses a token issued for another issuer and audience, in both directions', async () => {
    const other = new AccessTokens(keys, 'https://other.example.nhs.uk', TTL_SECONDS);
    await expect(tokens.verify(await other.issue('client-a', [], {}))).rejects.toThrow(/iss/);
    await expect(other.verify(await tokens.issue('client-a', [], {}))).rejects.toThrow(/iss/);
  });

  it('refuses a token for another audience', async () => {
    await expect(tokens.verify(await forge({ aud: 'https://other.example.nhs.uk' }))).rejects.toThrow(/aud/);
  });

  it('refuses an expired token beyond the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(tokens.verify(await forge({ iat: now - 120, exp: now - 60 }))).rejects.toThrow(/exp/);
  });

  it('refuses a token whose client_id differs from sub, or has none', async () => {
    await expect(tokens.verify(await forge({ client_id: 'client-b' }))).rejects.toThrow(
      'client_id claim mismatch',
    );
    await expect(tokens.verify(await forge({ client_id: undefined }))).rejects.toThrow(
      'client_id claim mismatch',
    );
  });

  it.each([['JWT'], ['application/at+jwt+x'], [undefined]])('refuses a token with typ %s', async (typ) => {
    await expect(tokens.verify(await forge({}, { typ }))).rejects.toThrow(/typ/);
  });

  it.each(['exp', 'iat', 'jti', 'sub'])('refuses a token without %s', async (claim) => {
    await expect(tokens.verify(await forge({ [claim]: undefined }))).rejects.toThrow(
      `missing required "${claim}" claim`,
    );
  });

  it('checks a verified token again on every use: expiry by the clock, key by the key ring', async () => {
    const token = await forge({ exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await tokens.verify(token)).clientId).toBe('client-a');
    expect((await tokens.verify(token)).clientId).toBe('client-a'); // remembered
    vi.useFakeTimers({ now: Date.now() + 70_000, toFake: ['Date'] });
    try {
      await expect(tokens.verify(token)).rejects.toThrow(/exp/);
    } finally {
      vi.useRealTimers();
    }

    // A key that is no longer published: its remembered tokens fail at once.
    const strictKeys = new KeyRing(new SigningKeyStore((store as Store).db), { graceSeconds: 0 });
    await strictKeys.initialise();
    const strict = new AccessTokens(strictKeys, ISSUER, TTL_SECONDS);
    const issued = await strict.issue('client-a', ['nir/consumer.read'], IUA);
    expect((await strict.verify(issued)).clientId).toBe('client-a');
    await strictKeys.rotate();
    await strictKeys.rotate();
    await strictKeys.refresh();
    expect(strictKeys.trusts(decodeProtectedHeader(issued).kid ?? '')).toBe(false);
    await expect(strict.verify(issued)).rejects.toThrow();
  });

  it('refuses a token with an unknown kid', async () => {
    await expect(tokens.verify(await forge({}, { kid: 'nir-not-a-key' }))).rejects.toThrow(
      'unknown signing key',
    );
  });

  it('refuses a tampered payload', async () => {
    const token = await tokens.issue('client-a', ['nir/consumer.read'], {});
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token), scope: 'nir/admin' }), 'utf8').toString(
      'base64url',
    );
    await expect(tokens.verify(`${header}.${payload}.${signature}`)).rejects.toThrow(
      'signature verification failed',
    );
  });
});
