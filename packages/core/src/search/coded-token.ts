/**
 * FHIR token search on the coded columns `type` and `category` (FHIR R4 §3.1.1.4.9;
 * docs/consumer-api.md "Token values follow FHIR"): a query item `system|code` (exact), `code`
 * (any system), `system|` (any code) or `|code` (no system) is resolved against the codes the
 * caller may ask for (its grant's pointer types, or a value set), so that the store compares
 * whole `system|code` values and the grant still decides: a bare code matches only the granted
 * types that carry it.
 */

/** One token item read: `system` undefined = any system, '' = no system; `code` undefined = any code. */
export interface CodedToken {
  system: string | undefined;
  code: string | undefined;
}

/** Reads one token item; undefined when it is not a token (empty, `|` alone, or two `|`). */
export function readCodedToken(item: string): CodedToken | undefined {
  const parts = item.split('|');
  if (parts.length === 1) return item.trim() === '' ? undefined : { system: undefined, code: item };
  if (parts.length !== 2) return undefined;
  const [system = '', code = ''] = parts;
  if (system === '' && code === '') return undefined;
  if ((system !== '' && system.trim() === '') || (code !== '' && code.trim() === '')) return undefined;
  return { system, code: code === '' ? undefined : code };
}

/** True when `value` (`system|code`) matches the token. */
export function codedTokenMatches(token: CodedToken, value: string): boolean {
  const bar = value.lastIndexOf('|');
  const system = bar < 0 ? '' : value.slice(0, bar);
  const code = value.slice(bar + 1);
  return (
    (token.system === undefined || token.system === system) &&
    (token.code === undefined || token.code === code)
  );
}

/** The `candidates` (`system|code` values) a token matches, in their order. */
export function expandCodedToken(token: CodedToken, candidates: readonly string[]): string[] {
  return candidates.filter((value) => codedTokenMatches(token, value));
}
