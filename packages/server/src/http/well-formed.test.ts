/**
 * The edge check of issue 14 points 1 and 2: a path that does not decode, or any parameter with
 * a control character or broken Unicode, is refused before a route or the database sees it.
 */
import { describe, expect, it } from 'vitest';
import { pathFault, unprintableParameter } from './well-formed.ts';

describe('pathFault', () => {
  it.each(['%zz', '%', '%C0%AF', '%ED%A0%80', '%E2%82', '%FF'])(
    'refuses malformed percent-encoding %s',
    (bad) => {
      const fault = pathFault(`/consumer/FHIR/R4/DocumentReference/${bad}`);
      expect(fault?.status).toBe(400);
      expect(fault?.issues[0]?.code).toBe('INVALID_PARAMETER');
      expect(fault?.issues[0]?.expression).toBe('path');
    },
  );

  it.each(['a%00b', '%01', '%1F', '%7F%00'])('refuses a control character %s', (bad) => {
    expect(pathFault(`/admin/organisations/${bad}`)?.issues[0]?.code).toBe('INVALID_PARAMETER');
  });

  it.each([
    '/consumer/FHIR/R4/DocumentReference/RR8-1234',
    '/a/%E2%9C%93',
    '/a/%09tab',
    '/',
    '/a%2Fb',
    '/%20',
  ])('lets well-formed text through: %s', (ok) => {
    expect(pathFault(ok)).toBeUndefined();
  });
});

describe('unprintableParameter', () => {
  it('names the parameter whose value holds a control character, at any depth', () => {
    expect(unprintableParameter({ _id: 'a\u0000' })).toEqual({ key: '_id', fault: expect.any(String) });
    expect(unprintableParameter({ setting: ['ok', 'b\u0001'] })?.key).toBe('setting');
    expect(unprintableParameter({ jwks: { keys: [{ kid: 'k\u001f' }] } })?.key).toBe('jwks.keys.kid');
    expect(unprintableParameter({ name: 'broken \ud800 surrogate' })?.key).toBe('name');
  });

  it('refuses a key with a control character without echoing it', () => {
    expect(unprintableParameter({ 'a\u0000': '1' })).toEqual({
      key: '(a parameter name)',
      fault: expect.any(String),
    });
  });

  it('lets printable text, tabs, line breaks, numbers and nulls through', () => {
    expect(unprintableParameter({ a: 'x\ty\r\nz', b: 1, c: null, d: [true, { e: 'é✓😀' }] })).toBeUndefined();
    expect(unprintableParameter(undefined)).toBeUndefined();
  });

  it('walks a JSON body nested 200,000 deep without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}"\\u0000"${']'.repeat(200_000)}`) as unknown;
    expect(unprintableParameter(deep)?.fault).toBeDefined();
  });
});
