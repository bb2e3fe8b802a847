/**
 * fast-check generators of NHS numbers for property tests (R12): valid ones, and each kind of
 * input that must be refused, named, so that a property can say which inputs it refuses and
 * why. The check digit is computed here independently of `nhs-number.ts`, so that a broken
 * rule cannot generate its own expectations. Test support only: imported by `*.test.ts` files
 * and the end-to-end tests, never by the registry.
 */
import fc from 'fast-check';

/** The Modulus 11 check digit of nine ASCII digits, or undefined (a result of 10): written apart from the rule. */
export function independentCheckDigit(nineDigits: string): number | undefined {
  const sum = [...nineDigits].reduce((acc, digit, i) => acc + (10 - i) * (digit.charCodeAt(0) - 48), 0);
  const check = (11 - (sum % 11)) % 11;
  return check === 10 ? undefined : check;
}

/** Valid NHS numbers: nine digits with a check digit that exists, and that check digit. */
export const validNhsNumber: fc.Arbitrary<string> = fc
  .stringMatching(/^\d{9}$/)
  .filter((nine) => independentCheckDigit(nine) !== undefined)
  .map((nine) => `${nine}${independentCheckDigit(nine)}`);

/** Characters that are not ASCII digits (letters, signs, spaces, other scripts' digits). */
const nonDigit: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(' ', '-', '+', '.', 'l', 'O', 'x', '\t', '\n', '٩', '９', '0\u0301', '\u0000'),
  fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }).filter((c) => !/^[0-9]$/.test(c)),
);

/** Every kind of input that is not an NHS number, each with the reason it must be refused. */
export const NOT_NHS_NUMBERS: Record<string, fc.Arbitrary<string>> = {
  // A valid number with anything after it: what a pattern without its end anchor lets through.
  'a valid number with trailing characters': fc
    .tuple(
      validNhsNumber,
      fc.oneof(fc.stringMatching(/^\d{1,5}$/), fc.string({ minLength: 1, maxLength: 6 })),
    )
    .map(([valid, tail]) => `${valid}${tail}`),
  'a valid number with leading characters': fc
    .tuple(
      fc.oneof(fc.stringMatching(/^\d{1,5}$/), fc.string({ minLength: 1, maxLength: 6 })),
      validNhsNumber,
    )
    .map(([head, valid]) => `${head}${valid}`),
  'eleven to twenty digits': fc.stringMatching(/^\d{11,20}$/),
  'nine digits or fewer': fc.stringMatching(/^\d{0,9}$/),
  'a wrong check digit': fc
    .tuple(validNhsNumber, fc.integer({ min: 1, max: 9 }))
    .map(([valid, shift]) => `${valid.slice(0, 9)}${(Number(valid[9]) + shift) % 10}`),
  'nine digits whose check digit would be 10, with any tenth digit': fc
    .tuple(
      fc.stringMatching(/^\d{9}$/).filter((nine) => independentCheckDigit(nine) === undefined),
      fc.integer({ min: 0, max: 9 }),
    )
    .map(([nine, last]) => `${nine}${last}`),
  'a valid number with one character replaced by a non-digit': fc
    .tuple(validNhsNumber, fc.integer({ min: 0, max: 9 }), nonDigit)
    .map(([valid, at, c]) => `${valid.slice(0, at)}${c}${valid.slice(at + 1)}`),
};
