/**
 * R4/R11 (issue 14): an organisation cannot supersede, and so remove, another organisation's
 * pointer, even one that would otherwise qualify (same patient, same type), alone or inside an
 * ITI-65 transaction. Each test makes its own patient and target, and checks the refusal by its
 * status and NRL code and the target by reading it back unchanged: not by a diagnostic text,
 * which a broken ownership check would merely change (the target exists here, so the only
 * thing that can refuse is the ownership check).
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import { errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { freshNhsNumber, replaces, validPointer } from './support/pointers.ts';

const backends = await testBackends();
const BASE = '/producer/FHIR/R4';

describe.each(backends)('R4/R11: supersede across organisations on $name', (backend) => {
  let t: TestRegistry;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    tokens.RR8 = await t.token('demo-provider-a');
    tokens.RAE = await t.token('demo-provider-b');
  });
  afterAll(async () => t?.close());

  const call = (ods: 'RR8' | 'RAE', method: string, pathname: string, body?: unknown): Promise<FhirReply> =>
    fhirCall(t, method, `${BASE}${pathname}`, { token: tokens[ods] as string, ods }, body);

  /** RAE's pointer for a fresh patient, as RAE reads it back (status 200). */
  async function raePointer(nhsNumber: string): Promise<{ id: string; stored: FhirReply }> {
    const created = await call(
      'RAE',
      'POST',
      '/DocumentReference',
      validPointer({ custodian: 'RAE', nhsNumber }),
    );
    expect(created.status, created.text).toBe(201);
    const id = (created.headers.get('location') as string).split('/').pop() as string;
    expect(id.startsWith('RAE-')).toBe(true);
    const stored = await call('RAE', 'GET', `/DocumentReference/${id}`);
    expect(stored.status).toBe(200);
    return { id, stored };
  }

  /** RR8's pointer for the same patient and type as the target, replacing it. */
  function rr8Replacing(targetId: string, nhsNumber: string): DocumentReference {
    return { ...validPointer({ custodian: 'RR8', nhsNumber }), relatesTo: replaces(targetId) };
  }

  /** The target is still there, as it was: same body, same version, one history entry. */
  async function expectUntouched(id: string, before: FhirReply): Promise<void> {
    const after = await call('RAE', 'GET', `/DocumentReference/${id}`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    const history = await call('RAE', 'GET', `/DocumentReference/${id}/_history`);
    expect(history.status).toBe(200);
    expect(history.body.entry).toHaveLength(1);
  }

  /** RR8 stored nothing for the patient. */
  async function expectNothingFromRr8(nhsNumber: string): Promise<void> {
    expect(await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber })).toHaveLength(0);
  }

  it('a create that replaces another organisation’s pointer (same patient and type) is 422 and the pointer stays', async () => {
    const nhs = freshNhsNumber();
    const target = await raePointer(nhs);
    const res = await call('RR8', 'POST', '/DocumentReference', rr8Replacing(target.id, nhs));
    expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
    expect(res.body.issue?.[0]?.expression).toEqual(['relatesTo[0].target.identifier.value']);
    await expectUntouched(target.id, target.stored);
    await expectNothingFromRr8(nhs);
  });

  it('an upsert (PUT with the caller’s id) that replaces another organisation’s pointer is 422 and the pointer stays', async () => {
    const nhs = freshNhsNumber();
    const target = await raePointer(nhs);
    const doc = { ...rr8Replacing(target.id, nhs), id: `RR8-${crypto.randomUUID()}` };
    const res = await call('RR8', 'PUT', '/DocumentReference', doc);
    expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
    await expectUntouched(target.id, target.stored);
    await expectNothingFromRr8(nhs);
  });

  it('the other organisation’s pointer named after one of the caller’s own is refused as a whole: neither is removed', async () => {
    const nhs = freshNhsNumber();
    const target = await raePointer(nhs);
    const own = await call(
      'RR8',
      'POST',
      '/DocumentReference',
      validPointer({ custodian: 'RR8', nhsNumber: nhs }),
    );
    expect(own.status).toBe(201);
    const ownId = (own.headers.get('location') as string).split('/').pop() as string;
    const doc = rr8Replacing(ownId, nhs);
    doc.relatesTo?.push(...replaces(target.id));
    const res = await call('RR8', 'POST', '/DocumentReference', doc);
    expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
    expect(res.body.issue?.[0]?.expression).toEqual(['relatesTo[1].target.identifier.value']);
    await expectUntouched(target.id, target.stored);
    expect((await call('RR8', 'GET', `/DocumentReference/${ownId}`)).status).toBe(200);
    expect(await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: nhs })).toHaveLength(1);
  });

  it('inside an ITI-65 transaction: the Bundle is refused (422), nothing of it is stored, the pointer stays', async () => {
    const nhs = freshNhsNumber();
    const target = await raePointer(nhs);
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:ss',
          resource: {
            resourceType: 'List',
            status: 'current',
            mode: 'working',
            code: {
              coding: [
                { system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' },
              ],
            },
          },
          request: { method: 'POST', url: 'List' },
        },
        {
          fullUrl: 'urn:uuid:d0',
          resource: validPointer({ custodian: 'RR8', nhsNumber: nhs }),
          request: { method: 'POST', url: 'DocumentReference' },
        },
        {
          fullUrl: 'urn:uuid:d1',
          resource: rr8Replacing(target.id, nhs),
          request: { method: 'POST', url: 'DocumentReference' },
        },
      ],
    };
    const res = await call('RR8', 'POST', '', bundle);
    expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
    expect(res.body.issue?.[0]?.expression?.[0]).toMatch(/^Bundle\.entry\[2\]\.resource\.relatesTo\[0\]/);
    await expectUntouched(target.id, target.stored);
    await expectNothingFromRr8(nhs);
  });

  it('the same supersede by the owner succeeds (the refusals above are about ownership, not the body)', async () => {
    const nhs = freshNhsNumber();
    const target = await raePointer(nhs);
    const doc = { ...validPointer({ custodian: 'RAE', nhsNumber: nhs }), relatesTo: replaces(target.id) };
    const res = await call('RAE', 'POST', '/DocumentReference', doc);
    expect([res.status, errorCode(res.body)]).toEqual([201, 'RESOURCE_SUPERSEDED']);
    expect((await call('RAE', 'GET', `/DocumentReference/${target.id}`)).status).toBe(404);
  });
});
