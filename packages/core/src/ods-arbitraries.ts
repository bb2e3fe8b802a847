/**
 * fast-check generators of ODS organisation codes for property tests (mhd-balp.md §6.2): the
 * shapes that can be a code, and each kind of input that cannot, named. Test support only.
 */
import fc from 'fast-check';

const ALPHANUMERIC = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];

/** Upper-case alphanumerics, 3 to 9 of them: the shape of an ODS code. */
export const odsCodeShape: fc.Arbitrary<string> = fc
  .array(fc.constantFrom(...ALPHANUMERIC), { minLength: 3, maxLength: 9 })
  .map((chars) => chars.join(''));

/** A printable ASCII character that cannot be in an ODS code. */
const foreign: fc.Arbitrary<string> = fc.constantFrom(...'abcxyz-_.|!/:;@#*+=,~ '.split(''), '%', "'", '"');

/** A character an HTTP header can carry between other characters (printable ASCII). */
const insertable = (code: string, at: number, c: string) => `${code.slice(0, at)}${c}${code.slice(at)}`;

/**
 * Every kind of input that is not an ODS code shape, each with the reason. All are printable
 * ASCII with no leading or trailing space, so that they can be sent as an HTTP header unchanged.
 */
export const NOT_ODS_CODES: Record<string, fc.Arbitrary<string>> = {
  // What a pattern without its end anchor lets through.
  'a code with trailing characters': fc
    .tuple(odsCodeShape, fc.array(foreign, { minLength: 1, maxLength: 3 }), fc.constantFrom('', 'A', '1'))
    .map(([code, tail, end]) => `${code}${tail.join('')}${end}`.trimEnd())
    .filter((s) => !/^[A-Z0-9]{3,9}$/.test(s)),
  'a code with leading characters': fc
    .tuple(fc.array(foreign, { minLength: 1, maxLength: 3 }), odsCodeShape)
    .map(([head, code]) => `${head.join('')}${code}`.trimStart())
    .filter((s) => !/^[A-Z0-9]{3,9}$/.test(s)),
  'ten or more alphanumerics': fc
    .array(fc.constantFrom(...ALPHANUMERIC), { minLength: 10, maxLength: 16 })
    .map((chars) => chars.join('')),
  'one or two alphanumerics': fc
    .array(fc.constantFrom(...ALPHANUMERIC), { minLength: 1, maxLength: 2 })
    .map((chars) => chars.join('')),
  'lower case': odsCodeShape.filter((code) => /[A-Z]/.test(code)).map((code) => code.toLowerCase()),
  'a code with a foreign character inside': fc
    .tuple(
      odsCodeShape,
      fc.nat(),
      foreign.filter((c) => c !== ' '),
    )
    .map(([code, at, c]) => insertable(code, 1 + (at % (code.length - 1)), c)),
};
