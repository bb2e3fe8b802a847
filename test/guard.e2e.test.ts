/**
 * The choke point of every clinical request (R3, R5, R6, R18): headers, token, organisation
 * binding, purpose of use and the Controller Catalogue, checked on every request.
 */

import { demoUserClaims } from '@nir/cli';
import { ACT_REASON_SYSTEM } from '@nir/core';
import { testBackends } from '@nir/store/testing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { probeModule } from './support/probe.ts';

const backends = await testBackends();
const modules = {
  consumer: [probeModule('consumer', ['search', 'read', 'count'])],
  producer: [probeModule('producer', ['create', 'delete'])],
};

describe.each(backends)('request guard on $name', (backend) => {
  let t: TestRegistry;
  let consumerToken: string;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), { modules });
    consumerToken = await t.token('demo-consumer');
  });
  afterAll(async () => {
    await t.close();
  });

  const probe = (headers: Record<string, string>, path = '/consumer/FHIR/R4/$probe-search') =>
    t.fetch(path, { headers });

  it('lets a registered, granted, direct-care request through with its principal', async () => {
    const response = await probe({
      ...clinicalHeaders(consumerToken, 'RWY', 'req-1'),
      'x-correlation-id': 'corr-9',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-1');
    expect(response.headers.get('x-correlation-id')).toBe('corr-9');
    const body = (await response.json()) as { clientId: string; odsCode: string; user: { id: string } };
    expect(body.clientId).toBe('demo-consumer');
    expect(body.odsCode).toBe('RWY');
    expect(body.user.id).toBe('555000000001');
  });

  it('does not echo X-Correlation-Id when none was sent', async () => {
    const response = await probe(clinicalHeaders(consumerToken, 'RWY'));
    expect(response.headers.get('x-correlation-id')).toBeNull();
  });

  it('refuses a request without X-Request-Id (400 MISSING_OR_INVALID_HEADER)', async () => {
    const headers = clinicalHeaders(consumerToken, 'RWY');
    delete headers['x-request-id'];
    const response = await probe(headers);
    expect(response.status).toBe(400);
    expect(errorCode(await response.json())).toBe('MISSING_OR_INVALID_HEADER');
  });

  it('refuses a missing, malformed or forged token with 401 and a Bearer challenge', async () => {
    for (const authorization of [undefined, 'Basic abc', 'Bearer not-a-token', `Bearer ${consumerToken}x`]) {
      const headers = clinicalHeaders(consumerToken, 'RWY');
      if (authorization === undefined) delete headers.authorization;
      else headers.authorization = authorization;
      const response = await probe(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('invalid_token');
      const body = await response.json();
      expect(errorCode(body)).toBe('ACCESS_DENIED');
      expect(JSON.stringify(body)).not.toMatch(/signature|jws|kid/i);
    }
  });

  it('refuses a token signed by another issuer, and an HMAC token made with the registry public key', async () => {
    const jwks = (await (await t.fetch('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] };
    const kid = jwks.keys[0]?.kid ?? '';
    const claims = {
      client_id: 'demo-consumer',
      scope: 'system/DocumentReference.rs',
      extensions: { ihe_iua: demoUserClaims('RWY') },
    };
    const { generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer('https://attacker.example')
      .setAudience(t.url)
      .setSubject('demo-consumer')
      .setJti('x1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const sameIssuerWrongKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(t.url)
      .setAudience(t.url)
      .setSubject('demo-consumer')
      .setJti('x2')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
      .setIssuer(t.url)
      .setAudience(t.url)
      .setSubject('demo-consumer')
      .setJti('x3')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({
        ...claims,
        iss: t.url,
        aud: t.url,
        sub: 'demo-consumer',
        jti: 'x4',
        exp: Date.now() / 1000 + 60,
      }),
    ).toString('base64url')}.`;
    for (const token of [foreign, sameIssuerWrongKey, hmac, none]) {
      const response = await probe(clinicalHeaders(token, 'RWY'));
      expect(response.status).toBe(401);
    }
  });

  it('refuses an expired registry token', async () => {
    const { kid, key } = t.registry.keys.signingKey();
    const expired = await new SignJWT({ client_id: 'demo-consumer', scope: 'system/DocumentReference.rs' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(t.url)
      .setAudience(t.url)
      .setSubject('demo-consumer')
      .setJti('old')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(key);
    expect((await probe(clinicalHeaders(expired, 'RWY'))).status).toBe(401);
  });

  it('refuses a request without NHSD-End-User-Organisation-ODS (400 PRECONDITION_FAILED)', async () => {
    const headers = clinicalHeaders(consumerToken, 'RWY');
    delete headers['nhsd-end-user-organisation-ods'];
    const response = await probe(headers);
    expect(response.status).toBe(400);
    expect(errorCode(await response.json())).toBe('PRECONDITION_FAILED');
  });

  it('refuses an organisation the client is not registered to act for (403)', async () => {
    const response = await probe(clinicalHeaders(consumerToken, 'RR8'));
    expect(response.status).toBe(403);
    expect(errorCode(await response.json())).toBe('ACCESS DENIED');
  });

  it.each([
    ['BTG (no consent restriction to break)', [{ system: ACT_REASON_SYSTEM, code: 'BTG' }]],
    ['research', [{ system: ACT_REASON_SYSTEM, code: 'HRESCH' }]],
    [
      'direct care mixed with marketing',
      [
        { system: ACT_REASON_SYSTEM, code: 'TREAT' },
        { system: ACT_REASON_SYSTEM, code: 'HMARKT' },
      ],
    ],
    ['TREAT in another code system', [{ system: 'urn:other', code: 'TREAT' }]],
    ['no purpose at all', undefined],
  ])('R5: refuses purpose of use %s with 403', async (_label, purpose) => {
    const iua = demoUserClaims('RWY');
    if (purpose) iua.purpose_of_use = purpose;
    else delete iua.purpose_of_use;
    const token = await t.token('demo-consumer', { iua });
    const response = await probe(clinicalHeaders(token, 'RWY'));
    expect(response.status).toBe(403);
    const body = await response.json();
    expect(errorCode(body)).toBe('ACCESS DENIED');
    expect(JSON.stringify(body)).toContain('direct care');
  });

  it.each(['ETREAT', 'ERTREAT', 'COC'])('R5: accepts direct-care purpose %s', async (code) => {
    const token = await t.token('demo-consumer', { iua: demoUserClaims('RWY', code) });
    expect((await probe(clinicalHeaders(token, 'RWY'))).status).toBe(200);
  });

  it('refuses a token that names no end user', async () => {
    const token = await t.token('demo-consumer', {
      iua: { purpose_of_use: [{ system: ACT_REASON_SYSTEM, code: 'TREAT' }] },
    });
    const response = await probe(clinicalHeaders(token, 'RWY'));
    expect(response.status).toBe(403);
  });

  it('R3: refuses an interaction the grant does not list, and a role the client does not hold', async () => {
    const consumerOnProducer = await probe(
      clinicalHeaders(consumerToken, 'RWY'),
      '/producer/FHIR/R4/$probe-create',
    );
    expect(consumerOnProducer.status).toBe(403);
    const providerToken = await t.token('demo-provider-a');
    const providerOnConsumer = await probe(
      clinicalHeaders(providerToken, 'RR8'),
      '/consumer/FHIR/R4/$probe-search',
    );
    expect(providerOnConsumer.status).toBe(403);
    expect(
      (await probe(clinicalHeaders(providerToken, 'RR8'), '/producer/FHIR/R4/$probe-create')).status,
    ).toBe(200);
  });

  it('R18: a down-scoped token cannot do more than its scope', async () => {
    const readOnly = await t.token('demo-consumer', { scope: 'system/DocumentReference.r' });
    expect((await probe(clinicalHeaders(readOnly, 'RWY'), '/consumer/FHIR/R4/$probe-read')).status).toBe(200);
    const search = await probe(clinicalHeaders(readOnly, 'RWY'), '/consumer/FHIR/R4/$probe-search');
    expect(search.status).toBe(403);
  });

  it('R6: suspending an organisation refuses its very next request, with no restart', async () => {
    const token = await t.token('demo-consumer');
    expect((await probe(clinicalHeaders(token, 'RWY'))).status).toBe(200);
    await t.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
    try {
      const refused = await probe(clinicalHeaders(token, 'RWY'));
      expect(refused.status).toBe(403);
      expect(errorCode(await refused.json())).toBe('ACCESS DENIED');
    } finally {
      await t.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
    }
    expect((await probe(clinicalHeaders(token, 'RWY'))).status).toBe(200);
  });

  it('R3: withdrawing a grant denies the next request (deny by default)', async () => {
    const grant = await t.registry.catalogue.getGrant('RWY', 'consumer');
    if (!grant) throw new Error('demo grant missing');
    await t.registry.catalogue.deleteGrant('RWY', 'consumer', 'test');
    try {
      expect((await probe(clinicalHeaders(consumerToken, 'RWY'))).status).toBe(403);
    } finally {
      await t.registry.catalogue.putGrant(grant, 'test');
    }
    expect((await probe(clinicalHeaders(consumerToken, 'RWY'))).status).toBe(200);
  });

  it('R18: disabling a client invalidates its tokens on the next request', async () => {
    const client = await t.registry.catalogue.getClient('demo-consumer');
    if (!client) throw new Error('demo client missing');
    await t.registry.catalogue.putClient({ ...client, status: 'disabled' }, 'test');
    try {
      expect((await probe(clinicalHeaders(consumerToken, 'RWY'))).status).toBe(401);
    } finally {
      await t.registry.catalogue.putClient({ ...client, status: 'active' }, 'test');
    }
  });

  it('rotates the registry signing key without downtime: old tokens keep working', async () => {
    const before = consumerToken;
    const oldKid = t.registry.keys.signingKey().kid;
    const adminToken = await t.token('demo-admin');
    const rotated = await t.fetch('/admin/signing-keys/rotate', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'x-request-id': 'rotate-1' },
    });
    expect(rotated.status).toBe(201);
    const { kid } = (await rotated.json()) as { kid: string };
    expect(kid).not.toBe(oldKid);
    const jwks = (await (await t.fetch('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, kid]));
    expect((await probe(clinicalHeaders(before, 'RWY'))).status).toBe(200);
    const after = await t.token('demo-consumer');
    expect(JSON.parse(Buffer.from(after.split('.')[0] ?? '', 'base64url').toString()).kid).toBe(kid);
    expect((await probe(clinicalHeaders(after, 'RWY'))).status).toBe(200);
  });
});

describe('several instances on one PostgreSQL database', () => {
  const postgres = backends.find((b) => b.name === 'postgres');
  it.runIf(postgres)(
    'R6 and R18: a suspension on one instance refuses the next request on another; a jti used on one is refused on the other; keys rotated on one verify on the other',
    async () => {
      const database = await postgres?.freshDatabaseUrl?.();
      if (!database) throw new Error('no database');
      const { openStore } = await import('@nir/store');
      const a = await startTestRegistry(await openStore({ databaseUrl: database.url }), { modules });
      const b = await startTestRegistry(await openStore({ databaseUrl: database.url }), { modules });
      try {
        const token = await a.token('demo-consumer');
        expect(
          (await b.fetch('/consumer/FHIR/R4/$probe-search', { headers: clinicalHeaders(token, 'RWY') }))
            .status,
        ).toBe(
          401, // b has another public URL, so a's tokens are not for b (audience)
        );
        // Same public URL for both, as behind one load balancer:
        const shared = a.url;
        const c = await startTestRegistry(await openStore({ databaseUrl: database.url }), {
          modules,
          env: { NIR_PUBLIC_URL: shared },
        });
        try {
          expect(
            (await c.fetch('/consumer/FHIR/R4/$probe-search', { headers: clinicalHeaders(token, 'RWY') }))
              .status,
          ).toBe(200);
          await a.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
          expect(
            (await c.fetch('/consumer/FHIR/R4/$probe-search', { headers: clinicalHeaders(token, 'RWY') }))
              .status,
          ).toBe(403);
          await a.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
          const assertion = await a.assertion('demo-consumer');
          const form = {
            grant_type: 'client_credentials',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          };
          expect((await a.requestToken(form)).status).toBe(200);
          const replay = await fetch(`${c.url}/oauth2/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(form).toString(),
          });
          expect(replay.status).toBe(401);
          const newKid = await a.registry.keys.rotate();
          const fresh = await a.token('demo-consumer');
          expect(JSON.parse(Buffer.from(fresh.split('.')[0] ?? '', 'base64url').toString()).kid).toBe(newKid);
          expect(
            (await c.fetch('/consumer/FHIR/R4/$probe-search', { headers: clinicalHeaders(fresh, 'RWY') }))
              .status,
          ).toBe(200);
        } finally {
          await c.close();
        }
      } finally {
        await a.close();
        await b.close();
        await database.drop();
      }
    },
  );
});
