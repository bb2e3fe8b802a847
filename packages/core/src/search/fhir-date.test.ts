/**
 * FHIR date search semantics (docs/consumer-api.md "Dates take FHIR's prefixes…"; FHIR R4
 * §3.1.1.4.2 prefixes, §2.24.0.4 date types): precision ranges, the nine prefixes, open ends.
 */
import { describe, expect, it } from 'vitest';
import { isOperationOutcomeError } from '../outcomes.ts';
import {
  dateFormula,
  dateParameterFormula,
  EARLIEST_INSTANT,
  formulaMatches,
  LATEST_INSTANT,
  parseDateParameter,
  rangeOfFhirDate,
  rangeOfSearchDate,
  storableInstant,
} from './fhir-date.ts';
import type { DatePrefix, TimeRange } from './search-model.ts';

const at = (iso: string) => Date.parse(iso);
const NOW = at('2026-11-28T00:00:00Z');
const DAY = 86_400_000;
const { NEGATIVE_INFINITY: FAR_PAST, POSITIVE_INFINITY: FAR_FUTURE } = Number;

describe('rangeOfFhirDate: "the precision of the value sets its range"', () => {
  it.each([
    ['2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['2026-02', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'],
    ['2026-12', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['2024-02-29', '2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'],
    ['2026-12-31', '2026-12-31T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['2026-11-18T14:30:00Z', '2026-11-18T14:30:00Z', '2026-11-18T14:30:01Z'],
    ['2026-11-18T14:30:00.25Z', '2026-11-18T14:30:00.250Z', '2026-11-18T14:30:00.251Z'],
    ['2026-11-18T14:30:00.123456789Z', '2026-11-18T14:30:00.123Z', '2026-11-18T14:30:00.124Z'],
    ['2025-01-01T00:30:00+01:00', '2024-12-31T23:30:00Z', '2024-12-31T23:30:01Z'],
    ['2026-11-18T23:30:00-05:30', '2026-11-19T05:00:00Z', '2026-11-19T05:00:01Z'],
    ['2026-11-18T14:30:00+14:00', '2026-11-18T00:30:00Z', '2026-11-18T00:30:01Z'],
    ['2026-11-18T14:30:00', '2026-11-18T14:30:00Z', '2026-11-18T14:30:01Z'], // no zone: UTC
  ])('%s covers [%s, %s)', (value, low, high) => {
    expect(rangeOfFhirDate(value)).toEqual({ low: at(low), high: at(high) });
  });

  it('reads years before 100 as they are (not 19xx)', () => {
    const range = rangeOfFhirDate('0050');
    expect(range && new Date(range.low).getUTCFullYear()).toBe(50);
    expect(range && new Date(range.high).toISOString()).toBe('0051-01-01T00:00:00.000Z');
  });

  it.each([
    '',
    'soon',
    '2025-13',
    '2025-00',
    '2025-02-30',
    '2025-02-29', // not a leap year
    '2025-04-31',
    '2025-1-1',
    '0000',
    '25',
    '2026-11-18T24:00:00Z',
    '2026-11-18T14:60:00Z',
    '2026-11-18T14:30:60Z',
    '2026-11-18T14:30Z', // minutes are a search-only precision
    '2026-11-18T14:30:00+15:00',
    '2026-11-18T14:30:00+14:01',
    '2026-11-18T14:30:00+01:60',
    '2026-11-18T14:30:00.Z',
    '2026-11-18 14:30:00Z',
    '2026-11-18Z',
  ])('is undefined for %j', (value) => {
    expect(rangeOfFhirDate(value)).toBeUndefined();
  });

  it('rangeOfSearchDate also takes minutes, with or without a zone', () => {
    expect(rangeOfSearchDate('2026-11-18T14:30')).toEqual({
      low: at('2026-11-18T14:30:00Z'),
      high: at('2026-11-18T14:31:00Z'),
    });
    expect(rangeOfSearchDate('2026-11-18T14:30+01:00')?.low).toBe(at('2026-11-18T13:30:00Z'));
  });
});

describe('parseDateParameter', () => {
  it.each([
    ['2026', 'eq', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['eq2026-03', 'eq', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'],
    ['ge2026-11-18T14:30Z', 'ge', '2026-11-18T14:30:00Z', '2026-11-18T14:31:00Z'],
    ['lt2026-11-18T14:30', 'lt', '2026-11-18T14:30:00Z', '2026-11-18T14:31:00Z'],
    ['ap2026-11-18T14:30:00.5+01:00', 'ap', '2026-11-18T13:30:00.500Z', '2026-11-18T13:30:00.501Z'],
  ])('%s: prefix %s (none = eq), range [%s, %s)', (value, prefix, low, high) => {
    expect(parseDateParameter(value, 'date')).toEqual({ prefix, range: { low: at(low), high: at(high) } });
  });

  it.each(['ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const)('reads the prefix %s', (prefix) => {
    expect(parseDateParameter(`${prefix}2026`, 'date').prefix).toBe(prefix);
  });

  it.each([
    ['gx2025', 'unknown date prefix: gx'],
    ['', 'not a FHIR date: '],
    ['ge', 'not a FHIR date: '],
    ['2025-13', 'not a FHIR date: 2025-13'],
    ['2025-02-30', 'not a FHIR date: 2025-02-30'],
    ['2025-1-1', 'not a FHIR date: 2025-1-1'],
    ['eq2025-1', 'not a FHIR date: 2025-1'],
    ['GE2025', 'not a FHIR date: GE2025'],
    ['ge 2025', 'not a FHIR date:  2025'],
    ['2026-11-18T14', 'not a FHIR date: 2026-11-18T14'],
  ])('refuses %j: 400 INVALID_PARAMETER naming the key (%s)', (value, reason) => {
    let thrown: unknown;
    try {
      parseDateParameter(value, 'period');
    } catch (error) {
      thrown = error;
    }
    expect(isOperationOutcomeError(thrown) && thrown.issues[0]).toEqual({
      code: 'INVALID_PARAMETER',
      diagnostics: `Invalid query parameter (period: ${reason})`,
      expression: 'period',
    });
  });
});

describe('dateFormula and formulaMatches: FHIR prefix semantics over a stored range', () => {
  const range = (value: string): TimeRange => {
    const r = rangeOfFhirDate(value);
    if (!r) throw new Error(`bad fixture ${value}`);
    return r;
  };
  const instant = (iso: string): TimeRange => ({ low: at(iso), high: at(iso) + 1 });
  const matches = (value: string, target: TimeRange) =>
    formulaMatches(dateFormula(parseDateParameter(value, 'date'), NOW), target);

  it.each([
    // eq: the stored range lies within the value's range
    ['2026-11-18', instant('2026-11-18T00:00:00Z'), true],
    ['2026-11-18', instant('2026-11-18T23:59:59.999Z'), true],
    ['2026-11-18', instant('2026-11-19T00:00:00Z'), false],
    ['2026-11-18', instant('2026-11-17T23:59:59.999Z'), false],
    ['2026-11', range('2026-11-18'), true],
    ['2026-11-18', range('2026-11'), false],
    ['2026-11-18', range('2026-11-18'), true],
    // ne: not eq
    ['ne2026-11-18', instant('2026-11-18T12:00:00Z'), false],
    ['ne2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    ['ne2026-11-18', range('2026-11'), true],
    // gt: the stored range reaches past the value's end
    ['gt2026-11-18', instant('2026-11-18T23:59:59.999Z'), false],
    ['gt2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    ['gt2026-11-18', range('2026-11'), true],
    // lt: the stored range starts before the value's start
    ['lt2026-11-18', instant('2026-11-17T23:59:59.999Z'), true],
    ['lt2026-11-18', instant('2026-11-18T00:00:00Z'), false],
    ['lt2026-11-18', range('2026-11'), true],
    // ge: gt or eq
    ['ge2026-11-18', instant('2026-11-18T00:00:00Z'), true],
    ['ge2026-11-18', instant('2026-11-17T23:59:59.999Z'), false],
    ['ge2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    // le: lt or eq
    ['le2026-11-18', instant('2026-11-18T23:59:59.999Z'), true],
    ['le2026-11-18', instant('2026-11-19T00:00:00Z'), false],
    ['le2026-11-18', instant('2026-11-17T00:00:00Z'), true],
    // sa: starts after the value's range ends
    ['sa2026-11-18', instant('2026-11-19T00:00:00Z'), true],
    ['sa2026-11-18', instant('2026-11-18T23:59:59.999Z'), false],
    ['sa2026-11-18', range('2026-11'), false],
    // eb: ends before the value's range starts
    ['eb2026-11-18', instant('2026-11-17T23:59:59.999Z'), true],
    ['eb2026-11-18', instant('2026-11-18T00:00:00Z'), false],
    ['eb2026-11-18', range('2026-11'), false],
    // ap: overlaps the value's range widened by max(1 day, 10 % of |now - value|)
    ['ap2026-11-18', instant('2026-11-19T12:00:00Z'), true],
    ['ap2026-11-18', instant('2026-11-19T23:59:59.999Z'), true],
    ['ap2026-11-18', instant('2026-11-20T00:00:00Z'), false],
    ['ap2026-11-18', instant('2026-11-16T23:59:59.999Z'), false],
    ['ap2026-11-18', instant('2026-11-17T00:00:00Z'), true],
  ])('%s against %j is %s', (value, target, expected) => {
    expect(matches(value, target)).toBe(expected);
  });

  it('ap widens by 10 % of the distance from now when that exceeds a day', () => {
    // 2016-11-28 is 3652 days before NOW: slack = 365.2 days.
    const [clause] = dateFormula(parseDateParameter('ap2016-11-28', 'date'), NOW);
    const pl = at('2016-11-28T00:00:00Z');
    const slack = (NOW - pl) / 10;
    expect(clause).toEqual([
      { end: 'low', op: '<', value: pl + DAY + slack },
      { end: 'high', op: '>', value: pl - slack },
    ]);
    expect(matches('ap2016-11-28', range('2017-06'))).toBe(true);
    expect(matches('ap2016-11-28', range('2018'))).toBe(false);
  });

  it.each([
    [
      'eq',
      [
        [
          { end: 'low', op: '>=', value: 10 },
          { end: 'high', op: '<=', value: 20 },
        ],
      ],
    ],
    ['ne', [[{ end: 'low', op: '<', value: 10 }], [{ end: 'high', op: '>', value: 20 }]]],
    ['gt', [[{ end: 'high', op: '>', value: 20 }]]],
    ['lt', [[{ end: 'low', op: '<', value: 10 }]]],
    [
      'ge',
      [
        [{ end: 'high', op: '>', value: 20 }],
        [
          { end: 'low', op: '>=', value: 10 },
          { end: 'high', op: '<=', value: 20 },
        ],
      ],
    ],
    [
      'le',
      [
        [{ end: 'low', op: '<', value: 10 }],
        [
          { end: 'low', op: '>=', value: 10 },
          { end: 'high', op: '<=', value: 20 },
        ],
      ],
    ],
    ['sa', [[{ end: 'low', op: '>=', value: 20 }]]],
    ['eb', [[{ end: 'high', op: '<=', value: 10 }]]],
    [
      'ap',
      [
        [
          { end: 'low', op: '<', value: 20 + DAY },
          { end: 'high', op: '>', value: 10 - DAY },
        ],
      ],
    ],
  ] as const)('%s is the DNF formula of the contract', (prefix, formula) => {
    expect(dateFormula({ prefix: prefix as DatePrefix, range: { low: 10, high: 20 } }, 0)).toEqual(formula);
  });

  describe('open-ended stored ranges (a period with no start or no end is unbounded)', () => {
    const openEnd = { low: at('2026-11-18T14:30:00Z'), high: FAR_FUTURE };
    const openStart = { low: FAR_PAST, high: at('2026-11-17T00:00:00Z') };
    const unbounded = { low: FAR_PAST, high: FAR_FUTURE };
    it.each([
      ['ge2027-01-01', openEnd, true],
      ['gt2027-01-01', openEnd, true],
      ['lt2026-11-18', openEnd, false],
      ['le2026-11-18', openEnd, false],
      ['2026-11-18', openEnd, false],
      ['ne2026-11-18', openEnd, true],
      ['sa2026-11-17', openEnd, true],
      ['eb2030', openEnd, false],
      ['ap2030', openEnd, true],
      ['lt2000-01-01', openStart, true],
      ['ge2026-11-17', openStart, false],
      ['eb2026-11-17', openStart, true],
      ['sa1990', openStart, false],
      ['ap1990', openStart, true],
      ['2026', unbounded, false],
      ['ne2026', unbounded, true],
      ['gt2026', unbounded, true],
      ['lt2026', unbounded, true],
      ['sa2026', unbounded, false],
      ['eb2026', unbounded, false],
      ['ap2026', unbounded, true],
    ])('%s against %j is %s', (value, target, expected) => {
      expect(matches(value, target)).toBe(expected);
    });
  });

  it('an empty formula matches nothing', () => {
    expect(formulaMatches([], { low: FAR_PAST, high: FAR_FUTURE })).toBe(false);
  });
});

describe('periodFormula via dateParameterFormula: period means overlap (docs/consumer-api.md)', () => {
  // A service period 2025-02-27T23:00:00Z – 2025-03-02T01:00:00Z (its end's second included).
  const visit: TimeRange = { low: at('2025-02-27T23:00:00Z'), high: at('2025-03-02T01:00:01Z') };
  const open: TimeRange = { low: at('2025-06-01T00:00:00Z'), high: FAR_FUTURE };
  // Near NOW, so that `ap` widens by one day.
  const recent: TimeRange = { low: at('2026-11-20T00:00:00Z'), high: at('2026-11-21T00:00:01Z') };
  const matches = (value: string, target: TimeRange) =>
    formulaMatches(dateParameterFormula('period', value, NOW), target);

  it.each([
    ['2025-03', visit, true],
    ['2025-02', visit, true],
    ['2025-03-03', visit, false],
    ['2030', open, true],
    ['2025-05', open, false],
    ['ne2025-03', visit, false],
    ['ne2025-04', visit, true],
    ['ge2025-03-02T01:00:00Z', visit, true],
    ['gt2025-03-02T01:00:00Z', visit, false],
    ['le2025-02-27T23:00:00Z', visit, true],
    ['lt2025-02-27T23:00:00Z', visit, false],
    ['sa2025-03-02T01:00:00Z', visit, false],
    ['sa2025-02-27', visit, false],
    ['eb2025-02-27T23:00:00Z', visit, false],
    ['eb2025-03-03', visit, true],
    ['ap2026-11-25', recent, false],
    ['ap2026-11-22', recent, true],
  ])('%s against %j is %s', (value, target, expected) => {
    expect(matches(value, target)).toBe(expected);
  });

  it('a comma is an OR of dates, for period and the other date parameters', () => {
    expect(matches('2025-01,2025-03', visit)).toBe(true);
    expect(matches('2025-01,2025-05', visit)).toBe(false);
    const instant: TimeRange = { low: at('2025-03-01T12:00:00Z'), high: at('2025-03-01T12:00:01Z') };
    expect(formulaMatches(dateParameterFormula('date', '2025-01,2025-03', NOW), instant)).toBe(true);
    expect(formulaMatches(dateParameterFormula('date', '2025-01,2025-04', NOW), instant)).toBe(false);
  });

  it('an empty item is refused at the parameter', () => {
    expect(() => dateParameterFormula('creation', '2025,', NOW)).toThrow(/creation/);
  });
});

describe('the storable span (issue 14 point 3): nothing beyond years 0001-9999 reaches the store', () => {
  const values = (formula: ReturnType<typeof dateFormula>) => formula.flat().map((c) => c.value);
  const range = (value: string): TimeRange => {
    const r = rangeOfFhirDate(value);
    if (!r) throw new Error(`bad fixture ${value}`);
    return r;
  };
  const matches = (value: string, target: TimeRange) =>
    formulaMatches(dateFormula(parseDateParameter(value, 'date'), NOW), target);
  const storable = (ms: number) => !Number.isFinite(ms) || (ms >= EARLIEST_INSTANT && ms <= LATEST_INSTANT);

  it('spans 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z', () => {
    expect(new Date(EARLIEST_INSTANT).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(new Date(LATEST_INSTANT).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(storableInstant(LATEST_INSTANT + 1)).toBe(FAR_FUTURE);
    expect(storableInstant(EARLIEST_INSTANT - 1)).toBe(FAR_PAST);
    expect(storableInstant(NOW)).toBe(NOW);
  });

  it('the end of year 9999 is unbounded, its start is kept', () => {
    expect(rangeOfFhirDate('9999-12-31')).toEqual({ low: at('9999-12-31T00:00:00Z'), high: FAR_FUTURE });
    expect(rangeOfSearchDate('9999')).toEqual({ low: at('9999-01-01T00:00:00Z'), high: FAR_FUTURE });
    expect(rangeOfFhirDate('0001-01-01T00:00:00+01:00')?.low).toBe(FAR_PAST);
  });

  it.each([
    'le9999-12-31',
    'gt9999',
    'eq9999',
    'ge9999-12-31T23:59:59.999Z',
    'sa9999',
    'ap9999',
    'ap0001',
    'ap0001-01-01T00:00:00+14:00',
    'ne9999-12',
  ])('%s gives only storable instants, for date and period', (value) => {
    for (const parameter of ['date', 'period'] as const) {
      expect(values(dateParameterFormula(parameter, value, NOW)).every(storable)).toBe(true);
    }
  });

  it('keeps the meaning at the edges: le9999-12-31 takes everything, gt9999 nothing, ap0001 all of the past', () => {
    const stored = range('9999-12-31');
    expect(matches('le9999-12-31', stored)).toBe(true);
    expect(matches('eq9999', stored)).toBe(true);
    expect(matches('gt9999', stored)).toBe(false);
    expect(matches('le9999-12-31', range('2026-11-28'))).toBe(true);
    expect(matches('ap0001', range('0001-06-01'))).toBe(true);
    expect(matches('ap9999', range('9999-06-01'))).toBe(true);
  });
});
