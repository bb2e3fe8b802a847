import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTestRangeNhsNumber, isValidNhsNumber, randomTestRangeNhsNumber } from './nhs-number.ts';

describe('NHS test-range numbers (R15 sandbox)', () => {
  it.each([
    ['9999999999', true], // NHS England's published test number (nrl-behaviour.md §4.1)
    ['9995001624', true],
    ['9000000009', false], // valid, but a real-range number
    ['9278693472', false],
    ['9999999990', false], // 999 prefix, check digit wrong
    ['999999999', false],
  ])('%s → %s', (value, expected) => {
    expect(isTestRangeNhsNumber(value)).toBe(expected);
  });

  it('draws only valid 999 numbers, and different ones', () => {
    const drawn = Array.from({ length: 200 }, () => randomTestRangeNhsNumber(randomInt));
    for (const value of drawn) {
      expect(value).toMatch(/^999\d{7}$/);
      expect(isValidNhsNumber(value)).toBe(true);
    }
    expect(new Set(drawn).size).toBeGreaterThan(190);
  });
});
