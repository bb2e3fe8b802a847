/** FHIR date search semantics (mhd-balp.md §7): precision ranges and the nine prefixes. */
import { describe, expect, it } from 'vitest';
import { isOperationOutcomeError } from '../outcomes.ts';
import { dateFormula, formulaMatches, parseDateParameter, rangeOfFhirDate } from './fhir-date.ts';
import type { TimeRange } from './search-model.ts';

const at = (iso: string) => Date.parse(iso);
const NOW = at('2026-11-28T00:00:00Z');

describe('rangeOfFhirDate', () => {
  it.each([
    ['2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['2026-02', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'],
    ['2024-02-29', '2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'],
    ['2026-11-18T14:30:00Z', '2026-11-18T14:30:00Z', '2026-11-18T14:30:01Z'],
    ['2026-11-18T14:30:00.25Z', '2026-11-18T14:30:00.250Z', '2026-11-18T14:30:00.251Z'],
    ['2025-01-01T00:30:00+01:00', '2024-12-31T23:30:00Z', '2024-12-31T23:30:01Z'],
    ['2026-11-18T14:30:00', '2026-11-18T14:30:00Z', '2026-11-18T14:30:01Z'],
  ])('%s covers [%s, %s)', (value, low, high) => {
    expect(rangeOfFhirDate(value)).toEqual({ low: at(low), high: at(high) });
  });

  it.each(['', '2025-13', '2025-02-30', '2025-1-1', '2026-11-18T24:00:00Z', '2026-11-18T14:30Z', 'soon'])(
    'is undefined for %j',
    (value) => {
      expect(rangeOfFhirDate(value)).toBeUndefined();
    },
  );
});

describe('parseDateParameter', () => {
  it('reads a prefix (eq by default) and the search-only minute precision', () => {
    expect(parseDateParameter('2026', 'date').prefix).toBe('eq');
    expect(parseDateParameter('ge2026-11-18T14:30Z', 'date')).toEqual({
      prefix: 'ge',
      range: { low: at('2026-11-18T14:30:00Z'), high: at('2026-11-18T14:31:00Z') },
    });
  });

  it.each(['gx2025', 'ge', '2025-02-30', 'eq2025-1'])(
    'refuses %j with 400 INVALID_PARAMETER naming the key',
    (value) => {
      try {
        parseDateParameter(value, 'period');
        expect.unreachable();
      } catch (error) {
        expect(isOperationOutcomeError(error) && error.issues[0]).toMatchObject({
          code: 'INVALID_PARAMETER',
          expression: 'period',
        });
      }
    },
  );
});

describe('dateFormula over a stored range', () => {
  const day = (iso: string): TimeRange => rangeOfFhirDate(iso) as TimeRange;
  const instant = (iso: string): TimeRange => ({ low: at(iso), high: at(iso) + 1 });
  const matches = (value: string, target: TimeRange) =>
    formulaMatches(dateFormula(parseDateParameter(value, 'date'), NOW), target);

  it.each([
    // value, target, expected
    ['2026-11-18', instant('2026-11-18T00:00:00Z'), true],
    ['2026-11-18', instant('2026-11-19T00:00:00Z'), false],
    ['2026-11', day('2026-11-18'), true],
    ['2026-11-18', day('2026-11'), false], // eq: the value's range must contain the target's
    ['ne2026-11-18', instant('2026-11-18T12:00:00Z'), false],
    ['ne2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    ['gt2026-11-18', instant('2026-11-18T23:59:59Z'), false],
    ['gt2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    ['lt2026-11-18', instant('2026-11-17T23:59:59.999Z'), true],
    ['lt2026-11-18', instant('2026-11-18T00:00:00Z'), false],
    ['ge2026-11-18', instant('2026-11-18T00:00:00Z'), true],
    ['ge2026-11-18', instant('2026-11-17T23:59:59.999Z'), false],
    ['le2026-11-18', instant('2026-11-18T23:59:59.999Z'), true],
    ['le2026-11-18', instant('2026-11-19T00:00:00Z'), false],
    ['sa2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    ['sa2026-11-18', instant('2026-11-18T12:00:00Z'), false],
    ['eb2026-11-18', instant('2026-11-17T12:00:00Z'), true],
    ['eb2026-11-18', instant('2026-11-18T00:00:00Z'), false],
    ['ap2026-11-18', instant('2026-11-19T12:00:00Z'), true],
    ['ap2026-11-18', instant('2026-11-25T00:00:00Z'), false],
  ])('%s against %j is %s', (value, target, expected) => {
    expect(matches(value, target)).toBe(expected);
  });

  it('period overlap: open ends are unbounded (mhd-balp.md §1.4)', () => {
    const openEnd = { low: at('2026-11-18T14:30:00Z'), high: Number.POSITIVE_INFINITY };
    const openStart = { low: Number.NEGATIVE_INFINITY, high: at('2026-11-17T00:00:00Z') };
    expect(matches('ge2027-01-01', openEnd)).toBe(true);
    expect(matches('lt2026-11-18', openEnd)).toBe(false);
    expect(matches('lt2000-01-01', openStart)).toBe(true);
    expect(matches('ge2026-11-17', openStart)).toBe(false);
    expect(matches('2026-11-18', openEnd)).toBe(false);
  });
});
