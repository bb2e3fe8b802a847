/**
 * FHIR date search (docs/consumer-api.md, FHIR R4 §3.1.1.4.2 and §2.24.0.4): a value's precision
 * sets the range it covers, and each prefix is a formula over the stored range's ends
 * ({@link DateFormula}), which the store renders as SQL and {@link formulaMatches} evaluates in
 * memory.
 */
import { refuse } from '../outcomes.ts';
import {
  DATE_PREFIXES,
  type DateFormula,
  type DateParameter,
  type DatePrefix,
  type TimeRange,
} from './search-model.ts';

const DAY = 86_400_000;

/** `YYYY[-MM[-DD[Thh:mm[:ss[.fff…]][zone]]]]`; the precisions a caller may use are checked after. */
const FHIR_DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Epoch ms of a UTC calendar time; unlike `Date.UTC`, years 0–99 are not taken as 19xx. */
function utc(year: number, month: number, day = 1, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

/**
 * The span of instants the registry stores and compares: FHIR dates run from year 0001 to 9999,
 * and so do the ISO 8601 instants the store writes (PostgreSQL's `timestamptz` holds more, but
 * JavaScript writes a year past 9999 as `+010000`, which it refuses, and a year before 0001 as
 * `-000001`). Anything outside is an unbounded end: {@link storableInstant}.
 */
export const EARLIEST_INSTANT = utc(1, 1);
/** The last millisecond of year 9999 (see {@link EARLIEST_INSTANT}). */
export const LATEST_INSTANT = utc(10000, 1) - 1;

/**
 * `ms` clamped to the span the store holds: before {@link EARLIEST_INSTANT} it is `-Infinity`,
 * after {@link LATEST_INSTANT} `+Infinity` (the store's `-infinity` and `infinity`). So the end
 * of 9999-12-31 and an `ap` range widened before year 1 stay what they mean, unbounded at that
 * side, instead of an instant the database cannot read.
 */
export function storableInstant(ms: number): number {
  if (ms < EARLIEST_INSTANT) return Number.NEGATIVE_INFINITY;
  if (ms > LATEST_INSTANT) return Number.POSITIVE_INFINITY;
  return ms;
}

/** A range with both ends made {@link storableInstant}. */
function storable(range: TimeRange): TimeRange {
  return { low: storableInstant(range.low), high: storableInstant(range.high) };
}

/** The days in a month of the proleptic Gregorian calendar. */
function daysIn(year: number, month: number): number {
  return new Date(utc(year, month + 1) - DAY).getUTCDate();
}

/** The zone's offset from UTC in ms (`Z` or none: 0); undefined outside FHIR's `-14:00`…`+14:00`. */
function offsetOf(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === 'Z') return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/**
 * A FHIR date of any precision as a range (clamped to the storable span), or undefined.
 * `minutes` allows the search-only `hh:mm`.
 */
function parse(value: string, minutes: boolean): TimeRange | undefined {
  const range = parseExact(value, minutes);
  return range && storable(range);
}

/** A FHIR date of any precision as its exact range, or undefined. */
function parseExact(value: string, minutes: boolean): TimeRange | undefined {
  const m = FHIR_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (mo === undefined) return { low: utc(year, 1), high: utc(year + 1, 1) };
  if (d === undefined) return { low: utc(year, month), high: utc(year, month + 1) };
  if (h === undefined) {
    const low = utc(year, month, day);
    return { low, high: low + DAY };
  }
  if (s === undefined && !minutes) return undefined;
  const [hour, minute, second] = [Number(h), Number(mi), s === undefined ? 0 : Number(s)];
  const offset = offsetOf(zone);
  if (hour > 23 || minute > 59 || second > 59 || offset === undefined) return undefined;
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const low = utc(year, month, day, hour, minute, second, millis) - offset;
  const width = s === undefined ? 60_000 : frac === undefined ? 1000 : 1;
  return { low, high: low + width };
}

/**
 * The half-open range `[low, high)` in epoch ms that a stored FHIR `date`, `dateTime` or
 * `instant` covers at its precision: a year, a month or a day (UTC), a second, or a millisecond
 * when there is a fraction (digits past the third are dropped). A time without a zone is taken
 * as UTC. An end outside years 0001–9999 (the end of 9999-12-31, a zone that moves 0001-01-01
 * back) is unbounded ({@link storableInstant}). Undefined when `value` is not such a date or
 * names an impossible one.
 */
export function rangeOfFhirDate(value: string): TimeRange | undefined {
  return parse(value, false);
}

/**
 * The range a search date (no prefix) covers: any precision of {@link rangeOfFhirDate} plus the
 * search-only minute precision `YYYY-MM-DDThh:mm` (optional zone). Undefined if it is not one.
 */
export function rangeOfSearchDate(value: string): TimeRange | undefined {
  return parse(value, true);
}

/**
 * Reads one date search value: an optional prefix from {@link DATE_PREFIXES} (none = `eq`), then
 * a search date ({@link rangeOfSearchDate}).
 *
 * @throws OperationOutcomeError 400 `INVALID_PARAMETER`, expression `key`, on any fault.
 */
export function parseDateParameter(value: string, key: string): { prefix: DatePrefix; range: TimeRange } {
  const invalid = (reason: string) =>
    refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: ${reason})`, key);
  const head = /^[a-z]{2}/.exec(value)?.[0];
  const prefix = DATE_PREFIXES.find((p) => p === head);
  if (head !== undefined && prefix === undefined) throw invalid(`unknown date prefix: ${head}`);
  const date = prefix === undefined ? value : value.slice(2);
  const range = rangeOfSearchDate(date);
  if (!range) throw invalid(`not a FHIR date: ${date}`);
  return { prefix: prefix ?? 'eq', range };
}

/**
 * The meaning of a prefixed date value as a formula over a stored range `[lo, hi)`, against the
 * value's range `[pl, ph)` (FHIR R4 §3.1.1.4.2): `eq` the stored range lies within the value's;
 * `ne` it does not; `gt`/`lt` it reaches past the value's end/before its start; `ge`/`le` as
 * `gt`/`lt` or `eq`; `sa`/`eb` it starts after/ends before the value's range; `ap` it overlaps
 * the value's range widened by 10 % of the value's distance from `now` (at least one day).
 */
export function dateFormula(condition: { prefix: DatePrefix; range: TimeRange }, now: number): DateFormula {
  const { low: pl, high: ph } = condition.range;
  const within = (): DateFormula[number] => [
    { end: 'low', op: '>=', value: pl },
    { end: 'high', op: '<=', value: ph },
  ];
  switch (condition.prefix) {
    case 'eq':
      return [within()];
    case 'ne':
      return [[{ end: 'low', op: '<', value: pl }], [{ end: 'high', op: '>', value: ph }]];
    case 'gt':
      return [[{ end: 'high', op: '>', value: ph }]];
    case 'lt':
      return [[{ end: 'low', op: '<', value: pl }]];
    case 'ge':
      return [[{ end: 'high', op: '>', value: ph }], within()];
    case 'le':
      return [[{ end: 'low', op: '<', value: pl }], within()];
    case 'sa':
      return [[{ end: 'low', op: '>=', value: ph }]];
    case 'eb':
      return [[{ end: 'high', op: '<=', value: pl }]];
    case 'ap': {
      const slack = Math.max(DAY, Math.abs(now - pl) / 10);
      return [
        [
          { end: 'low', op: '<', value: storableInstant(ph + slack) },
          { end: 'high', op: '>', value: storableInstant(pl - slack) },
        ],
      ];
    }
  }
}

/**
 * The meaning of a prefixed date value for `period` (docs/consumer-api.md: the service period
 * *overlaps* the value's range), over the stored period `[lo, hi)` against the value's
 * `[pl, ph)`: `eq` they overlap; `ne` they do not; `ge`/`le` the period reaches the value's
 * start/end or beyond it; `gt`/`lt` it reaches past the value's end/before its start; `sa`/`eb`
 * it starts after/ends before the value's range; `ap` it overlaps the widened range (as
 * {@link dateFormula}).
 */
export function periodFormula(condition: { prefix: DatePrefix; range: TimeRange }, now: number): DateFormula {
  const { low: pl, high: ph } = condition.range;
  switch (condition.prefix) {
    case 'eq':
      return [
        [
          { end: 'low', op: '<', value: ph },
          { end: 'high', op: '>', value: pl },
        ],
      ];
    case 'ne':
      return [[{ end: 'low', op: '>=', value: ph }], [{ end: 'high', op: '<=', value: pl }]];
    case 'ge':
      return [[{ end: 'high', op: '>', value: pl }]];
    case 'le':
      return [[{ end: 'low', op: '<', value: ph }]];
    default:
      return dateFormula(condition, now);
  }
}

/**
 * One value of a date parameter as a formula: a comma-separated OR of prefixed dates, each read
 * by {@link parseDateParameter} and given {@link periodFormula}'s meaning for `period` and
 * {@link dateFormula}'s otherwise.
 *
 * @throws OperationOutcomeError 400 `INVALID_PARAMETER`, expression `parameter`, on any fault.
 */
export function dateParameterFormula(parameter: DateParameter, value: string, now: number): DateFormula {
  const meaning = parameter === 'period' ? periodFormula : dateFormula;
  return value.split(',').flatMap((item) => meaning(parseDateParameter(item, parameter), now));
}

/** Evaluates a formula on a stored range in memory (an unbounded end is `±Infinity`). */
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
