import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, nhsNumberCheckDigit } from './nhs-number.ts';
import { NOT_NHS_NUMBERS, validNhsNumber } from './nhs-number-arbitraries.ts';

/** The Modulus 11 check digit of nine digits, written independently of the code under test. */
function expectedCheckDigit(nineDigits: string): number | 'invalid' {
  const weights = [10, 9, 8, 7, 6, 5, 4, 3, 2];
  const sum = weights.reduce((acc, weight, i) => acc + weight * Number(nineDigits.charAt(i)), 0);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return 'invalid';
  return check;
}

describe('isValidNhsNumber (R12, Modulus 11)', () => {
  it('uses the NHS number identifier system', () => {
    expect(NHS_NUMBER_SYSTEM).toBe('https://fhir.nhs.uk/Id/nhs-number');
  });

  it.each([
    // mhd-balp.md §6.1
    '9000000009',
    '9434765919',
    '9449306753',
    '9912003888',
    '6700028191',
    '4010232137',
    '9278693472',
    '9876543210',
    // nrl-behaviour.md §4.1
    '9999999999',
    '9995001624',
    '9785146901',
    '9000000017',
  ])('R12: accepts the valid NHS number %s', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });

  it('R12: accepts the worked example 9434765919 (sum 299, check 9)', () => {
    expect(isValidNhsNumber('9434765919')).toBe(true);
    expect(isValidNhsNumber('9434765918')).toBe(false);
  });

  it.each([
    ['9434765918', 'wrong check digit (expects 9)'],
    ['1234567890', 'check digit would be 10'],
    ['123', 'too short'],
    ['999999999', 'nine digits'],
    ['94347659190', 'eleven digits'],
    ['', 'empty'],
  ])('R12: refuses %s (%s)', (value) => {
    expect(isValidNhsNumber(value)).toBe(false);
  });

  it.each([
    ['943 476 5919', 'spaces (display form)'],
    ['943-476-5919', 'dashes'],
    ['94347659l9', 'a letter'],
    ['943476591 ', 'trailing space'],
    [' 943476591', 'leading space'],
    ['9434765919\n', 'trailing newline'],
    ['+434765919', 'a sign'],
    ['9.43476591', 'a decimal point'],
    ['٩٤٣٤٧٦٥٩١٩', 'non-ASCII digits'],
    ['９４３４７６５９１９', 'full-width digits'],
  ])('R12: refuses %s (%s)', (value) => {
    expect(isValidNhsNumber(value)).toBe(false);
  });

  it('R12: a check result of 11 means a check digit of 0', () => {
    // 1·10 + 6·2 = 22, 22 mod 11 = 0, 11 − 0 = 11 → 0
    expect(isValidNhsNumber('1000000060')).toBe(true);
    expect(isValidNhsNumber('1000000061')).toBe(false);
  });

  it('R12: a check result of 10 is never valid, whatever the tenth digit', () => {
    // 4·10 + 8·2 = 56, 56 mod 11 = 1, 11 − 1 = 10
    for (let last = 0; last <= 9; last++) {
      expect(isValidNhsNumber(`400000008${last}`)).toBe(false);
    }
  });

  it('R12: for any nine digits, exactly the Modulus 11 check digit is accepted (none when it would be 10)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), (prefix) => {
        const expected = expectedCheckDigit(prefix);
        for (let last = 0; last <= 9; last++) {
          expect(isValidNhsNumber(`${prefix}${last}`)).toBe(expected === last);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('nhsNumberCheckDigit gives the Modulus 11 check digit of any nine digits, none for 10 or other input', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), (prefix) => {
        const expected = expectedCheckDigit(prefix);
        expect(nhsNumberCheckDigit(prefix)).toBe(expected === 'invalid' ? undefined : expected);
      }),
      { numRuns: 500 },
    );
    for (const bad of ['', '12345678', '1234567890', '12345678x'])
      expect(nhsNumberCheckDigit(bad)).toBeUndefined();
  });

  it('R12: every generated valid NHS number is accepted', () => {
    fc.assert(
      fc.property(validNhsNumber, (value) => {
        expect(isValidNhsNumber(value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Which inputs must be refused, not only that valid ones pass (issue 14): a pattern without
  // its end anchor accepts the first kind, one without its start anchor the second.
  it.each(Object.entries(NOT_NHS_NUMBERS))(
    'R12: refuses every generated input that is %s',
    (_kind, arbitrary) => {
      fc.assert(
        fc.property(arbitrary, (value) => {
          expect(isValidNhsNumber(value)).toBe(false);
        }),
        { numRuns: 300 },
      );
    },
  );

  it('R12: the check digit of a valid number with a tail is still refused (11 digits from a valid 10)', () => {
    expect(isValidNhsNumber('94347659190')).toBe(false);
    expect(isValidNhsNumber('9434765919x')).toBe(false);
    expect(isValidNhsNumber('x9434765919')).toBe(false);
  });

  it('nhsNumberCheckDigit refuses anything but exactly nine ASCII digits (a tail, a head, ten digits)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{9}$/).filter((nine) => expectedCheckDigit(nine) !== 'invalid'),
        fc.constantFrom('0', '9', 'x', ' ', '\n'),
        (nine, extra) => {
          expect(nhsNumberCheckDigit(`${nine}${extra}`)).toBeUndefined();
          expect(nhsNumberCheckDigit(`${extra}${nine}`)).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});
