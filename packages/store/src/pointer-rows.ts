/**
 * The rows a new pointer becomes: its `pointer` row (with the search facts) and its
 * `pointer_history` row (R10). One mapping for the API's writer and for the bulk loader
 * (`scripts/bench/`), so a loaded pointer is stored exactly as a created one.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import {
  categoryOf,
  custodianOf,
  masterIdentifierOf,
  nhsNumberOf,
  SEARCH_FACTS_VERSION,
  searchFactsOf,
  stampPointer,
  typeOf,
} from '@nir/core';
import type { Insertable } from 'kysely';
import { factColumns } from './pointer-search.ts';
import type { PointerHistoryTable, PointerTable } from './schema.ts';

/** A new pointer to store: validated, with its id and creation date decided. */
export interface NewPointer {
  pointer: DocumentReference;
  id: string;
  date: string;
  now: Date;
}

/** Who made a write, kept with each version. */
export interface WriteOrigin {
  requestId: string;
  clientId: string;
}

/** What a new pointer is stored as. */
export interface NewPointerRows {
  /** The pointer as served: id, version and `meta` stamped. */
  resource: DocumentReference;
  pointer: Insertable<PointerTable> & { resource: string };
  history: Insertable<PointerHistoryTable>;
}

/**
 * The rows of `input` stored as `version` (1 unless a deleted id is published again). The
 * resource is serialised once; the same text goes to both rows.
 */
export function newPointerRows(
  input: NewPointer,
  version: number,
  origin: WriteOrigin,
  action: 'create' | 'supersede',
): NewPointerRows {
  const nhsNumber = nhsNumberOf(input.pointer);
  const custodian = custodianOf(input.pointer);
  const resource = stampPointer(input.pointer, { id: input.id, version, now: input.now, date: input.date });
  const json = JSON.stringify(resource);
  return {
    resource,
    pointer: {
      nhs_number: nhsNumber,
      id: input.id,
      custodian,
      type: typeOf(input.pointer),
      category: categoryOf(input.pointer),
      master_identifier: masterIdentifierOf(input.pointer) ?? null,
      version,
      created_on: input.now,
      updated_on: input.now,
      resource: json,
      ...factColumns(searchFactsOf(resource)),
      facts_version: SEARCH_FACTS_VERSION,
    },
    history: {
      id: input.id,
      version,
      nhs_number: nhsNumber,
      custodian,
      action,
      recorded_at: input.now,
      request_id: origin.requestId,
      client_id: origin.clientId,
      superseded_by: null,
      resource: json,
    },
  };
}
