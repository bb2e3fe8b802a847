/**
 * What a pointer is searched by (docs/consumer-api.md), computed once when it is written and
 * kept in the `pointer` row's search columns (migration 0005).
 */
import type { Coding, DocumentReference, Identifier } from '@medplum/fhirtypes';
import { rangeOfFhirDate } from './fhir-date.ts';
import type { SearchFacts, TimeRange, TokenParameter } from './search-model.ts';
import { referenceKey, tokenKeys } from './token.ts';

const STATUS_SYSTEM = 'http://hl7.org/fhir/document-reference-status';

function codingKeys(param: TokenParameter, codings: readonly (Coding | undefined)[]): string[] {
  return codings.flatMap((c) => (c?.code ? tokenKeys(param, c.system, c.code) : []));
}

function identifierKeys(param: TokenParameter, identifiers: readonly (Identifier | undefined)[]): string[] {
  return identifiers.flatMap((i) => (i?.value ? tokenKeys(param, i.system, i.value) : []));
}

function periodOf(pointer: DocumentReference): TimeRange | null {
  const period = pointer.context?.period;
  if (!period || (period.start === undefined && period.end === undefined)) return null;
  return {
    low: rangeOfFhirDate(period.start)?.low ?? Number.NEGATIVE_INFINITY,
    high: rangeOfFhirDate(period.end)?.high ?? Number.POSITIVE_INFINITY,
  };
}

/** The search facts of a pointer. */
export function searchFactsOf(pointer: DocumentReference): SearchFacts {
  const context = pointer.context;
  const related = context?.related ?? [];
  const tokens = [
    ...(pointer.status ? tokenKeys('status', STATUS_SYSTEM, pointer.status) : []),
    ...codingKeys('setting', context?.practiceSetting?.coding ?? []),
    ...codingKeys('facility', context?.facilityType?.coding ?? []),
    ...codingKeys(
      'event',
      (context?.event ?? []).flatMap((e) => e.coding ?? []),
    ),
    ...codingKeys(
      'format',
      pointer.content.map((c) => c.format),
    ),
    ...codingKeys(
      'security-label',
      (pointer.securityLabel ?? []).flatMap((l) => l.coding ?? []),
    ),
    ...identifierKeys('identifier', [pointer.masterIdentifier, ...(pointer.identifier ?? [])]),
    ...related.flatMap((r) => (r.reference ? [referenceKey(r.reference)] : [])),
    ...identifierKeys(
      'related:identifier',
      related.map((r) => r.identifier),
    ),
  ];
  return {
    tokens: [...new Set(tokens)],
    date: rangeOfFhirDate(pointer.date) ?? null,
    creation: pointer.content.flatMap((c) => {
      const range = rangeOfFhirDate(c.attachment.creation);
      return range ? [range] : [];
    }),
    period: periodOf(pointer),
  };
}
