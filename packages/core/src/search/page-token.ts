/**
 * The opaque `_page_token` of a `next` link: the keyset position (stored time and id of the
 * last pointer of the page). It carries no query: every page re-reads and re-checks the
 * parameters, so a forged token can only move the position within what the caller may see.
 */
import { refuse } from '../outcomes.ts';
import type { SearchCursor } from './search-model.ts';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Encodes a cursor as a URL-safe token. */
export function encodePageToken(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdOn, cursor.id]), 'utf8').toString('base64url');
}

/** Decodes a token made by {@link encodePageToken}; anything else is 400 `INVALID_PARAMETER`. */
export function decodePageToken(token: string, key = '_page_token'): SearchCursor {
  const invalid = () =>
    refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: not a page token of this registry)`, key);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(token)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid();
  const [createdOn, id] = decoded as unknown[];
  if (typeof createdOn !== 'string' || !ISO_INSTANT.test(createdOn) || Number.isNaN(Date.parse(createdOn)))
    throw invalid();
  if (typeof id !== 'string' || id === '' || id.length > 200) throw invalid();
  return { createdOn, id };
}
