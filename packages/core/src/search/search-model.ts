/**
 * The consumer search model (docs/consumer-api.md): what a search asks for, in terms that the
 * store turns into one SQL query and that tests evaluate in memory. No HTTP, no SQL.
 */

/** FHIR date search prefixes (none = `eq`). */
export const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

/** A half-open time range `[low, high)` in epoch milliseconds; `±Infinity` is unbounded. */
export interface TimeRange {
  low: number;
  high: number;
}

/** One comparison of a stored range's `low` or `high` end with an instant (epoch ms). */
export interface RangeComparison {
  end: 'low' | 'high';
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

/**
 * A date condition as a formula over the stored range's ends, in disjunctive normal form: the
 * range matches when every comparison of at least one clause holds. The store renders it as
 * SQL; {@link RangeComparison}s evaluate it in memory; both read the same clauses.
 */
export type DateFormula = RangeComparison[][];

/** Token parameters matched against the pointer's indexed token keys. */
export const TOKEN_PARAMETERS = [
  'status',
  'setting',
  'facility',
  'event',
  'format',
  'security-label',
  'identifier',
  'related',
  'related:identifier',
] as const;
export type TokenParameter = (typeof TOKEN_PARAMETERS)[number];

/** Date parameters matched against the pointer's ranges. */
export const DATE_PARAMETERS = ['date', 'creation', 'period', '_lastUpdated'] as const;
export type DateParameter = (typeof DATE_PARAMETERS)[number];

/** The version of `searchFactsOf`: raise it when the facts change, and the store recomputes older rows. */
export const SEARCH_FACTS_VERSION = 1;

/**
 * What the store indexes of a pointer for search, computed at write time from the
 * DocumentReference by `searchFactsOf`.
 */
export interface SearchFacts {
  /** Token keys (`tokenKeys`): every coding or identifier of every token parameter. */
  tokens: string[];
  /** `DocumentReference.date` as a range (its precision); null when absent. */
  date: TimeRange | null;
  /** `content[].attachment.creation`, one range per attachment that has one. */
  creation: TimeRange[];
  /** `context.period`: `[start's low, end's high)`, open ends unbounded; null when absent. */
  period: TimeRange | null;
}

/** A cursor into the result order (newest first: stored time, then id, both descending). */
export interface SearchCursor {
  /** ISO instant with milliseconds, as the store keeps `created_on`. */
  createdOn: string;
  id: string;
}

/** One consumer search (or count), fully read and checked. */
export interface PointerSearch {
  nhsNumber: string;
  /**
   * `system|code` values: an AND of groups (one per repeated parameter), each an OR (the
   * commas of one value); undefined = every granted type.
   */
  types?: string[][];
  /** `system|code` values: an AND of OR groups, as `types`. */
  categories?: string[][];
  /** Only these custodians (ODS codes): an AND of OR groups, as `types`. */
  custodians?: string[][];
  /** Never these custodians. */
  excludedCustodians?: string[];
  /** Pointer ids, any of which matches. */
  ids?: string[];
  /** AND of token conditions; each is an OR of token keys. */
  tokens: string[][];
  /** AND of date conditions on one parameter each. */
  dates: { parameter: DateParameter; formula: DateFormula }[];
  /** Page size; undefined = the cap. */
  count?: number;
  /** `_summary=count`. */
  summaryCount: boolean;
  after?: SearchCursor;
}
