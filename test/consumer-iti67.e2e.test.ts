/**
 * The ITI-67 search parameters of the consumer API (docs/consumer-api.md, Search parameters;
 * mhd-balp.md §1.4, §7), end to end over HTTP on both databases. Pointers are published through
 * the provider API; RWY's demo consumer searches them. For each parameter: a value that finds
 * exactly the pointers it should (and none of the others, nor any of a type outside the grant),
 * a value that finds nothing (200, total 0), and an invalid value (400 naming the parameter).
 * Token forms, date prefixes and precisions, repeated parameters (AND), commas (OR), and the
 * form-encoded `POST _search` giving what GET gives.
 */
import type { DocumentReference, DocumentReferenceContent } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import { errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import {
  freshNhsNumber,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  type PointerOptions,
  replaces,
  validPointer,
} from './support/pointers.ts';

const backends = await testBackends();
const CONSUMER = '/consumer/FHIR/R4';
const PRODUCER = '/producer/FHIR/R4';
const SCT = 'http://snomed.info/sct';
const NICIP = 'https://nicip.nhs.uk';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const IHE_FORMAT = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode';
const NRL_FORMAT = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode';
const ACCESSION = 'https://pacs.example.nhs.uk/Id/accession-number';
const REPORT_ID = 'https://ris.example.nhs.uk/Id/report';
const RFC3986 = 'urn:ietf:rfc:3986';

/** One search case: the query after the patient (`k=v&…`, unencoded), the names it finds. */
type Case = [string, string];

const unique = () => `${Date.now()}${Math.floor(Math.random() * 1e9)}`;

/** `k=v&…` (unencoded, a key may repeat) → its pairs. */
function pairsOf(query: string): [string, string][] {
  return query
    .split('&')
    .filter((kv) => kv !== '')
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
}

/** Percent-encodes the values, keeping the FHIR separators `| , : /` as clients send them. */
function encoded(query: string): string {
  const keep = (v: string) => encodeURIComponent(v).replace(/%(7C|2C|3A|2F)/g, (m) => decodeURIComponent(m));
  return pairsOf(query)
    .map(([k, v]) => `${k}=${keep(v)}`)
    .join('&');
}

/** The first content of a pointer body. */
function firstContent(doc: DocumentReference): DocumentReferenceContent {
  const [content] = doc.content;
  if (!content) throw new Error('validPointer has no content');
  return content;
}

/** What a seeded pointer differs in from the published example. */
interface Seed extends PointerOptions {
  master?: boolean;
  identifier?: DocumentReference['identifier'];
  securityLabel?: DocumentReference['securityLabel'];
  context?: Partial<NonNullable<DocumentReference['context']>>;
  content?: (base: DocumentReferenceContent) => DocumentReferenceContent[];
}

/** A valid pointer body for the patient: no period, no related, a fresh master identifier. */
function seedBody(seed: Seed): DocumentReference {
  const base = validPointer(seed);
  const { masterIdentifier: _m, context: baseContext, ...rest } = base;
  const { period: _p, related: _r, ...context } = baseContext ?? {};
  return {
    ...rest,
    ...(seed.master === false
      ? {}
      : { masterIdentifier: { system: RFC3986, value: `urn:oid:2.25.${unique()}` } }),
    ...(seed.identifier ? { identifier: seed.identifier } : {}),
    ...(seed.securityLabel ? { securityLabel: seed.securityLabel } : {}),
    content: seed.content ? seed.content(firstContent(base)) : base.content,
    context: { ...context, ...seed.context },
  };
}

const setting = (code: string, display: string) => ({ coding: [{ system: SCT, code, display }] });
const ods = (...codes: string[]) => codes.map((c) => `${ODS_SYSTEM}|${c}`).join(',');

describe.each(backends)('consumer ITI-67 search parameters on $name', (backend) => {
  let t: TestRegistry;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), { env: { NIR_ACCESS_TOKEN_TTL: '3600' } });
    tokens.RR8 = await t.token('demo-provider-a');
    tokens.RAE = await t.token('demo-provider-b');
    tokens.RWY = await t.token('demo-consumer');
  });
  afterAll(async () => t?.close());

  /** Publishes a pointer through the provider API; returns it as stored. */
  async function publish(body: DocumentReference, custodian = 'RR8'): Promise<DocumentReference> {
    const caller = {
      token: tokens[custodian] ?? '',
      ods: custodian,
      headers: { prefer: 'return=representation' },
    };
    const reply = await fhirCall(t, 'POST', `${PRODUCER}/DocumentReference`, caller, body);
    expect(reply.status, reply.text).toBe(201);
    return reply.body as unknown as DocumentReference;
  }

  const seed = (nhs: string, s: Seed = {}) => publish(seedBody({ nhsNumber: nhs, ...s }), s.custodian);
  const consumer = (headers: Record<string, string> = {}) => ({
    token: tokens.RWY ?? '',
    ods: 'RWY',
    headers,
  });
  const patient = (nhs: string) => `subject:identifier=${NHS_NUMBER_SYSTEM}|${nhs}`;
  const withPatient = (nhs: string, query: string) => (query ? `${patient(nhs)}&${query}` : patient(nhs));

  /** GET search as RWY for the patient with `query`. */
  function search(nhs: string, query: string): Promise<FhirReply> {
    return fhirCall(
      t,
      'GET',
      `${CONSUMER}/DocumentReference?${encoded(withPatient(nhs, query))}`,
      consumer(),
    );
  }

  /** POST _search as RWY: `body` form-encoded, `inQuery` in the query string. */
  function postSearch(body: string, inQuery = ''): Promise<FhirReply> {
    const path = `${CONSUMER}/DocumentReference/_search${inQuery ? `?${encoded(inQuery)}` : ''}`;
    const form = new URLSearchParams(pairsOf(body)).toString();
    return fhirCall(t, 'POST', path, consumer({ 'content-type': 'application/x-www-form-urlencoded' }), form);
  }

  /** The sorted ids a 200 searchset holds, checking that `total` counts exactly them. */
  function idsOf(reply: FhirReply, context: string): string[] {
    expect(reply.status, `${context}: ${reply.text.slice(0, 600)}`).toBe(200);
    expect(reply.body.resourceType, context).toBe('Bundle');
    expect(reply.body.type, context).toBe('searchset');
    const ids = (reply.body.entry ?? []).map((e) => e.resource?.id ?? '');
    expect(reply.body.total, context).toBe(ids.length);
    return ids.sort();
  }

  const found = async (nhs: string, query: string) => idsOf(await search(nhs, query), query);

  /** 400 with the registry code, the parameter as the expression. */
  async function expectRefused(nhs: string, query: string, param: string, code = 'INVALID_PARAMETER') {
    const reply = await search(nhs, query);
    expect(reply.status, `${query}: ${reply.text}`).toBe(400);
    expect(errorCode(reply.body), query).toBe(code);
    expect(reply.body.issue?.[0]?.expression, query).toEqual([param]);
    return reply;
  }

  /** Space-separated names → sorted ids. */
  const idsFor = (ids: Record<string, string>, names: string | string[]) =>
    (typeof names === 'string' ? names.split(' ').filter(Boolean) : names)
      .map((n) => ids[n] ?? `?${n}`)
      .sort();

  describe('token parameters: setting, facility, event, format, security-label, identifier, related, _id', () => {
    const nhs = freshNhsNumber();
    const ids: Record<string, string> = {};
    const sr1 = `ServiceRequest/sr-${unique()}`;
    const acc1 = `RR8.${unique()}`;
    const acc2 = `RR8.${unique()}`;
    const report1 = `REP-${unique()}`;
    let master1 = '';
    let master2 = '';
    const t1Context = {
      practiceSetting: setting('310125001', 'Radiology service'),
      facilityType: { coding: [{ system: SCT, code: '22232009', display: 'Hospital' }] },
      event: [{ coding: [{ system: DCM, code: 'MR', display: 'Magnetic Resonance' }] }],
      related: [{ identifier: { system: ACCESSION, value: acc1 } }, { reference: sr1 }],
    };
    const t1: Seed = {
      identifier: [{ system: REPORT_ID, value: report1 }],
      securityLabel: [{ coding: [{ system: CONFIDENTIALITY, code: 'N', display: 'normal' }] }],
      context: t1Context,
    };

    beforeAll(async () => {
      const p1 = await seed(nhs, t1);
      const p2 = await seed(nhs, {
        securityLabel: [{ coding: [{ system: CONFIDENTIALITY, code: 'R', display: 'restricted' }] }],
        content: (base) => [
          {
            ...base,
            attachment: { ...base.attachment, contentType: 'application/dicom+json' },
            format: {
              system: IHE_FORMAT,
              code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient',
              display: 'mimeType Sufficient',
            },
          },
        ],
        context: {
          practiceSetting: setting('310127009', 'Magnetic resonance imaging service'),
          facilityType: {
            coding: [{ system: SCT, code: '264358009', display: 'General practice premises' }],
          },
          event: [
            { coding: [{ system: DCM, code: 'CT', display: 'Computed Tomography' }] },
            { coding: [{ code: 'LOCAL-EVT' }] },
          ],
          related: [{ identifier: { system: ACCESSION, value: acc2 } }],
        },
      });
      const p3 = await seed(nhs, {
        type: 'http://snomed.info/sct|418062002',
        master: false,
        content: (base) => [
          {
            ...base,
            format: { system: NRL_FORMAT, code: 'urn:nhs-ic:unstructured', display: 'Unstructured Document' },
          },
        ],
        context: { practiceSetting: setting('310128004', 'Computerized tomography service') },
      });
      // Of a type RWY's grant does not list: matches T1's every token, yet is never found.
      const hidden = await seed(nhs, { ...t1, type: 'https://nicip.nhs.uk|MAXIB' });
      Object.assign(ids, { T1: p1.id, T2: p2.id, T3: p3.id, hidden: hidden.id });
      master1 = p1.masterIdentifier?.value ?? '';
      master2 = p2.masterIdentifier?.value ?? '';
    });

    const cases: Case[] = [
      ['', 'T1 T2 T3'],
      // Token forms: system|code, code, system|, |code; comma = OR; repeated = AND.
      [`setting=${SCT}|310125001`, 'T1'],
      ['setting=310127009', 'T2'],
      [`setting=${SCT}|`, 'T1 T2 T3'],
      ['setting=|310125001', ''],
      ['setting=http://loinc.org|310125001', ''],
      [`setting=${SCT}|310125001,${SCT}|310128004`, 'T1 T3'],
      [`setting=${SCT}|310125001&setting=${SCT}|310128004`, ''],
      [`setting=${SCT}|708175003`, ''],
      [`facility=${SCT}|22232009`, 'T1'],
      ['facility=264358009', 'T2'],
      [`facility=${SCT}|1234567`, ''],
      [`event=${DCM}|MR`, 'T1'],
      [`event=${DCM}|`, 'T1 T2'],
      ['event=|LOCAL-EVT', 'T2'],
      ['event=|MR', ''],
      [`event=${DCM}|US`, ''],
      [`format=${NRL_FORMAT}|urn:nhs-ic:unstructured`, 'T3'],
      ['format=urn:ihe:rad:PDF', 'T1'],
      [`format=${IHE_FORMAT}|`, 'T1 T2'],
      [`format=${IHE_FORMAT}|urn:ihe:rad:TEXT`, ''],
      [`security-label=${CONFIDENTIALITY}|N`, 'T1'],
      ['security-label=R', 'T2'],
      [`security-label=${CONFIDENTIALITY}|V`, ''],
      [`identifier=${REPORT_ID}|${report1}`, 'T1'],
      [`identifier=${RFC3986}|urn:oid:1.2.3.999`, ''],
      [`related=${sr1}`, 'T1'],
      ['related=ServiceRequest/none', ''],
      [`related:identifier=${ACCESSION}|${acc1}`, 'T1'],
      [`related:identifier=${acc2}`, 'T2'],
      [`related:identifier=${ACCESSION}|${acc1},${ACCESSION}|${acc2}`, 'T1 T2'],
      [`related:identifier=${ACCESSION}|RR8.000`, ''],
      [`format=${IHE_FORMAT}|&security-label=${CONFIDENTIALITY}|R`, 'T2'],
      // NRL's type and category take every FHIR token form too (issue 13 point 4), within the
      // grant: MAXIB (the hidden pointer's type) is not RWY's, so `nicip|` finds T1 and T2 only.
      [`type=${NICIP}|MAULR`, 'T1 T2'],
      ['type=MAULR', 'T1 T2'],
      [`type=${NICIP}|`, 'T1 T2'],
      ['type=418062002', 'T3'],
      ['type=MAULR,418062002', 'T1 T2 T3'],
      [`category=${SCT}|721981007`, 'T1 T2 T3'],
      ['category=721981007', 'T1 T2 T3'],
      [`category=${SCT}|`, 'T1 T2 T3'],
      ['category=103693007', ''],
    ];

    it.each(cases)('%s → %s (never the pointer outside the grant)', async (query, want) => {
      expect(await found(nhs, query)).toEqual(idsFor(ids, want));
    });

    it('type and category token forms the grant or the value set cannot match: 400 INVALID_CODE_SYSTEM (R3)', async () => {
      for (const type of ['MAXIB', `${NICIP}|MAXIB`, `${DCM}|`, '|MAULR']) {
        await expectRefused(nhs, `type=${type}`, 'type', 'INVALID_CODE_SYSTEM');
      }
      await expectRefused(nhs, 'category=|721981007', 'category', 'INVALID_CODE_SYSTEM');
      await expectRefused(nhs, 'type=a|b|c', 'type');
    });

    it('no match: 200, total 0, entry []', async () => {
      const reply = await search(nhs, `setting=${SCT}|708175003`);
      expect(reply.status).toBe(200);
      expect(reply.body.total).toBe(0);
      expect(reply.body.entry).toEqual([]);
    });

    it('identifier matches masterIdentifier (system|value, value only, comma = OR)', async () => {
      expect(await found(nhs, `identifier=${RFC3986}|${master1}`)).toEqual(idsFor(ids, 'T1'));
      expect(await found(nhs, `identifier=${master2}`)).toEqual(idsFor(ids, 'T2'));
      expect(await found(nhs, `identifier=${RFC3986}|${master1},${RFC3986}|${master2}`)).toEqual(
        idsFor(ids, 'T1 T2'),
      );
    });

    it('_id: one, comma = any; of a type outside the grant, unknown, or another patient → none', async () => {
      expect(await found(nhs, `_id=${ids.T1}`)).toEqual(idsFor(ids, 'T1'));
      expect(await found(nhs, `_id=${ids.T1},${ids.T3}`)).toEqual(idsFor(ids, 'T1 T3'));
      expect(await found(nhs, `_id=${ids.hidden}`)).toEqual([]);
      expect(await found(nhs, '_id=RR8-00000000-0000-4000-8000-000000000000')).toEqual([]);
      expect(await found(freshNhsNumber(), `_id=${ids.T1}`)).toEqual([]);
    });

    it('POST _search (form) gives what GET gives; query string and body are merged', async () => {
      for (const query of [
        `setting=${SCT}|310125001,${SCT}|310128004`,
        `related:identifier=${ACCESSION}|${acc2}`,
        `event=${DCM}|&security-label=${CONFIDENTIALITY}|N`,
      ]) {
        const get = await found(nhs, query);
        expect(get.length, query).toBeGreaterThan(0);
        expect(idsOf(await postSearch(withPatient(nhs, query)), `POST ${query}`)).toEqual(get);
        expect(idsOf(await postSearch(query, patient(nhs)), `POST+query ${query}`)).toEqual(get);
      }
    });
  });

  describe('date parameters: creation, period, date, _lastUpdated', () => {
    const nhs = freshNhsNumber();
    const ids: Record<string, string> = {};
    /** The pointers as the consumer reads them, by name, after D1's update. */
    const stored: Record<string, DocumentReference> = {};
    const withCreation =
      (...creations: string[]) =>
      (base: DocumentReferenceContent): DocumentReferenceContent[] =>
        creations.map((creation, i) => ({
          ...base,
          attachment: { ...base.attachment, url: `${base.attachment.url}-${i}`, creation },
        }));

    beforeAll(async () => {
      const d1 = await seed(nhs, {
        content: withCreation('2024-12-31T23:59:59Z'),
        context: { period: { start: '2025-01-10T08:00:00Z', end: '2025-01-10T09:00:00Z' } },
      });
      const d2 = await seed(nhs, {
        content: withCreation('2025-03-15T10:00:00Z'),
        context: { period: { start: '2025-02-27T23:00:00Z', end: '2025-03-02T01:00:00Z' } },
      });
      const d3 = await seed(nhs, {
        content: withCreation('2025-11-20T09:58:00Z'),
        context: { period: { start: '2025-06-01T00:00:00Z' } },
      });
      // Two attachments (creation matches any); no service period at all.
      const d4 = await seed(nhs, { content: withCreation('2026-01-01T00:00:00Z', '2025-07-04T12:00:00Z') });
      // D1 is updated last: its meta.lastUpdated is the newest, its date the oldest.
      const rr8 = { token: tokens.RR8 ?? '', ods: 'RR8' };
      const put = await fhirCall(t, 'PUT', `${PRODUCER}/DocumentReference/${d1.id}`, rr8, {
        ...d1,
        description: 'amended',
      });
      expect(put.status, put.text).toBe(200);
      Object.assign(ids, { D1: d1.id, D2: d2.id, D3: d3.id, D4: d4.id });
      for (const entry of (await search(nhs, '')).body.entry ?? []) {
        const name = Object.keys(ids).find((n) => ids[n] === entry.resource?.id);
        if (name) stored[name] = entry.resource as DocumentReference;
      }
      expect(Object.keys(stored).sort()).toEqual(['D1', 'D2', 'D3', 'D4']);
    });

    const creationCases: Case[] = [
      // Partial precision: the value's range is the whole year, month or day.
      ['creation=2025', 'D2 D3 D4'],
      ['creation=2025-11', 'D3'],
      ['creation=2025-07', 'D4'],
      ['creation=2025-03-15', 'D2'],
      ['creation=eq2025-03-15T10:00:00Z', 'D2'],
      ['creation=2025-03-15T10:00:00Z', 'D2'],
      ['creation=2025-03-15T11:00:00+01:00', 'D2'],
      ['creation=2025-03-15T10:00:00', 'D2'],
      ['creation=2025-03-15T10:00:01Z', ''],
      // Every prefix at an exact stored instant.
      ['creation=ne2025-03-15T10:00:00Z', 'D1 D3 D4'],
      ['creation=gt2025-03-15T10:00:00Z', 'D3 D4'],
      ['creation=ge2025-03-15T10:00:00Z', 'D2 D3 D4'],
      ['creation=lt2025-03-15T10:00:00Z', 'D1'],
      ['creation=le2025-03-15T10:00:00Z', 'D1 D2'],
      ['creation=sa2025-03-15T10:00:00Z', 'D3 D4'],
      ['creation=eb2025-03-15T10:00:00Z', 'D1'],
      ['creation=le2024-12-31T23:59:59Z', 'D1'],
      ['creation=lt2024-12-31T23:59:59Z', ''],
      ['creation=lt2025', 'D1'],
      ['creation=gt2025', 'D4'],
      ['creation=ge2026', 'D4'],
      ['creation=sa2025', 'D4'],
      ['creation=eb2025', 'D1'],
      ['creation=ge2025-01-01&creation=lt2025-11-01', 'D2 D4'],
      ['creation=2024,2026', 'D1 D4'],
      ['creation=2023', ''],
    ];
    it.each(creationCases)('%s → %s', async (query, want) => {
      expect(await found(nhs, query)).toEqual(idsFor(ids, want));
    });

    // period: the service period overlaps the value's range; an open end is unbounded.
    const periodCases: Case[] = [
      ['period=2025-03', 'D2'],
      ['period=2025-02', 'D2'],
      ['period=2025-01-10', 'D1'],
      ['period=2025-12', 'D3'],
      ['period=2030', 'D3'],
      ['period=ge2025-03-01', 'D2 D3'],
      ['period=lt2025-03-01', 'D1 D2'],
      ['period=gt2025-03-02T01:00:00Z', 'D3'],
      ['period=ge2025-03-02T01:00:00Z', 'D2 D3'],
      ['period=lt2025-01-10T08:00:00Z', ''],
      ['period=le2025-01-10T08:00:00Z', 'D1'],
      ['period=sa2025-03-02T01:00:00Z', 'D3'],
      ['period=eb2025-02-27T23:00:00Z', 'D1'],
      ['period=eb2025-06-01', 'D1 D2'],
      ['period=ge2025-01-11&period=lt2025-05-01', 'D2'],
      ['period=2025-01-10,2025-03-01', 'D1 D2'],
      ['period=2024', ''],
    ];
    it.each(periodCases)('%s → %s', async (query, want) => {
      expect(await found(nhs, query)).toEqual(idsFor(ids, want));
    });

    /** The ids whose instant (read by `at`) satisfies `keep`. */
    function where(
      at: (p: DocumentReference) => string | undefined,
      keep: (ms: number) => boolean,
    ): string[] {
      const names = Object.keys(stored).filter((n) => {
        const value = stored[n] ? at(stored[n]) : undefined;
        return value !== undefined && keep(Date.parse(value));
      });
      return idsFor(ids, names);
    }

    for (const [param, at] of [
      ['date', (p: DocumentReference) => p.date],
      ['_lastUpdated', (p: DocumentReference) => p.meta?.lastUpdated],
    ] as const) {
      it(`${param}: every prefix at the exact stored instants, partial precision, AND, OR, none`, async () => {
        const sorted = Object.values(stored)
          .map((p) => at(p) ?? '')
          .sort((a, b) => Date.parse(a) - Date.parse(b));
        const [first = '', middle = '', , last = ''] = sorted;
        const m = Date.parse(middle);
        const all = where(at, () => true);
        expect(all).toHaveLength(4);
        const expectations: [string, string[]][] = [
          [middle, where(at, (x) => x === m)],
          [`ne${middle}`, where(at, (x) => x !== m)],
          [`gt${middle}`, where(at, (x) => x > m)],
          [`ge${middle}`, where(at, (x) => x >= m)],
          [`lt${middle}`, where(at, (x) => x < m)],
          [`le${middle}`, where(at, (x) => x <= m)],
          [`sa${middle}`, where(at, (x) => x > m)],
          [`eb${middle}`, where(at, (x) => x < m)],
          [`gt${last}`, []],
          [`lt${first}`, []],
          [`ge${middle}&${param}=lt${last}`, where(at, (x) => x >= m && x < Date.parse(last))],
          [first.slice(0, 4), all],
          [first.slice(0, 7), all],
          ['2020', []],
        ];
        for (const [value, want] of expectations) {
          expect(await found(nhs, `${param}=${value}`), `${param}=${value}`).toEqual(want);
        }
      });
    }

    it('date and _lastUpdated: comma = OR', async () => {
      for (const param of ['date', '_lastUpdated']) {
        const year = (stored.D1?.date ?? '').slice(0, 4);
        expect(await found(nhs, `${param}=2020,${year}`), param).toEqual(idsFor(ids, 'D1 D2 D3 D4'));
      }
    });

    it('date and _lastUpdated are different elements: D1 was made first and written last', async () => {
      const d1 = stored.D1 as DocumentReference;
      expect(await found(nhs, `date=le${d1.date}`)).toContain(ids.D1);
      expect(await found(nhs, `_lastUpdated=ge${d1.meta?.lastUpdated}`)).toEqual(idsFor(ids, 'D1'));
      expect(await found(nhs, `date=ge${d1.meta?.lastUpdated}`)).toEqual([]);
    });

    it('POST _search (form) gives what GET gives, repeated keys included', async () => {
      for (const query of [
        'creation=ge2025-01-01&creation=lt2025-11-01',
        'period=ge2025-03-01',
        'creation=2025-03-15T11:00:00+01:00',
      ]) {
        const get = await found(nhs, query);
        expect(get.length, query).toBeGreaterThan(0);
        expect(idsOf(await postSearch(withPatient(nhs, query)), `POST ${query}`)).toEqual(get);
      }
    });
  });

  describe('status', () => {
    const nhs = freshNhsNumber();
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const old = await seed(nhs);
      const replacement = await publish({
        ...seedBody({ nhsNumber: nhs }),
        relatesTo: replaces(old.id ?? ''),
      });
      const other = await seed(nhs, { type: 'http://snomed.info/sct|418062002' });
      Object.assign(ids, { old: old.id, replacement: replacement.id, other: other.id });
    });

    it.each([
      ['status=current', 'replacement other'],
      ['', 'replacement other'],
      ['status=superseded', ''],
      ['status=entered-in-error', ''],
      ['status=superseded,current', 'replacement other'],
      [`status=current&type=${SCT}|418062002`, 'other'],
    ] as Case[])('%s → %s (never the superseded pointer)', async (query, want) => {
      expect(await found(nhs, query)).toEqual(idsFor(ids, want));
    });
  });

  describe('type, category, custodian:identifier, exclude-custodian', () => {
    const nhs = freshNhsNumber();
    const onlyMaulr = freshNhsNumber();
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const a = await seed(nhs);
      const b = await seed(nhs, { type: 'http://snomed.info/sct|418062002' });
      const c = await seed(nhs, { type: 'https://nicip.nhs.uk|MAXIB' });
      const d = await seed(nhs, { custodian: 'RAE' });
      const e = await seed(nhs, { custodian: 'RAE', type: 'http://snomed.info/sct|418062002' });
      await seed(onlyMaulr);
      Object.assign(ids, { a: a.id, b: b.id, c: c.id, d: d.id, e: e.id });
    });

    it.each([
      ['', 'a b d e'],
      [`type=${NICIP}|MAULR`, 'a d'],
      [`type=${NICIP}|MAULR,${SCT}|418062002`, 'a b d e'],
      [`type=${NICIP}|MAULR&type=${SCT}|418062002`, ''],
      [`type=${NICIP}|MAULR&type=${NICIP}|MAULR,${SCT}|418062002`, 'a d'],
      [`category=${SCT}|721981007&category=${SCT}|721981007,${SCT}|4201000179104`, 'a b d e'],
      [`custodian:identifier=${ods('RR8')}&custodian:identifier=${ods('RAE')}`, ''],
      [`custodian:identifier=${ods('RR8', 'RAE')}&custodian:identifier=${ods('RAE')}`, 'd e'],
      [`exclude-custodian=${ods('RR8')}&exclude-custodian=${ods('RAE')}`, ''],
      [`category=${SCT}|721981007`, 'a b d e'],
      [`category=${SCT}|103693007`, ''],
      [`category=${SCT}|4201000179104`, ''],
      [`custodian:identifier=${ods('RAE')}`, 'd e'],
      [`custodian:identifier=${ods('RR8', 'RAE')}`, 'a b d e'],
      [`custodian:identifier=${ods('RWY')}`, ''],
      [`exclude-custodian=${ods('RR8')}`, 'd e'],
      [`exclude-custodian=${ods('RR8', 'RAE')}`, ''],
      [`exclude-custodian=${ods('RWY')}`, 'a b d e'],
      [`custodian:identifier=${ods('RR8', 'RAE')}&exclude-custodian=${ods('RAE')}`, 'a b'],
      [`custodian:identifier=${ods('RAE')}&type=${SCT}|418062002`, 'e'],
    ] as Case[])('%s → %s (never c, outside the grant)', async (query, want) => {
      expect(await found(nhs, query)).toEqual(idsFor(ids, want));
    });

    it('type: a granted type the patient has no pointer of → total 0', async () => {
      expect(await found(onlyMaulr, `type=${SCT}|418062002`)).toEqual([]);
      expect(await found(onlyMaulr, `type=${NICIP}|MAULR`)).toHaveLength(1);
    });

    it('type outside the grant (system and code compared): 400 INVALID_CODE_SYSTEM code-invalid', async () => {
      for (const value of [`${NICIP}|MAXIB`, `${SCT}|MAULR`, `${NICIP}|418062002`]) {
        const reply = await expectRefused(nhs, `type=${value}`, 'type', 'INVALID_CODE_SYSTEM');
        expect(reply.body.issue?.[0]?.code).toBe('code-invalid');
      }
    });

    it('_summary=count honours the category and custodian filters', async () => {
      const reply = await search(
        nhs,
        `custodian:identifier=${ods('RAE')}&category=${SCT}|721981007&_summary=count`,
      );
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.total).toBe(2);
      expect('entry' in reply.body).toBe(false);
    });

    it('POST _search (form) gives what GET gives, the patient in the query string', async () => {
      for (const query of [
        `custodian:identifier=${ods('RAE')}&type=${SCT}|418062002`,
        `exclude-custodian=${ods('RR8')}`,
        `category=${SCT}|721981007`,
      ]) {
        const get = await found(nhs, query);
        expect(idsOf(await postSearch(query, patient(nhs)), `POST ${query}`)).toEqual(get);
      }
    });
  });

  describe('invalid values: 400 naming the parameter', () => {
    const nhs = freshNhsNumber();

    it.each([
      ['custodian:identifier', 'http://example.org/ods|RR8', 'INVALID_PARAMETER'],
      ['exclude-custodian', 'http://example.org/ods|RR8', 'INVALID_PARAMETER'],
      ['type', 'a|b|c', 'INVALID_PARAMETER'],
      ['category', `${SCT}|1234567`, 'INVALID_CODE_SYSTEM'],
      ['status', 'final', 'INVALID_PARAMETER'],
      ['date', 'yesterday', 'INVALID_PARAMETER'],
      ['date', '2026-13', 'INVALID_PARAMETER'],
      ['creation', 'xx2025-01-01', 'INVALID_PARAMETER'],
      ['creation', '2025-02-30', 'INVALID_PARAMETER'],
      ['period', 'ge2025-1-1', 'INVALID_PARAMETER'],
      ['period', 'ap', 'INVALID_PARAMETER'],
      ['_lastUpdated', '2025-03-15T25:00:00Z', 'INVALID_PARAMETER'],
      ['setting', '', 'INVALID_PARAMETER'],
      ['facility', '', 'INVALID_PARAMETER'],
      ['event', '', 'INVALID_PARAMETER'],
      ['format', '', 'INVALID_PARAMETER'],
      ['security-label', '', 'INVALID_PARAMETER'],
      ['identifier', '', 'INVALID_PARAMETER'],
      ['related', '', 'INVALID_PARAMETER'],
      ['related:identifier', '', 'INVALID_PARAMETER'],
      ['_id', '', 'INVALID_PARAMETER'],
    ])('%s=%s → 400 %s', async (param, value, code) => {
      await expectRefused(nhs, `${param}=${value}`, param, code);
    });

    it('the first fault in the table’s order is reported', async () => {
      await expectRefused(nhs, 'status=final&type=a|b|c', 'type');
      await expectRefused(nhs, 'period=2025-13&date=2025-13', 'date');
      await expectRefused(nhs, '_id=&setting=', 'setting');
    });

    it('the form-encoded POST _search refuses them the same way', async () => {
      for (const [param, value] of [
        ['period', '2025-02-30'],
        ['setting', ''],
        ['custodian:identifier', 'http://example.org/ods|RR8'],
      ]) {
        const reply = await postSearch(withPatient(nhs, `${param}=${value}`));
        expect(reply.status, reply.text).toBe(400);
        expect(errorCode(reply.body)).toBe('INVALID_PARAMETER');
        expect(reply.body.issue?.[0]?.expression).toEqual([param]);
      }
    });
  });
});
