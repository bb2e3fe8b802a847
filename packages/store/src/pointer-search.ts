/**
 * The consumer search in SQL (docs/consumer-api.md): one statement per page, led by the NHS
 * number (`pointer_patient_recent`), that filters by the compiled grant and the search, counts
 * every match and returns one keyset page with each pointer's JSON as text, so that the
 * response is spliced together without parsing what was stored. Also the search columns
 * themselves: written with each version, recomputed for rows of an older `searchFactsOf`
 * (`search-facts.ts`).
 */
import type {
  DateFormula,
  DateParameter,
  PointerSearch,
  RangeComparison,
  SearchCursor,
  SearchFacts,
  TimeRange,
  TypeAccess,
} from '@nir/core';
import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type RawBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { isoTimestamp } from './schema.ts';

type Db = Kysely<DatabaseSchema>;
type PointerRow = ExpressionBuilder<DatabaseSchema, 'pointer'>;

/** One pointer of a page: what the response and the audit need, the resource as stored text. */
export interface PageEntry {
  id: string;
  custodian: string;
  createdOn: string;
  /** The DocumentReference JSON exactly as stored. */
  json: string;
}

/** A page of a consumer search. */
export interface SearchPage {
  /** Every match the caller may see (not just this page). */
  total: number;
  entries: PageEntry[];
  /** Where the next page starts, when there is one. */
  next?: SearchCursor;
}

/** A time as SQL: an ISO instant, or ±infinity. */
export function sqlInstant(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'infinity';
  if (ms === Number.NEGATIVE_INFINITY) return '-infinity';
  return new Date(ms).toISOString();
}

/** The search columns of a pointer row (migration 0005) from its facts. */
export function factColumns(facts: SearchFacts) {
  const range = (r: TimeRange | null) => (r ? [sqlInstant(r.low), sqlInstant(r.high)] : [null, null]);
  const [dateLow, dateHigh] = range(facts.date);
  const [periodLow, periodHigh] = range(facts.period);
  return {
    search_tokens: facts.tokens,
    date_low: dateLow ?? null,
    date_high: dateHigh ?? null,
    creation_low: facts.creation.map((r) => sqlInstant(r.low)),
    creation_high: facts.creation.map((r) => sqlInstant(r.high)),
    period_low: periodLow ?? null,
    period_high: periodHigh ?? null,
  };
}

/** The grant as a SQL condition on `type` (R3): deny by default. */
export function typeAccessCondition(eb: PointerRow, access: TypeAccess): Expression<SqlBool> {
  if (access.kind === 'all') return eb.lit(true);
  if (access.types.length === 0) return eb.lit(false);
  return eb('type', 'in', [...access.types]);
}

function rangeCondition(formula: DateFormula, low: RawBuilder<unknown>, high: RawBuilder<unknown>) {
  const comparison = (c: RangeComparison) =>
    sql`${c.end === 'low' ? low : high} ${sql.raw(c.op)} ${sqlInstant(c.value)}::timestamptz`;
  const clauses = formula.map((clause) => sql`(${sql.join(clause.map(comparison), sql` AND `)})`);
  return clauses.length === 0 ? sql<SqlBool>`false` : sql<SqlBool>`(${sql.join(clauses, sql` OR `)})`;
}

/** A date condition on one parameter's columns. */
export function dateCondition(parameter: DateParameter, formula: DateFormula): RawBuilder<SqlBool> {
  switch (parameter) {
    case 'date':
      return rangeCondition(formula, sql.ref('date_low'), sql.ref('date_high'));
    case 'period':
      return rangeCondition(formula, sql.ref('period_low'), sql.ref('period_high'));
    case '_lastUpdated':
      return rangeCondition(formula, sql.ref('updated_on'), sql`(updated_on + interval '1 millisecond')`);
    case 'creation':
      return sql<SqlBool>`EXISTS (SELECT 1 FROM unnest(creation_low, creation_high) AS c(lo, hi) WHERE ${rangeCondition(
        formula,
        sql.ref('c.lo'),
        sql.ref('c.hi'),
      )})`;
  }
}

/** Every condition of a search but the keyset position. */
function matches(eb: PointerRow, search: PointerSearch, access: TypeAccess): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [
    eb('nhs_number', '=', search.nhsNumber),
    typeAccessCondition(eb, access),
  ];
  for (const types of search.types ?? []) conditions.push(eb('type', 'in', types));
  for (const categories of search.categories ?? []) conditions.push(eb('category', 'in', categories));
  for (const custodians of search.custodians ?? []) conditions.push(eb('custodian', 'in', custodians));
  if (search.excludedCustodians) conditions.push(eb('custodian', 'not in', search.excludedCustodians));
  if (search.ids) conditions.push(eb('id', 'in', search.ids));
  for (const keys of search.tokens) {
    conditions.push(sql<SqlBool>`search_tokens && ARRAY[${sql.join(keys)}]::text[]`);
  }
  for (const { parameter, formula } of search.dates) conditions.push(dateCondition(parameter, formula));
  return eb.and(conditions);
}

/** The count statement of a search (exported for the explain-plan test). */
export function countStatement(db: Db, search: PointerSearch, access: TypeAccess) {
  return db
    .selectFrom('pointer')
    .select((eb) => eb.fn.countAll<string | number>().as('total'))
    .where((eb) => matches(eb, search, access));
}

/** Counts what a search matches for the caller (`_summary=count`). */
export async function countPointers(db: Db, search: PointerSearch, access: TypeAccess): Promise<number> {
  const row = await countStatement(db, search, access).executeTakeFirstOrThrow();
  return Number(row.total);
}

/**
 * The page statement of a search: the matches once (a CTE), their count, and the page after
 * the cursor, newest first, `pageSize + 1` rows to tell whether another page follows.
 */
export function pageStatement(db: Db, search: PointerSearch, access: TypeAccess, pageSize: number) {
  const after = search.after;
  return db
    .with('m', (qb) =>
      qb
        .selectFrom('pointer')
        .select(['id', 'custodian', 'created_on', 'resource'])
        .where((eb) => matches(eb, search, access)),
    )
    .selectFrom((qb) =>
      qb
        .selectFrom('m')
        .select((eb) => eb.fn.countAll<string | number>().as('total'))
        .as('t'),
    )
    .leftJoinLateral(
      (qb) => {
        let page = qb
          .selectFrom('m')
          .select(['m.id', 'm.custodian', 'm.created_on', sql<string>`m.resource::text`.as('json')]);
        if (after) {
          page = page.where(
            sql<SqlBool>`(m.created_on, m.id) < (${after.createdOn}::timestamptz, ${after.id})`,
          );
        }
        return page
          .orderBy('m.created_on', 'desc')
          .orderBy('m.id', 'desc')
          .limit(pageSize + 1)
          .as('p');
      },
      (join) => join.onTrue(),
    )
    .select(['t.total', 'p.id', 'p.custodian', 'p.created_on', 'p.json']);
}

/** One page of a search, newest first, with the exact total: a single statement. */
export async function searchPointers(
  db: Db,
  search: PointerSearch,
  access: TypeAccess,
  pageSize: number,
): Promise<SearchPage> {
  if (pageSize <= 0) return { total: await countPointers(db, search, access), entries: [] };
  const rows = await pageStatement(db, search, access, pageSize).execute();
  const total = Number(rows[0]?.total ?? 0);
  const entries: PageEntry[] = [];
  for (const row of rows) {
    if (row.id === null || row.id === undefined || row.created_on === null || row.created_on === undefined)
      continue;
    entries.push({
      id: row.id,
      custodian: row.custodian ?? '',
      createdOn: isoTimestamp(row.created_on),
      json: row.json ?? '',
    });
  }
  if (entries.length <= pageSize) return { total, entries };
  entries.length = pageSize;
  const last = entries[pageSize - 1] as PageEntry;
  return { total, entries, next: { createdOn: last.createdOn, id: last.id } };
}
