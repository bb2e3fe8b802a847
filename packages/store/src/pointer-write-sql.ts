/**
 * The producer's writes as SQL text (issue 15), written once so each is one prepared statement
 * per connection and no query builder runs per write. Used by `PointerWriter`
 * (pointer-repository.ts), as `search-sql.ts` is by the consumer search.
 *
 * Issue 19: every statement writes one table and names its row by that table's distribution
 * column on Citus (`pointer_locator` by id; `pointer` and `pointer_history` by NHS number), so
 * on Citus each is one task on one worker. Data-modifying CTEs joining the locator (by id)
 * with the pointer and its history (by NHS number) would run there as several subplans through
 * the coordinator. A write is therefore a few statements in its transaction (one code path on
 * every backend); they commit together or not at all, as before.
 */
import type { NewPointerRows } from './pointer-rows.ts';

/**
 * Claims the id in `pointer_locator`: new (version 1), or a deleted id published again (its
 * version goes on). No row back: the id is live (409).
 */
export const CLAIM_ID = `INSERT INTO pointer_locator AS l (id, nhs_number, custodian, version, deleted)
VALUES ($1, $2, $3, 1, false)
ON CONFLICT (id) DO UPDATE
  SET nhs_number = EXCLUDED.nhs_number, custodian = EXCLUDED.custodian, version = l.version + 1, deleted = false
  WHERE l.deleted
RETURNING l.version`;

/** A new pointer row (after its id was claimed). */
export const INSERT_POINTER = `INSERT INTO pointer (nhs_number, id, custodian, type, category, master_identifier, version,
                     created_on, updated_on, resource, search_tokens, date_low, date_high, creation_low,
                     creation_high, period_low, period_high, facts_version)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::integer, $8::timestamptz, $8::timestamptz,
        $9::json, $10::text[], $11::timestamptz, $12::timestamptz, $13::timestamptz[], $14::timestamptz[],
        $15::timestamptz, $16::timestamptz, $17::integer)`;

/** One kept version (R10): a create, update, supersede or deletion (no resource). */
export const INSERT_HISTORY = `INSERT INTO pointer_history (nhs_number, id, version, custodian, action, recorded_at, request_id,
                             client_id, superseded_by, resource)
VALUES ($1::text, $2::text, $3::integer, $4::text, $5::text, $6::timestamptz, $7::text, $8::text, $9::text, $10::json)`;

/** A locked pointer's new content and version; the updated row back. */
export const UPDATE_POINTER = `UPDATE pointer
SET version = $3::integer, updated_on = $4::timestamptz, category = $5::text, resource = $6::json,
    search_tokens = $7::text[], date_low = $8::timestamptz, date_high = $9::timestamptz,
    creation_low = $10::timestamptz[], creation_high = $11::timestamptz[], period_low = $12::timestamptz,
    period_high = $13::timestamptz, facts_version = $14::integer
WHERE nhs_number = $1::text AND id = $2::text
RETURNING *`;

/** A locked pointer's row goes (a delete, or the old side of a supersede). */
export const DELETE_POINTER = 'DELETE FROM pointer WHERE nhs_number = $1::text AND id = $2::text';

/** The locator follows its pointer: its current version, and whether it is deleted. */
export const LOCATE_VERSION =
  'UPDATE pointer_locator SET version = $2::integer, deleted = $3::boolean WHERE id = $1::text';

/** The parameters of {@link CLAIM_ID}. */
export function claimParameters(rows: NewPointerRows): unknown[] {
  return [rows.pointer.id, rows.pointer.nhs_number, rows.pointer.custodian];
}

/** The parameters of {@link INSERT_POINTER}. */
export function pointerParameters(rows: NewPointerRows): unknown[] {
  const p = rows.pointer;
  return [
    p.nhs_number,
    p.id,
    p.custodian,
    p.type,
    p.category,
    p.master_identifier ?? null,
    p.version,
    p.created_on,
    p.resource,
    p.search_tokens,
    p.date_low ?? null,
    p.date_high ?? null,
    p.creation_low,
    p.creation_high,
    p.period_low ?? null,
    p.period_high ?? null,
    p.facts_version,
  ];
}

/** The parameters of {@link INSERT_HISTORY} for a new pointer's version. */
export function historyParameters(rows: NewPointerRows): unknown[] {
  const h = rows.history;
  return [
    h.nhs_number,
    h.id,
    h.version,
    h.custodian,
    h.action,
    h.recorded_at,
    h.request_id ?? null,
    h.client_id ?? null,
    h.superseded_by ?? null,
    h.resource ?? null,
  ];
}
