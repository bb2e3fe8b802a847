/**
 * R18: signed-JWT client credentials. The token flow and every refusal, on both databases.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { testBackends } from '@nir/store/testing';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_DIR,
  demoPrivateKey,
  errorCode,
  startTestRegistry,
  type TestRegistry,
} from './support/harness.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const backends = await testBackends();

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

describe.each(backends)('token endpoint on $name', (backend) => {
  let t: TestRegistry;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
  });
  afterAll(async () => {
    await t.close();
  });

  const form = (assertion: string, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  });

  /** Signs an assertion for demo-consumer with custom header and claims (for the refusal cases). */
  async function customAssertion(
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
    clientId = 'demo-consumer',
  ): Promise<string> {
    const jwk = await demoPrivateKey(clientId);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: t.tokenUrl,
      jti: randomUUID(),
      exp: now + 120,
      ...claims,
    })
      .setProtectedHeader({ alg: jwk.alg as string, kid: jwk.kid as string, typ: 'JWT', ...header })
      .sign(await importJWK(jwk, jwk.alg));
  }

  async function expectInvalidClient(assertion: string): Promise<void> {
    const response = await t.requestToken(form(assertion));
    expect(response.status).toBe(401);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, string>;
    // No detail that helps an attacker: every assertion failure reads the same.
    expect(body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
  }

  it.each([
    ['demo-provider-a', 'RS384'],
    ['demo-provider-b', 'ES384'],
    ['demo-consumer', 'RS512'],
  ])('issues a short-lived registry token to %s signing with %s', async (clientId, alg) => {
    expect((await demoPrivateKey(clientId)).alg).toBe(alg);
    const response = await t.requestToken(form(await t.assertion(clientId)));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(300);
    expect(typeof body.scope).toBe('string');
    // The token verifies against the registry's published JWKS.
    const jwks = (await (await t.fetch('/.well-known/jwks.json')).json()) as { keys: JWK[] };
    const { payload, protectedHeader } = await jwtVerify(
      body.access_token as string,
      createLocalJWKSet(jwks),
      {
        issuer: t.url,
        audience: t.url,
      },
    );
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.client_id).toBe(clientId);
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    expect((payload.extensions as { ihe_iua: { purpose_of_use: unknown } }).ihe_iua.purpose_of_use).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' },
    ]);
  });

  it('grants only the scopes the catalogue justifies (least privilege)', async () => {
    const consumer = await t.requestToken(form(await t.assertion('demo-consumer')));
    expect(((await consumer.json()) as { scope: string }).scope).toBe('system/DocumentReference.rs');
    const provider = await t.requestToken(form(await t.assertion('demo-provider-a')));
    expect(((await provider.json()) as { scope: string }).scope).toBe('system/DocumentReference.cruds');
    const down = await t.requestToken(
      form(await t.assertion('demo-provider-a'), { scope: 'system/DocumentReference.rs' }),
    );
    expect(((await down.json()) as { scope: string }).scope).toBe('system/DocumentReference.rs');
    const tooMuch = await t.requestToken(
      form(await t.assertion('demo-consumer'), { scope: 'system/DocumentReference.c' }),
    );
    expect(tooMuch.status).toBe(400);
    expect(((await tooMuch.json()) as { error: string }).error).toBe('invalid_scope');
    const admin = await t.requestToken(
      form(await t.assertion('demo-consumer'), { scope: 'admin/catalogue' }),
    );
    expect(admin.status).toBe(400);
  });

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'none', kid: 'demo-consumer-1', typ: 'JWT' }));
    const claims = base64url(
      JSON.stringify({
        iss: 'demo-consumer',
        sub: 'demo-consumer',
        aud: t.tokenUrl,
        jti: randomUUID(),
        exp: now + 60,
      }),
    );
    await expectInvalidClient(`${header}.${claims}.`);
  });

  it('refuses an HMAC assertion made with the public key as the secret', async () => {
    const publicJwk = JSON.parse(
      await readFile(path.join(DEMO_DIR, 'keys', 'demo-consumer.public.jwk.json'), 'utf8'),
    ) as JWK;
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: 'demo-consumer-1', typ: 'JWT' })
      .setIssuer('demo-consumer')
      .setSubject('demo-consumer')
      .setAudience(t.tokenUrl)
      .setExpirationTime(now + 60)
      .sign(secret);
    await expectInvalidClient(forged);
  });

  it('refuses an unknown kid', async () => {
    await expectInvalidClient(await customAssertion({}, { kid: 'not-a-registered-kid' }));
  });

  it('refuses the wrong aud', async () => {
    await expectInvalidClient(await customAssertion({ aud: 'https://elsewhere.example/oauth2/token' }));
  });

  it('refuses an expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectInvalidClient(await customAssertion({ exp: now - 60, iat: now - 120 }));
  });

  it('refuses exp more than five minutes ahead', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectInvalidClient(await customAssertion({ exp: now + 600 }));
  });

  it('refuses iss different from sub', async () => {
    await expectInvalidClient(await customAssertion({ sub: 'demo-provider-a' }));
  });

  it('refuses an assertion with no jti', async () => {
    await expectInvalidClient(await customAssertion({ jti: undefined }));
  });

  it('refuses a replayed jti', async () => {
    const assertion = await t.assertion('demo-consumer');
    expect((await t.requestToken(form(assertion))).status).toBe(200);
    await expectInvalidClient(assertion);
  });

  it('refuses an unknown client', async () => {
    const jwk = await demoPrivateKey('demo-consumer');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: jwk.alg as string, kid: jwk.kid as string })
      .setIssuer('no-such-client')
      .setSubject('no-such-client')
      .setAudience(t.tokenUrl)
      .setExpirationTime(now + 60)
      .sign(await importJWK(jwk, jwk.alg));
    await expectInvalidClient(assertion);
  });

  it('refuses a tampered signature', async () => {
    const assertion = await t.assertion('demo-consumer');
    const [header, payload, signature] = assertion.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expectInvalidClient(`${header}.${payload}.${flipped}`);
    // And a payload changed under the original signature.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const changed = base64url(JSON.stringify({ ...claims, jti: randomUUID() }));
    await expectInvalidClient(`${header}.${changed}.${signature}`);
  });

  it('refuses an assertion signed with a key the client did not register', async () => {
    const { privateKey } = await generateKeyPair('ES384');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES384', kid: 'demo-consumer-1' })
      .setIssuer('demo-consumer')
      .setSubject('demo-consumer')
      .setAudience(t.tokenUrl)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    await expectInvalidClient(assertion);
  });

  it.each(['suspended', 'terminated'] as const)(
    'R6: refuses a client of a %s organisation',
    async (status) => {
      await t.registry.catalogue.setOrganisationStatus('RAE', status, 'test');
      try {
        const response = await t.requestToken(form(await t.assertion('demo-provider-b')));
        expect(response.status).toBe(403);
        expect(((await response.json()) as { error: string }).error).toBe('unauthorized_client');
      } finally {
        await t.registry.catalogue.setOrganisationStatus('RAE', 'active', 'test');
      }
    },
  );

  it('refuses an end-user organisation the client may not act for', async () => {
    const response = await t.requestToken(
      form(
        await t.assertion('demo-consumer', {
          iua: { subject_id: 'u1', subject_role: [{ code: 'R8000' }], subject_organization_id: 'RR8' },
        }),
      ),
    );
    expect(response.status).toBe(403);
  });

  it('answers with an OperationOutcome when the caller accepts FHIR', async () => {
    const response = await t.requestToken(form('not-a-jwt'), { accept: 'application/fhir+json' });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/fhir+json');
    const body = (await response.json()) as { resourceType: string };
    expect(body.resourceType).toBe('OperationOutcome');
    expect(errorCode(body)).toBe('ACCESS_DENIED');
  });

  it('refuses a wrong grant type, assertion type, content type or missing assertion', async () => {
    const assertion = await t.assertion('demo-consumer');
    const wrongGrant = await t.requestToken({ ...form(assertion), grant_type: 'password' });
    expect(wrongGrant.status).toBe(400);
    expect(((await wrongGrant.json()) as { error: string }).error).toBe('unsupported_grant_type');
    const wrongType = await t.requestToken({ ...form(assertion), client_assertion_type: 'basic' });
    expect(((await wrongType.json()) as { error: string }).error).toBe('invalid_request');
    const missing = await t.requestToken({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
    });
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
    const json = await fetch(t.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(form(assertion)),
    });
    expect(json.status).toBe(400);
  });

  it('publishes SMART discovery with the token endpoint and algorithms', async () => {
    const config = (await (await t.fetch('/.well-known/smart-configuration')).json()) as Record<
      string,
      unknown
    >;
    expect(config.token_endpoint).toBe(t.tokenUrl);
    expect(config.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384', 'RS512']);
    const perBase = await t.fetch('/consumer/FHIR/R4/.well-known/smart-configuration');
    expect(perBase.status).toBe(200);
  });

  it('the token endpoint keeps the jti in the database', async () => {
    const jti = randomUUID();
    expect((await t.requestToken(form(await t.assertion('demo-consumer', { jti })))).status).toBe(200);
    const row = await t.registry.store.db
      .selectFrom('client_assertion_jti')
      .selectAll()
      .where('jti', '=', jti)
      .executeTakeFirst();
    expect(row?.client_id).toBe('demo-consumer');
  });
});

describe.each(backends)('demo keys outside demo mode on $name', (backend) => {
  it('refuses demo clients, and any client registering a demo key', async () => {
    const t = await startTestRegistry(await backend.open(), { demoMode: true });
    // Register a non-demo client that (wrongly) uses a demo public key, then restart without demo mode.
    const publicJwk = JSON.parse(
      await readFile(path.join(DEMO_DIR, 'keys', 'demo-consumer.public.jwk.json'), 'utf8'),
    ) as JWK;
    await t.registry.catalogue.putClient(
      {
        clientId: 'copycat',
        name: 'uses a demo key',
        status: 'active',
        jwks: { keys: [{ ...publicJwk, kty: String(publicJwk.kty) }] },
        organisations: ['RWY'],
        roles: ['consumer'],
        admin: false,
      },
      'test',
    );
    const store = t.registry.store;
    const off = await startTestRegistry({ ...store, close: async () => undefined }, { demoMode: false });
    try {
      const demo = await off.requestToken({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: await off.assertion('demo-consumer'),
      });
      expect(demo.status).toBe(401);
      const jwk = await demoPrivateKey('demo-consumer');
      const copycat = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: jwk.alg as string, kid: jwk.kid as string })
        .setIssuer('copycat')
        .setSubject('copycat')
        .setAudience(off.tokenUrl)
        .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
        .sign(await importJWK(jwk, jwk.alg));
      const refused = await off.requestToken({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: copycat,
      });
      expect(refused.status).toBe(401);
      // A genuinely new key for the same client works: the refusal is about the key, not the client.
      const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
      const fresh = { ...(await exportJWK(publicKey)), kid: 'copycat-2', alg: 'ES384' };
      await off.registry.catalogue.putClient(
        {
          clientId: 'copycat',
          name: 'own key now',
          status: 'active',
          jwks: { keys: [{ ...fresh, kty: 'EC' }] },
          organisations: ['RWY'],
          roles: ['consumer'],
          admin: false,
        },
        'test',
      );
      const own = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES384', kid: 'copycat-2' })
        .setIssuer('copycat')
        .setSubject('copycat')
        .setAudience(off.tokenUrl)
        .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
        .sign(privateKey);
      const accepted = await off.requestToken({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: own,
      });
      expect(accepted.status).toBe(200);
    } finally {
      await off.close();
      await t.close();
    }
  });
});
