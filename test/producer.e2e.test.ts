/**
 * The provider API end to end over HTTP, on both databases: NRL v3 producer behaviour
 * (nrl-behaviour.md §1.5, §2.2–2.3, §4.4) with the registry's corrections (§8), FHIR HTTP
 * (ETag, If-Match, Prefer) and the pointer history (R10).
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirBody, type FhirReply, fhirCall } from './support/fhir-call.ts';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { freshNhsNumber, validPointer } from './support/pointers.ts';
import { prng } from './support/prng.ts';

const backends = await testBackends();
const BASE = '/producer/FHIR/R4';
const NHS = '9000000009';
const OTHER_NHS = '9278693472';

/** A valid pointer for `ods` and `nhs`, as a provider would send it (no server fields). */
function pointer(ods = 'RR8', nhs = NHS): DocumentReference {
  return validPointer({ custodian: ods, nhsNumber: nhs });
}

describe.each(backends)('provider API on $name', (backend) => {
  let t: TestRegistry;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    tokens.RR8 = await t.token('demo-provider-a');
    tokens.RAE = await t.token('demo-provider-b');
  });
  afterAll(async () => t?.close());

  function call(
    method: string,
    pathname: string,
    body?: unknown,
    options: { ods?: 'RR8' | 'RAE'; headers?: Record<string, string> } = {},
  ): Promise<FhirReply> {
    const ods = options.ods ?? 'RR8';
    return fhirCall(t, method, `${BASE}${pathname}`, { token: tokens[ods] as string, ods, ...options }, body);
  }

  async function create(doc: DocumentReference = pointer(), ods: 'RR8' | 'RAE' = 'RR8'): Promise<string> {
    const res = await call('POST', '/DocumentReference', doc, { ods });
    expect(res.status, res.text).toBe(201);
    return (res.headers.get('location') as string).split('/').pop() as string;
  }

  describe('create (POST /DocumentReference)', () => {
    it('201 RESOURCE_CREATED with NRL Location, ETag and a server id <ODS>-<uuid> (body id ignored)', async () => {
      const res = await call('POST', '/DocumentReference', { ...pointer(), id: 'RR8-client-chosen' });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toMatch(
        /^\/producer\/FHIR\/R4\/DocumentReference\/RR8-[0-9a-f-]{36}$/,
      );
      expect(res.headers.get('etag')).toBe('W/"1"');
      expect(res.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_CREATED');
      expect(res.body.issue?.[0]?.diagnostics).toBe('The document has been created');
    });

    it('reads back as stored with server-set id, meta and date (R10 version 1)', async () => {
      const sent = { ...pointer(), date: '2001-01-01T00:00:00Z' };
      const id = await create(sent);
      const res = await call('GET', `/DocumentReference/${id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe('W/"1"');
      expect(res.body.resourceType).toBe('DocumentReference');
      expect(res.body.id).toBe(id);
      expect((res.body.meta as { versionId?: string }).versionId).toBe('1');
      expect(res.body.date).not.toBe('2001-01-01T00:00:00Z'); // no ALLOW_OVERRIDE_CREATION_DATETIME
      expect(res.body.subject).toEqual(sent.subject);
      expect(res.body.content).toEqual(sent.content);
    });

    it('Prefer: return=representation gives the stored pointer; return=minimal no body', async () => {
      const rep = await call('POST', '/DocumentReference', pointer(), {
        headers: { prefer: 'return=representation' },
      });
      expect(rep.status).toBe(201);
      expect(rep.body.resourceType).toBe('DocumentReference');
      expect(rep.body.id).toBe(rep.headers.get('location')?.split('/').pop());
      const min = await call('POST', '/DocumentReference', pointer(), {
        headers: { prefer: 'return=minimal' },
      });
      expect(min.status).toBe(201);
      expect(min.text).toBe('');
    });

    it('V3: an NHS number failing Modulus 11 is 422, not NRL’s 500 (R12)', async () => {
      const res = await call('POST', '/DocumentReference', pointer('RR8', '1234567890'));
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe('UNPROCESSABLE_ENTITY');
      expect(res.body.issue?.[0]?.expression).toEqual(['subject.identifier.value']);
    });

    it('R1: inline content, contained resources and patient details are refused at any depth', async () => {
      const doc = pointer() as unknown as Record<string, unknown> & DocumentReference;
      const bad = {
        ...doc,
        contained: [{ resourceType: 'Patient' }],
        subject: { ...doc.subject, display: 'Jane Smith' },
        content: [{ ...doc.content[0], attachment: { ...doc.content[0]?.attachment, data: 'JVBERi0=' } }],
      };
      const res = await call('POST', '/DocumentReference', bad);
      expect(res.status).toBe(400);
      const expressions = res.body.issue?.flatMap((i) => i.expression ?? []);
      expect(expressions).toEqual(
        expect.arrayContaining(['contained', 'subject.display', 'content[0].attachment.data']),
      );
      expect(new Set(res.body.issue?.map((i) => i.details?.coding?.[0]?.code))).toEqual(
        new Set(['MESSAGE_NOT_WELL_FORMED']),
      );
    });

    it('not JSON: 400 MESSAGE_NOT_WELL_FORMED at DocumentReference; no body: 400 BAD_REQUEST', async () => {
      const notJson = await call('POST', '/DocumentReference', '{"resourceType":');
      expect(notJson.status).toBe(400);
      expect(errorCode(notJson.body)).toBe('MESSAGE_NOT_WELL_FORMED');
      expect(notJson.body.issue?.[0]?.expression).toEqual(['DocumentReference']);
      const none = await t.fetch(`${BASE}/DocumentReference`, {
        method: 'POST',
        headers: { ...clinicalHeaders(tokens.RR8 as string, 'RR8'), 'content-type': 'application/fhir+json' },
      });
      expect(none.status).toBe(400);
      expect(errorCode(await none.json())).toBe('BAD_REQUEST');
      // No body and no content type is still a missing body (400), not a wrong type (415).
      const bare = await t.fetch(`${BASE}/DocumentReference`, {
        method: 'POST',
        headers: clinicalHeaders(tokens.RR8 as string, 'RR8'),
      });
      expect(bare.status).toBe(400);
      expect(errorCode(await bare.json())).toBe('BAD_REQUEST');
    });

    it('R4: custodian other than the caller is 422 at custodian.identifier.value', async () => {
      const doc = pointer();
      doc.custodian = {
        identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RAE' },
      };
      const res = await call('POST', '/DocumentReference', doc);
      expect(res.status).toBe(422);
      expect(res.body.issue?.[0]?.expression).toEqual(['custodian.identifier.value']);
    });

    it('a pointer too large to index once compressed is 413 PAYLOAD_TOO_LARGE and not stored, never a 500 (migration 0011)', async () => {
      // A B-tree entry holds at most 2,704 bytes and pointer_patient_recent carries the pointer
      // as stored: text that does not compress (here 4 KB of hex) cannot be kept with the
      // patient's other pointers. A 10 KB pointer of ordinary structure compresses and is kept.
      const nhs = freshNhsNumber();
      const random = prng(15);
      const noise = Array.from({ length: 4000 }, () => Math.floor(random() * 36).toString(36)).join('');
      const tooLarge = { ...pointer('RR8', nhs), description: noise };
      const refused = await call('POST', '/DocumentReference', tooLarge);
      expect(refused.status, refused.text).toBe(413);
      expect(errorCode(refused.body)).toBe('PAYLOAD_TOO_LARGE');
      expect(refused.text).not.toMatch(/index row|btree|pointer_p/);
      const own = await call(
        'GET',
        `/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
      );
      expect(own.body.total).toBe(0);
      const many = pointer('RR8', nhs);
      many.content = Array.from({ length: 12 }, (_, i) => ({
        ...(many.content[0] as DocumentReference['content'][number]),
        attachment: {
          ...many.content[0]?.attachment,
          url: `https://pacs.example.nhs.uk/studies/1.2.826.0.1.${i}.${Math.floor(random() * 1e9)}`,
        },
      }));
      expect(JSON.stringify(many).length).toBeGreaterThan(4000);
      await create(many);
    });

    it('R3/R4: a published type outside the caller’s grant is 403 AUTHOR_CREDENTIALS_ERROR', async () => {
      const doc = pointer('RAE');
      doc.type = { coding: [{ system: 'https://nicip.nhs.uk', code: 'MAXIB', display: 'MRI Axilla Both' }] };
      doc.category = [
        {
          coding: [{ system: 'http://snomed.info/sct', code: '103693007', display: 'Diagnostic procedure' }],
        },
      ];
      const res = await call('POST', '/DocumentReference', doc, { ods: 'RAE' });
      expect(res.status).toBe(403);
      expect(errorCode(res.body)).toBe('AUTHOR_CREDENTIALS_ERROR');
      expect(res.body.issue?.[0]?.expression).toEqual(['type.coding[0].code']);
    });
  });

  describe('upsert (PUT /DocumentReference)', () => {
    it('201 under the client id; the same id again is 409 DUPLICATE_REJECTED; another ODS prefix 400', async () => {
      const id = `RR8-upsert-${Date.now()}`;
      const first = await call('PUT', '/DocumentReference', { ...pointer(), id });
      expect(first.status).toBe(201);
      expect(first.headers.get('location')).toBe(`${BASE}/DocumentReference/${id}`);
      const again = await call('PUT', '/DocumentReference', { ...pointer(), id });
      expect(again.status).toBe(409);
      expect(errorCode(again.body)).toBe('DUPLICATE_REJECTED');
      const foreign = await call('PUT', '/DocumentReference', { ...pointer(), id: 'RAE-abc' });
      expect(foreign.status).toBe(400);
      expect(errorCode(foreign.body)).toBe('BAD_REQUEST');
    });

    it('V1: upsert without id is 422 at id', async () => {
      const res = await call('PUT', '/DocumentReference', pointer());
      expect(res.status).toBe(422);
      expect(res.body.issue?.[0]?.expression).toEqual(['id']);
    });
  });

  describe('update (PUT /DocumentReference/{id})', () => {
    it('200 RESOURCE_UPDATED: mutable fields replaced, version 2, date kept (R10)', async () => {
      const id = await create();
      const before = (await call('GET', `/DocumentReference/${id}`)).body;
      const res = await call('PUT', `/DocumentReference/${id}`, {
        ...before,
        docStatus: 'entered-in-error',
        date: '1999-01-01T00:00:00Z',
      });
      expect(res.status).toBe(200);
      expect(res.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_UPDATED');
      expect(res.headers.get('etag')).toBe('W/"2"');
      const after = (await call('GET', `/DocumentReference/${id}`)).body;
      expect(after.docStatus).toBe('entered-in-error');
      expect(after.date).toBe(before.date);
      expect((after.meta as { versionId?: string }).versionId).toBe('2');
    });

    it('refuses in NRL’s order: path ≠ body 400, other organisation 403, unknown 404, immutable 400', async () => {
      const id = await create();
      const stored = (await call('GET', `/DocumentReference/${id}`)).body;
      const mismatch = await call('PUT', `/DocumentReference/${id}`, { ...stored, id: `${id}x` });
      expect([mismatch.status, errorCode(mismatch.body)]).toEqual([400, 'BAD_REQUEST']);
      const foreignId = 'RAE-someone-else';
      const foreign = await call('PUT', `/DocumentReference/${foreignId}`, { ...stored, id: foreignId });
      expect([foreign.status, errorCode(foreign.body)]).toEqual([403, 'AUTHOR_CREDENTIALS_ERROR']);
      const missing = await call('PUT', '/DocumentReference/RR8-missing', { ...stored, id: 'RR8-missing' });
      expect([missing.status, errorCode(missing.body)]).toEqual([404, 'NO_RECORD_FOUND']);
      const moved = await call('PUT', `/DocumentReference/${id}`, {
        ...stored,
        subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: OTHER_NHS } },
      });
      expect([moved.status, errorCode(moved.body), moved.body.issue?.[0]?.expression]).toEqual([
        400,
        'BAD_REQUEST',
        ['subject'],
      ]);
    });

    it('If-Match: the current version updates, a stale one is 412 VERSION_CONFLICT', async () => {
      const id = await create();
      const stored = (await call('GET', `/DocumentReference/${id}`)).body;
      const ok = await call('PUT', `/DocumentReference/${id}`, stored, { headers: { 'if-match': 'W/"1"' } });
      expect(ok.status).toBe(200);
      const stale = await call('PUT', `/DocumentReference/${id}`, stored, {
        headers: { 'if-match': 'W/"1"' },
      });
      expect([stale.status, errorCode(stale.body)]).toEqual([412, 'VERSION_CONFLICT']);
    });
  });

  describe('delete and read', () => {
    it('200 RESOURCE_DELETED, then 404 on read and on a second delete; history keeps every version', async () => {
      const id = await create();
      const res = await call('DELETE', `/DocumentReference/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_DELETED');
      expect((await call('GET', `/DocumentReference/${id}`)).status).toBe(404);
      expect((await call('DELETE', `/DocumentReference/${id}`)).status).toBe(404);
      const history = await call('GET', `/DocumentReference/${id}/_history`);
      expect(history.status).toBe(200);
      const entries = history.body.entry as { request: { method: string }; resource?: unknown }[];
      expect(entries.map((e) => e.request.method)).toEqual(['DELETE', 'POST']);
      expect(entries[0]?.resource).toBeUndefined();
    });

    it('another organisation’s pointer: read, delete and history are 403 AUTHOR_CREDENTIALS_ERROR', async () => {
      const id = await create(pointer('RAE'), 'RAE');
      for (const [method, suffix] of [
        ['GET', ''],
        ['DELETE', ''],
        ['GET', '/_history'],
      ] as const) {
        const res = await call(method, `/DocumentReference/${id}${suffix}`);
        expect([res.status, errorCode(res.body)]).toEqual([403, 'AUTHOR_CREDENTIALS_ERROR']);
      }
      expect((await call('GET', `/DocumentReference/${id}`, undefined, { ods: 'RAE' })).status).toBe(200);
    });

    it('R3 (NRL defect 5 fixed): update and delete re-check the type grant', async () => {
      const id = await create();
      const stored = (await call('GET', `/DocumentReference/${id}`)).body;
      const grant = await t.registry.catalogue.getGrant('RR8', 'producer');
      if (!grant) throw new Error('demo grant missing');
      await t.registry.catalogue.putGrant(
        { ...grant, pointerTypes: grant.pointerTypes.filter((p) => p !== 'https://nicip.nhs.uk|MAULR') },
        'test',
      );
      try {
        const update = await call('PUT', `/DocumentReference/${id}`, stored);
        expect([update.status, errorCode(update.body)]).toEqual([403, 'AUTHOR_CREDENTIALS_ERROR']);
        const del = await call('DELETE', `/DocumentReference/${id}`);
        expect([del.status, errorCode(del.body)]).toEqual([403, 'AUTHOR_CREDENTIALS_ERROR']);
      } finally {
        await t.registry.catalogue.putGrant(grant, 'test');
      }
      expect((await call('GET', `/DocumentReference/${id}`)).status).toBe(200);
    });
  });

  describe('supersede (relatesTo replaces), atomic (R11)', () => {
    const replacing = (target: string, doc = pointer()) => ({
      ...doc,
      relatesTo: [{ code: 'replaces', target: { identifier: { value: target } } }],
    });

    it('201 RESOURCE_SUPERSEDED; the old pointer is then 404 and its history says superseded', async () => {
      const old = await create();
      const res = await call('POST', '/DocumentReference', replacing(old));
      expect(res.status).toBe(201);
      expect(res.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_SUPERSEDED');
      expect((await call('GET', `/DocumentReference/${old}`)).status).toBe(404);
      const history = await call('GET', `/DocumentReference/${old}/_history`);
      expect((history.body.entry as unknown[]).length).toBe(2);
    });

    it.each([
      ['another organisation’s target', 'RAE-x', 'does not include the expected ODS code'],
      ['a target that does not exist', 'RR8-absent', 'does not exist'],
    ])('422 for %s, and nothing is written', async (_name, target, message) => {
      const before = await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: OTHER_NHS });
      const res = await call('POST', '/DocumentReference', replacing(target, pointer('RR8', OTHER_NHS)));
      expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
      expect(res.body.issue?.[0]?.diagnostics).toContain(message);
      expect(res.body.issue?.[0]?.expression).toEqual(['relatesTo[0].target.identifier.value']);
      expect(await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: OTHER_NHS })).toHaveLength(
        before.length,
      );
    });

    it('a target named twice is superseded once (no duplicate history version)', async () => {
      const old = await create();
      const doc = replacing(old);
      doc.relatesTo.push({ code: 'replaces', target: { identifier: { value: old } } });
      const res = await call('POST', '/DocumentReference', doc);
      expect(res.status, res.text).toBe(201);
      const history = await call('GET', `/DocumentReference/${old}/_history`);
      expect((history.body.entry as unknown[]).length).toBe(2);
    });

    it('422 when the target is another patient’s or another type; the target stays', async () => {
      const old = await create();
      const otherPatient = await call(
        'POST',
        '/DocumentReference',
        replacing(old, pointer('RR8', OTHER_NHS)),
      );
      expect(otherPatient.status).toBe(422);
      expect(otherPatient.body.issue?.[0]?.diagnostics).toContain('NHS number does not match');
      const study = pointer();
      study.type = {
        coding: [{ system: 'http://snomed.info/sct', code: '418062002', display: 'MRA upper limb artery' }],
      };
      const otherType = await call('POST', '/DocumentReference', replacing(old, study));
      expect(otherType.status).toBe(422);
      expect(otherType.body.issue?.[0]?.diagnostics).toContain('type does not match');
      expect((await call('GET', `/DocumentReference/${old}`)).status).toBe(200);
    });
  });

  describe('search of own pointers', () => {
    it('GET and POST _search (JSON and form) return only the caller’s pointers for the patient', async () => {
      const nhs = '9785146901';
      const mine = await create(pointer('RR8', nhs));
      await create(pointer('RAE', nhs), 'RAE');
      const subject = `subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`;
      const get = await call('GET', `/DocumentReference?${subject}`);
      expect(get.status).toBe(200);
      expect(get.body.type).toBe('searchset');
      expect(get.body.total).toBe(1);
      expect((get.body.entry as { resource: { id: string } }[])[0]?.resource.id).toBe(mine);
      expect(get.body.link).toBeUndefined();
      const json = await call('POST', '/DocumentReference/_search', {
        'subject:identifier': `https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
      });
      expect(json.body.total).toBe(1);
      const form = await t.fetch(`${BASE}/DocumentReference/_search`, {
        method: 'POST',
        headers: {
          ...clinicalHeaders(tokens.RR8 as string, 'RR8'),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          'patient.identifier': `https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
        }).toString(),
      });
      expect(((await form.json()) as FhirBody).total).toBe(1);
    });

    it('FHIR R4: entries carry an absolute fullUrl and search.mode; type and category take every token form', async () => {
      const nhs = freshNhsNumber();
      const mine = await create(pointer('RR8', nhs));
      const subject = `subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`;
      const get = await call('GET', `/DocumentReference?${subject}`);
      expect(get.body.entry).toEqual([
        expect.objectContaining({
          fullUrl: `${t.url}${BASE}/DocumentReference/${mine}`,
          search: { mode: 'match' },
        }),
      ]);
      const totals: Record<string, number> = {};
      for (const filter of [
        'type=https://nicip.nhs.uk|MAULR',
        'type=MAULR',
        'type=https://nicip.nhs.uk|',
        'type=MAXIB',
        'category=http://snomed.info/sct|721981007',
        'category=721981007',
        'category=http://snomed.info/sct|',
        'category=103693007',
      ]) {
        const res = await call('GET', `/DocumentReference?${subject}&${filter}`);
        expect(res.status, `${filter}: ${JSON.stringify(res.body)}`).toBe(200);
        totals[filter] = res.body.total as number;
      }
      expect(totals).toEqual({
        'type=https://nicip.nhs.uk|MAULR': 1,
        'type=MAULR': 1,
        'type=https://nicip.nhs.uk|': 1,
        'type=MAXIB': 0,
        'category=http://snomed.info/sct|721981007': 1,
        'category=721981007': 1,
        'category=http://snomed.info/sct|': 1,
        'category=103693007': 0,
      });
      // A type the producer grant does not list, in any form, is still refused (R3).
      for (const type of ['http://snomed.info/sct|MAULR', '|MAULR', 'UNKNOWN']) {
        const res = await call('GET', `/DocumentReference?${subject}&type=${encodeURIComponent(type)}`);
        expect([res.status, errorCode(res.body)], type).toEqual([400, 'INVALID_CODE_SYSTEM']);
      }
    });

    it('a missing or invalid subject is 400 INVALID_NHS_NUMBER', async () => {
      for (const query of ['', '?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|1234567890']) {
        const res = await call('GET', `/DocumentReference${query}`);
        expect([res.status, errorCode(res.body)]).toEqual([400, 'INVALID_NHS_NUMBER']);
        expect(res.body.issue?.[0]?.expression).toEqual(['subject:identifier']);
      }
    });
  });

  describe('ITI-65 Provide Document Bundle (POST /), atomic', () => {
    const submissionSet = {
      resourceType: 'List',
      id: 'ss1',
      status: 'current',
      mode: 'working',
      code: {
        coding: [
          { system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' },
        ],
      },
    };
    const bundle = (...docs: unknown[]) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: submissionSet, request: { method: 'POST', url: 'List' } },
        ...docs.map((resource, i) => ({
          fullUrl: `urn:uuid:d${i}`,
          resource,
          request: { method: 'POST', url: 'DocumentReference' },
        })),
      ],
    });

    it('200 transaction-response with one entry per request entry, in order', async () => {
      const nhs = '9995001624';
      const res = await call('POST', '', bundle(pointer('RR8', nhs), pointer('RR8', nhs)));
      expect(res.status, res.text).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      const entries = res.body.entry as { response: { status: string; location?: string } }[];
      expect(entries.map((e) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created']);
      expect(entries[1]?.response.location).toMatch(
        /^\/producer\/FHIR\/R4\/DocumentReference\/RR8-[0-9a-f-]{36}$/,
      );
      expect(await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: nhs })).toHaveLength(2);
    });

    it('one bad entry refuses the whole Bundle, naming the entry; nothing is stored', async () => {
      const nhs = '6700028191';
      const res = await call('POST', '', bundle(pointer('RR8', nhs), pointer('RR8', '1234567890')));
      expect(res.status).toBe(422);
      expect(res.body.issue?.[0]?.expression).toEqual(['Bundle.entry[2].resource.subject.identifier.value']);
      expect(await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: nhs })).toHaveLength(0);
    });

    it('R1/R14: a Binary (document content) is refused with FHIRDocumentNotSupported', async () => {
      const body = bundle(pointer());
      body.entry.push({
        fullUrl: 'urn:uuid:b',
        resource: { resourceType: 'Binary', contentType: 'application/pdf' } as never,
        request: { method: 'POST', url: 'Binary' },
      });
      const res = await call('POST', '', body);
      expect(res.status).toBe(422);
      expect(res.body.issue?.[0]?.diagnostics).toContain('FHIRDocumentNotSupported');
    });
  });

  describe('$validate and the published schema (R13)', () => {
    it('$validate answers without storing', async () => {
      const nhs = '9000000017';
      const ok = await call('POST', '/DocumentReference/$validate', pointer('RR8', nhs));
      expect(ok.status).toBe(200);
      expect(ok.body.issue?.[0]?.code).toBe('informational');
      const bad = await call('POST', '/DocumentReference/$validate', { ...pointer('RR8', nhs), extra: 1 });
      expect(bad.status).toBe(200);
      expect(bad.body.issue?.[0]?.expression).toEqual(['extra']);
      expect(await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: nhs })).toHaveLength(0);
    });

    it('serves the profile and value sets without authentication', async () => {
      const sd = await t.fetch(`${BASE}/StructureDefinition/NIR-DocumentReference`);
      expect(sd.status).toBe(200);
      const definition = (await sd.json()) as { url: string; snapshot: { element: unknown[] } };
      expect(definition.url).toBe('https://fhir.nir.nhs.uk/StructureDefinition/NIR-DocumentReference');
      expect(definition.snapshot.element.length).toBeGreaterThan(50);
      const types = await t.fetch(`${BASE}/ValueSet/NIR-PointerType`);
      expect(types.status).toBe(200);
      expect((await t.fetch(`${BASE}/ValueSet/nope`)).status).toBe(404);
    });

    it('HEAD is 405 as in NRL', async () => {
      expect((await call('HEAD', '/DocumentReference/RR8-x')).status).toBe(405);
    });
  });
});
