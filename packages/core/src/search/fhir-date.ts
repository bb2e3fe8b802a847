/**
 * FHIR date search (mhd-balp.md §7): a value's precision sets its range, and each prefix is a
 * formula over the stored range's ends ({@link DateFormula}), which the store renders as SQL
 * and {@link formulaMatches} evaluates in memory.
 */
import { refuse } from '../outcomes.ts';
import { DATE_PREFIXES, type DateFormula, type DatePrefix, type TimeRange } from './search-model.ts';

const DAY = 86_400_000;
const FHIR_DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** A parsed FHIR date of any precision, or undefined. `minutes` allows the search-only `hh:mm`. */
function parse(value: string, minutes: boolean): TimeRange | undefined {
  const m = FHIR_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (h === undefined) {
    const low = Date.UTC(year, month - 1, day);
    if (mo === undefined) return { low, high: Date.UTC(year + 1, 0, 1) };
    if (d === undefined) return { low, high: Date.UTC(year, month, 1) };
    return { low, high: low + DAY };
  }
  if (s === undefined && !minutes) return undefined;
  const [hour, minute, second] = [Number(h), Number(mi), s === undefined ? 0 : Number(s)];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (zone !== undefined && zone !== 'Z') {
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
    if (zh > 14 || zm > 59) return undefined;
    offset = (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm) * 60_000;
  }
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const low = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
  const width = s === undefined ? 60_000 : frac === undefined ? 1000 : 1;
  return { low, high: low + width };
}

/** The half-open range a stored FHIR date, dateTime or instant covers; undefined if it is not one. */
export function rangeOfFhirDate(value: string | undefined): TimeRange | undefined {
  return value === undefined ? undefined : parse(value, false);
}

/** The range a search date covers (any precision down to `hh:mm`), without a prefix; undefined if it is not one. */
export function rangeOfSearchDate(value: string): TimeRange | undefined {
  return parse(value, true);
}

/** A date search value: an optional prefix (default `eq`) and a date of any precision. */
export function parseDateParameter(value: string, key: string): { prefix: DatePrefix; range: TimeRange } {
  const head = value.slice(0, 2);
  const prefix = (DATE_PREFIXES as readonly string[]).includes(head) ? (head as DatePrefix) : 'eq';
  const rest = prefix === head ? value.slice(2) : value;
  const range = rangeOfSearchDate(rest);
  if (!range)
    throw refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: not a FHIR date: ${value})`, key);
  return { prefix, range };
}

/** The prefix's meaning over a stored range `[lo, hi)` against the value's `[pl, ph)`. */
export function dateFormula(condition: { prefix: DatePrefix; range: TimeRange }, now: number): DateFormula {
  const { low: pl, high: ph } = condition.range;
  const within = [
    { end: 'low', op: '>=', value: pl },
    { end: 'high', op: '<=', value: ph },
  ] as const;
  switch (condition.prefix) {
    case 'eq':
      return [[...within]];
    case 'ne':
      return [[{ end: 'low', op: '<', value: pl }], [{ end: 'high', op: '>', value: ph }]];
    case 'gt':
      return [[{ end: 'high', op: '>', value: ph }]];
    case 'lt':
      return [[{ end: 'low', op: '<', value: pl }]];
    case 'ge':
      return [[{ end: 'high', op: '>', value: ph }], [...within]];
    case 'le':
      return [[{ end: 'low', op: '<', value: pl }], [...within]];
    case 'sa':
      return [[{ end: 'low', op: '>=', value: ph }]];
    case 'eb':
      return [[{ end: 'high', op: '<=', value: pl }]];
    case 'ap': {
      const slack = Math.max(DAY, Math.abs(now - pl) / 10);
      return [
        [
          { end: 'low', op: '<', value: ph + slack },
          { end: 'high', op: '>', value: pl - slack },
        ],
      ];
    }
  }
}

/** Evaluates a formula on a stored range in memory (unbounded ends are ±Infinity). */
export function formulaMatches(formula: DateFormula, target: TimeRange): boolean {
  return formula.some((clause) =>
    clause.every(({ end, op, value }) => {
      const side = end === 'low' ? target.low : target.high;
      if (op === '<') return side < value;
      if (op === '<=') return side <= value;
      if (op === '>') return side > value;
      return side >= value;
    }),
  );
}
