import { randomUUID } from 'node:crypto';
import type { IuaClaims, PublicJwk } from '@nir/core';
import { CatalogueRepository, openStore, ReplayGuard, type Store } from '@nir/store';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AssertionVerifierDeps,
  DEMO_MODE_OFF,
  MAX_ASSERTION_LIFETIME_SECONDS,
  verifyClientAssertion,
} from './client-assertion.ts';
import { TokenRequestError } from './token-errors.ts';

const TOKEN_URL = 'https://nir.example.nhs.uk/oauth2/token';
const KID = 'client-key-1';
const ACTOR = 'test:client-assertion';

const IUA: IuaClaims = {
  subject_name: 'Dr Ada Example',
  subject_id: '555000000001',
  subject_organization_id: 'RR8',
  subject_role: [{ system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000' }],
  purpose_of_use: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
};

describe('verifyClientAssertion', () => {
  let store: Store | undefined;
  let catalogue: CatalogueRepository;
  let replayGuard: ReplayGuard;
  let privateKey: CryptoKey;
  let privateJwk: JWK;
  let publicJwk: PublicJwk;
  let thumbprint: string;

  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' });
    catalogue = new CatalogueRepository(store.db);
    replayGuard = new ReplayGuard(store.db);
    const pair = await generateKeyPair('RS384', { extractable: true });
    privateKey = pair.privateKey;
    privateJwk = await exportJWK(pair.privateKey);
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS384', use: 'sig' } as PublicJwk;
    thumbprint = await calculateJwkThumbprint(publicJwk as JWK);

    await catalogue.putOrganisation({ odsCode: 'RR8', name: 'Test Trust', status: 'active' }, ACTOR);
    const client = (clientId: string, status: 'active' | 'disabled') => ({
      clientId,
      name: `Client ${clientId}`,
      status,
      jwks: { keys: [publicJwk] },
      organisations: ['RR8'],
      roles: ['consumer' as const],
      admin: false,
    });
    await catalogue.putClient(client('good-client', 'active'), ACTOR);
    await catalogue.putClient(client('disabled-client', 'disabled'), ACTOR);
    await catalogue.putClient(client('demo-client', 'active'), ACTOR, { demo: true });
  });
  afterAll(async () => {
    await store?.close();
  });

  function deps(overrides: Partial<AssertionVerifierDeps> = {}): AssertionVerifierDeps {
    return {
      catalogue,
      replayGuard,
      tokenUrl: TOKEN_URL,
      demoMode: false,
      demoThumbprints: new Set<string>(),
      ...overrides,
    };
  }

  /** A valid assertion for good-client unless `claims` or `header` change it. */
  async function assertion(
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
    options: { nowSeconds?: number; alg?: string; key?: CryptoKey | Uint8Array } = {},
  ): Promise<string> {
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: 'good-client',
      sub: 'good-client',
      aud: TOKEN_URL,
      jti: randomUUID(),
      iat: now,
      exp: now + 120,
      extensions: { ihe_iua: IUA },
      ...claims,
    })
      .setProtectedHeader({ alg: options.alg ?? 'RS384', kid: KID, typ: 'JWT', ...header })
      .sign(options.key ?? privateKey);
  }

  /** Claims `clientId` as both iss and sub. */
  const as = (clientId: string): JWTPayload => ({ iss: clientId, sub: clientId });

  async function refusal(pending: Promise<unknown>): Promise<TokenRequestError> {
    try {
      await pending;
    } catch (error) {
      if (error instanceof TokenRequestError) return error;
      throw error;
    }
    throw new Error('expected the assertion to be refused');
  }

  async function expectRefused(
    pending: Promise<unknown>,
    reason: string | RegExp,
    told = 'Client authentication failed',
  ): Promise<void> {
    const error = await refusal(pending);
    expect(error.error).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.reason).toMatch(reason);
    // The caller learns nothing about why, but for demo mode being off (the demo keys are public).
    expect(error.toOAuth()).toEqual({ error: 'invalid_client', error_description: told });
  }

  async function jtiClaimed(jti: string): Promise<boolean> {
    if (!store) throw new Error('store is not open');
    const row = await store.db
      .selectFrom('client_assertion_jti')
      .select('jti')
      .where('client_id', '=', 'good-client')
      .where('jti', '=', jti)
      .executeTakeFirst();
    return row !== undefined;
  }

  it('returns the client and the IUA claims of a valid assertion, and claims its jti', async () => {
    const jti = randomUUID();
    const verified = await verifyClientAssertion(await assertion({ jti }), deps());
    expect(verified.client.clientId).toBe('good-client');
    expect(verified.client.status).toBe('active');
    expect(verified.client.organisations).toEqual(['RR8']);
    expect(verified.iua).toEqual(IUA);
    expect(await jtiClaimed(jti)).toBe(true);
  });

  it('returns no IUA claims when the assertion has none, and drops malformed ones', async () => {
    expect((await verifyClientAssertion(await assertion({ extensions: undefined }), deps())).iua).toEqual({});
    const verified = await verifyClientAssertion(
      await assertion({ extensions: { ihe_iua: { subject_id: 42, subject_name: 'Dr Ada Example' } } }),
      deps(),
    );
    expect(verified.iua).toEqual({ subject_name: 'Dr Ada Example' });
  });

  it.each(['RS256', 'PS384'])('refuses alg %s made with the registered RSA key', async (alg) => {
    const key = await importJWK(privateJwk, alg);
    await expectRefused(
      verifyClientAssertion(await assertion({}, {}, { alg, key }), deps()),
      `alg '${alg}' not allowed`,
    );
  });

  it('refuses alg HS256', async () => {
    const key = new TextEncoder().encode('a shared secret the registry never agreed to');
    await expectRefused(
      verifyClientAssertion(await assertion({}, {}, { alg: 'HS256', key }), deps()),
      "alg 'HS256' not allowed",
    );
  });

  it('refuses alg none', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: KID })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'good-client',
        sub: 'good-client',
        aud: TOKEN_URL,
        jti: randomUUID(),
        exp: now + 60,
      }),
    ).toString('base64url');
    await expectRefused(verifyClientAssertion(`${header}.${payload}.`, deps()), "alg 'none' not allowed");
  });

  it('refuses something that is not a JWT', async () => {
    await expectRefused(verifyClientAssertion('not-a-jwt', deps()), 'not a JWS compact JWT');
  });

  it('refuses an assertion without kid', async () => {
    await expectRefused(verifyClientAssertion(await assertion({}, { kid: undefined }), deps()), 'no kid');
    await expectRefused(verifyClientAssertion(await assertion({}, { kid: '' }), deps()), 'no kid');
  });

  it('refuses an assertion without iss', async () => {
    await expectRefused(verifyClientAssertion(await assertion({ iss: undefined }), deps()), 'no iss');
  });

  it('refuses an unknown client', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion(as('nobody')), deps()),
      "unknown client 'nobody'",
    );
  });

  it('refuses a disabled client', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion(as('disabled-client')), deps()),
      "client 'disabled-client' is disabled",
    );
  });

  it('refuses a demo client outside demo mode, and accepts it in demo mode', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion(as('demo-client')), deps()),
      "demo client 'demo-client' outside demo mode",
      DEMO_MODE_OFF,
    );
    const verified = await verifyClientAssertion(
      await assertion(as('demo-client')),
      deps({ demoMode: true }),
    );
    expect(verified.client.clientId).toBe('demo-client');
    expect(verified.client.demo).toBe(true);
  });

  it('refuses the wrong aud', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion({ aud: 'https://nir.example.nhs.uk/' }), deps()),
      /^assertion rejected: .*"aud"/,
    );
  });

  it('refuses sub different from iss', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion({ sub: 'disabled-client' }), deps()),
      /^assertion rejected: .*"sub"/,
    );
  });

  it('refuses an assertion without exp or jti', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion({ exp: undefined }), deps()),
      /^assertion rejected: missing required "exp" claim/,
    );
    await expectRefused(
      verifyClientAssertion(await assertion({ jti: undefined }), deps()),
      /^assertion rejected: missing required "jti" claim/,
    );
  });

  it('refuses an expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      verifyClientAssertion(await assertion({ iat: now - 120, exp: now - 60 }), deps()),
      /^assertion rejected: .*"exp"/,
    );
  });

  it('refuses an assertion signed with a key the client did not register', async () => {
    const other = await generateKeyPair('RS384');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      ...as('good-client'),
      aud: TOKEN_URL,
      jti: randomUUID(),
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'RS384', kid: KID })
      .sign(other.privateKey);
    await expectRefused(
      verifyClientAssertion(forged, deps()),
      /^assertion rejected: signature verification failed/,
    );
  });

  it('accepts exp up to five minutes (plus clock skew) ahead of now, and refuses one second more', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const fixed = deps({ now: () => nowSeconds * 1000 });
    const limit = nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS + 5;
    await expectRefused(
      verifyClientAssertion(await assertion({ exp: limit + 1 }, {}, { nowSeconds }), fixed),
      'exp more than five minutes ahead',
    );
    const verified = await verifyClientAssertion(await assertion({ exp: limit }, {}, { nowSeconds }), fixed);
    expect(verified.client.clientId).toBe('good-client');
  });

  it('judges exp against the injected clock', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const signed = await assertion({ iat: nowSeconds, exp: nowSeconds + 60 }, {}, { nowSeconds });
    // Ten minutes later the same assertion has expired.
    await expectRefused(
      verifyClientAssertion(signed, deps({ now: () => (nowSeconds + 600) * 1000 })),
      /^assertion rejected: .*"exp"/,
    );
  });

  it('refuses a replayed jti', async () => {
    const jti = randomUUID();
    await verifyClientAssertion(await assertion({ jti }), deps());
    await expectRefused(verifyClientAssertion(await assertion({ jti }), deps()), 'jti replayed');
  });

  it('refuses a jti over 255 characters', async () => {
    await expectRefused(
      verifyClientAssertion(await assertion({ jti: 'j'.repeat(256) }), deps()),
      'jti empty or too long',
    );
  });

  it('refuses a key whose thumbprint is a demo key outside demo mode, and accepts it in demo mode', async () => {
    const demoThumbprints = new Set([thumbprint]);
    await expectRefused(
      verifyClientAssertion(await assertion(), deps({ demoThumbprints })),
      'demo key used outside demo mode',
      DEMO_MODE_OFF,
    );
    const verified = await verifyClientAssertion(
      await assertion(),
      deps({ demoThumbprints, demoMode: true }),
    );
    expect(verified.client.clientId).toBe('good-client');
  });

  it('does not use up the jti of an invalid assertion', async () => {
    const jti = randomUUID();
    await expectRefused(
      verifyClientAssertion(await assertion({ jti, aud: 'https://elsewhere.example/token' }), deps()),
      /"aud"/,
    );
    expect(await jtiClaimed(jti)).toBe(false);
    const verified = await verifyClientAssertion(await assertion({ jti }), deps());
    expect(verified.client.clientId).toBe('good-client');
    expect(await jtiClaimed(jti)).toBe(true);
  });

  it('does not use up the jti of an assertion refused after its signature was checked', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    await expectRefused(
      verifyClientAssertion(
        await assertion({ jti, exp: nowSeconds + 3600 }, {}, { nowSeconds }),
        deps({ now: () => nowSeconds * 1000 }),
      ),
      'exp more than five minutes ahead',
    );
    await expectRefused(
      verifyClientAssertion(await assertion({ jti }), deps({ demoThumbprints: new Set([thumbprint]) })),
      'demo key used outside demo mode',
      DEMO_MODE_OFF,
    );
    expect(await jtiClaimed(jti)).toBe(false);
    await verifyClientAssertion(await assertion({ jti }), deps());
    expect(await jtiClaimed(jti)).toBe(true);
  });
});
