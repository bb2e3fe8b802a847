/**
 * The consumer search as SQL text and parameters, written directly (issue 15, point 2): no
 * query builder on the request path. Lists travel as one array parameter each
 * (`= ANY($n::text[])`), so the text depends only on the search's shape (which filters it
 * has, and each date formula's comparisons), never on how many types a grant lists; one text
 * per shape means one prepared statement per shape on each connection (prepared-statements.ts).
 * Every statement also reads the catalogue's version beside its rows (R6, issue 15 point 1).
 */
import type { DateFormula, PointerSearch, RangeComparison, TypeAccess } from '@nir/core';
import { CATALOGUE_VERSION_SQL } from './catalogue-snapshot.ts';

/** A statement's text and its parameters. */
export interface SqlStatement {
  sql: string;
  parameters: unknown[];
}

/** A time as SQL: an ISO instant, or ±infinity. */
export function sqlInstant(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'infinity';
  if (ms === Number.NEGATIVE_INFINITY) return '-infinity';
  return new Date(ms).toISOString();
}

/** Collects conditions and their parameters, numbering placeholders as it goes. */
class Conditions {
  readonly parameters: unknown[] = [];
  readonly clauses: string[] = [];

  /** A placeholder for `value`, with an optional cast. */
  param(value: unknown, cast = ''): string {
    this.parameters.push(value);
    return `$${this.parameters.length}${cast}`;
  }

  add(clause: string): void {
    this.clauses.push(clause);
  }

  where(): string {
    return this.clauses.join(' AND ');
  }
}

const RANGE_OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);

function range(c: Conditions, formula: DateFormula, low: string, high: string): string {
  const comparison = (r: RangeComparison) => {
    // The operator is part of the text: only the four comparisons a date formula holds.
    if (!RANGE_OPS.has(r.op)) throw new Error(`unexpected comparison ${r.op}`);
    return `${r.end === 'low' ? low : high} ${r.op} ${c.param(sqlInstant(r.value), '::timestamptz')}`;
  };
  const clauses = formula.map((clause) => `(${clause.map(comparison).join(' AND ')})`);
  return clauses.length === 0 ? 'false' : `(${clauses.join(' OR ')})`;
}

/** Every condition of a search but the keyset position, on the `pointer` table. */
function matches(search: PointerSearch, access: TypeAccess): Conditions {
  const c = new Conditions();
  c.add(`nhs_number = ${c.param(search.nhsNumber)}`);
  // The grant (R3): deny by default.
  if (access.kind !== 'all') {
    c.add(access.types.length === 0 ? 'false' : `type = ANY(${c.param([...access.types], '::text[]')})`);
  }
  for (const types of search.types ?? []) c.add(`type = ANY(${c.param(types, '::text[]')})`);
  for (const categories of search.categories ?? []) {
    c.add(`category = ANY(${c.param(categories, '::text[]')})`);
  }
  for (const custodians of search.custodians ?? []) {
    c.add(`custodian = ANY(${c.param(custodians, '::text[]')})`);
  }
  if (search.excludedCustodians) {
    c.add(`custodian <> ALL(${c.param(search.excludedCustodians, '::text[]')})`);
  }
  if (search.ids) c.add(`id = ANY(${c.param(search.ids, '::text[]')})`);
  for (const keys of search.tokens) c.add(`search_tokens && ${c.param(keys, '::text[]')}`);
  for (const { parameter, formula } of search.dates) {
    switch (parameter) {
      case 'date':
        c.add(range(c, formula, 'date_low', 'date_high'));
        break;
      case 'period':
        c.add(range(c, formula, 'period_low', 'period_high'));
        break;
      case '_lastUpdated':
        c.add(range(c, formula, 'updated_on', "(updated_on + interval '1 millisecond')"));
        break;
      case 'creation':
        c.add(
          `EXISTS (SELECT 1 FROM unnest(creation_low, creation_high) AS cr(lo, hi) WHERE ${range(c, formula, 'cr.lo', 'cr.hi')})`,
        );
        break;
    }
  }
  return c;
}

/** The count of a search (`_summary=count`), with the catalogue's version. */
export function countSql(search: PointerSearch, access: TypeAccess): SqlStatement {
  const c = matches(search, access);
  return {
    sql: `SELECT ${CATALOGUE_VERSION_SQL} AS catalogue_version, count(*) AS total FROM pointer WHERE ${c.where()}`,
    parameters: c.parameters,
  };
}

/**
 * One page of a search: the matches once (a CTE), their count, and the page after the cursor,
 * newest first, `pageSize + 1` rows to tell whether another page follows; with the catalogue's
 * version. Always one row at least (the count), so the version arrives even with no match.
 */
export function pageSql(search: PointerSearch, access: TypeAccess, pageSize: number): SqlStatement {
  const c = matches(search, access);
  const after = search.after
    ? `WHERE (m.created_on, m.id) < (${c.param(search.after.createdOn, '::timestamptz')}, ${c.param(search.after.id)})`
    : '';
  const limit = c.param(pageSize + 1, '::int');
  return {
    sql:
      `WITH m AS (SELECT id, custodian, created_on, resource FROM pointer WHERE ${c.where()}) ` +
      `SELECT ${CATALOGUE_VERSION_SQL} AS catalogue_version, t.total, p.id, p.custodian, p.created_on, p.json ` +
      `FROM (SELECT count(*) AS total FROM m) AS t LEFT JOIN LATERAL (` +
      `SELECT m.id, m.custodian, m.created_on, m.resource::text AS json FROM m ${after} ` +
      `ORDER BY m.created_on DESC, m.id DESC LIMIT ${limit}) AS p ON true`,
    parameters: c.parameters,
  };
}

/**
 * A read by id, first step: the locator's NHS number of the live pointer `$1` (NULL when none),
 * with the catalogue's version; one row whether or not the pointer exists. On Citus one task on
 * the shard of the id (issue 19).
 */
export const LOCATE_SQL =
  `SELECT ${CATALOGUE_VERSION_SQL} AS catalogue_version, l.nhs_number FROM (SELECT 1) AS one ` +
  'LEFT JOIN pointer_locator l ON l.id = $1 AND NOT l.deleted';

/**
 * A read by id, second step: one primary-key lookup of the pointer (`$1` its NHS number, `$2`
 * its id) in the patient's partition; on Citus one task on the patient's shard.
 */
export const READ_SQL = 'SELECT * FROM pointer WHERE nhs_number = $1 AND id = $2';
