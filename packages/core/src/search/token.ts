/**
 * Token search keys (docs/consumer-api.md "Token values follow FHIR"; FHIR R4 §3.1.1.4.9): a
 * pointer stores `<param>|<system>|<code>` for every coding or identifier of a token parameter,
 * plus wildcard forms with a single space, which no URI or FHIR code can be, so that each FHIR
 * token form is one key to look up: `system|code` exact, `code` any system, `system|` any code,
 * `|code` no system.
 */
import { refuse } from '../outcomes.ts';
import type { TokenParameter } from './search-model.ts';

/** The wildcard: "any system" or "any code". */
const ANY = ' ';
/** Characters that FHIR search lets a value escape with `\` (FHIR R4 §3.1.1.5.7). */
const ESCAPABLE = '\\,|$';

/**
 * The keys a pointer stores for one coding or identifier (`code` = the identifier's value) of
 * `param`: the exact key `param|system|code` (`param||code` without a system), the any-system
 * key `param| |code` and, with a system, the any-code key `param|system| `. A `related`
 * reference (FHIR reference parameter, not a token) stores only `related| |<reference>`.
 */
export function tokenKeys(param: TokenParameter, system: string | undefined, code: string): string[] {
  if (param === 'related') return [`${param}|${ANY}|${code}`];
  const keys = [`${param}|${system ?? ''}|${code}`, `${param}|${ANY}|${code}`];
  if (system) keys.push(`${param}|${system}|${ANY}`);
  return keys;
}

/** A query value's OR items (unescaped `,`), each as its unescaped-`|`-separated parts. */
function splitValue(value: string): string[][] {
  const items: string[][] = [];
  let parts: string[] = [];
  let part = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      part += ESCAPABLE.includes(c) ? c : `\\${c}`;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',') {
      items.push([...parts, part]);
      parts = [];
      part = '';
    } else if (c === '|') {
      parts.push(part);
      part = '';
    } else {
      part += c;
    }
  }
  items.push([...parts, escaped ? `${part}\\` : part]);
  return items;
}

/**
 * The keys of one query value of `param`, any of which matches: a comma-separated OR list
 * (`\,` `\|` `\\` `\$` are escapes), each item `system|code` (exact), `code` (any system),
 * `system|` (any code) or `|code` (no system). For `related` each item is a reference, matched
 * as it is.
 *
 * @throws OperationOutcomeError 400 `INVALID_PARAMETER`, expression `key`: an empty or blank
 *   item, `|` alone, or more than one unescaped `|`.
 */
export function tokenQueryKeys(param: TokenParameter, value: string, key: string): string[] {
  const invalid = (reason: string) =>
    refuse('INVALID_PARAMETER', `Invalid query parameter (${key}: ${reason})`, key);
  return splitValue(value).map((parts) => {
    const item = parts.join('|');
    if (item.trim() === '') throw invalid('empty value');
    if (param === 'related') {
      if (item === '|') throw invalid(`not a reference: '${item}'`);
      return `${param}|${ANY}|${item}`;
    }
    if (parts.some((part) => part !== '' && part.trim() === ''))
      throw invalid(`blank system or code: '${item}'`);
    const [first = '', second, ...rest] = parts;
    if (rest.length > 0 || first + (second ?? '') === '') throw invalid(`not a token: '${item}'`);
    if (second === undefined) return `${param}|${ANY}|${first}`;
    if (second === '') return `${param}|${first}|${ANY}`;
    return `${param}|${first}|${second}`;
  });
}
