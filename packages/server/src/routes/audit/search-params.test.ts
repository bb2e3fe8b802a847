import { isOperationOutcomeError } from '@nir/core';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import {
  dateRange,
  encodeCursor,
  nhsNumberParam,
  parseAuditSearch,
  parseDateBounds,
} from './search-params.ts';

const request = (query: Record<string, string | string[]>) => ({ query }) as unknown as Request;

function refusal(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (isOperationOutcomeError(error)) return error.issues[0]?.code;
    throw error;
  }
  return undefined;
}

describe('dateRange', () => {
  it.each([
    ['2026', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-02', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ['2026-12-31', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-11-28T10:15Z', '2026-11-28T10:15:00.000Z', '2026-11-28T10:16:00.000Z'],
    ['2026-11-28T10:15:30+01:00', '2026-11-28T09:15:30.000Z', '2026-11-28T09:15:31.000Z'],
    ['2026-11-28T10:15:30.123Z', '2026-11-28T10:15:30.123Z', '2026-11-28T10:15:30.124Z'],
  ])('%s is [%s, %s)', (value, start, end) => {
    const range = dateRange(value);
    expect(range.start.toISOString()).toBe(start);
    expect(range.end.toISOString()).toBe(end);
  });

  it.each(['2026-13', '2026-02-30', 'yesterday', '26-01-01', '2026-01-01T25:00Z'])('refuses %s', (value) => {
    expect(refusal(() => dateRange(value))).toBe('INVALID_PARAMETER');
  });
});

describe('parseDateBounds', () => {
  it('takes ge/gt/le/lt/eq bounds, the narrowest winning', () => {
    expect(parseDateBounds(['ge2026-11-01', 'lt2026-12-01'])).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
    expect(parseDateBounds(['gt2026-11-01', 'le2026-11-30'])).toEqual({
      from: '2026-11-02T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
    expect(parseDateBounds(['2026-11'])).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
    expect(parseDateBounds(['ge2026-01-01', 'ge2026-06-01', 'lt2027-01-01']).from).toBe(
      '2026-06-01T00:00:00.000Z',
    );
  });

  it('keeps bounds at the edges of FHIR dates within what the store holds (issue 14 point 3)', () => {
    expect(parseDateBounds(['ge0001', 'le9999-12-31'])).toEqual({
      from: '0001-01-01T00:00:00.000Z',
      to: '9999-12-31T23:59:59.999Z',
    });
    expect(parseDateBounds(['9999'])).toEqual({
      from: '9999-01-01T00:00:00.000Z',
      to: '9999-12-31T23:59:59.999Z',
    });
    expect(refusal(() => parseDateBounds(['gt9999', 'le9999-12-31']))).toBe('INVALID_PARAMETER');
  });

  it('requires both bounds and a non-empty range', () => {
    expect(refusal(() => parseDateBounds([]))).toBe('INVALID_PARAMETER');
    expect(refusal(() => parseDateBounds(['ge2026-01-01']))).toBe('INVALID_PARAMETER');
    expect(refusal(() => parseDateBounds(['lt2026-01-01']))).toBe('INVALID_PARAMETER');
    expect(refusal(() => parseDateBounds(['ge2026-02-01', 'lt2026-01-01']))).toBe('INVALID_PARAMETER');
  });
});

describe('parseAuditSearch', () => {
  const range = ['ge2026-11-01', 'lt2026-12-01'];

  it('maps the parameters to a store query and keeps the used ones for links', () => {
    const search = parseAuditSearch(
      request({
        date: range,
        'entity:identifier': 'https://fhir.nhs.uk/Id/nhs-number|9000000009',
        'agent:identifier': 'https://fhir.nhs.uk/Id/ods-organization-code|RWY',
        subtype: 'http://hl7.org/fhir/restful-interaction|read',
        outcome: '4',
        _count: '10',
        _sort: 'date',
        unknown: 'ignored',
      }),
    );
    expect(search.query).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
      patientNhs: '9000000009',
      requesterOds: 'RWY',
      subtypes: ['read'],
      outcomes: ['4'],
      recorded: [
        [
          {
            on: 'entity-identifier',
            token: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' },
          },
        ],
      ],
    });
    expect(search.count).toBe(10);
    expect(search.order).toBe('asc');
    expect(search.patient).toBe('9000000009');
    expect(search.used.map(([name]) => name)).not.toContain('unknown');
  });

  it('ITI-81: entity:identifier, entity-id and entity.identifier match any identifier an entity records', () => {
    for (const key of ['entity:identifier', 'entity-id', 'entity.identifier']) {
      const search = parseAuditSearch(
        request({ date: range, [key]: 'req-123,urn:ietf:rfc:3986|urn:oid:1.2.3' }),
      );
      expect(search.query.recorded).toEqual([
        [
          { on: 'entity-identifier', token: { value: 'req-123' } },
          { on: 'entity-identifier', token: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.3' } },
        ],
      ]);
      expect(search.query.patientNhs).toBeUndefined();
      expect(search.used).toContainEqual([key, 'req-123,urn:ietf:rfc:3986|urn:oid:1.2.3']);
    }
  });

  it('ITI-81: entity, patient.identifier, agent, agent-name, address, source, site, type, action, outcome', () => {
    const search = parseAuditSearch(
      request({
        date: range,
        entity: 'DocumentReference/RR8-1',
        'patient.identifier': 'https://fhir.nhs.uk/Id/nhs-number|9000000009',
        agent: 'Practitioner/1',
        'agent-name': 'dr alex',
        'address:exact': '127.0.0.1',
        'source:identifier': 'urn:ietf:rfc:3986|',
        site: 'https://nir.example/consumer/FHIR/R4',
        type: 'http://dicom.nema.org/resources/ontology/DCM|110112',
        action: 'R,E',
        outcome: 'http://terminology.hl7.org/CodeSystem/audit-event-outcome|0,4',
      }),
    );
    expect(search.query).toMatchObject({
      patientNhs: '9000000009',
      actions: ['R', 'E'],
      outcomes: ['0', '4'],
      recorded: [
        [{ on: 'entity-reference', reference: 'DocumentReference/RR8-1' }],
        [{ on: 'agent-reference', reference: 'Practitioner/1' }],
        [{ on: 'agent-name', match: { value: 'dr alex', mode: 'starts' } }],
        [{ on: 'address', match: { value: '127.0.0.1', mode: 'exact' } }],
        [{ on: 'source-identifier', token: { system: 'urn:ietf:rfc:3986' } }],
        [{ on: 'site', value: 'https://nir.example/consumer/FHIR/R4' }],
        [{ on: 'type', token: { system: 'http://dicom.nema.org/resources/ontology/DCM', value: '110112' } }],
      ],
    });
    expect(search.patient).toBe('9000000009');
  });

  it('agent:identifier with the client id system searches by client', () => {
    const search = parseAuditSearch(
      request({ date: range, 'agent:identifier': 'https://fhir.nir.nhs.uk/Id/client-id|demo-consumer' }),
    );
    expect(search.query.clientId).toBe('demo-consumer');
  });

  it('reads back the cursors it issues', () => {
    const cursor = { recorded: '2026-11-28T10:00:00.000Z', id: '019abcde-0000-7000-8000-000000000000' };
    expect(parseAuditSearch(request({ date: range, _cursor: encodeCursor(cursor) })).after).toEqual(cursor);
  });

  it.each([
    [{}],
    [{ date: range, outcome: '3' }],
    [{ date: range, _count: '1001' }],
    [{ date: range, _sort: 'subtype' }],
    [{ date: range, 'entity:identifier': 'https://fhir.nhs.uk/Id/nhs-number|9000000008' }],
    [{ date: range, 'entity-id': 'a|b|c' }],
    [{ date: range, 'patient.identifier': 'urn:other|9000000009' }],
    [{ date: range, action: 'X' }],
    [{ date: range, outcome: 'http://example.org|0' }],
    [{ date: range, 'agent:identifier': 'urn:other|RWY' }],
    [{ date: range, _cursor: 'bm9wZQ' }],
    [{ date: range, outcome: ['0', '4'] }],
  ])('refuses %o with 400 INVALID_PARAMETER', (query) => {
    expect(refusal(() => parseAuditSearch(request(query)))).toBe('INVALID_PARAMETER');
  });
});

describe('nhsNumberParam', () => {
  it('accepts a bare or system-qualified valid NHS number only', () => {
    expect(nhsNumberParam('9000000009', 'x')).toBe('9000000009');
    expect(nhsNumberParam('https://fhir.nhs.uk/Id/nhs-number|9000000009', 'x')).toBe('9000000009');
    expect(refusal(() => nhsNumberParam('9000000008', 'x'))).toBe('INVALID_PARAMETER');
  });
});
