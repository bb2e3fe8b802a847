import { decodePageToken } from '@nir/core';
import { describe, expect, it } from 'vitest';
import { capWarning, linkValue, nextUrl, searchsetJson, searchUrl } from './searchset.ts';

const BASE = 'https://nir.example/consumer/FHIR/R4';
const SUBJECT = 'https://fhir.nhs.uk/Id/nhs-number|9000000009';

describe('the consumer searchset (NRL §1.5)', () => {
  it('keeps NRL self links readable: | : / , are not encoded, & # + space are', () => {
    expect(searchUrl(BASE, [['subject:identifier', SUBJECT]])).toBe(
      `${BASE}/DocumentReference?subject:identifier=${SUBJECT}`,
    );
    expect(linkValue('a&b#c+d e')).toBe('a%26b%23c%2Bd%20e');
    expect(linkValue('é')).toBe('%C3%A9');
  });

  it('a next link repeats the parameters with a page token in place of the old one', () => {
    const next = nextUrl(
      BASE,
      [
        ['subject:identifier', SUBJECT],
        ['_count', '2'],
        ['_page_token', 'old'],
      ],
      { createdOn: '2026-11-28T10:00:00.000Z', id: 'RR8-1' },
    );
    const url = new URL(next);
    expect(url.searchParams.get('_count')).toBe('2');
    expect(decodePageToken(url.searchParams.get('_page_token') ?? '')).toEqual({
      createdOn: '2026-11-28T10:00:00.000Z',
      id: 'RR8-1',
    });
  });

  it('splices stored JSON as it is, each entry with an absolute fullUrl and search.mode match (FHIR R4 Bundle); a count has no entry key; a warning comes last as an outcome', () => {
    const stored = '{"resourceType":"DocumentReference","id":"RR8-1"}';
    const entries = [{ id: 'RR8-1', custodian: 'RR8', createdOn: '2026-11-28T10:00:00.000Z', json: stored }];
    expect(JSON.parse(searchsetJson({ self: 's', base: BASE, total: 1, entries }))).toEqual({
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'self', url: 's' }],
      total: 1,
      entry: [
        {
          fullUrl: `${BASE}/DocumentReference/RR8-1`,
          resource: { resourceType: 'DocumentReference', id: 'RR8-1' },
          search: { mode: 'match' },
        },
      ],
    });
    expect(JSON.parse(searchsetJson({ self: 's', base: BASE, total: 3 }))).not.toHaveProperty('entry');
    const capped = JSON.parse(
      searchsetJson({ self: 's', base: BASE, next: 'n', total: 3, entries, warning: capWarning(1, 3) }),
    ) as { link: unknown[]; entry: { search?: { mode: string } }[] };
    expect(capped.link).toEqual([
      { relation: 'self', url: 's' },
      { relation: 'next', url: 'n' },
    ]);
    expect(capped.entry.at(-1)?.search).toEqual({ mode: 'outcome' });
  });
});
