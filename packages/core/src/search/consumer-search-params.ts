/**
 * Reads a consumer search (docs/consumer-api.md; nrl-behaviour.md §2.2; mhd-balp.md §1.4) into
 * a {@link PointerSearch}: NRL's parameters with NRL's refusals, the rest of ITI-67, and the
 * NIR custodian subset and exclusion filters. Pure: the caller passes the compiled grant and the
 * terminology.
 */
import { isValidNhsNumber } from '../nhs-number.ts';
import { type ErrorCode, refuse } from '../outcomes.ts';
import type { Terminology } from '../pointer/terminology.ts';
import { type CodedToken, expandCodedToken, readCodedToken } from './coded-token.ts';
import { dateParameterFormula } from './fhir-date.ts';
import { decodePageToken } from './page-token.ts';
import { DATE_PARAMETERS, type PointerSearch, TOKEN_PARAMETERS } from './search-model.ts';
import { tokenQueryKeys } from './token.ts';
import type { TypeAccess } from './type-access.ts';

/** The patient parameter and its accepted aliases (NRL's first, then MHD's). */
export const PATIENT_KEYS = [
  'subject:identifier',
  'patient:identifier',
  'patient.identifier',
  'subject.identifier',
];

/** Every accepted key, in the order the self link lists them. */
export const CONSUMER_SEARCH_KEYS: readonly string[] = [
  'subject:identifier',
  'custodian:identifier',
  'type',
  'category',
  'exclude-custodian',
  ...TOKEN_PARAMETERS,
  ...DATE_PARAMETERS,
  '_id',
  '_summary',
  '_count',
  '_page_token',
];
const ACCEPTED = new Set([...CONSUMER_SEARCH_KEYS, ...PATIENT_KEYS, '_format']);

/** A patient search value, `https://fhir.nhs.uk/Id/nhs-number|<digits>` (NRL's pattern). */
export const NHS_NUMBER_PARAMETER = /^https:\/\/fhir\.nhs\.uk\/Id\/nhs-number\|(\d+)$/;
const ODS_PARAMETER = /^https:\/\/fhir\.nhs\.uk\/Id\/ods-organization-code\|(\w+)$/;
const STATUS_CODES = new Set(['current', 'superseded', 'entered-in-error']);
const STATUS_SYSTEM = 'http://hl7.org/fhir/document-reference-status';

/** Where the parameters came from: NRL words the faults of a JSON body differently. */
export type ParameterSource = 'query' | 'json-body';

/** What the reader needs besides the parameters. */
export interface ConsumerSearchContext {
  access: TypeAccess;
  terminology: Terminology;
  /** The largest page size `_count` gets. */
  maxCount: number;
  /** Now, for the `ap` prefix. */
  now: number;
  source: ParameterSource;
  /** `Prefer: handling=lenient` (FHIR): unknown keys are ignored instead of refused as NRL does. */
  lenient?: boolean;
}

/** A read search and the parameters it used, in self-link order (NHS number key normalised). */
export interface ReadConsumerSearch {
  search: PointerSearch;
  used: [string, string][];
}

function fault(source: ParameterSource, key: string, message: string, code: ErrorCode = 'INVALID_PARAMETER') {
  if (source === 'json-body' && code === 'INVALID_PARAMETER') {
    return refuse('MESSAGE_NOT_WELL_FORMED', `Request body could not be parsed (${key}: ${message})`, key);
  }
  return refuse(code, `Invalid query parameter (${key}: ${message})`, key);
}

function valuesOf(params: Record<string, unknown>, key: string, source: ParameterSource): string[] {
  const raw = params[key];
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((value) => {
    if (typeof value !== 'string') throw fault(source, key, 'Input should be a valid string');
    return value;
  });
}

function once(params: Record<string, unknown>, key: string, source: ParameterSource): string | undefined {
  const values = valuesOf(params, key, source);
  if (values.length > 1) throw fault(source, key, 'give it once');
  return values[0];
}

function items(value: string, key: string, source: ParameterSource): string[] {
  const list = value.split(',').map((item) => item.trim());
  if (list.some((item) => item === '')) throw fault(source, key, 'empty value in a list');
  return list;
}

function readPatient(
  params: Record<string, unknown>,
  context: ConsumerSearchContext,
  count: boolean,
): { key: string; nhsNumber: string } {
  const { source } = context;
  const present = PATIENT_KEYS.filter((key) => params[key] !== undefined);
  if (present.length === 0) throw fault(source, 'subject:identifier', 'Field required');
  const [key = 'subject:identifier', other] = present;
  if (other !== undefined) throw fault(source, other, `the patient is already given by ${key}`);
  const value = once(params, key, source) ?? '';
  const nhsNumber = NHS_NUMBER_PARAMETER.exec(value)?.[1];
  if (nhsNumber === undefined) {
    throw fault(
      source,
      key,
      `String should match pattern '^https\\:\\/\\/fhir\\.nhs\\.uk\\/Id\\/nhs-number\\|(\\d+)$'`,
    );
  }
  if (!isValidNhsNumber(nhsNumber)) {
    throw refuse(
      count ? 'INVALID_IDENTIFIER_VALUE' : 'INVALID_NHS_NUMBER',
      `Invalid NHS number provided in the query parameters (${key}=${value})`,
      key,
    );
  }
  return { key, nhsNumber };
}

/** Custodian values: one OR group (the commas) per repeated parameter. */
function readCustodians(params: Record<string, unknown>, key: string, source: ParameterSource): string[][] {
  return valuesOf(params, key, source).map((value) =>
    items(value, key, source).map((item) => {
      const ods = ODS_PARAMETER.exec(item)?.[1];
      if (ods === undefined) {
        throw fault(
          source,
          key,
          `String should match pattern '^https\\:\\/\\/fhir\\.nhs\\.uk\\/Id\\/ods-organization-code\\|(\\w+)$'`,
        );
      }
      return ods.toUpperCase();
    }),
  );
}

/**
 * A coded parameter (`type`, `category`): one OR group per repeated parameter, each comma item
 * a FHIR token (`system|code`, `code`, `system|`, `|code`) resolved to the `candidates` it
 * matches; undefined when absent. An item matching no candidate is refused by `outside`.
 */
function readCoded(
  params: Record<string, unknown>,
  key: string,
  source: ParameterSource,
  candidates: (token: CodedToken) => readonly string[],
  outside: (item: string) => Error,
): string[][] | undefined {
  const values = valuesOf(params, key, source);
  if (values.length === 0) return undefined;
  return values.map((value) => {
    const group = new Set<string>();
    for (const item of items(value, key, source)) {
      const token = readCodedToken(item);
      if (!token) {
        throw fault(source, key, `expected a token (system|code, code, system| or |code), got '${item}'`);
      }
      const matched = expandCodedToken(token, candidates(token));
      if (matched.length === 0) throw outside(item);
      for (const code of matched) group.add(code);
    }
    return [...group];
  });
}

/**
 * `type`: the granted types a token matches (R3), so a bare code matches only the granted
 * types that carry it. With `ALLOW_ALL_TYPES` every published type, and an exact `system|code`
 * outside the published set too (it matches nothing, as before).
 */
function readTypes(params: Record<string, unknown>, context: ConsumerSearchContext): string[][] | undefined {
  const { access } = context;
  const published = context.terminology.pointerTypes.all().map((c) => `${c.system}|${c.code}`);
  const candidates = (token: CodedToken): readonly string[] => {
    if (access.kind === 'listed') return access.types;
    if (token.system && token.code) return [...published, `${token.system}|${token.code}`];
    return published;
  };
  return readCoded(params, 'type', context.source, candidates, (type) =>
    refuse(
      'INVALID_CODE_SYSTEM',
      `Invalid type (${type}): not a type this organisation is allowed to access`,
      'type',
    ),
  );
}

/** `category`: the NIR-PointerCategory concepts a token matches. */
function readCategories(
  params: Record<string, unknown>,
  context: ConsumerSearchContext,
): string[][] | undefined {
  const categories = context.terminology.categories.all().map((c) => `${c.system}|${c.code}`);
  return readCoded(
    params,
    'category',
    context.source,
    () => categories,
    (category) =>
      refuse('INVALID_CODE_SYSTEM', `Invalid category (${category}): not a NIR pointer category`, 'category'),
  );
}

function checkStatus(value: string, source: ParameterSource): void {
  for (const item of items(value, 'status', source)) {
    const bar = item.lastIndexOf('|');
    const system = bar < 0 ? undefined : item.slice(0, bar);
    const code = item.slice(bar + 1);
    if ((system !== undefined && system !== '' && system !== STATUS_SYSTEM) || !STATUS_CODES.has(code)) {
      throw fault(source, 'status', `not a DocumentReference status: '${item}'`);
    }
  }
}

function readPaging(params: Record<string, unknown>, context: ConsumerSearchContext) {
  const { source } = context;
  const summary = once(params, '_summary', source);
  if (summary !== undefined && summary !== 'count')
    throw fault(source, '_summary', "only 'count' is supported");
  const countValue = once(params, '_count', source);
  if (countValue !== undefined && !/^\d{1,9}$/.test(countValue)) {
    throw fault(source, '_count', 'Input should be a whole number, 0 or more');
  }
  const token = once(params, '_page_token', source);
  return {
    summaryCount: summary === 'count',
    count: countValue === undefined ? undefined : Math.min(Number(countValue), context.maxCount),
    after: token === undefined ? undefined : decodePageToken(token),
  };
}

/**
 * Reads and checks a consumer search. Throws the first fault as NRL reports it: unknown key
 * (400 `INVALID_PARAMETER`, or `MESSAGE_NOT_WELL_FORMED` in a JSON body), patient, custodians,
 * type (400 `INVALID_CODE_SYSTEM` outside the grant), category, the ITI-67 parameters, paging.
 */
export function readConsumerSearch(
  params: Record<string, unknown>,
  context: ConsumerSearchContext,
): ReadConsumerSearch {
  const { source } = context;
  const unknown = Object.keys(params).find((key) => !ACCEPTED.has(key));
  if (unknown !== undefined && !context.lenient)
    throw fault(source, unknown, 'Extra inputs are not permitted');
  const paging = readPaging(params, context);
  const patient = readPatient(params, context, paging.summaryCount);
  const search: PointerSearch = {
    nhsNumber: patient.nhsNumber,
    tokens: [],
    dates: [],
    summaryCount: paging.summaryCount,
  };
  const custodians = readCustodians(params, 'custodian:identifier', source);
  if (custodians.length > 0) search.custodians = custodians;
  const excluded = readCustodians(params, 'exclude-custodian', source).flat();
  if (excluded.length > 0) search.excludedCustodians = excluded;
  const types = readTypes(params, context);
  if (types) search.types = types;
  const categories = readCategories(params, context);
  if (categories) search.categories = categories;
  for (const key of TOKEN_PARAMETERS) {
    for (const value of valuesOf(params, key, source)) {
      if (key === 'status') checkStatus(value, source);
      search.tokens.push(tokenQueryKeys(key, value, key));
    }
  }
  for (const key of DATE_PARAMETERS) {
    for (const value of valuesOf(params, key, source)) {
      search.dates.push({ parameter: key, formula: dateParameterFormula(key, value, context.now) });
    }
  }
  const ids = valuesOf(params, '_id', source).flatMap((value) => items(value, '_id', source));
  if (ids.length > 0) search.ids = ids;
  if (paging.count !== undefined) search.count = paging.count;
  if (paging.after) search.after = paging.after;

  const used: [string, string][] = [];
  for (const key of CONSUMER_SEARCH_KEYS) {
    const from = key === 'subject:identifier' ? patient.key : key;
    for (const value of valuesOf(params, from, source)) used.push([key, value]);
  }
  return { search, used };
}
