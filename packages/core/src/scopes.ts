/**
 * SMART on FHIR v2 system scopes (mhd-balp.md §4.2) and which ones each catalogue role earns.
 * Least privilege (R18): a token carries only the scopes its client's grants justify.
 */
import type { Role } from './catalogue.ts';

/** The scope of the catalogue administration API. */
export const ADMIN_SCOPE = 'admin/catalogue';

/** Scopes earned by each role. */
export const ROLE_SCOPES: Record<Role, readonly string[]> = {
  producer: ['system/DocumentReference.cruds'],
  consumer: ['system/DocumentReference.rs'],
  audit: ['system/AuditEvent.rs'],
};

/** A permission letter of a SMART v2 scope: create, read, update, delete, search. */
export type ScopePermission = 'c' | 'r' | 'u' | 'd' | 's';

const V1_PERMS: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

/**
 * True when one of `granted` (space-separated scope strings, v2 or v1 syntax) permits
 * `permission` on `resourceType` at system level.
 */
export function scopePermits(
  granted: readonly string[],
  resourceType: string,
  permission: ScopePermission,
): boolean {
  return granted.some((scope) => {
    const match = /^system\/([A-Za-z*]+)\.([a-z*]+)$/.exec(scope);
    if (!match) return false;
    const [, resource, perms] = match as unknown as [string, string, string];
    if (resource !== '*' && resource !== resourceType) return false;
    const letters = V1_PERMS[perms] ?? perms;
    return /^c?r?u?d?s?$/.test(letters) && letters.includes(permission);
  });
}

/** Splits an OAuth `scope` string into its distinct scopes. */
export function parseScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(/\s+/).filter((s) => s.length > 0))];
}

/** The scopes a client may hold: those of its organisations' roles, and the admin scope if registered for it. */
export function entitledScopes(roles: Iterable<Role>, admin: boolean): string[] {
  const scopes = new Set<string>();
  for (const role of roles) for (const scope of ROLE_SCOPES[role]) scopes.add(scope);
  if (admin) scopes.add(ADMIN_SCOPE);
  return [...scopes];
}

function parseSystemScope(scope: string): { resource: string; letters: string } | undefined {
  const match = /^system\/([A-Za-z*]+)\.([a-z*]+)$/.exec(scope);
  if (!match) return undefined;
  const resource = match[1] as string;
  const perms = match[2] as string;
  const letters = V1_PERMS[perms] ?? perms;
  return /^c?r?u?d?s?$/.test(letters) && letters.length > 0 ? { resource, letters } : undefined;
}

/** True when `requested` asks for no more than one of the `entitled` scopes gives (down-scoping is allowed). */
export function scopeCovered(requested: string, entitled: readonly string[]): boolean {
  if (entitled.includes(requested)) return true;
  const want = parseSystemScope(requested);
  if (!want) return false;
  return entitled.some((scope) => {
    const have = parseSystemScope(scope);
    return (
      have !== undefined &&
      (have.resource === '*' || have.resource === want.resource) &&
      [...want.letters].every((letter) => have.letters.includes(letter))
    );
  });
}

/**
 * Mediates a token request's scope (SMART: the server grants no more than is pre-authorised).
 * No requested scope means every entitled scope. Returns the scopes to grant, or the first one
 * that is not allowed.
 */
export function mediateScopes(
  requested: readonly string[],
  entitled: readonly string[],
): { granted: string[] } | { refused: string } {
  if (requested.length === 0) return { granted: [...entitled] };
  const refused = requested.find((scope) => !scopeCovered(scope, entitled));
  return refused === undefined ? { granted: [...requested] } : { refused };
}
