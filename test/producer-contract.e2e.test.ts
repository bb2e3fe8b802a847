/**
 * Issue 13, provider side, end to end on both databases: what NRL v3 and IHE MHD clients send
 * works unchanged.
 *
 * 1. `context.practiceSetting` takes any member of England-PracticeSetting with its display
 *    (nrl-behaviour.md §3.2, §4.3 V12; the issue's examples 788007007 and 788002001), and every
 *    value set the profile binds to is served (its canonical URL resolves).
 * 2. References are FHIR References: NRL's supersede target
 *    `{"type": "DocumentReference", "identifier": {"value": "<id>"}}` supersedes, by create and by
 *    ITI-65; what the R4 datatypes allow is accepted; only the profile's deliberate removals (R1)
 *    are refused.
 * 3. ITI-65 (mhd-balp.md §1.2, §1.7): every created entry `201 Created` with a `location` (the
 *    SubmissionSet's too) of the form a create gives; one patient per Bundle, else the whole
 *    Bundle is refused (XDSPatientIdDoesNotMatch) with nothing stored.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import { errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { freshNhsNumber, NHS_NUMBER_SYSTEM, validPointer } from './support/pointers.ts';

const backends = await testBackends();
const BASE = '/producer/FHIR/R4';
const SNOMED = 'http://snomed.info/sct';
const CREATE_LOCATION = /^\/producer\/FHIR\/R4\/DocumentReference\/(RR8-[0-9a-f-]{36})$/;

/** NRL's supersede relation, as NRL's producer examples send it (issue 13, nrl-behaviour.md §2.3). */
function nrlReplaces(targetId: string): DocumentReference['relatesTo'] {
  return [{ code: 'replaces', target: { type: 'DocumentReference', identifier: { value: targetId } } }];
}

/**
 * A SubmissionSet as MHD's Minimal SubmissionSet profile describes it (mhd-balp.md §1.2):
 * code `submissionset`, status current, mode working, the submission time, the source id
 * extension, and the uniqueId and entryUUID identifiers.
 */
function submissionSet(uniqueId: string, subject?: unknown): Record<string, unknown> {
  return {
    resourceType: 'List',
    id: 'ss',
    extension: [
      {
        url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId',
        valueIdentifier: { value: 'urn:oid:1.2.3.4' },
      },
    ],
    identifier: [
      { use: 'usual', system: 'urn:ietf:rfc:3986', value: uniqueId },
      { use: 'official', system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` },
    ],
    status: 'current',
    mode: 'working',
    code: {
      coding: [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }],
    },
    date: '2026-12-02T10:00:00Z',
    ...(subject === undefined ? {} : { subject }),
  };
}

const byNhsNumber = (nhs: string) => ({ identifier: { system: NHS_NUMBER_SYSTEM, value: nhs } });

/** An ITI-65 transaction: the SubmissionSet, the DocumentReference POSTs, then any PATCH entries. */
function provideBundle(
  set: Record<string, unknown>,
  docs: DocumentReference[],
  patches: string[] = [],
): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    meta: { profile: ['https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle'] },
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: set, request: { method: 'POST', url: 'List' } },
      ...docs.map((resource) => ({
        fullUrl: `urn:uuid:${crypto.randomUUID()}`,
        resource,
        request: { method: 'POST', url: 'DocumentReference' },
      })),
      ...patches.map((targetId) => ({
        resource: {
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'operation',
              part: [
                { name: 'type', valueCode: 'replace' },
                { name: 'path', valueString: 'DocumentReference.status' },
                { name: 'value', valueCode: 'superseded' },
              ],
            },
          ],
        },
        request: { method: 'PATCH', url: `DocumentReference/${targetId}` },
      })),
    ],
  };
}

type ResponseEntry = {
  response: { status: string; location?: string; etag?: string; lastModified?: string };
};

describe.each(backends)('provider contract (issue 13) on $name', (backend) => {
  let t: TestRegistry;
  let producerToken: string;
  let auditToken: string;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    producerToken = await t.token('demo-provider-a');
    auditToken = await t.token('demo-audit');
  });
  afterAll(async () => t?.close());

  const call = (method: string, pathname: string, body?: unknown): Promise<FhirReply> =>
    fhirCall(t, method, `${BASE}${pathname}`, { token: producerToken, ods: 'RR8' }, body);

  async function create(doc: DocumentReference): Promise<string> {
    const res = await call('POST', '/DocumentReference', doc);
    expect(res.status, res.text).toBe(201);
    const id = CREATE_LOCATION.exec(res.headers.get('location') ?? '')?.[1];
    if (!id) throw new Error(`unexpected Location ${res.headers.get('location')}`);
    return id;
  }

  const stored = async (nhs: string) =>
    (await t.registry.pointers.searchOwn({ custodian: 'RR8', nhsNumber: nhs })).length;

  describe('1. practice setting: the whole of England-PracticeSetting, displays fixed (V12)', () => {
    it.each([
      ['788007007', 'General practice service'],
      ['788002001', 'Adult mental health service'],
      ['708175003', 'Diagnostic imaging service'],
    ])('an imaging pointer requested from %s %s is created', async (code, display) => {
      const doc = validPointer({ nhsNumber: freshNhsNumber() });
      doc.context = { ...doc.context, practiceSetting: { coding: [{ system: SNOMED, code, display }] } };
      const id = await create(doc);
      const read = await call('GET', `/DocumentReference/${id}`);
      expect((read.body.context as DocumentReference['context'])?.practiceSetting).toEqual(
        doc.context.practiceSetting,
      );
    });

    it('a member with another display is 422 at context.practiceSetting.coding[0], as NRL', async () => {
      const nhs = freshNhsNumber();
      const doc = validPointer({ nhsNumber: nhs });
      doc.context = {
        ...doc.context,
        practiceSetting: { coding: [{ system: SNOMED, code: '788007007', display: 'GP service' }] },
      };
      const res = await call('POST', '/DocumentReference', doc);
      expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
      expect(res.body.issue?.[0]?.expression).toEqual(['context.practiceSetting.coding[0]']);
      expect(await stored(nhs)).toBe(0);
    });

    it('a SNOMED code outside England-PracticeSetting is 422 at its code', async () => {
      const doc = validPointer({ nhsNumber: freshNhsNumber() });
      doc.context = {
        ...doc.context,
        // 77477000 "Computed tomography" is a procedure, not a service.
        practiceSetting: { coding: [{ system: SNOMED, code: '77477000', display: 'Computed tomography' }] },
      };
      const res = await call('POST', '/DocumentReference', doc);
      expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
      expect(res.body.issue?.[0]?.expression).toEqual(['context.practiceSetting.coding[0].code']);
    });

    it('the value set is served, whole and versioned, without authentication', async () => {
      const res = await t.fetch(`${BASE}/ValueSet/NIR-PracticeSetting`);
      expect(res.status).toBe(200);
      const vs = (await res.json()) as {
        version: string;
        compose: { include: { system: string; concept: { code: string; display: string }[] }[] };
      };
      expect(vs.version).toBe('0.3.0');
      const concepts = vs.compose.include.flatMap((i) => i.concept);
      expect(concepts).toHaveLength(466);
      expect(concepts).toContainEqual({ code: '788002001', display: 'Adult mental health service' });
    });

    it('every value set the profile binds to resolves on the server by its canonical URL (R13)', async () => {
      const sd = (await (await t.fetch(`${BASE}/StructureDefinition/NIR-DocumentReference`)).json()) as {
        snapshot: { element: { max?: string; binding?: { valueSet?: string } }[] };
      };
      const bound = [
        ...new Set(
          sd.snapshot.element
            .filter((e) => e.max !== '0' && e.binding?.valueSet?.startsWith('https://fhir.nir.nhs.uk/'))
            .map((e) => e.binding?.valueSet as string),
        ),
      ];
      expect(bound).toContain('https://fhir.nir.nhs.uk/ValueSet/NIR-PracticeSetting');
      for (const url of bound) {
        const res = await t.fetch(`${BASE}/ValueSet?url=${encodeURIComponent(url)}`);
        const bundle = (await res.json()) as { total: number; entry: { resource: { url: string } }[] };
        expect([res.status, bundle.total, bundle.entry[0]?.resource.url], url).toEqual([200, 1, url]);
      }
    });
  });

  describe('2. references are FHIR References; only deliberate removals are refused', () => {
    it("NRL's supersede target {type, identifier} supersedes by create: 201 RESOURCE_SUPERSEDED", async () => {
      const nhs = freshNhsNumber();
      const old = await create(validPointer({ nhsNumber: nhs }));
      const res = await call('POST', '/DocumentReference', {
        ...validPointer({ nhsNumber: nhs }),
        relatesTo: nrlReplaces(old),
      });
      expect(res.status, res.text).toBe(201);
      expect(errorCode(res.body)).toBe('RESOURCE_SUPERSEDED');
      expect((await call('GET', `/DocumentReference/${old}`)).status).toBe(404);
      const id = CREATE_LOCATION.exec(res.headers.get('location') ?? '')?.[1];
      const read = await call('GET', `/DocumentReference/${id}`);
      expect(read.body.relatesTo).toEqual(nrlReplaces(old));
      expect(await stored(nhs)).toBe(1);
    });

    it("NRL's supersede target works in ITI-65 with MHD's superseded PATCH", async () => {
      const nhs = freshNhsNumber();
      const old = await create(validPointer({ nhsNumber: nhs }));
      const doc = { ...validPointer({ nhsNumber: nhs }), relatesTo: nrlReplaces(old) };
      const res = await call('POST', '', provideBundle(submissionSet('urn:oid:1.2.3.4.5.1'), [doc], [old]));
      expect(res.status, res.text).toBe(200);
      const entries = res.body.entry as ResponseEntry[];
      expect(entries.map((e) => e.response.status)).toEqual(['201 Created', '201 Created', '200 OK']);
      expect(entries[2]?.response.location).toBe(`${BASE}/DocumentReference/${old}`);
      expect((await call('GET', `/DocumentReference/${old}`)).status).toBe(404);
      expect(await stored(nhs)).toBe(1);
    });

    it("MHD's replace, a relative reference {reference: 'DocumentReference/<id>'}, supersedes in ITI-65", async () => {
      const nhs = freshNhsNumber();
      const old = await create(validPointer({ nhsNumber: nhs }));
      const doc: DocumentReference = {
        ...validPointer({ nhsNumber: nhs }),
        relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${old}` } }],
      };
      const res = await call('POST', '', provideBundle(submissionSet('urn:oid:1.2.3.4.5.6'), [doc], [old]));
      expect(res.status, res.text).toBe(200);
      expect((await call('GET', `/DocumentReference/${old}`)).status).toBe(404);
      expect(await stored(nhs)).toBe(1);
      // Another organisation's pointer by reference: refused, naming target.reference.
      const foreign = await call('POST', '/DocumentReference', {
        ...validPointer({ nhsNumber: nhs }),
        relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/RAE-1' } }],
      });
      expect([foreign.status, errorCode(foreign.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
      expect(foreign.body.issue?.[0]?.expression).toEqual(['relatesTo[0].target.reference']);
    });

    it('every element R4 gives Reference, Identifier, Coding, CodeableConcept, Attachment, Period is kept', async () => {
      const nhs = freshNhsNumber();
      const doc = validPointer({ nhsNumber: nhs });
      const ods = { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RR8' };
      const sent: DocumentReference = {
        ...doc,
        language: 'en-GB',
        masterIdentifier: {
          use: 'usual',
          type: {
            coding: [
              { system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDIdentifierType', code: 'uniqueId' },
            ],
          },
          system: 'urn:ietf:rfc:3986',
          value: 'urn:oid:1.2.826.0.1.3680043.2.1125.1.42',
          period: { start: '2026-12-01' },
        },
        subject: {
          type: 'Patient',
          identifier: { use: 'official', system: NHS_NUMBER_SYSTEM, value: nhs },
        },
        author: [{ type: 'Organization', identifier: ods, display: 'Example NHS Trust' }],
        custodian: {
          type: 'Organization',
          identifier: { ...ods, assigner: { display: 'NHS England' } },
          display: 'Example NHS Trust',
        },
        type: { ...doc.type, text: 'MRA Upper Limb Rt' },
        category: (doc.category ?? []).map((c) => ({ ...c, text: 'Diagnostic studies report' })),
        content: (doc.content ?? []).map((c) => ({
          ...c,
          attachment: { ...c.attachment, id: 'report', title: 'Report' },
          format: { ...c.format, version: '1' },
        })),
        context: {
          ...doc.context,
          period: { id: 'study', start: '2026-11-30T09:00:00Z' },
          practiceSetting: {
            coding: [
              {
                system: SNOMED,
                version: 'http://snomed.info/sct/83821000000107',
                code: '310125001',
                display: 'Radiology service',
                userSelected: true,
              },
            ],
            text: 'Radiology',
          },
        },
      };
      const id = await create(sent);
      const read = (await call('GET', `/DocumentReference/${id}`)).body as unknown as DocumentReference;
      const { id: _id, meta: _meta, date: _date, resourceType: _rt, ...kept } = read;
      const { resourceType: _srt, date: _sdate, ...expected } = sent; // date is server-set
      expect(kept).toEqual(expected);
    });

    it.each([
      [
        'subject.display',
        {
          subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: '9000000009' }, display: 'Jane Smith' },
        },
      ],
      [
        'context.sourcePatientInfo',
        { sourcePatientInfo: { identifier: { system: NHS_NUMBER_SYSTEM, value: '9000000009' } } },
      ],
      ['authenticator', { authenticator: { display: 'Dr Example' } }],
      ['context.encounter', { encounter: [{ identifier: { value: 'E1' } }] }],
      ['type.coding[0].extension', { typeExtension: true }],
    ])('the deliberate removal %s is 400 MESSAGE_NOT_WELL_FORMED naming it (R1)', async (path, change) => {
      const doc = validPointer({ nhsNumber: freshNhsNumber() }) as DocumentReference &
        Record<string, unknown>;
      if ('subject' in change) doc.subject = change.subject as DocumentReference['subject'];
      if ('authenticator' in change) doc.authenticator = change.authenticator;
      if ('sourcePatientInfo' in change || 'encounter' in change) {
        doc.context = { ...doc.context, ...(change as object) };
      }
      if ('typeExtension' in change) {
        const coding = doc.type?.coding?.[0];
        if (coding) coding.extension = [{ url: 'https://example.org/x', valueString: 'x' }];
      }
      const res = await call('POST', '/DocumentReference', doc);
      expect([res.status, errorCode(res.body)]).toEqual([400, 'MESSAGE_NOT_WELL_FORMED']);
      expect(res.body.issue?.map((i) => i.expression?.[0])).toEqual([path]);
    });

    it('the profile lists its deliberate removals, each element with its reason', async () => {
      const sd = (await (await t.fetch(`${BASE}/StructureDefinition/NIR-DocumentReference`)).json()) as {
        description: string;
        snapshot: { element: { path: string; max?: string; comment?: string }[] };
      };
      for (const path of [
        'subject.display',
        'context.sourcePatientInfo',
        'authenticator',
        'content.attachment.data',
      ]) {
        expect(sd.description).toContain(path);
        const element = sd.snapshot.element.find((e) => e.path === `DocumentReference.${path}`);
        expect(element?.max).toBe('0');
        expect(element?.comment).toMatch(/R1/);
      }
      const targetType = sd.snapshot.element.find(
        (e) => e.path === 'DocumentReference.relatesTo.target.type',
      );
      expect(targetType?.max).not.toBe('0');
    });
  });

  describe('3. ITI-65: 201 and a location for every create; one patient per Bundle', () => {
    it('each entry is 201 Created with a location; a pointer’s is the form a create gives, and reads', async () => {
      const nhs = freshNhsNumber();
      const uniqueId = `urn:oid:1.2.3.4.5.${Date.now()}`;
      const res = await call(
        'POST',
        '',
        provideBundle(submissionSet(uniqueId, byNhsNumber(nhs)), [
          validPointer({ nhsNumber: nhs }),
          validPointer({ nhsNumber: nhs }),
        ]),
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      const entries = res.body.entry as ResponseEntry[];
      expect(entries).toHaveLength(3);
      for (const entry of entries) {
        expect(entry.response.status).toBe('201 Created');
        expect(entry.response.location).toEqual(expect.any(String));
      }
      for (const entry of entries.slice(1)) {
        expect(entry.response.location).toMatch(CREATE_LOCATION);
        const read = await t.fetch(entry.response.location as string, {
          headers: {
            authorization: `Bearer ${producerToken}`,
            'x-request-id': crypto.randomUUID(),
            'nhsd-end-user-organisation-ods': 'RR8',
          },
        });
        expect(read.status).toBe(200);
      }
      // The SubmissionSet's location: the AuditEvent that records it, for RR8's audit readers.
      const setLocation = entries[0]?.response.location as string;
      expect(setLocation).toMatch(/^\/audit\/FHIR\/R4\/AuditEvent\/[0-9a-f-]{36}$/);
      const event = await fhirCall(t, 'GET', setLocation, { token: auditToken, ods: 'RR8' });
      expect(event.status, event.text).toBe(200);
      const entities = (event.body.entity ?? []) as {
        what?: { identifier?: { value?: string } };
        description?: string;
      }[];
      expect(entities.find((e) => e.description === 'SubmissionSet')?.what?.identifier?.value).toBe(uniqueId);
      expect(await stored(nhs)).toBe(2);
    });

    it('a DocumentReference of another patient than the SubmissionSet’s: 422 XDSPatientIdDoesNotMatch, nothing stored', async () => {
      const [nhs, other] = [freshNhsNumber(), freshNhsNumber()];
      const res = await call(
        'POST',
        '',
        provideBundle(submissionSet('urn:oid:1.2.3.4.5.2', byNhsNumber(nhs)), [
          validPointer({ nhsNumber: nhs }),
          validPointer({ nhsNumber: other }),
        ]),
      );
      expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
      expect(res.body.issue).toHaveLength(1);
      expect(res.body.issue?.[0]?.diagnostics).toContain('XDSPatientIdDoesNotMatch');
      expect(res.body.issue?.[0]?.expression).toEqual(['Bundle.entry[2].resource.subject.identifier.value']);
      expect([await stored(nhs), await stored(other)]).toEqual([0, 0]);
    });

    it('without a SubmissionSet subject, DocumentReferences of two patients are refused the same way', async () => {
      const [nhs, other] = [freshNhsNumber(), freshNhsNumber()];
      const res = await call(
        'POST',
        '',
        provideBundle(submissionSet('urn:oid:1.2.3.4.5.3'), [
          validPointer({ nhsNumber: nhs }),
          validPointer({ nhsNumber: other }),
        ]),
      );
      expect(res.status).toBe(422);
      expect(res.body.issue?.[0]?.diagnostics).toContain('XDSPatientIdDoesNotMatch');
      expect(res.body.issue?.[0]?.expression).toEqual(['Bundle.entry[2].resource.subject.identifier.value']);
      expect([await stored(nhs), await stored(other)]).toEqual([0, 0]);
    });

    it('a SubmissionSet subject the registry cannot compare (a literal reference) is 422 naming it', async () => {
      const nhs = freshNhsNumber();
      const res = await call(
        'POST',
        '',
        provideBundle(submissionSet('urn:oid:1.2.3.4.5.4', { reference: 'Patient/ex-patient' }), [
          validPointer({ nhsNumber: nhs }),
        ]),
      );
      expect([res.status, errorCode(res.body)]).toEqual([422, 'UNPROCESSABLE_ENTITY']);
      expect(res.body.issue?.[0]?.expression).toEqual(['Bundle.entry[0].resource.subject']);
      expect(await stored(nhs)).toBe(0);
    });
  });
});
