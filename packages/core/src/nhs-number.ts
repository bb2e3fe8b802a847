/**
 * NHS number rules (R12; mhd-balp.md §6.1): ten digits whose tenth is the Modulus 11 check digit.
 */

/** The FHIR identifier system for NHS numbers. */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/**
 * The Modulus 11 check digit of an NHS number's first nine digits, or undefined when none
 * exists (no NHS number starts with them). Weights 10..2 on digits 1–9; check = 11 − (sum mod
 * 11); 11 → 0; 10 is never valid.
 */
export function nhsNumberCheckDigit(nineDigits: string): number | undefined {
  if (!/^\d{9}$/.test(nineDigits)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nineDigits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** True when `value` is ten digits with a valid Modulus 11 check digit ({@link nhsNumberCheckDigit}). */
export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  return nhsNumberCheckDigit(value.slice(0, 9)) === Number(value[9]);
}

/**
 * True for an NHS number of the test range NHS England issues for testing (999 prefix) that also
 * passes Modulus 11: the only patients a sandbox registry accepts (R15), so that a real patient
 * can never be written there.
 */
export function isTestRangeNhsNumber(value: string): boolean {
  return value.startsWith('999') && isValidNhsNumber(value);
}

/**
 * A test-range NHS number ({@link isTestRangeNhsNumber}) from a source of random integers
 * (`randomInt(n)` in `[0, n)`), e.g. `node:crypto`'s `randomInt`. Conformance plans draw fresh
 * patients with it on every run.
 */
export function randomTestRangeNhsNumber(randomInt: (limit: number) => number): string {
  for (;;) {
    const base = `999${String(randomInt(1_000_000)).padStart(6, '0')}`;
    const check = nhsNumberCheckDigit(base);
    if (check !== undefined) return `${base}${check}`;
  }
}
