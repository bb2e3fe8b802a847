/**
 * The producer search (nrl-behaviour.md §1.1, §2.2): the caller's own pointers for one
 * patient, by `subject:identifier`, optionally `type` and `category` (comma = OR). Unknown keys
 * are ignored as NRL's producer API ignores them. GET query, or POST `_search` with NRL's JSON
 * body or MHD's form body.
 */
import type { Bundle, DocumentReference } from '@medplum/fhirtypes';
import {
  type Grant,
  grantAllowsType,
  isValidNhsNumber,
  NHS_NUMBER_PARAMETER,
  NHS_NUMBER_SYSTEM,
  PATIENT_KEYS,
  refuse,
} from '@nir/core';
import type { OwnPointerQuery, StoredPointer } from '@nir/store';

function single(params: Record<string, unknown>, key: string): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: give it once, as a string)`, key);
  }
  return value;
}

function token(value: string, key: string): string {
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1) {
    throw refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: expected system|code)`, key);
  }
  return value;
}

/** Reads the search parameters of a producer search. */
export function readOwnSearch(
  params: Record<string, unknown>,
  custodian: string,
  grant: Grant,
): OwnPointerQuery {
  const key = PATIENT_KEYS.find((k) => params[k] !== undefined) ?? 'subject:identifier';
  const subject = single(params, key);
  const nhsNumber = subject === undefined ? undefined : NHS_NUMBER_PARAMETER.exec(subject)?.[1];
  if (nhsNumber === undefined || !isValidNhsNumber(nhsNumber)) {
    throw refuse(
      'INVALID_NHS_NUMBER',
      `A valid NHS number is required to search for your DocumentReferences (${key}=${NHS_NUMBER_SYSTEM}|<NHS number>)`,
      key,
    );
  }
  const query: OwnPointerQuery = { custodian, nhsNumber };
  const type = single(params, 'type');
  if (type !== undefined) {
    query.type = token(type, 'type');
    const [system = '', code = ''] = query.type.split('|');
    if (!grantAllowsType(grant, system, code)) {
      throw refuse(
        'INVALID_CODE_SYSTEM',
        `Invalid type (${type}): not a type this organisation may publish`,
        'type',
      );
    }
  }
  const category = single(params, 'category');
  if (category !== undefined) query.categories = category.split(',').map((c) => token(c.trim(), 'category'));
  return query;
}

/** NRL's producer searchset: `total` and entries, no links. Types no longer granted are left out. */
export function ownSearchBundle(pointers: StoredPointer[], grant: Grant): Bundle<DocumentReference> {
  const visible = pointers.filter((p) => {
    const [system = '', code = ''] = p.type.split('|');
    return grantAllowsType(grant, system, code);
  });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: visible.length,
    entry: visible.map((p) => ({ resource: p.resource })),
  };
}
