/**
 * Issue 14, point 9: rate limits per client system and per organisation, and a cap on access
 * tokens per client, configured in the Controller Catalogue (R3, R19: set through the admin
 * API, versioned like every catalogue change). Over quota: 429, Retry-After, an
 * OperationOutcome with the registry's code, and an AuditEvent (R7). On both databases.
 */
import { NHS_NUMBER_SYSTEM } from '@nir/core';
import type { Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForEvents } from './support/audit-events.ts';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';

const backends = await testBackends();
const SEARCH = `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|9000000009`;
const OWN_SEARCH = `/producer/FHIR/R4/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|9000000009`;

describe.each(backends)('rate limits on $name (issue 14, point 9)', (backend) => {
  let t: TestRegistry;
  let store: Store;
  let admin: Record<string, string>;

  const put = (path: string, body: unknown) =>
    t.fetch(`/admin${path}`, {
      method: 'PUT',
      headers: { ...admin, 'x-request-id': crypto.randomUUID() },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    store = await backend.open();
    t = await startTestRegistry(store);
    admin = {
      authorization: `Bearer ${await t.token('demo-admin')}`,
      'content-type': 'application/json',
    };
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a client over its catalogue quota with 429, Retry-After and an OperationOutcome, audited', async () => {
    const client = await t.registry.catalogue.getClient('demo-consumer');
    if (!client) throw new Error('demo-consumer missing');
    const { version: _v, updatedAt: _u, demo: _d, ...input } = client;
    const set = await put('/clients/demo-consumer', { ...input, rateLimitPerMinute: 3 });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { rateLimitPerMinute?: number }).rateLimitPerMinute).toBe(3);

    // The token request counts too: two searches remain of the three.
    const token = await t.token('demo-consumer');
    for (let i = 0; i < 2; i++) {
      expect((await t.fetch(SEARCH, { headers: clinicalHeaders(token, 'RWY') })).status).toBe(200);
    }
    const requestId = crypto.randomUUID();
    const refused = await t.fetch(SEARCH, { headers: clinicalHeaders(token, 'RWY', requestId) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const body = (await refused.json()) as { issue: { code: string; diagnostics: string }[] };
    expect(errorCode(body)).toBe('TOO_MANY_REQUESTS');
    expect(body.issue[0]?.code).toBe('throttled');
    expect(body.issue[0]?.diagnostics).toMatch(/Client system 'demo-consumer' is over its request quota/);

    const [event] = await waitForEvents(store, requestId, 1);
    expect(event?.outcome).toBe('4');
    expect(event?.outcomeDesc).toMatch(/^TOO_MANY_REQUESTS: /);
    expect(t.registry.audit.counters.snapshot()['rate-limited-client']).toBeGreaterThanOrEqual(1);
  });

  it('limits an organisation across its clients, from its catalogue entry', async () => {
    const refusedValue = await put('/organisations/RR8', {
      name: 'RR8',
      status: 'active',
      rateLimitPerMinute: 0,
    });
    expect(refusedValue.status).toBe(400);
    expect(JSON.stringify(await refusedValue.json())).toMatch(/rateLimitPerMinute/);
    // Tokens first: the token endpoint counts against the organisation too. A lowered quota
    // applies at once: two more requests this minute.
    const producer = await t.token('demo-provider-a');
    const auditor = await t.token('demo-audit');
    const set = await put('/organisations/RR8', {
      name: 'DEMO RR8',
      status: 'active',
      rateLimitPerMinute: 2,
    });
    expect(set.status).toBe(200);
    expect((await t.fetch(OWN_SEARCH, { headers: clinicalHeaders(producer, 'RR8') })).status).toBe(200);
    const range = `date=ge2026-01-01T00:00:00Z&date=lt2027-01-01T00:00:00Z`;
    expect(
      (await t.fetch(`/audit/FHIR/R4/AuditEvent?${range}`, { headers: clinicalHeaders(auditor, 'RR8') }))
        .status,
    ).toBe(200);
    const refused = await t.fetch(OWN_SEARCH, { headers: clinicalHeaders(producer, 'RR8') });
    expect(refused.status).toBe(429);
    expect(JSON.stringify(await refused.json())).toMatch(/Organisation 'RR8' is over its request quota/);
    // Another organisation is not affected.
    const other = await t.token('demo-provider-b');
    expect((await t.fetch(OWN_SEARCH, { headers: clinicalHeaders(other, 'RAE') })).status).toBe(200);
    // The token endpoint refuses RR8's users too while its quota is spent.
    const token = await t.requestToken({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await t.assertion('demo-provider-a'),
    });
    expect(token.status).toBe(429);
    expect(errorCode(await token.json())).toBe('TOO_MANY_REQUESTS');
  });

  it('caps the access tokens a client obtains a minute; the refusal is audited', async () => {
    const client = await t.registry.catalogue.getClient('demo-provider-b');
    if (!client) throw new Error('demo-provider-b missing');
    const { version: _v, updatedAt: _u, demo: _d, ...input } = client;
    expect((await put('/clients/demo-provider-b', { ...input, tokenLimitPerMinute: 2 })).status).toBe(200);
    // A lowered quota applies at once: at most two more tokens this minute.
    await t.token('demo-provider-b');
    await t.token('demo-provider-b');
    const requestId = crypto.randomUUID();
    const refused = await t.requestToken(
      {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await t.assertion('demo-provider-b'),
      },
      { 'x-request-id': requestId },
    );
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(errorCode(await refused.json())).toBe('TOO_MANY_REQUESTS');
    const [event] = await waitForEvents(store, requestId, 1);
    expect(event?.outcome).toBe('4');
    expect(event?.outcomeDesc).toMatch(
      /^TOO_MANY_REQUESTS: Client system 'demo-provider-b' asked for more access tokens/,
    );
    expect(JSON.stringify(event?.agent)).toMatch(/demo-provider-b/);
  });
});
