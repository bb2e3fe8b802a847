/**
 * R3, R6, R19: the Controller Catalogue administration API. Its own scope; every change is
 * versioned and kept with who made it, before and after.
 */
import { testBackends } from '@nir/store/testing';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { probeModule } from './support/probe.ts';

const backends = await testBackends();

describe.each(backends)('catalogue admin API on $name', (backend) => {
  let t: TestRegistry;
  let headers: Record<string, string>;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), {
      modules: { consumer: [probeModule('consumer', ['search'])] },
    });
    headers = {
      authorization: `Bearer ${await t.token('demo-admin')}`,
      'x-request-id': 'admin-1',
      'content-type': 'application/json',
    };
  });
  afterAll(async () => {
    await t.close();
  });

  const put = (path: string, body: unknown) =>
    t.fetch(`/admin${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });

  it('refuses callers without the admin scope, and without a token', async () => {
    const consumer = await t.token('demo-consumer');
    const refused = await t.fetch('/admin/organisations', {
      headers: { authorization: `Bearer ${consumer}`, 'x-request-id': 'r1' },
    });
    expect(refused.status).toBe(403);
    expect(errorCode(await refused.json())).toBe('ACCESS DENIED');
    const anonymous = await t.fetch('/admin/organisations', { headers: { 'x-request-id': 'r2' } });
    expect(anonymous.status).toBe(401);
  });

  it('creates and updates organisations with versions and ETags, and keeps every change (R19)', async () => {
    const created = await put('/organisations/RXF', { name: 'Mid Yorkshire Teaching', status: 'active' });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('W/"1"');
    const updated = await put('/organisations/RXF', {
      name: 'Mid Yorkshire Teaching NHS Trust',
      status: 'active',
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('W/"2"');
    const read = await t.fetch('/admin/organisations/RXF', { headers });
    expect(((await read.json()) as { name: string }).name).toBe('Mid Yorkshire Teaching NHS Trust');

    const changes = (await (
      await t.fetch('/admin/changes?entity=organisation&key=RXF', { headers })
    ).json()) as {
      actor: string;
      action: string;
      before: { name: string } | null;
      after: { name: string; version: number };
    }[];
    expect(changes.map((c) => c.action)).toEqual(['create', 'update']);
    expect(changes[0]?.before).toBeNull();
    expect(changes[1]?.before?.name).toBe('Mid Yorkshire Teaching');
    expect(changes[1]?.after.name).toBe('Mid Yorkshire Teaching NHS Trust');
    expect(changes[1]?.after.version).toBe(2);
    expect(changes[1]?.actor).toBe('client:demo-admin/user:555000000001');
  });

  it('registers a client and a grant, and the new client can get a token', async () => {
    await put('/organisations/RXF', { name: 'Mid Yorkshire Teaching NHS Trust', status: 'active' });
    const { publicKey } = await generateKeyPair('ES384', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'myt-1', alg: 'ES384' };
    const client = await put('/clients/myt-epr', {
      name: 'MYT EPR',
      jwks: { keys: [jwk] },
      organisations: ['RXF'],
      roles: ['consumer'],
    });
    expect(client.status).toBe(201);
    const grant = await put('/grants/RXF/consumer', {
      pointerTypes: ['https://nicip.nhs.uk|MAULR'],
      interactions: ['search', 'read'],
    });
    expect(grant.status).toBe(201);
    const grants = (await (await t.fetch('/admin/grants?ods=RXF', { headers })).json()) as { role: string }[];
    expect(grants.map((g) => g.role)).toEqual(['consumer']);
    const deleted = await t.fetch('/admin/grants/RXF/consumer', { method: 'DELETE', headers });
    expect(deleted.status).toBe(204);
    expect((await t.fetch('/admin/grants/RXF/consumer', { headers })).status).toBe(404);
    const kept = (await (
      await t.fetch('/admin/changes?entity=grant&key=RXF/consumer', { headers })
    ).json()) as {
      action: string;
    }[];
    expect(kept.map((c) => c.action)).toEqual(['create', 'delete']);
  });

  it('R6: suspending an organisation through the API refuses its next request', async () => {
    const token = await t.token('demo-consumer');
    const probe = () =>
      t.fetch('/consumer/FHIR/R4/$probe-search', { headers: clinicalHeaders(token, 'RWY') });
    expect((await probe()).status).toBe(200);
    const suspended = await put('/organisations/RWY', {
      name: 'DEMO Calderdale and Huddersfield (consumer)',
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);
    expect((await probe()).status).toBe(403);
    await put('/organisations/RWY', {
      name: 'DEMO Calderdale and Huddersfield (consumer)',
      status: 'active',
    });
    expect((await probe()).status).toBe(200);
  });

  it('refuses invalid records with the offending element named', async () => {
    const bad = await put('/organisations/rxf', { name: '', status: 'asleep', colour: 'blue' });
    expect(bad.status).toBe(400);
    const issues = ((await bad.json()) as { issue: { expression: string[] }[] }).issue.map(
      (i) => i.expression[0],
    );
    expect(issues).toEqual(expect.arrayContaining(['odsCode', 'name', 'status', 'colour']));

    const privateKey = await put('/clients/leaky', {
      name: 'Leaky',
      jwks: { keys: [{ kty: 'EC', kid: 'k', crv: 'P-384', x: 'a', y: 'b', d: 'secret' }] },
      organisations: ['RWY'],
      roles: ['consumer'],
    });
    expect(privateKey.status).toBe(400);
    expect(JSON.stringify(await privateKey.json())).toContain('jwks.keys[0]');

    const unknownOrg = await put('/clients/orphan', {
      name: 'Orphan',
      jwks: (await (await t.fetch('/.well-known/jwks.json')).json()) as unknown,
      organisations: ['ZZZ99'],
      roles: ['consumer'],
    });
    expect(unknownOrg.status).toBe(422);

    const wrongInteraction = await put('/grants/RWY/consumer', {
      pointerTypes: [],
      interactions: ['create'],
    });
    expect(wrongInteraction.status).toBe(400);
    const mismatch = await put('/organisations/RWY', { odsCode: 'RR8', name: 'x', status: 'active' });
    expect(mismatch.status).toBe(400);
    const badRole = await t.fetch('/admin/grants/RWY/owner', { headers });
    expect(badRole.status).toBe(400);
  });

  it('keeps the change log append-only', async () => {
    await expect(
      t.registry.store.db.deleteFrom('catalogue_change').where('change_id', '>', 0).execute(),
    ).rejects.toThrow(/append-only/);
  });
});
