/**
 * The producer's writes as SQL text (issue 15): a create, an update and a removal are one
 * statement each (locator, pointer and history as data-modifying CTEs), written once, so each
 * is one prepared statement per connection and no query builder runs per write. Used by
 * `PointerWriter` (pointer-repository.ts), as `search-sql.ts` is by the consumer search.
 */
import type { NewPointerRows } from './pointer-rows.ts';

/**
 * A create's one statement (built once, so one prepared statement): claims the id in
 * `pointer_locator` (new, or a deleted id published again: then its version goes on), and if
 * that claim is version 1 inserts the pointer and its history row too. No row back: the id is
 * live (409). A version above 1: the caller writes the rows with that version itself.
 */
export const CREATE_FIRST_VERSION = `WITH claimed AS (
  INSERT INTO pointer_locator AS l (id, nhs_number, custodian, version, deleted)
  VALUES ($1, $2, $3, 1, false)
  ON CONFLICT (id) DO UPDATE
    SET nhs_number = EXCLUDED.nhs_number, custodian = EXCLUDED.custodian, version = l.version + 1, deleted = false
    WHERE l.deleted
  RETURNING l.version
), stored AS (
  INSERT INTO pointer (nhs_number, id, custodian, type, category, master_identifier, version, created_on,
                       updated_on, resource, search_tokens, date_low, date_high, creation_low, creation_high,
                       period_low, period_high, facts_version)
  SELECT $2::text, $1::text, $3::text, $4::text, $5::text, $6::text, 1, $7::timestamptz, $7::timestamptz,
         $8::json, $9::text[], $10::timestamptz, $11::timestamptz, $12::timestamptz[], $13::timestamptz[],
         $14::timestamptz, $15::timestamptz, $16::integer
  FROM claimed WHERE claimed.version = 1
), kept AS (
  INSERT INTO pointer_history (id, version, nhs_number, custodian, action, recorded_at, request_id, client_id,
                               superseded_by, resource)
  SELECT $1::text, 1, $2::text, $3::text, $17::text, $7::timestamptz, $18::text, $19::text, NULL, $8::json
  FROM claimed WHERE claimed.version = 1
)
SELECT version FROM claimed`;

/**
 * An update's one statement: the locked pointer's new content and version, its locator's
 * version and its history row (R10); the updated row back.
 */
export const UPDATE_VERSION = `WITH updated AS (
  UPDATE pointer
  SET version = $3::integer, updated_on = $4::timestamptz, category = $5::text, resource = $6::json,
      search_tokens = $7::text[], date_low = $8::timestamptz, date_high = $9::timestamptz,
      creation_low = $10::timestamptz[], creation_high = $11::timestamptz[], period_low = $12::timestamptz,
      period_high = $13::timestamptz, facts_version = $14::integer
  WHERE nhs_number = $1::text AND id = $2::text
  RETURNING *
), located AS (
  UPDATE pointer_locator SET version = $3::integer WHERE id = $2::text
), kept AS (
  INSERT INTO pointer_history (id, version, nhs_number, custodian, action, recorded_at, request_id, client_id,
                               superseded_by, resource)
  VALUES ($2::text, $3::integer, $1::text, $15::text, 'update', $4::timestamptz, $16::text, $17::text, NULL,
          $6::json)
)
SELECT * FROM updated`;

/**
 * A removal's one statement (a delete, or the old side of a supersede): the pointer row goes,
 * its locator is marked deleted at the new version, and the history keeps a row with no resource.
 */
export const REMOVE_VERSION = `WITH removed AS (
  DELETE FROM pointer WHERE nhs_number = $1::text AND id = $2::text
), located AS (
  UPDATE pointer_locator SET version = $3::integer, deleted = true WHERE id = $2::text
)
INSERT INTO pointer_history (id, version, nhs_number, custodian, action, recorded_at, request_id, client_id,
                             superseded_by, resource)
VALUES ($2::text, $3::integer, $1::text, $4::text, $5::text, $6::timestamptz, $7::text, $8::text, $9::text, NULL)`;

/** The parameters of {@link CREATE_FIRST_VERSION} for version-1 rows. */
export function createParameters(rows: NewPointerRows): unknown[] {
  const p = rows.pointer;
  const h = rows.history;
  return [
    p.id,
    p.nhs_number,
    p.custodian,
    p.type,
    p.category,
    p.master_identifier ?? null,
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
    h.action,
    h.request_id ?? null,
    h.client_id ?? null,
  ];
}
