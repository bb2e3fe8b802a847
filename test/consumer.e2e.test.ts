/**
 * The consumer API end to end over HTTP, on both databases (docs/consumer-api.md): NRL v3
 * consumer search, count and read (nrl-behaviour.md §1.4, §1.5, §2.2) as RWY, the demo consumer
 * granted only NICIP MAULR and SNOMED 418062002 (R3), with the registry's documented differences
 * (§8: paging, the cap, type compared by system and code, count honours every filter). Pointers
 * are seeded through the provider API by RR8 and RAE; each group uses fresh NHS numbers.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { demoUserClaims } from '@nir/cli';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirBody, type FhirReply, fhirCall } from './support/fhir-call.ts';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import {
  freshNhsNumber,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  type PointerType,
  replaces,
  validPointer,
} from './support/pointers.ts';

const backends = await testBackends();
const CONSUMER = '/consumer/FHIR/R4';
const PRODUCER = '/producer/FHIR/R4';
const ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode';
const MAULR: PointerType = 'https://nicip.nhs.uk|MAULR';
const SCT: PointerType = 'http://snomed.info/sct|418062002';
const MAXIB: PointerType = 'https://nicip.nhs.uk|MAXIB'; // published by RR8, never granted to RWY
const REPORT = 'http://snomed.info/sct|721981007'; // category of MAULR and 418062002
const PROCEDURE = 'http://snomed.info/sct|103693007'; // category of MAXIB only
const BAD_NHS = '1234567890'; // fails Modulus 11 (nrl-behaviour.md §4.1)
const ENV = { NIR_ACCESS_TOKEN_TTL: '3600' };

const subject = (nhs: string) => `subject:identifier=${NHS_NUMBER_SYSTEM}|${nhs}`;
const custodian = (...ods: string[]) => ods.map((o) => `${ODS_SYSTEM}|${o}`).join(',');

type Link = { relation?: string; url?: string };
type Outcome = { resourceType?: string; issue?: { severity?: string; code?: string }[] };
type Entry = { fullUrl?: string; resource?: DocumentReference & Outcome; search?: { mode?: string } };
type Issue = NonNullable<FhirBody['issue']>[number] & {
  severity?: string;
  details?: { coding?: { system?: string }[] };
};
const linksOf = (body: FhirBody) => (body.link ?? []) as Link[];
const entriesOf = (body: FhirBody) => (body.entry ?? []) as Entry[];
const nextOf = (body: FhirBody) => linksOf(body).find((l) => l.relation === 'next')?.url;
const pointerEntries = (body: FhirBody) =>
  entriesOf(body).filter((e) => e.resource?.resourceType === 'DocumentReference');
const idsOf = (body: FhirBody) => pointerEntries(body).map((e) => e.resource?.id ?? '');
const sorted = (ids: string[]) => [...ids].sort();

/** Asserts an NRL error OperationOutcome (nrl-behaviour.md §1.6, §1.7; one error system, §8). */
function expectError(
  reply: FhirReply,
  status: number,
  code: string,
  expected: { issue?: string; expression?: string; diagnostics?: string } = {},
): void {
  const context = `${status} ${code}: got ${reply.status} ${reply.text.slice(0, 600)}`;
  expect(reply.status, context).toBe(status);
  expect(reply.body.resourceType, context).toBe('OperationOutcome');
  expect(errorCode(reply.body), context).toBe(code);
  const issue = reply.body.issue?.[0] as Issue | undefined;
  expect(issue?.severity, context).toBe('error');
  expect(issue?.details?.coding?.[0]?.system, context).toBe(ERROR_SYSTEM);
  if (expected.issue) expect(issue?.code, context).toBe(expected.issue);
  if (expected.expression) expect(issue?.expression, context).toEqual([expected.expression]);
  if (expected.diagnostics) expect(issue?.diagnostics, context).toBe(expected.diagnostics);
}

/** A registry on `backend` with the three demo clients' tokens, and helpers to publish and consume. */
function registryFixture(env: Record<string, string> = {}) {
  const state: { t?: TestRegistry; tokens: Record<string, string> } = { tokens: {} };
  const open = async (backend: (typeof backends)[number]) => {
    state.t = await startTestRegistry(await backend.open(), { env: { ...ENV, ...env } });
    state.tokens.RR8 = await state.t.token('demo-provider-a');
    state.tokens.RAE = await state.t.token('demo-provider-b');
    state.tokens.RWY = await state.t.token('demo-consumer');
  };
  const reg = (): TestRegistry => {
    if (!state.t) throw new Error('registry not started');
    return state.t;
  };
  /** A provider API call as `ods`. */
  const produce = (ods: 'RR8' | 'RAE', method: string, path: string, body?: unknown) =>
    fhirCall(reg(), method, `${PRODUCER}${path}`, { token: state.tokens[ods] ?? '', ods }, body);
  /** Publishes a pointer through the provider API; returns its id. */
  const publish = async (ods: 'RR8' | 'RAE', nhsNumber: string, type: PointerType = MAULR, extra = {}) => {
    const body = { ...validPointer({ custodian: ods, nhsNumber, type }), ...extra };
    const reply = await produce(ods, 'POST', '/DocumentReference', body);
    expect(reply.status, reply.text).toBe(201);
    return (reply.headers.get('location') ?? '').split('/').pop() ?? '';
  };
  /** A consumer call as RWY (or another caller); every reply must be FHIR JSON (NRL §1.3). */
  const consume = async (
    method: string,
    pathname: string,
    body?: unknown,
    caller: { token?: string; ods?: string; headers?: Record<string, string> } = {},
  ): Promise<FhirReply> => {
    const path = pathname.startsWith('http') ? pathname.slice(reg().url.length) : `${CONSUMER}${pathname}`;
    const { token = state.tokens.RWY ?? '', ods = 'RWY', headers = {} } = caller;
    const reply = await fhirCall(reg(), method, path, { token, ods, headers }, body);
    expect(reply.headers.get('content-type'), `${method} ${pathname}`).toMatch(/^application\/fhir\+json/);
    return reply;
  };
  const search = (query: string) => consume('GET', `/DocumentReference?${query}`);
  return { state, open, reg, produce, publish, consume, search };
}

describe.each(backends)('consumer API on $name', (backend) => {
  const f = registryFixture();
  const { publish, consume, search } = f;
  const selfBase = () => `${f.reg().url}${CONSUMER}/DocumentReference?`;

  beforeAll(async () => f.open(backend));
  afterAll(async () => f.state.t?.close());

  describe('search and count over both custodians', () => {
    const nhs = freshNhsNumber();
    const ids: Record<string, string> = {};
    let visible: string[] = [];

    beforeAll(async () => {
      ids.rr8Maulr = await publish('RR8', nhs, MAULR);
      ids.rr8Sct = await publish('RR8', nhs, SCT);
      ids.rr8Maxib = await publish('RR8', nhs, MAXIB);
      ids.raeMaulr = await publish('RAE', nhs, MAULR);
      ids.raeSct = await publish('RAE', nhs, SCT);
      visible = sorted([ids.rr8Maulr, ids.rr8Sct, ids.raeMaulr, ids.raeSct] as string[]);
    });

    it('NRL §1.5/§2.2, R3: GET gives a searchset with NRL’s self link, exact total, FHIR entries (fullUrl, search.mode); MAXIB never', async () => {
      const reply = await search(subject(nhs));
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.resourceType).toBe('Bundle');
      expect(reply.body.type).toBe('searchset');
      expect(reply.body.link).toEqual([{ relation: 'self', url: `${selfBase()}${subject(nhs)}` }]); // NRL §1.5
      expect(reply.body.total).toBe(4); // R3: MAXIB not counted
      // FHIR R4 Bundle: an absolute fullUrl and search.mode match on every entry (NRL clients ignore both).
      for (const entry of entriesOf(reply.body)) {
        expect(Object.keys(entry)).toEqual(['fullUrl', 'resource', 'search']);
        expect(entry.fullUrl).toBe(`${f.reg().url}${CONSUMER}/DocumentReference/${entry.resource?.id}`);
        expect(entry.search).toEqual({ mode: 'match' });
      }
      expect(sorted(idsOf(reply.body))).toEqual(visible);
      expect(idsOf(reply.body)).not.toContain(ids.rr8Maxib); // R3
      const custodians = new Set(
        pointerEntries(reply.body).map((e) => e.resource?.custodian?.identifier?.value),
      );
      expect(custodians).toEqual(new Set(['RR8', 'RAE'])); // NRL §2.2: every custodian visible
    });

    it('NRL §1.1/§1.5: POST _search with NRL’s JSON body or a form body answers as GET, same self link', async () => {
      const get = await search(subject(nhs));
      const json = await consume('POST', '/DocumentReference/_search', {
        'subject:identifier': `${NHS_NUMBER_SYSTEM}|${nhs}`,
      });
      const form = await consume(
        'POST',
        '/DocumentReference/_search',
        new URLSearchParams({ 'subject:identifier': `${NHS_NUMBER_SYSTEM}|${nhs}` }).toString(),
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      );
      for (const reply of [json, form]) {
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body.type).toBe('searchset');
        expect(reply.body.link).toEqual(get.body.link);
        expect(reply.body.total).toBe(4);
        expect(sorted(idsOf(reply.body))).toEqual(visible);
      }
    });

    it('MHD: patient.identifier, patient:identifier and subject.identifier are aliases of subject:identifier', async () => {
      for (const key of ['patient.identifier', 'patient:identifier', 'subject.identifier']) {
        const reply = await search(`${key}=${NHS_NUMBER_SYSTEM}|${nhs}`);
        expect(reply.status, `${key}: ${reply.text}`).toBe(200);
        expect(sorted(idsOf(reply.body)), key).toEqual(visible);
        expect(reply.body.link, key).toEqual([{ relation: 'self', url: `${selfBase()}${subject(nhs)}` }]);
      }
    });

    it('NRL §1.5: _summary=count gives total and self link, no entry key; NRL defect 8: every filter applies', async () => {
      expect((await search(`${subject(nhs)}&_summary=count`)).body).toEqual({
        resourceType: 'Bundle',
        type: 'searchset',
        link: [{ relation: 'self', url: `${selfBase()}${subject(nhs)}&_summary=count` }],
        total: 4,
      });
      const cases: [string, number][] = [
        [`custodian:identifier=${custodian('RAE')}`, 2], // defect 8: custodian honoured
        [`category=${PROCEDURE}`, 0], // defect 8: category honoured (MAXIB's category, not granted)
        [`category=${REPORT}`, 4],
        [`type=${SCT}`, 2],
        [`type=${SCT}&custodian:identifier=${custodian('RR8')}`, 1],
      ];
      for (const [filter, total] of cases) {
        const reply = await search(`${subject(nhs)}&${filter}&_summary=count`);
        expect(reply.status, `${filter}: ${reply.text}`).toBe(200);
        expect(reply.body.total, filter).toBe(total);
        expect('entry' in reply.body, filter).toBe(false);
      }
      const posted = await consume('POST', '/DocumentReference/_search', {
        'subject:identifier': `${NHS_NUMBER_SYSTEM}|${nhs}`,
        _summary: 'count',
      });
      expect(posted.status, posted.text).toBe(200);
      expect(posted.body.total).toBe(4);
      expect('entry' in posted.body).toBe(false);
    });

    it('NRL §1.5: no match is 200 with total 0 and entry []', async () => {
      const reply = await search(subject(freshNhsNumber()));
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.total).toBe(0);
      expect(reply.body.entry).toEqual([]);
    });

    it('filters: type (system and code, NRL defect 2), category comma OR, custodian subset, exclude-custodian', async () => {
      const cases: [string, string[]][] = [
        [`type=${MAULR}`, [ids.rr8Maulr, ids.raeMaulr] as string[]],
        [`type=${MAULR},${SCT}`, visible],
        [`category=${PROCEDURE},${REPORT}`, visible], // comma = OR; still only granted types
        [`category=${PROCEDURE}`, []], // NRL §2.2: valid but none granted in it → 0
        [`custodian:identifier=${custodian('RAE')}`, [ids.raeMaulr, ids.raeSct] as string[]],
        [`custodian:identifier=${custodian('RR8', 'RAE')}`, visible],
        [`custodian:identifier=${custodian('RAE', 'X26')}`, [ids.raeMaulr, ids.raeSct] as string[]],
        [`exclude-custodian=${custodian('RR8')}`, [ids.raeMaulr, ids.raeSct] as string[]],
        [`custodian:identifier=${custodian('RR8')}&type=${SCT}`, [ids.rr8Sct] as string[]],
      ];
      for (const [filter, expected] of cases) {
        const reply = await search(`${subject(nhs)}&${filter}`);
        expect(reply.status, `${filter}: ${reply.text}`).toBe(200);
        expect(sorted(idsOf(reply.body)), filter).toEqual(sorted(expected));
        expect(reply.body.total, filter).toBe(expected.length);
      }
    });

    it('NRL §1.5: self link puts subject, custodian, type, category first in that order, unencoded', async () => {
      const reply = await search(
        `category=${REPORT}&type=${MAULR}&custodian:identifier=${custodian('RAE')}&${subject(nhs)}`,
      );
      expect(reply.status, reply.text).toBe(200);
      expect(linksOf(reply.body)).toEqual([
        {
          relation: 'self',
          url: `${selfBase()}${subject(nhs)}&custodian:identifier=${custodian('RAE')}&type=${MAULR}&category=${REPORT}`,
        },
      ]);
      expect(idsOf(reply.body)).toEqual([ids.raeMaulr]);
    });
  });

  describe('parameter faults (NRL §2.2, first fault reported)', () => {
    const nhs = freshNhsNumber();

    it('NRL §2.2: missing subject is 400 INVALID_PARAMETER "Field required" at subject:identifier', async () => {
      for (const query of ['', `type=${MAULR}`]) {
        expectError(await search(query), 400, 'INVALID_PARAMETER', {
          issue: 'invalid',
          expression: 'subject:identifier',
          diagnostics: 'Invalid query parameter (subject:identifier: Field required)',
        });
      }
    });

    it('NRL §2.2: subject in another system or not digits is 400 INVALID_PARAMETER', async () => {
      for (const value of [`https://example.org/nhs|${nhs}`, `${NHS_NUMBER_SYSTEM}|abc`]) {
        expectError(await search(`subject:identifier=${value}`), 400, 'INVALID_PARAMETER', {
          issue: 'invalid',
          expression: 'subject:identifier',
        });
      }
    });

    it('NRL §2.2: Modulus 11 failure is 400 INVALID_NHS_NUMBER; on a count INVALID_IDENTIFIER_VALUE', async () => {
      expectError(await search(subject(BAD_NHS)), 400, 'INVALID_NHS_NUMBER', {
        issue: 'invalid',
        expression: 'subject:identifier',
      });
      expectError(await search(`${subject(BAD_NHS)}&_summary=count`), 400, 'INVALID_IDENTIFIER_VALUE', {
        issue: 'invalid',
        expression: 'subject:identifier',
      });
    });

    it('NRL §2.2: an unknown parameter is 400 INVALID_PARAMETER "Extra inputs are not permitted" at the key', async () => {
      expectError(await search(`${subject(nhs)}&extra=1`), 400, 'INVALID_PARAMETER', {
        issue: 'invalid',
        expression: 'extra',
        diagnostics: 'Invalid query parameter (extra: Extra inputs are not permitted)',
      });
    });

    it('NRL §2.2, defect 2: a type outside the grant (system and code compared) is 400 INVALID_CODE_SYSTEM', async () => {
      for (const type of [MAXIB, 'http://snomed.info/sct|MAULR', 'https://nicip.nhs.uk|418062002']) {
        expectError(await search(`${subject(nhs)}&type=${type}`), 400, 'INVALID_CODE_SYSTEM', {
          issue: 'code-invalid',
          expression: 'type',
        });
      }
      expectError(await search(`${subject(nhs)}&type=${MAXIB}&_summary=count`), 400, 'INVALID_CODE_SYSTEM', {
        issue: 'code-invalid',
        expression: 'type',
      });
    });

    it('NRL §2.2: a category not in the value set is 400 INVALID_CODE_SYSTEM at category', async () => {
      for (const category of [
        'http://snomed.info/sct|999999999',
        'https://example.org|721981007',
        `${REPORT},x|y`,
      ]) {
        expectError(await search(`${subject(nhs)}&category=${category}`), 400, 'INVALID_CODE_SYSTEM', {
          issue: 'code-invalid',
          expression: 'category',
        });
      }
    });

    it('NRL §2.2: custodian:identifier in another system is 400 INVALID_PARAMETER', async () => {
      expectError(
        await search(`${subject(nhs)}&custodian:identifier=https://example.org/ods|RR8`),
        400,
        'INVALID_PARAMETER',
        { issue: 'invalid', expression: 'custodian:identifier' },
      );
    });

    it('NRL §1.4: parameter faults come before handler rules (type outside the grant)', async () => {
      const maxib = `type=${MAXIB}`;
      expectError(await search(`${subject(BAD_NHS)}&${maxib}`), 400, 'INVALID_NHS_NUMBER');
      expectError(await search(`subject:identifier=x|1&${maxib}`), 400, 'INVALID_PARAMETER');
      const otherOds = `custodian:identifier=https://example.org/ods|RR8`;
      expectError(await search(`${subject(nhs)}&${otherOds}&${maxib}`), 400, 'INVALID_PARAMETER');
    });

    it('NRL §2.2: POST _search with an empty body is 400 BAD_REQUEST, as JSON, form or with no content type', async () => {
      for (const type of ['application/json', 'application/fhir+json', 'application/x-www-form-urlencoded']) {
        const reply = await consume('POST', '/DocumentReference/_search', '', {
          headers: { 'content-type': type },
        });
        expectError(reply, 400, 'BAD_REQUEST', { issue: 'invalid' });
      }
      expectError(await consume('POST', '/DocumentReference/_search'), 400, 'BAD_REQUEST', {
        issue: 'invalid',
      });
    });

    it('a JSON body with an unknown key is 400 MESSAGE_NOT_WELL_FORMED at the key (NRL body wording)', async () => {
      const body = { 'subject:identifier': `${NHS_NUMBER_SYSTEM}|${nhs}`, extra: '1' };
      expectError(await consume('POST', '/DocumentReference/_search', body), 400, 'MESSAGE_NOT_WELL_FORMED', {
        expression: 'extra',
        diagnostics: 'Request body could not be parsed (extra: Extra inputs are not permitted)',
      });
    });
  });

  describe('processing order: the guard before any parameter (NRL §1.4; R3, R5, R6)', () => {
    const denied = (reply: FhirReply) => expectError(reply, 403, 'ACCESS DENIED', { issue: 'forbidden' });

    it('R3: a client with no consumer role (a provider token) is 403 even with a bad NHS number', async () => {
      denied(
        await consume('GET', `/DocumentReference?${subject(BAD_NHS)}`, undefined, {
          token: f.state.tokens.RR8,
          ods: 'RR8',
        }),
      );
    });

    it('R3: no consumer grant, or a grant with no types, is 403 ACCESS DENIED before the NHS number is read', async () => {
      const catalogue = f.reg().registry.catalogue;
      const grant = await catalogue.getGrant('RWY', 'consumer');
      if (!grant) throw new Error('demo consumer grant missing');
      await catalogue.deleteGrant('RWY', 'consumer', 'test');
      try {
        denied(await search(subject(BAD_NHS)));
        denied(await search(`extra=1`));
        denied(await consume('GET', '/DocumentReference/RR8-unknown'));
        await catalogue.putGrant({ ...grant, pointerTypes: [] }, 'test');
        denied(await search(subject(BAD_NHS)));
      } finally {
        await catalogue.putGrant(grant, 'test');
      }
      expect((await search(subject(freshNhsNumber()))).status).toBe(200);
    });

    it('R6: a suspended organisation is refused on its next request (even with a bad NHS number), restored after', async () => {
      const catalogue = f.reg().registry.catalogue;
      expect((await search(subject(freshNhsNumber()))).status).toBe(200);
      await catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
      try {
        denied(await search(subject(freshNhsNumber())));
        denied(await search(subject(BAD_NHS)));
        denied(await consume('GET', '/DocumentReference/RR8-unknown'));
      } finally {
        await catalogue.setOrganisationStatus('RWY', 'active', 'test');
      }
      expect((await search(subject(freshNhsNumber()))).status).toBe(200);
    });

    it('R5: a purpose of use outside direct care (research) is 403 ACCESS DENIED', async () => {
      const research = await f.reg().token('demo-consumer', { iua: demoUserClaims('RWY', 'HRESCH') });
      for (const query of [subject(freshNhsNumber()), subject(BAD_NHS)]) {
        denied(await consume('GET', `/DocumentReference?${query}`, undefined, { token: research }));
      }
    });
  });

  describe('read (GET /DocumentReference/{id})', () => {
    const nhs = freshNhsNumber();

    it('NRL §2.2: any custodian’s pointer of a granted type reads as stored, with ETag W/"<version>"', async () => {
      for (const ods of ['RR8', 'RAE'] as const) {
        const id = await publish(ods, nhs, SCT);
        const reply = await consume('GET', `/DocumentReference/${id}`);
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body.resourceType).toBe('DocumentReference');
        expect(reply.body.id).toBe(id);
        expect((reply.body.custodian as { identifier?: { value?: string } }).identifier?.value).toBe(ods);
        expect(reply.body.meta?.versionId).toBe('1');
        expect(reply.headers.get('etag')).toBe('W/"1"');
        expect(reply.headers.get('last-modified')).toBeTruthy();
      }
    });

    it('the ETag follows the provider’s update (version 2)', async () => {
      const id = await publish('RR8', nhs, MAULR);
      const stored = await f.produce('RR8', 'GET', `/DocumentReference/${id}`);
      const updated = await f.produce('RR8', 'PUT', `/DocumentReference/${id}`, {
        ...stored.body,
        docStatus: 'amended',
      });
      expect(updated.status, updated.text).toBe(200);
      const reply = await consume('GET', `/DocumentReference/${id}`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('etag')).toBe(`W/"${reply.body.meta?.versionId}"`);
      expect(reply.body.meta?.versionId).toBe('2');
      expect(reply.body.docStatus).toBe('amended');
    });

    it('NRL §2.2: unknown id and SQL-like id are 404 NO_RECORD_FOUND, never 500', async () => {
      for (const id of ['RR8-00000000-0000-0000-0000-000000000000', "x' OR '1'='1", 'RR8-x;DROP TABLE x']) {
        const reply = await consume('GET', `/DocumentReference/${encodeURIComponent(id)}`);
        expectError(reply, 404, 'NO_RECORD_FOUND', { issue: 'not-found' });
      }
    });

    it('NRL §2.2, R3: a MAXIB pointer is 403 ACCESS DENIED with NRL’s diagnostics', async () => {
      const id = await publish('RR8', nhs, MAXIB);
      expectError(await consume('GET', `/DocumentReference/${id}`), 403, 'ACCESS DENIED', {
        issue: 'forbidden',
        diagnostics:
          'The requested DocumentReference is not of a type that this organisation is allowed to access',
      });
    });

    it('a pointer the provider deleted is 404 NO_RECORD_FOUND and leaves the search', async () => {
      const patient = freshNhsNumber();
      const id = await publish('RAE', patient, MAULR);
      expect((await consume('GET', `/DocumentReference/${id}`)).status).toBe(200);
      const deleted = await f.produce('RAE', 'DELETE', `/DocumentReference/${id}`);
      expect(deleted.status, deleted.text).toBe(200);
      expectError(await consume('GET', `/DocumentReference/${id}`), 404, 'NO_RECORD_FOUND');
      const after = await search(subject(patient));
      expect([after.body.total, after.body.entry]).toEqual([0, []]);
    });
  });

  it('NRL §2.3: after a supersede the consumer sees the new pointer only; the old one is 404', async () => {
    const nhs = freshNhsNumber();
    const old = await publish('RR8', nhs, MAULR);
    const replacement = await publish('RR8', nhs, MAULR, { relatesTo: replaces(old) });
    const reply = await search(subject(nhs));
    expect(reply.status, reply.text).toBe(200);
    expect(idsOf(reply.body)).toEqual([replacement]);
    expect(reply.body.total).toBe(1);
    expectError(await consume('GET', `/DocumentReference/${old}`), 404, 'NO_RECORD_FOUND');
    expect((await consume('GET', `/DocumentReference/${replacement}`)).status).toBe(200);
  });

  describe('paging (a registry extension, §8)', () => {
    const nhs = freshNhsNumber();
    let seeded: string[] = [];

    beforeAll(async () => {
      for (const [ods, type] of [
        ['RR8', MAULR],
        ['RAE', SCT],
        ['RR8', MAXIB],
        ['RR8', SCT],
        ['RAE', MAULR],
        ['RR8', MAULR],
      ] as const) {
        const id = await publish(ods, nhs, type);
        if (type !== MAXIB) seeded.push(id);
      }
      seeded = sorted(seeded);
    });

    it('_count=2 on 5 pointers: pages of 2, total 5, next links visiting every pointer once, none after the last', async () => {
      let reply = await search(`${subject(nhs)}&_count=2`);
      const seen: string[] = [];
      const sizes: number[] = [];
      for (let pages = 0; pages < 10; pages++) {
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body.total).toBe(5); // recounted on each page
        expect(linksOf(reply.body).filter((l) => l.relation === 'self')).toHaveLength(1);
        sizes.push(pointerEntries(reply.body).length);
        seen.push(...idsOf(reply.body));
        const next = nextOf(reply.body);
        if (!next) break;
        expect(next.startsWith(`${f.reg().url}${CONSUMER}/DocumentReference?`)).toBe(true);
        reply = await consume('GET', next);
      }
      expect(sizes).toEqual([2, 2, 1]);
      expect(sorted(seen)).toEqual(seeded); // each exactly once
    });

    it('_count=0 gives the total only; _count=abc or -1 is 400 INVALID_PARAMETER', async () => {
      const zero = await search(`${subject(nhs)}&_count=0`);
      expect(zero.status, zero.text).toBe(200);
      expect(zero.body.total).toBe(5);
      expect(pointerEntries(zero.body)).toEqual([]);
      for (const value of ['abc', '-1', '1.5']) {
        expectError(await search(`${subject(nhs)}&_count=${value}`), 400, 'INVALID_PARAMETER', {
          expression: '_count',
        });
      }
    });

    it('_count=1000 is served as at most 100 per page (NIR_CONSUMER_MAX_COUNT default)', async () => {
      const many = freshNhsNumber();
      await Promise.all(Array.from({ length: 102 }, (_, i) => publish('RR8', many, i % 2 ? MAULR : SCT)));
      const first = await search(`${subject(many)}&_count=1000`);
      expect(first.status, first.text.slice(0, 400)).toBe(200);
      expect(pointerEntries(first.body)).toHaveLength(100);
      expect(first.body.total).toBe(102);
      const next = nextOf(first.body);
      expect(next).toBeTruthy();
      const second = await consume('GET', next ?? '');
      expect(pointerEntries(second.body)).toHaveLength(2);
      expect(nextOf(second.body)).toBeUndefined();
    });
  });

  describe('methods and metadata', () => {
    it('any other method on the consumer paths is 405 (NRL §1.1: HEAD too)', async () => {
      const id = await publish('RR8', freshNhsNumber(), MAULR);
      for (const [method, path] of [
        ['DELETE', `/DocumentReference/${id}`],
        ['PUT', `/DocumentReference/${id}`],
        ['POST', '/DocumentReference'],
        ['PATCH', `/DocumentReference/${id}`],
        ['HEAD', `/DocumentReference/${id}`],
      ] as const) {
        const reply = await f.reg().fetch(`${CONSUMER}${path}`, {
          method,
          headers: clinicalHeaders(f.state.tokens.RWY ?? '', 'RWY'),
        });
        expect(reply.status, `${method} ${path}`).toBe(405);
        if (method !== 'HEAD') {
          expect(reply.headers.get('content-type'), `${method} ${path}`).toMatch(/^application\/fhir\+json/);
        }
      }
      expect((await consume('GET', `/DocumentReference/${id}`)).status).toBe(200); // DELETE did nothing
    });

    it('GET /metadata is the consumer CapabilityStatement, without authentication', async () => {
      const reply = await f.reg().fetch(`${CONSUMER}/metadata`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      const body = (await reply.json()) as { resourceType?: string; url?: string };
      expect(body.resourceType).toBe('CapabilityStatement');
      expect(body.url).toBe('https://fhir.nir.nhs.uk/CapabilityStatement/nir-consumer');
    });
  });
});

describe.each(backends)('consumer search cap (NIR_CONSUMER_SEARCH_CAP=3) on $name', (backend) => {
  const f = registryFixture({ NIR_CONSUMER_SEARCH_CAP: '3' });
  beforeAll(async () => f.open(backend));
  afterAll(async () => f.state.t?.close());

  it('§8: without _count the cap cuts at 3, total stays exact, a next link and a warning outcome entry follow', async () => {
    const nhs = freshNhsNumber();
    const all: string[] = [];
    for (let i = 0; i < 5; i++) all.push(await f.publish(i % 2 ? 'RAE' : 'RR8', nhs, i % 2 ? MAULR : SCT));
    await f.publish('RR8', nhs, MAXIB); // not granted: neither counted nor returned
    const reply = await f.search(subject(nhs));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.total).toBe(5);
    expect(pointerEntries(reply.body)).toHaveLength(3);
    const entries = entriesOf(reply.body);
    expect(entries).toHaveLength(4);
    const warning = entries[3];
    expect(warning?.resource?.resourceType).toBe('OperationOutcome');
    expect(warning?.resource?.issue?.[0]?.severity).toBe('warning');
    expect(warning?.resource?.issue?.[0]?.code).toBe('too-costly');
    expect(warning?.search?.mode).toBe('outcome');
    const next = nextOf(reply.body);
    expect(next).toBeTruthy();
    const rest = await f.consume('GET', next ?? '');
    expect(rest.status, rest.text).toBe(200);
    expect(rest.body.total).toBe(5);
    expect(sorted([...idsOf(reply.body), ...idsOf(rest.body)])).toEqual(sorted(all));
    expect(entriesOf(rest.body).some((e) => e.search?.mode === 'outcome')).toBe(false);
  });

  it('§8: with 3 or fewer matches no warning entry and no next link', async () => {
    const nhs = freshNhsNumber();
    for (let i = 0; i < 3; i++) await f.publish('RR8', nhs, MAULR);
    const reply = await f.search(subject(nhs));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.total).toBe(3);
    expect(entriesOf(reply.body)).toHaveLength(3);
    expect(entriesOf(reply.body).every((e) => e.resource?.resourceType === 'DocumentReference')).toBe(true);
    expect(nextOf(reply.body)).toBeUndefined();
  });
});
