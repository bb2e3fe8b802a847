/**
 * Token search keys (mhd-balp.md §7): a pointer stores `<param>|<system>|<code>` for every
 * coding or identifier of a token parameter, plus wildcard forms with a single space, which no
 * URI or FHIR code can be, so that each FHIR token form is one key to look up:
 * `system|code` exact, `code` any system, `system|` any code, `|code` no system.
 */
import { refuse } from '../outcomes.ts';
import type { TokenParameter } from './search-model.ts';

const ANY = ' ';

/** The keys a pointer stores for one coding or identifier of `param`. */
export function tokenKeys(param: TokenParameter, system: string | undefined, code: string): string[] {
  const exact = `${param}|${system ?? ''}|${code}`;
  const anySystem = `${param}|${ANY}|${code}`;
  return system ? [exact, anySystem, `${param}|${system}|${ANY}`] : [exact, anySystem];
}

/** The keys a reference stores (`related`): the reference string, matched as it is. */
export function referenceKey(reference: string): string {
  return `related|${ANY}|${reference}`;
}

/** Splits a value on commas that are not escaped (`\,` is part of the value). */
function splitOr(value: string): string[] {
  return value.split(/(?<!\\),/).map((item) => item.replace(/\\,/g, ','));
}

/** The keys, any of which matches, of one query value of `param` (commas = OR). */
export function tokenQueryKeys(param: TokenParameter, value: string, key: string): string[] {
  const invalid = (reason: string) =>
    refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: ${reason})`, key);
  return splitOr(value).map((item) => {
    if (item === '') throw invalid('empty value');
    if (param === 'related') return referenceKey(item);
    const parts = item.split('|');
    if (parts.length > 2) throw invalid(`not a token: '${item}'`);
    const [first = '', second] = parts;
    if (second === undefined) return `${param}|${ANY}|${first}`;
    if (first === '' && second === '') throw invalid(`not a token: '${item}'`);
    if (second === '') return `${param}|${first}|${ANY}`;
    return `${param}|${first}|${second}`;
  });
}
