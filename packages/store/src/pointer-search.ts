/**
 * The consumer search in SQL (docs/consumer-api.md): one statement per page, led by the NHS
 * number (`pointer_patient_recent`), that filters by the compiled grant and the search, counts
 * every match and returns one keyset page with each pointer's JSON as text, so that the
 * response is spliced together without parsing what was stored. Also the search columns
 * themselves: written with each version, recomputed for rows of an older `searchFactsOf`
 * (`search-facts.ts`).
 */
import type { PointerSearch, SearchCursor, SearchFacts, TimeRange, TypeAccess } from '@nir/core';
import { CompiledQuery, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { isoTimestamp } from './schema.ts';
import { countSql, pageSql, type SqlStatement, sqlInstant } from './search-sql.ts';

type Db = Kysely<DatabaseSchema>;

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
  /** The catalogue's version the statement read beside its rows (R6). */
  catalogueVersion: number;
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

/** The catalogue's version a statement read beside its rows (R6). */
function versionOf(row: { catalogue_version?: unknown } | undefined): number {
  return Number(row?.catalogue_version ?? 0);
}

async function run<R>(db: Db, statement: SqlStatement): Promise<R[]> {
  const result = await db.executeQuery<R>(CompiledQuery.raw(statement.sql, statement.parameters));
  return result.rows;
}

/** Counts what a search matches for the caller (`_summary=count`), with the catalogue's version. */
export async function countPointers(
  db: Db,
  search: PointerSearch,
  access: TypeAccess,
): Promise<{ total: number; catalogueVersion: number }> {
  const [row] = await run<{ catalogue_version: string; total: string | number }>(
    db,
    countSql(search, access),
  );
  return { total: Number(row?.total ?? 0), catalogueVersion: versionOf(row) };
}

interface PageRow {
  catalogue_version: string;
  total: string | number;
  id: string | null;
  custodian: string | null;
  created_on: Date | string | null;
  json: string | null;
}

/** One page of a search, newest first, with the exact total and the catalogue's version: one statement. */
export async function searchPointers(
  db: Db,
  search: PointerSearch,
  access: TypeAccess,
  pageSize: number,
): Promise<SearchPage> {
  if (pageSize <= 0) {
    const { total, catalogueVersion } = await countPointers(db, search, access);
    return { total, entries: [], catalogueVersion };
  }
  const rows = await run<PageRow>(db, pageSql(search, access, pageSize));
  const total = Number(rows[0]?.total ?? 0);
  const catalogueVersion = versionOf(rows[0]);
  const entries: PageEntry[] = [];
  for (const row of rows) {
    if (row.id === null || row.created_on === null) continue;
    entries.push({
      id: row.id,
      custodian: row.custodian ?? '',
      createdOn: isoTimestamp(row.created_on),
      json: row.json ?? '',
    });
  }
  if (entries.length <= pageSize) return { total, entries, catalogueVersion };
  entries.length = pageSize;
  const last = entries[pageSize - 1] as PageEntry;
  return { total, entries, next: { createdOn: last.createdOn, id: last.id }, catalogueVersion };
}
