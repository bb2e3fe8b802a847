/**
 * R16: one error model. Malformed JSON, wrong content type, oversize bodies, unknown routes and
 * methods, unacceptable formats and unexpected failures each get the right status and a FHIR
 * OperationOutcome with a stable code; never a stack trace or SQL.
 */
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { probeModule } from './support/probe.ts';

const backends = await testBackends();

describe.each(backends)('errors and basics on $name', (backend) => {
  let t: TestRegistry;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), {
      modules: { consumer: [probeModule('consumer', ['search'])] },
      env: { NIR_BODY_LIMIT_BYTES: '2048' },
    });
    admin = { authorization: `Bearer ${await t.token('demo-admin')}`, 'x-request-id': 'admin-req' };
  });
  afterAll(async () => {
    await t.close();
  });

  async function expectOutcome(response: Response, status: number, code: string): Promise<unknown> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const body = (await response.json()) as { resourceType: string };
    expect(body.resourceType).toBe('OperationOutcome');
    expect(errorCode(body)).toBe(code);
    return body;
  }

  it('answers an unknown route with 404 NO_RECORD_FOUND', async () => {
    await expectOutcome(await t.fetch('/no/such/route'), 404, 'NO_RECORD_FOUND');
    await expectOutcome(await t.fetch('/consumer/FHIR/R4/Patient'), 404, 'NO_RECORD_FOUND');
  });

  it('answers HEAD with 405 everywhere, as NRL does', async () => {
    const response = await t.fetch('/_status', { method: 'HEAD' });
    expect(response.status).toBe(405);
  });

  it('answers a known path with another method with 405 and Allow', async () => {
    const response = await t.fetch('/consumer/FHIR/R4/metadata', { method: 'DELETE' });
    await expectOutcome(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('GET');
    const token = await t.fetch('/oauth2/token');
    expect(token.status).toBe(405);
    expect(token.headers.get('allow')).toBe('POST');
  });

  it('refuses malformed JSON with 400 MESSAGE_NOT_WELL_FORMED', async () => {
    const response = await t.fetch('/admin/organisations/ABC12', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/fhir+json' },
      body: '{"name": "unterminated',
    });
    const body = JSON.stringify(await expectOutcome(response, 400, 'MESSAGE_NOT_WELL_FORMED'));
    expect(body).not.toContain('SyntaxError');
  });

  it('refuses a wrong content type with 415', async () => {
    const response = await t.fetch('/admin/organisations/ABC12', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    await expectOutcome(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an oversize body with 413', async () => {
    const response = await t.fetch('/admin/organisations/ABC12', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(5000), status: 'active' }),
    });
    await expectOutcome(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses a missing body with 400 BAD_REQUEST', async () => {
    const response = await t.fetch('/admin/organisations/ABC12', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
    });
    await expectOutcome(response, 400, 'BAD_REQUEST');
  });

  it('refuses an unacceptable response format with 406', async () => {
    await expectOutcome(
      await t.fetch('/consumer/FHIR/R4/metadata', { headers: { accept: 'application/fhir+xml' } }),
      406,
      'NOT_ACCEPTABLE',
    );
    await expectOutcome(await t.fetch('/consumer/FHIR/R4/metadata?_format=xml'), 406, 'NOT_ACCEPTABLE');
    expect((await t.fetch('/consumer/FHIR/R4/metadata?_format=json')).status).toBe(200);
    expect((await t.fetch('/consumer/FHIR/R4/metadata', { headers: { accept: '*/*' } })).status).toBe(200);
  });

  it('turns an unexpected failure into a 500 INTERNAL_SERVER_ERROR with nothing internal in it', async () => {
    const response = await t.fetch('/consumer/FHIR/R4/$boom', { headers: { 'x-request-id': 'boom-1' } });
    const body = JSON.stringify(await expectOutcome(response, 500, 'INTERNAL_SERVER_ERROR'));
    expect(body).not.toMatch(/SELECT|secret|password|at .*\.ts/);
    expect(response.headers.get('x-request-id')).toBe('boom-1');
  });

  it('serves a CapabilityStatement per base without authentication', async () => {
    for (const api of ['producer', 'consumer']) {
      const response = await t.fetch(`/${api}/FHIR/R4/metadata`);
      expect(response.status).toBe(200);
      const statement = (await response.json()) as {
        resourceType: string;
        fhirVersion: string;
        implementation: { url: string };
        rest: { security: { extension: { extension: { valueUri: string }[] }[] } }[];
      };
      expect(statement.resourceType).toBe('CapabilityStatement');
      expect(statement.fhirVersion).toBe('4.0.1');
      expect(statement.implementation.url).toBe(`${t.url}/${api}/FHIR/R4`);
      expect(statement.rest[0]?.security.extension[0]?.extension[0]?.valueUri).toBe(t.tokenUrl);
    }
  });

  it('reports health at /_status and per base', async () => {
    for (const path of ['/_status', '/consumer/FHIR/R4/_status', '/producer/FHIR/R4/_status']) {
      const response = await t.fetch(path);
      expect(response.status).toBe(200);
      expect(await response.json()).toBe('OK');
    }
  });
});

describe.each(backends)('/_status when the database is gone on $name', (backend) => {
  it('answers 503 SERVICE_UNAVAILABLE', async () => {
    const store = await backend.open();
    const t = await startTestRegistry({ ...store, ping: async () => false });
    try {
      const response = await t.fetch('/_status');
      expect(response.status).toBe(503);
      expect(errorCode(await response.json())).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await t.close();
    }
  });
});
