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
export function scopePermits(granted: readonly string[], resourceType: string, permission: ScopePermission): boolean {
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
