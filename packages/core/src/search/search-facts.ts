/**
 * What a pointer is searched by (docs/consumer-api.md "Search parameters"), computed once when
 * it is written and kept in the store's search columns.
 */
import type { Coding, DocumentReference, Identifier } from '@medplum/fhirtypes';
import { rangeOfFhirDate } from './fhir-date.ts';
import type { SearchFacts, TimeRange, TokenParameter } from './search-model.ts';
import { tokenKeys } from './token.ts';

const STATUS_SYSTEM = 'http://hl7.org/fhir/document-reference-status';

function codingKeys(param: TokenParameter, codings: readonly (Coding | undefined)[]): string[] {
  return codings.flatMap((c) => (c?.code ? tokenKeys(param, c.system, c.code) : []));
}

function identifierKeys(param: TokenParameter, identifiers: readonly (Identifier | undefined)[]): string[] {
  return identifiers.flatMap((i) => (i?.value ? tokenKeys(param, i.system, i.value) : []));
}

function rangeOf(value: string | undefined): TimeRange | undefined {
  return value === undefined ? undefined : rangeOfFhirDate(value);
}

function periodOf(pointer: DocumentReference): TimeRange | null {
  const period = pointer.context?.period;
  if (period?.start === undefined && period?.end === undefined) return null;
  return {
    low: rangeOf(period.start)?.low ?? Number.NEGATIVE_INFINITY,
    high: rangeOf(period.end)?.high ?? Number.POSITIVE_INFINITY,
  };
}

/**
 * The search facts of a pointer ({@link SearchFacts}): the de-duplicated token keys of `status`
 * (code system `http://hl7.org/fhir/document-reference-status`), `setting`
 * (`context.practiceSetting`), `facility` (`context.facilityType`), `event` (`context.event`),
 * `format` (`content.format`), `security-label` (`securityLabel`), `identifier`
 * (`masterIdentifier`, `identifier`), `related` (`context.related.reference`) and
 * `related:identifier` (`context.related.identifier`), skipping codings without a code and
 * identifiers without a value; the ranges of `date` and of each `content.attachment.creation`;
 * and `context.period` as `[start's low, end's high)`, a missing or unreadable end unbounded.
 */
export function searchFactsOf(pointer: DocumentReference): SearchFacts {
  const context = pointer.context;
  const related = context?.related ?? [];
  const content = pointer.content ?? [];
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
      content.map((c) => c.format),
    ),
    ...codingKeys(
      'security-label',
      (pointer.securityLabel ?? []).flatMap((l) => l.coding ?? []),
    ),
    ...identifierKeys('identifier', [pointer.masterIdentifier, ...(pointer.identifier ?? [])]),
    ...related.flatMap((r) => (r.reference ? tokenKeys('related', undefined, r.reference) : [])),
    ...identifierKeys(
      'related:identifier',
      related.map((r) => r.identifier),
    ),
  ];
  return {
    tokens: [...new Set(tokens)],
    date: rangeOf(pointer.date) ?? null,
    creation: content.flatMap((c) => {
      const range = rangeOf(c.attachment?.creation);
      return range ? [range] : [];
    }),
    period: periodOf(pointer),
  };
}
