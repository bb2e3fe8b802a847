/**
 * Token keys (docs/consumer-api.md "Token values follow FHIR: `system|code`, `code` (any
 * system), `system|` (any code), `|code` (no system)"; FHIR R4 §3.1.1.4.9): each query form
 * finds exactly the codings FHIR says it should.
 */
import { describe, expect, it } from 'vitest';
import { isOperationOutcomeError } from '../outcomes.ts';
import { tokenKeys, tokenQueryKeys } from './token.ts';

const SCT = 'http://snomed.info/sct';
const OTHER = 'http://example.org/codes';

/** True when the query value shares a key with what the coding stores: the store's match. */
function finds(query: string, system: string | undefined, code: string): boolean {
  const stored = new Set(tokenKeys('setting', system, code));
  return tokenQueryKeys('setting', query, 'setting').some((key) => stored.has(key));
}

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return isOperationOutcomeError(error) ? error.issues[0] : error;
  }
  return 'not refused';
}

describe('tokenKeys', () => {
  it('stores the exact, any-system and any-code keys of a coding with a system', () => {
    expect(tokenKeys('setting', SCT, '310127009')).toEqual([
      `setting|${SCT}|310127009`,
      'setting| |310127009',
      `setting|${SCT}| `,
    ]);
  });

  it('stores the no-system and any-system keys of a coding without a system', () => {
    expect(tokenKeys('identifier', undefined, 'A1')).toEqual(['identifier||A1', 'identifier| |A1']);
  });

  it('stores a related reference as it is, under the any-system key only', () => {
    expect(tokenKeys('related', undefined, 'ServiceRequest/1')).toEqual(['related| |ServiceRequest/1']);
  });
});

describe('tokenQueryKeys round trip: a query finds a coding exactly when FHIR token semantics say so', () => {
  const codings: [string | undefined, string][] = [
    [SCT, '310127009'],
    [OTHER, '310127009'],
    [undefined, '310127009'],
    [SCT, 'X'],
    [undefined, 'X'],
  ];
  /** Each FHIR token form and what it means (FHIR R4 §3.1.1.4.9), written independently of the keys. */
  const forms: [string, (system: string | undefined, code: string) => boolean][] = [
    [`${SCT}|310127009`, (s, c) => s === SCT && c === '310127009'], // [system]|[code]
    ['310127009', (_s, c) => c === '310127009'], // [code]: any system
    [`${SCT}|`, (s) => s === SCT], // [system]|: any code
    ['|310127009', (s, c) => s === undefined && c === '310127009'], // |[code]: no system
    ['|X', (s, c) => s === undefined && c === 'X'],
    [`${OTHER}|X`, (s, c) => s === OTHER && c === 'X'],
    // a comma is an OR of the items
    [`${OTHER}|X,${SCT}|310127009`, (s, c) => (s === OTHER && c === 'X') || (s === SCT && c === '310127009')],
    [`X,${OTHER}|`, (s, c) => c === 'X' || s === OTHER],
  ];
  const cases = forms.flatMap(([query, means]) =>
    codings.map(([system, code]) => [query, system, code, means(system, code)] as const),
  );

  it.each(cases)('%s finds (%s, %s): %s', (query, system, code, expected) => {
    expect(finds(query, system, code)).toBe(expected);
  });
});

describe('tokenQueryKeys', () => {
  it('gives one key per OR item', () => {
    expect(tokenQueryKeys('event', `${SCT}|1,2,${SCT}|,|3`, 'event')).toEqual([
      `event|${SCT}|1`,
      'event| |2',
      `event|${SCT}| `,
      'event||3',
    ]);
  });

  it('keeps an escaped comma in the value (FHIR: `\\,` is not a separator)', () => {
    expect(tokenQueryKeys('identifier', 'urn:x|a\\,b', 'identifier')).toEqual(['identifier|urn:x|a,b']);
    expect(finds('a\\,b', undefined, 'a,b')).toBe(true);
    expect(finds('a\\,b', undefined, 'a')).toBe(false);
  });

  it('reads the other FHIR escapes: `\\|`, `\\\\` and `\\$`', () => {
    expect(tokenQueryKeys('identifier', 'urn:x|a\\|b', 'identifier')).toEqual(['identifier|urn:x|a|b']);
    expect(tokenQueryKeys('identifier', 'a\\\\,b\\$', 'identifier')).toEqual([
      'identifier| |a\\',
      'identifier| |b$',
    ]);
    expect(finds('urn:x|a\\|b', 'urn:x', 'a|b')).toBe(true);
  });

  it('keeps a backslash that escapes nothing', () => {
    expect(tokenQueryKeys('identifier', 'a\\b\\', 'identifier')).toEqual(['identifier| |a\\b\\']);
  });

  it('reads a related value as a reference, matched as it is', () => {
    expect(tokenQueryKeys('related', 'ServiceRequest/1|x,ServiceRequest/2', 'related')).toEqual([
      'related| |ServiceRequest/1|x',
      'related| |ServiceRequest/2',
    ]);
    const stored = tokenKeys('related', undefined, 'ServiceRequest/1');
    expect(tokenQueryKeys('related', 'ServiceRequest/1', 'related')).toEqual(stored);
  });

  it('related:identifier is a token like any other', () => {
    expect(tokenQueryKeys('related:identifier', 'urn:acc|A1', 'related:identifier')).toEqual([
      'related:identifier|urn:acc|A1',
    ]);
  });

  it.each([
    ['setting', '', 'empty value'],
    ['setting', ' ', 'empty value'],
    ['setting', '|', "not a token: '|'"],
    ['setting', 'a|b|c', "not a token: 'a|b|c'"],
    ['setting', 'a,,b', 'empty value'],
    ['setting', 'a,', 'empty value'],
    ['setting', ' |x', "blank system or code: ' |x'"],
    ['setting', 'x| ', "blank system or code: 'x| '"],
    ['related', '', 'empty value'],
    ['related', '|', "not a reference: '|'"],
  ] as const)('refuses %s=%j: 400 INVALID_PARAMETER (%s)', (param, value, reason) => {
    expect(refusal(() => tokenQueryKeys(param, value, param))).toEqual({
      code: 'INVALID_PARAMETER',
      diagnostics: `Invalid query parameter (${param}: ${reason})`,
      expression: param,
    });
  });
});
