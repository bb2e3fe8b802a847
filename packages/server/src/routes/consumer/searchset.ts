/**
 * The consumer searchset, NRL's shape (nrl-behaviour.md §1.5): one `self` link with the
 * parameters used in NRL's order and not URL-encoded beyond what a URL needs, `total`, and
 * `entry: [{fullUrl, resource, search: {mode: match}}]` (FHIR R4's searchset rules), plus a `next` link when a page or the cap cut the result
 * (docs/consumer-api.md). The pointers are spliced in as the store kept their JSON: nothing
 * stored is parsed to answer a search.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { encodePageToken, type SearchCursor } from '@nir/core';
import type { PageEntry } from '@nir/store';

/** Characters a query value keeps as they are (NRL leaves `|`, `:`, `/` and `,` alone). */
const UNRESERVED = /[^A-Za-z0-9\-._~:/|,@!$'()*;]/gu;

/** One query value for a link: only what would break the URL is percent-encoded. */
export function linkValue(value: string): string {
  return value.replace(UNRESERVED, (char) => encodeURIComponent(char));
}

/** `<base>/DocumentReference?k=v&…` from parameters in order. */
export function searchUrl(base: string, used: readonly (readonly [string, string])[]): string {
  const query = used.map(([key, value]) => `${key}=${linkValue(value)}`).join('&');
  return `${base}/DocumentReference?${query}`;
}

/** The `next` link: the same parameters, positioned after the page's last pointer. */
export function nextUrl(
  base: string,
  used: readonly (readonly [string, string])[],
  cursor: SearchCursor,
): string {
  const kept = used.filter(([key]) => key !== '_page_token');
  return searchUrl(base, [...kept, ['_page_token', encodePageToken(cursor)]]);
}

/** What one searchset holds. */
export interface Searchset {
  self: string;
  /** The public URL of the base: each entry's absolute `fullUrl` is `<base>/DocumentReference/<id>`. */
  base: string;
  next?: string | undefined;
  total: number;
  /** Absent for a count (`_summary=count`: no `entry` key at all). */
  entries?: readonly PageEntry[];
  /** Added after the pointers as an entry with `search.mode = outcome`. */
  warning?: OperationOutcome | undefined;
}

/** The Bundle as JSON text, the stored pointers spliced in unparsed. */
export function searchsetJson(bundle: Searchset): string {
  const links = [{ relation: 'self', url: bundle.self }];
  if (bundle.next) links.push({ relation: 'next', url: bundle.next });
  const head = `{"resourceType":"Bundle","type":"searchset","link":${JSON.stringify(links)},"total":${bundle.total}`;
  if (!bundle.entries) return `${head}}`;
  // FHIR R4 Bundle rules: a searchset entry has an absolute fullUrl and search.mode (NRL clients ignore both).
  const entries = bundle.entries.map(
    (entry) =>
      `{"fullUrl":${JSON.stringify(`${bundle.base}/DocumentReference/${entry.id}`)},"resource":${entry.json},"search":{"mode":"match"}}`,
  );
  if (bundle.warning) {
    entries.push(JSON.stringify({ resource: bundle.warning, search: { mode: 'outcome' } }));
  }
  return `${head},"entry":[${entries.join(',')}]}`;
}

/** The warning a capped Bundle carries (NRL clients send no `_count`). */
export function capWarning(cap: number, total: number): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'warning',
        code: 'too-costly',
        diagnostics: `${total} pointers match; this Bundle holds the first ${cap}. Follow the next link for the rest, or page with _count.`,
      },
    ],
  };
}
