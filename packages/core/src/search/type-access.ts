/**
 * A consumer grant compiled once per request into the pointer types it lets the caller see
 * (R3). The store renders it as a SQL condition for search and count; {@link typeAccessAllows}
 * is the same decision in memory for read. One table-driven test (in `@nir/store`) proves the
 * two agree.
 */
import type { Grant } from '../catalogue.ts';

/** The pointer types a grant lets its holder see: every type, or the listed `system|code`s. */
export type TypeAccess =
  | { readonly kind: 'all' }
  | { readonly kind: 'listed'; readonly types: readonly string[] };

/** Compiles a grant (deny by default: no listed type and no `ALLOW_ALL_TYPES` sees nothing). */
export function compileTypeAccess(grant: Pick<Grant, 'pointerTypes' | 'accessControls'>): TypeAccess {
  if (grant.accessControls.includes('ALLOW_ALL_TYPES')) return { kind: 'all' };
  return { kind: 'listed', types: [...new Set(grant.pointerTypes)].sort() };
}

/** True when the compiled access lets its holder see a pointer of `type` (`system|code`). */
export function typeAccessAllows(access: TypeAccess, type: string): boolean {
  return access.kind === 'all' || access.types.includes(type);
}
