/**
 * The producer search (nrl-behaviour.md §1.1, §2.2): the caller's own pointers for one
 * patient, by `subject:identifier`, optionally `type` and `category` (comma = OR, every FHIR token form). Unknown keys
 * are ignored as NRL's producer API ignores them. GET query, or POST `_search` with NRL's JSON
 * body or MHD's form body.
 */
import type { Bundle, DocumentReference } from '@medplum/fhirtypes';
import {
  expandCodedToken,
  type Grant,
  grantAllowsType,
  isValidNhsNumber,
  NHS_NUMBER_PARAMETER,
  NHS_NUMBER_SYSTEM,
  PATIENT_KEYS,
  readCodedToken,
  refuse,
  type Terminology,
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

/**
 * The `system|code` values a comma list of FHIR tokens (`system|code`, `code`, `system|`,
 * `|code`) matches among `candidates`; `outside` refuses an item that matches none.
 */
function codedValues(
  value: string,
  key: string,
  candidates: readonly string[],
  outside: (item: string) => Error,
): string[] {
  const out = new Set<string>();
  for (const item of value.split(',').map((v) => v.trim())) {
    const token = readCodedToken(item);
    if (!token) {
      throw refuse(
        'INVALID_PARAMETER',
        `Invalid query parameter (${key}: expected a token: system|code, code, system| or |code)`,
        key,
      );
    }
    const matched = expandCodedToken(token, candidates);
    if (matched.length === 0) throw outside(item);
    for (const code of matched) out.add(code);
  }
  return [...out];
}

/**
 * Reads the search parameters of a producer search. `type` and `category` take every FHIR
 * token form; a type resolves within the producer grant (a bare code matches only the granted
 * types that carry it), a category within the NIR-PointerCategory value set.
 */
export function readOwnSearch(
  params: Record<string, unknown>,
  custodian: string,
  grant: Grant,
  terminology: Terminology,
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
    const published = terminology.pointerTypes.all().map((c) => `${c.system}|${c.code}`);
    const candidates = published.filter((t) => {
      const bar = t.lastIndexOf('|');
      return grantAllowsType(grant, t.slice(0, bar), t.slice(bar + 1));
    });
    for (const t of grant.pointerTypes) if (!candidates.includes(t)) candidates.push(t);
    query.types = codedValues(type, 'type', candidates, (item) =>
      refuse(
        'INVALID_CODE_SYSTEM',
        `Invalid type (${item}): not a type this organisation may publish`,
        'type',
      ),
    );
  }
  const category = single(params, 'category');
  if (category !== undefined) {
    const categories = terminology.categories.all().map((c) => `${c.system}|${c.code}`);
    query.categories = codedValues(category, 'category', categories, (item) =>
      refuse('INVALID_CODE_SYSTEM', `Invalid category (${item}): not a NIR pointer category`, 'category'),
    );
  }
  return query;
}

/**
 * NRL's producer searchset: `total` and entries, no links; each entry with an absolute
 * `fullUrl` and `search.mode = match` (FHIR R4 Bundle rules; NRL clients ignore both). Types
 * no longer granted are left out.
 */
export function ownSearchBundle(
  pointers: StoredPointer[],
  grant: Grant,
  baseUrl: string,
): Bundle<DocumentReference> {
  const visible = pointers.filter((p) => {
    const [system = '', code = ''] = p.type.split('|');
    return grantAllowsType(grant, system, code);
  });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: visible.length,
    entry: visible.map((p) => ({
      fullUrl: `${baseUrl}/DocumentReference/${p.id}`,
      resource: p.resource,
      search: { mode: 'match' },
    })),
  };
}
