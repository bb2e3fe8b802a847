/** Token keys (mhd-balp.md §7): each FHIR token form finds exactly the codings it should. */
import { describe, expect, it } from 'vitest';
import { isOperationOutcomeError } from '../outcomes.ts';
import { tokenKeys, tokenQueryKeys } from './token.ts';

const SCT = 'http://snomed.info/sct';

function finds(query: string, system: string | undefined, code: string): boolean {
  const stored = new Set(tokenKeys('setting', system, code));
  return tokenQueryKeys('setting', query, 'setting').some((key) => stored.has(key));
}

describe('token keys', () => {
  it.each([
    [`${SCT}|310127009`, SCT, '310127009', true],
    [`${SCT}|310127009`, 'http://other', '310127009', false],
    ['310127009', SCT, '310127009', true],
    ['310127009', undefined, '310127009', true],
    [`${SCT}|`, SCT, 'anything', true],
    [`${SCT}|`, 'http://other', 'anything', false],
    ['|310127009', undefined, '310127009', true],
    ['|310127009', SCT, '310127009', false],
    [`http://other|1,${SCT}|310127009`, SCT, '310127009', true],
  ] as const)('%s finds (%s, %s): %s', (query, system, code, expected) => {
    expect(finds(query, system, code)).toBe(expected);
  });

  it('keeps an escaped comma in the value', () => {
    expect(tokenQueryKeys('identifier', 'urn:x|a\\,b', 'identifier')).toEqual(['identifier|urn:x|a,b']);
  });

  it('a related reference is matched as it is', () => {
    expect(tokenQueryKeys('related', 'ServiceRequest/1|x', 'related')).toEqual([
      'related| |ServiceRequest/1|x',
    ]);
  });

  it.each(['', '|', 'a|b|c', 'a,,b'])('refuses %j with 400 INVALID_PARAMETER', (value) => {
    try {
      tokenQueryKeys('setting', value, 'setting');
      expect.unreachable();
    } catch (error) {
      expect(isOperationOutcomeError(error) && error.issues[0]).toMatchObject({
        code: 'INVALID_PARAMETER',
        expression: 'setting',
      });
    }
  });
});
