import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOdsCodeShape, ODS_SYSTEM } from './ods.ts';
import { NOT_ODS_CODES, odsCodeShape } from './ods-arbitraries.ts';

describe('isOdsCodeShape (mhd-balp.md §6.2)', () => {
  it('uses the ODS organisation code system', () => {
    expect(ODS_SYSTEM).toBe('https://fhir.nhs.uk/Id/ods-organization-code');
  });

  it.each(['RR8', 'RAE', 'X26', 'RX898', 'Y05868', '8HK48', 'ABCDEFGHI'])('accepts %s', (code) => {
    expect(isOdsCodeShape(code)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['RR', 'two characters'],
    ['ABCDEFGHIJ', 'ten characters'],
    ['rr8', 'lower case'],
    ['RR8 ', 'a trailing space'],
    [' RR8', 'a leading space'],
    ['RR8\n', 'a trailing newline'],
    ['RR8-001', 'a dash'],
    ['RR8.001', 'a dot'],
    ['RR8|X26', 'a bar'],
    ['ÄRR8', 'a non-ASCII letter'],
  ])('refuses %j (%s)', (value) => {
    expect(isOdsCodeShape(value)).toBe(false);
  });

  it('accepts every generated code shape', () => {
    fc.assert(
      fc.property(odsCodeShape, (code) => {
        expect(isOdsCodeShape(code)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Which inputs must be refused (issue 14): a pattern without its end anchor accepts the first.
  it.each(Object.entries(NOT_ODS_CODES))('refuses every generated input that is %s', (_kind, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, (value) => {
        expect(isOdsCodeShape(value)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
