/** Checks of the consumer plan: search, paging, read. */
import { type CheckDefinition, capped, evidenceOf, succeeded } from './types.ts';

function found(what: string, count: number): string {
  return count > 0 ? `${count} ${what}` : `no ${what} was recorded`;
}

export const consumerSearch: CheckDefinition = {
  id: 'CONSUMER-SEARCH',
  title: "A patient's pointers are searched with a page size",
  requirement: 'R3',
  criterion: 'At least one search by NHS number answered 200 with _count set',
  hint: 'POST /consumer/FHIR/R4/DocumentReference/_search with subject:identifier and _count (or GET with the same parameters).',
  judge(observation) {
    const seen = observation.requests.filter(
      (r) => r.subtype === 'search-type' && succeeded(r) && /[?&\n{",]_count/.test(r.query ?? ''),
    );
    return {
      pass: seen.length > 0,
      summary: found('paged search(es)', seen.length),
      evidence: capped(seen.map((r) => evidenceOf(r, (r.query ?? '').split('\n')[0] ?? ''))),
    };
  },
};

export const pagingFollowed: CheckDefinition = {
  id: 'PAGING-FOLLOWED',
  title: 'Paging is followed through the next link',
  requirement: 'R3',
  criterion: "At least one search answered 200 for a page beyond the first (the next link's _page_token)",
  hint: "When the Bundle has link[relation=next], GET that URL as given to read the following page; don't assume one page holds everything.",
  judge(observation) {
    const seen = observation.requests.filter(
      (r) => r.subtype === 'search-type' && succeeded(r) && (r.query ?? '').includes('_page_token'),
    );
    return {
      pass: seen.length > 0,
      summary: found('next page(s) read', seen.length),
      evidence: capped(seen.map((r) => evidenceOf(r, 'page beyond the first'))),
    };
  },
};

export const consumerRead: CheckDefinition = {
  id: 'CONSUMER-READ',
  title: 'A pointer found is read',
  requirement: 'R3',
  criterion: 'At least one read answered 200',
  hint: 'GET /consumer/FHIR/R4/DocumentReference/{id} with an id from the search.',
  judge(observation) {
    const seen = observation.requests.filter((r) => r.subtype === 'read' && succeeded(r));
    return {
      pass: seen.length > 0,
      summary: found('successful read(s)', seen.length),
      evidence: capped(seen.map((r) => evidenceOf(r, `read ${r.pointers.map((p) => p.id).join(', ')}`))),
    };
  },
};
