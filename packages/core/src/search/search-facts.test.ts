/** What a pointer is searched by (docs/consumer-api.md "Search parameters"). */
import { readFileSync } from 'node:fs';
import type { DocumentReference } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { searchFactsOf } from './search-facts.ts';
import { tokenQueryKeys } from './token.ts';

const study = JSON.parse(
  readFileSync(
    new URL('../../../../fhir-profiles/examples/DocumentReference-example-study.json', import.meta.url),
    'utf8',
  ),
) as DocumentReference;

const SCT = 'http://snomed.info/sct';
const FORMAT = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode';
const MIME_SUFFICIENT = 'urn:ihe:iti:xds:2017:mimeTypeSufficient';
const at = (iso: string) => Date.parse(iso);

/** A copy of the example with some elements replaced. */
function variant(changes: Partial<DocumentReference>): DocumentReference {
  return { ...structuredClone(study), ...changes };
}

/** True when a search `key=value` finds the pointer by its tokens (the store's match). */
function found(
  pointer: DocumentReference,
  key: Parameters<typeof tokenQueryKeys>[0],
  value: string,
): boolean {
  const tokens = new Set(searchFactsOf(pointer).tokens);
  return tokenQueryKeys(key, value, key).some((k) => tokens.has(k));
}

describe('searchFactsOf on the example study pointer', () => {
  const facts = searchFactsOf(study);

  it('indexes every token parameter the pointer has, each key once', () => {
    expect([...facts.tokens].sort()).toEqual(
      [
        'status|http://hl7.org/fhir/document-reference-status|current',
        'status| |current',
        'status|http://hl7.org/fhir/document-reference-status| ',
        `setting|${SCT}|310127009`,
        'setting| |310127009',
        `setting|${SCT}| `,
        `format|${FORMAT}|${MIME_SUFFICIENT}`,
        `format| |${MIME_SUFFICIENT}`,
        `format|${FORMAT}| `,
        'identifier|urn:ietf:rfc:3986|urn:oid:1.2.826.0.1.3680043.8.498.1',
        'identifier| |urn:oid:1.2.826.0.1.3680043.8.498.1',
        'identifier|urn:ietf:rfc:3986| ',
        'related:identifier|https://pacs.example.nhs.uk/Id/accession-number|RR8.123456789',
        'related:identifier| |RR8.123456789',
        'related:identifier|https://pacs.example.nhs.uk/Id/accession-number| ',
      ].sort(),
    );
  });

  it.each([
    ['status', 'current', true],
    ['status', 'superseded', false],
    ['setting', `${SCT}|310127009`, true],
    ['setting', '310127009', true],
    ['setting', '|310127009', false], // the coding has a system
    ['format', `${FORMAT}|`, true],
    ['identifier', 'urn:ietf:rfc:3986|urn:oid:1.2.826.0.1.3680043.8.498.1', true],
    ['related:identifier', 'https://pacs.example.nhs.uk/Id/accession-number|RR8.123456789', true],
    ['related:identifier', 'RR8.123456789', true],
    ['related:identifier', 'urn:other|RR8.123456789', false],
    ['facility', `${SCT}|`, false], // the pointer has no facility type
  ] as const)('is found by %s=%s: %s', (key, value, expected) => {
    expect(found(study, key, value)).toBe(expected);
  });

  it('takes date at its precision (an instant with ms: one ms)', () => {
    expect(facts.date).toEqual({ low: at('2026-11-18T15:20:00.000Z'), high: at('2026-11-18T15:20:00.001Z') });
  });

  it('takes context.period as [start, end) at second precision', () => {
    expect(facts.period).toEqual({ low: at('2026-11-18T14:30:00Z'), high: at('2026-11-18T15:05:01Z') });
  });

  it('has no creation range when no attachment has a creation', () => {
    expect(facts.creation).toEqual([]);
  });
});

describe('searchFactsOf on variants', () => {
  it('indexes events, facility, security labels, references, identifiers and codings without a system', () => {
    const pointer = variant({
      securityLabel: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] },
      ],
      identifier: [{ system: 'urn:ids', value: 'I1' }, { value: 'bare' }],
      context: {
        event: [
          { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }] },
          { coding: [{ code: 'LOCAL' }] },
        ],
        facilityType: { coding: [{ system: SCT, code: '22232009' }] },
        related: [{ reference: 'ServiceRequest/1' }, { identifier: { system: 'urn:acc', value: 'A1' } }],
      },
    });
    const tokens = searchFactsOf(pointer).tokens;
    expect(tokens).toEqual(
      expect.arrayContaining([
        'event|http://dicom.nema.org/resources/ontology/DCM|MR',
        'event||LOCAL',
        'event| |LOCAL',
        'facility| |22232009',
        'security-label|http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N',
        'identifier|urn:ids|I1',
        'identifier||bare',
        'identifier|urn:ietf:rfc:3986|urn:oid:1.2.826.0.1.3680043.8.498.1', // masterIdentifier still
        'related| |ServiceRequest/1',
        'related:identifier|urn:acc|A1',
      ]),
    );
    expect(tokens.filter((t) => t.startsWith('related|'))).toEqual(['related| |ServiceRequest/1']);
    expect(found(pointer, 'related', 'ServiceRequest/1')).toBe(true);
    expect(found(pointer, 'related', 'ServiceRequest/2')).toBe(false);
    expect(found(pointer, 'event', '|LOCAL')).toBe(true);
    expect(found(pointer, 'identifier', '|bare')).toBe(true);
  });

  it('skips codings without a code and identifiers without a value', () => {
    const pointer = variant({
      masterIdentifier: { system: 'urn:ietf:rfc:3986' },
      identifier: [{ system: 'urn:ids' }],
      securityLabel: [{ coding: [{ system: 'urn:labels' }] }, { text: 'no coding' }],
      context: {
        practiceSetting: { coding: [{ system: SCT, display: 'no code' }] },
        event: [{ text: 'no coding' }],
        related: [{ display: 'nothing to index' }, { identifier: { system: 'urn:acc' } }],
      },
    });
    const content = structuredClone(study.content).map(({ format: _format, ...rest }) => rest);
    expect(searchFactsOf({ ...pointer, content }).tokens.sort()).toEqual(
      [
        'status|http://hl7.org/fhir/document-reference-status|current',
        'status| |current',
        'status|http://hl7.org/fhir/document-reference-status| ',
      ].sort(),
    );
  });

  it('de-duplicates keys that several elements give', () => {
    const same = { system: 'urn:ids', value: 'X' };
    const pointer = variant({ masterIdentifier: same, identifier: [same, same] });
    const tokens = searchFactsOf(pointer).tokens;
    expect(tokens.filter((t) => t === 'identifier|urn:ids|X')).toHaveLength(1);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('takes one creation range per attachment that has a readable creation', () => {
    const [first] = structuredClone(study.content);
    if (!first) throw new Error('the example has content');
    const content = [
      { ...first, attachment: { ...first.attachment, creation: '2026-11' } },
      { ...first, attachment: { ...first.attachment, creation: '2026-11-18T09:00:00+01:00' } },
      { ...first, attachment: { ...first.attachment } },
      { ...first, attachment: { ...first.attachment, creation: 'not a date' } },
    ];
    expect(searchFactsOf(variant({ content })).creation).toEqual([
      { low: at('2026-11-01T00:00:00Z'), high: at('2026-12-01T00:00:00Z') },
      { low: at('2026-11-18T08:00:00Z'), high: at('2026-11-18T08:00:01Z') },
    ]);
  });

  it.each([
    ['an end only: open start', { end: '2026-11-18' }, -Infinity, at('2026-11-19T00:00:00Z')],
    ['a start only: open end', { start: '2026-11' }, at('2026-11-01T00:00:00Z'), Infinity],
    [
      'day precision',
      { start: '2026-11-17', end: '2026-11-18' },
      at('2026-11-17T00:00:00Z'),
      at('2026-11-19T00:00:00Z'),
    ],
    ['an unreadable end: open', { start: '2026', end: 'soon' }, at('2026-01-01T00:00:00Z'), Infinity],
  ])('period with %s', (_name, period, low, high) => {
    expect(searchFactsOf(variant({ context: { period } })).period).toEqual({ low, high });
  });

  it.each([
    ['no context', undefined],
    ['a context without period', {}],
    ['an empty period', { period: {} }],
  ])('has no period with %s', (_name, context) => {
    const pointer = variant({});
    if (context === undefined) delete pointer.context;
    else pointer.context = context;
    expect(searchFactsOf(pointer).period).toBeNull();
  });

  it('has no date when it is absent or unreadable, and no status keys without a status', () => {
    const pointer = variant({});
    delete pointer.date;
    expect(searchFactsOf(pointer).date).toBeNull();
    expect(searchFactsOf(variant({ date: '2026-11-18T15:20' })).date).toBeNull(); // minutes: search-only
    const { status: _status, ...noStatus } = structuredClone(study);
    expect(searchFactsOf(noStatus as DocumentReference).tokens.some((t) => t.startsWith('status|'))).toBe(
      false,
    );
  });
});
