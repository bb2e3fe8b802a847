/**
 * ITI-81 search criteria on what an AuditEvent records (IHE RESTful ATNA; FHIR R4 AuditEvent
 * search parameters) that have no column of their own: entity identifiers and references,
 * agent references, names and network addresses, the source observer and site, and the event
 * type. Each is a condition over the stored JSON (`resource`, PostgreSQL `json`), evaluated
 * only on the rows that the indexed criteria (date range, visibility) already selected.
 */
import { type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * A token value: `system` undefined = any system, '' = no system; `value` undefined = any value
 * (FHIR R4 token forms `value`, `system|value`, `|value`, `system|`).
 */
export interface AuditToken {
  system?: string | undefined;
  value?: string | undefined;
}

/** A FHIR string match: starts-with (the default), `:exact` or `:contains`; case-insensitive but for exact. */
export interface AuditStringMatch {
  value: string;
  mode: 'starts' | 'exact' | 'contains';
}

/** One thing an event may record; a criterion is an OR of these. */
export type AuditJsonMatch =
  | { on: 'entity-identifier'; token: AuditToken }
  | { on: 'entity-reference'; reference: string }
  | { on: 'agent-reference'; reference: string }
  | { on: 'agent-name'; match: AuditStringMatch }
  | { on: 'address'; match: AuditStringMatch }
  | { on: 'source-identifier'; token: AuditToken }
  | { on: 'source-reference'; reference: string }
  | { on: 'site'; value: string }
  | { on: 'type'; token: AuditToken };

const elements = (path: RawBuilder<unknown>) => sql`json_array_elements(COALESCE(${path}, '[]'::json))`;

function tokenCondition(system: RawBuilder<unknown>, value: RawBuilder<unknown>, token: AuditToken) {
  const parts: RawBuilder<SqlBool>[] = [];
  if (token.system === '') parts.push(sql<SqlBool>`${system} IS NULL`);
  else if (token.system !== undefined) parts.push(sql<SqlBool>`${system} = ${token.system}`);
  if (token.value !== undefined) parts.push(sql<SqlBool>`${value} = ${token.value}`);
  return parts.length === 0 ? sql<SqlBool>`true` : sql<SqlBool>`(${sql.join(parts, sql` AND `)})`;
}

function likePattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function stringCondition(column: RawBuilder<unknown>, match: AuditStringMatch) {
  if (match.mode === 'exact') return sql<SqlBool>`${column} = ${match.value}`;
  const pattern = likePattern(match.value.toLowerCase());
  return match.mode === 'starts'
    ? sql<SqlBool>`lower(${column}) LIKE ${`${pattern}%`}`
    : sql<SqlBool>`lower(${column}) LIKE ${`%${pattern}%`}`;
}

/** A reference matches itself, and a versioned reference to it (`DocumentReference/x/_history/2`). */
function referenceCondition(column: RawBuilder<unknown>, reference: string) {
  return sql<SqlBool>`(${column} = ${reference} OR ${column} LIKE ${`${likePattern(reference)}/_history/%`})`;
}

/** The SQL condition of one match on `audit_event.resource`. */
export function auditJsonCondition(match: AuditJsonMatch): RawBuilder<SqlBool> {
  const entity = elements(sql`resource->'entity'`);
  const agent = elements(sql`resource->'agent'`);
  switch (match.on) {
    case 'entity-identifier':
      return sql<SqlBool>`EXISTS (SELECT 1 FROM ${entity} AS e(x) WHERE ${tokenCondition(
        sql`x->'what'->'identifier'->>'system'`,
        sql`x->'what'->'identifier'->>'value'`,
        match.token,
      )} AND x->'what'->'identifier'->>'value' IS NOT NULL)`;
    case 'entity-reference':
      return sql<SqlBool>`EXISTS (SELECT 1 FROM ${entity} AS e(x) WHERE ${referenceCondition(
        sql`x->'what'->>'reference'`,
        match.reference,
      )})`;
    case 'agent-reference':
      return sql<SqlBool>`EXISTS (SELECT 1 FROM ${agent} AS a(x) WHERE ${referenceCondition(
        sql`x->'who'->>'reference'`,
        match.reference,
      )})`;
    case 'agent-name':
      return sql<SqlBool>`EXISTS (SELECT 1 FROM ${agent} AS a(x) WHERE ${stringCondition(sql`x->>'name'`, match.match)})`;
    case 'address':
      return sql<SqlBool>`EXISTS (SELECT 1 FROM ${agent} AS a(x) WHERE ${stringCondition(
        sql`x->'network'->>'address'`,
        match.match,
      )})`;
    case 'source-identifier':
      return sql<SqlBool>`(${tokenCondition(
        sql`resource->'source'->'observer'->'identifier'->>'system'`,
        sql`resource->'source'->'observer'->'identifier'->>'value'`,
        match.token,
      )} AND resource->'source'->'observer'->'identifier'->>'value' IS NOT NULL)`;
    case 'source-reference':
      return referenceCondition(sql`resource->'source'->'observer'->>'reference'`, match.reference);
    case 'site':
      return sql<SqlBool>`resource->'source'->>'site' = ${match.value}`;
    case 'type':
      return tokenCondition(sql`resource->'type'->>'system'`, sql`resource->'type'->>'code'`, match.token);
  }
}

/** An AND of criteria, each an OR of its matches. */
export function auditJsonCriteria(criteria: readonly (readonly AuditJsonMatch[])[]): RawBuilder<SqlBool>[] {
  return criteria.map((any) =>
    any.length === 0
      ? sql<SqlBool>`false`
      : sql<SqlBool>`(${sql.join(any.map(auditJsonCondition), sql` OR `)})`,
  );
}
