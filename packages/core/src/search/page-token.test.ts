import { describe, expect, it } from 'vitest';
import { isOperationOutcomeError } from '../outcomes.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';

describe('page tokens', () => {
  it('round-trip a cursor', () => {
    const cursor = { createdOn: '2026-11-28T10:00:00.123Z', id: 'RR8-5b1e0c4e-9a0f-4a1c-8d43-0c4e5a6b7c8d' };
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['wrong shape', Buffer.from('{"a":1}').toString('base64url')],
    ['bad time', Buffer.from('["2026-11-28","RR8-x"]').toString('base64url')],
    ['empty id', Buffer.from('["2026-11-28T10:00:00.123Z",""]').toString('base64url')],
  ])('refuses a token that is %s with 400 INVALID_PARAMETER', (_name, token) => {
    try {
      decodePageToken(token);
      expect.unreachable();
    } catch (error) {
      expect(isOperationOutcomeError(error) && error.issues[0]).toMatchObject({
        code: 'INVALID_PARAMETER',
        expression: '_page_token',
      });
    }
  });
});
