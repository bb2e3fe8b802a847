import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACT_REASON_SYSTEM, type Coding, DIRECT_CARE_PURPOSES, isDirectCareOnly } from './purpose-of-use.ts';

const reason = (code: string): Coding => ({ system: ACT_REASON_SYSTEM, code });

describe('isDirectCareOnly (R5)', () => {
  it('uses HL7 v3 ActReason', () => {
    expect(ACT_REASON_SYSTEM).toBe('http://terminology.hl7.org/CodeSystem/v3-ActReason');
    expect([...DIRECT_CARE_PURPOSES]).toEqual(['TREAT', 'ETREAT', 'ERTREAT', 'COC']);
  });

  it.each(['TREAT', 'ETREAT', 'ERTREAT', 'COC'])('R5: %s is direct care', (code) => {
    expect(isDirectCareOnly([reason(code)])).toBe(true);
  });

  it('R5: several direct-care purposes together are direct care', () => {
    expect(isDirectCareOnly([reason('TREAT'), reason('COC'), reason('ETREAT')])).toBe(true);
  });

  it('R5: a display does not matter', () => {
    expect(isDirectCareOnly([{ system: ACT_REASON_SYSTEM, code: 'TREAT', display: 'treatment' }])).toBe(true);
  });

  it.each([
    'BTG',
    'HOPERAT',
    'CAREMGT',
    'HRESCH',
    'CLINTRL',
    'POPHLTH',
    'PUBHLTH',
    'HPAYMT',
    'HMARKT',
    'TRAIN',
    'PATRQT',
    'treat',
    'TREAT ',
    '',
  ])('R5: %j is refused', (code) => {
    expect(isDirectCareOnly([reason(code)])).toBe(false);
  });

  it('R5: no purpose of use is refused (undefined or empty)', () => {
    expect(isDirectCareOnly(undefined)).toBe(false);
    expect(isDirectCareOnly([])).toBe(false);
  });

  it('R5: a direct-care code in another code system is refused', () => {
    expect(isDirectCareOnly([{ system: 'http://example.org/purpose', code: 'TREAT' }])).toBe(false);
    expect(isDirectCareOnly([{ system: 'urn:oid:2.16.840.1.113883.5.8', code: 'TREAT' }])).toBe(false);
    expect(isDirectCareOnly([{ system: `${ACT_REASON_SYSTEM}/`, code: 'TREAT' }])).toBe(false);
  });

  it('R5: a direct-care code without a system is refused', () => {
    expect(isDirectCareOnly([{ code: 'TREAT' }])).toBe(false);
  });

  it('R5: a coding without a code is refused', () => {
    expect(isDirectCareOnly([{ system: ACT_REASON_SYSTEM }])).toBe(false);
  });

  it('R5: direct care mixed with another purpose is refused', () => {
    expect(isDirectCareOnly([reason('TREAT'), reason('HOPERAT')])).toBe(false);
    expect(isDirectCareOnly([reason('BTG'), reason('ETREAT')])).toBe(false);
    expect(isDirectCareOnly([reason('COC'), { system: 'http://example.org', code: 'TREAT' }])).toBe(false);
  });

  const directCare = fc.constantFrom(...DIRECT_CARE_PURPOSES).map(reason);
  /** A coding that is not direct care: another ActReason code, another system, or missing parts. */
  const notDirectCare: fc.Arbitrary<Coding> = fc.oneof(
    fc
      .string({ maxLength: 10 })
      .filter((code) => !(DIRECT_CARE_PURPOSES as readonly string[]).includes(code))
      .map(reason),
    fc.constantFrom('BTG', 'HOPERAT', 'HRESCH', 'treat', 'TREAT ', ' COC').map(reason),
    fc.record({
      system: fc.oneof(
        fc.string(),
        fc.constant(`${ACT_REASON_SYSTEM}/`),
        fc.constant('urn:oid:2.16.840.1.113883.5.8'),
      ),
      code: fc.constantFrom(...DIRECT_CARE_PURPOSES),
    }),
    fc.constantFrom<Coding>({ code: 'TREAT' }, { system: ACT_REASON_SYSTEM }, {}),
  );

  it('R5: any non-empty list of direct-care codings is direct care', () => {
    fc.assert(
      fc.property(fc.array(directCare, { minLength: 1, maxLength: 5 }), (purposes) => {
        expect(isDirectCareOnly(purposes)).toBe(true);
      }),
    );
  });

  // Which declarations must be refused (issue 14): one foreign coding anywhere refuses them all.
  it('R5: refuses every generated list holding a coding that is not direct care, wherever it is', () => {
    fc.assert(
      fc.property(
        fc.array(directCare, { maxLength: 4 }),
        notDirectCare,
        fc.nat(),
        (purposes, foreign, at) => {
          const mixed = [...purposes];
          mixed.splice(at % (purposes.length + 1), 0, foreign);
          expect(isDirectCareOnly(mixed)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
