/**
 * Search parameters of the audit API (mhd-balp.md §3.5; IHE ITI-81): `date` (a required
 * range), the ITI-81 criteria (`iti81-params.ts`), `_count`, `_sort` and the opaque keyset
 * `_cursor`. Unknown parameters are ignored (FHIR lenient search) and left out of links.
 */
import {
  EARLIEST_INSTANT,
  isValidNhsNumber,
  LATEST_INSTANT,
  NHS_NUMBER_SYSTEM,
  rangeOfSearchDate,
  refuse,
} from '@nir/core';
import type { AuditCursor, AuditQuery } from '@nir/store';
import type { Request } from 'express';
import { readIti81 } from './iti81-params.ts';

/** Largest and default page sizes. */
export const MAX_COUNT = 1000;
export const DEFAULT_COUNT = 100;

/** A parsed search: the store query, the page, and the parameters to repeat in links. */
export interface AuditSearch {
  query: AuditQuery;
  count: number;
  order: 'asc' | 'desc';
  after: AuditCursor | undefined;
  /** The parameters used, as `name=value` pairs, for `self` and `next` links. */
  used: [string, string][];
  /** The patient searched for, if any (the audit read concerns that patient). */
  patient: string | undefined;
}

/** All values of a query parameter. */
export function paramValues(req: Request, name: string): string[] {
  const value = req.query[name];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === 'string');
}

function single(req: Request, name: string): string | undefined {
  const values = paramValues(req, name);
  if (values.length > 1) throw refuse('INVALID_PARAMETER', `${name} may be given once`, name);
  return values[0];
}

/**
 * The instant range `[start, end)` a FHIR date or dateTime denotes (its precision sets the
 * width), within the span the store holds (years 0001-9999: `le9999-12-31` ends at the last
 * millisecond of 9999).
 */
export function dateRange(value: string, name = 'date'): { start: Date; end: Date } {
  const range = rangeOfSearchDate(value);
  if (!range) throw refuse('INVALID_PARAMETER', `${name}: '${value}' is not a FHIR date or dateTime`, name);
  return {
    start: new Date(Math.max(range.low, EARLIEST_INSTANT)),
    end: new Date(Math.min(range.high, LATEST_INSTANT)),
  };
}

/** A `date` range from its prefixed values: both bounds are required (400 otherwise). */
export function parseDateBounds(values: string[], name = 'date'): { from: string; to: string } {
  let from: Date | undefined;
  let to: Date | undefined;
  for (const raw of values) {
    const m = /^(eq|ge|gt|le|lt)?(.*)$/.exec(raw);
    const prefix = m?.[1] ?? 'eq';
    const { start, end } = dateRange(m?.[2] ?? raw, name);
    const later = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
    const earlier = (a: Date | undefined, b: Date) => (a && a < b ? a : b);
    if (prefix === 'ge' || prefix === 'eq') from = later(from, start);
    if (prefix === 'gt') from = later(from, end);
    if (prefix === 'lt') to = earlier(to, start);
    if (prefix === 'le' || prefix === 'eq') to = earlier(to, end);
  }
  if (!from || !to) {
    throw refuse(
      'INVALID_PARAMETER',
      `${name}: a range is required, e.g. ${name}=ge2026-11-01&${name}=lt2026-12-01`,
      name,
    );
  }
  if (from >= to) throw refuse('INVALID_PARAMETER', `${name}: the range is empty`, name);
  return { from: from.toISOString(), to: to.toISOString() };
}

/** `system|value` or `value` → its parts. */
function token(raw: string): { system: string | undefined; value: string } {
  const bar = raw.indexOf('|');
  return bar < 0
    ? { system: undefined, value: raw }
    : { system: raw.slice(0, bar), value: raw.slice(bar + 1) };
}

/** An NHS number given as `https://fhir.nhs.uk/Id/nhs-number|<nhs>` or `<nhs>`; 400 otherwise. */
export function nhsNumberParam(raw: string, name: string): string {
  const { system, value } = token(raw);
  if ((system !== undefined && system !== NHS_NUMBER_SYSTEM) || !isValidNhsNumber(value)) {
    throw refuse(
      'INVALID_PARAMETER',
      `${name} must be a valid NHS number (${NHS_NUMBER_SYSTEM}|<nhs number>)`,
      name,
    );
  }
  return value;
}

function cursor(raw: string): AuditCursor {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { r?: unknown; i?: unknown };
    if (typeof value.r === 'string' && typeof value.i === 'string' && !Number.isNaN(Date.parse(value.r))) {
      if (/^[0-9a-f-]{36}$/.test(value.i)) return { recorded: value.r, id: value.i };
    }
  } catch {
    // fall through
  }
  throw refuse('INVALID_PARAMETER', '_cursor is not a cursor this server issued', '_cursor');
}

/** Encodes a keyset position as an opaque `_cursor`. */
export function encodeCursor(position: AuditCursor): string {
  return Buffer.from(JSON.stringify({ r: position.recorded, i: position.id }), 'utf8').toString('base64url');
}

/** Parses `GET /AuditEvent` parameters; throws 400 refusals for bad or missing ones. */
export function parseAuditSearch(req: Request): AuditSearch {
  const used: [string, string][] = [];
  const dates = paramValues(req, 'date');
  const { from, to } = parseDateBounds(dates);
  for (const d of dates) used.push(['date', d]);
  const iti81 = readIti81(req);
  const query: AuditQuery = { from, to, ...iti81.query };
  used.push(...iti81.used);
  const patient = iti81.patient;
  const countRaw = single(req, '_count');
  const count = countRaw === undefined ? DEFAULT_COUNT : Number(countRaw);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw refuse('INVALID_PARAMETER', `_count must be an integer from 1 to ${MAX_COUNT}`, '_count');
  }
  if (countRaw !== undefined) used.push(['_count', countRaw]);
  const sort = single(req, '_sort');
  if (sort !== undefined && sort !== 'date' && sort !== '-date') {
    throw refuse('INVALID_PARAMETER', '_sort must be date or -date', '_sort');
  }
  if (sort !== undefined) used.push(['_sort', sort]);
  const cursorRaw = single(req, '_cursor');
  return {
    query,
    count,
    order: sort === 'date' ? 'asc' : 'desc',
    after: cursorRaw === undefined ? undefined : cursor(cursorRaw),
    used,
    patient,
  };
}
