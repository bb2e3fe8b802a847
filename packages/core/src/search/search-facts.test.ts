/** What a pointer is searched by (docs/consumer-api.md). */
import { readFileSync } from 'node:fs';
import type { DocumentReference } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { searchFactsOf } from './search-facts.ts';

const study = JSON.parse(
  readFileSync(
    new URL('../../../../fhir-profiles/examples/DocumentReference-example-study.json', import.meta.url),
    'utf8',
  ),
) as DocumentReference;

describe('searchFactsOf', () => {
  it('indexes the example study pointer', () => {
    const facts = searchFactsOf(study);
    expect(facts.tokens).toEqual(
      expect.arrayContaining([
        'status|http://hl7.org/fhir/document-reference-status|current',
        'status| |current',
        'setting|http://snomed.info/sct|310127009',
        'format|http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode|urn:ihe:iti:xds:2017:mimeTypeSufficient',
        'identifier|urn:ietf:rfc:3986|urn:oid:1.2.826.0.1.3680043.8.498.1',
        'related:identifier|https://pacs.example.nhs.uk/Id/accession-number|RR8.123456789',
      ]),
    );
    expect(new Set(facts.tokens).size).toBe(facts.tokens.length);
    expect(facts.date).toEqual({
      low: Date.parse('2026-11-18T15:20:00.000Z'),
      high: Date.parse('2026-11-18T15:20:00.000Z') + 1,
    });
    expect(facts.period).toEqual({
      low: Date.parse('2026-11-18T14:30:00Z'),
      high: Date.parse('2026-11-18T15:05:00Z') + 1000,
    });
    expect(facts.creation).toEqual([]);
  });

  it('indexes events, facility, security labels, references, creation and open periods', () => {
    const pointer: DocumentReference = {
      ...structuredClone(study),
      securityLabel: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] },
      ],
    };
    const [content] = pointer.content;
    if (content) content.attachment.creation = '2026-11';
    pointer.context = {
      event: [{ coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }] }],
      facilityType: { coding: [{ system: 'http://snomed.info/sct', code: '22232009' }] },
      period: { end: '2026-11-18' },
      related: [{ reference: 'ServiceRequest/1' }, { identifier: { system: 'urn:acc', value: 'A1' } }],
    };
    const facts = searchFactsOf(pointer);
    expect(facts.tokens).toEqual(
      expect.arrayContaining([
        'event|http://dicom.nema.org/resources/ontology/DCM|MR',
        'facility| |22232009',
        'security-label|http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N',
        'related| |ServiceRequest/1',
        'related:identifier|urn:acc|A1',
      ]),
    );
    expect(facts.creation).toEqual([
      { low: Date.parse('2026-11-01T00:00:00Z'), high: Date.parse('2026-12-01T00:00:00Z') },
    ]);
    expect(facts.period).toEqual({ low: Number.NEGATIVE_INFINITY, high: Date.parse('2026-11-19T00:00:00Z') });
  });

  it('has no period when the pointer has none', () => {
    const { context: _context, ...pointer } = structuredClone(study);
    expect(searchFactsOf(pointer as DocumentReference).period).toBeNull();
  });
});
