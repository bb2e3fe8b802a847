/**
 * Stage C of a producer write (nrl-behaviour.md §4.4, §2.2–2.3): who may write what. These
 * rules need the caller and, for update and supersede, the stored pointer; they stay pure so
 * the store can call them inside its transaction.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import type { Grant } from '../catalogue.ts';
import { grantAllowsType } from '../catalogue.ts';
import { type OperationOutcomeError, refuse } from '../outcomes.ts';
import { idBelongsTo } from './pointer-id.ts';
import { type NamedTarget, namedTarget } from './relates-to-target.ts';

/** The parts of a stored pointer the rules compare. */
export interface StoredFacts {
  id: string;
  nhsNumber: string;
  custodian: string;
  /** `system|code`. */
  type: string;
}

/** The NHS number of a validated pointer. */
export function nhsNumberOf(pointer: DocumentReference): string {
  return pointer.subject?.identifier?.value ?? '';
}

/** The custodian ODS code of a validated pointer. */
export function custodianOf(pointer: DocumentReference): string {
  return pointer.custodian?.identifier?.value ?? '';
}

/** The type of a validated pointer as `system|code`. */
export function typeOf(pointer: DocumentReference): string {
  const coding = pointer.type?.coding?.[0];
  return `${coding?.system}|${coding?.code}`;
}

/** The category of a validated pointer as `system|code`. */
export function categoryOf(pointer: DocumentReference): string {
  const coding = pointer.category?.[0]?.coding?.[0];
  return `${coding?.system}|${coding?.code}`;
}

/** The master identifier as `system|value`, if any. */
export function masterIdentifierOf(pointer: DocumentReference): string | undefined {
  const identifier = pointer.masterIdentifier;
  return identifier?.value ? `${identifier.system ?? ''}|${identifier.value}` : undefined;
}

/** Create and upsert: the caller publishes only as custodian for itself (R4). */
export function checkCustodian(pointer: DocumentReference, callerOds: string): void {
  if (custodianOf(pointer) !== callerOds) {
    throw refuse(
      'UNPROCESSABLE_ENTITY',
      'The custodian of the provided DocumentReference does not match the expected ODS code for this organisation',
      'custodian.identifier.value',
    );
  }
}

/** Every write: the pointer's type must be in the caller's producer grant (R3, R4). */
export function checkTypePermitted(pointer: DocumentReference, grant: Grant): void {
  const coding = pointer.type?.coding?.[0];
  if (!grantAllowsType(grant, coding?.system ?? '', coding?.code ?? '')) {
    throw refuse(
      'AUTHOR_CREDENTIALS_ERROR',
      'The type of the provided DocumentReference is not in the list of allowed types for this organisation',
      'type.coding[0].code',
    );
  }
}

/** Upsert: the client's id must carry the caller's ODS prefix. */
export function checkUpsertId(id: string, callerOds: string): void {
  if (!idBelongsTo(id, callerOds)) {
    throw refuse(
      'BAD_REQUEST',
      'The id of the provided DocumentReference does not include the expected ODS code for this organisation',
    );
  }
}

/** Update: the path and body ids agree (checked before the body is validated). */
export function checkPathMatchesBody(pathId: string, body: unknown): void {
  const bodyId = (body as { id?: unknown } | null)?.id;
  if (bodyId !== pathId) {
    throw refuse('BAD_REQUEST', 'The document id in the path does not match the document id in the body');
  }
}

/** Read, update, delete: the pointer id must be the caller's (403 otherwise). */
export function checkOwnership(id: string, callerOds: string, verb: 'read' | 'updated' | 'deleted'): void {
  if (idBelongsTo(id, callerOds)) return;
  const diagnostics =
    verb === 'updated'
      ? 'The id of the provided DocumentReference does not include the expected ODS code for this organisation'
      : `The requested DocumentReference cannot be ${verb} because it belongs to another organisation`;
  throw refuse('AUTHOR_CREDENTIALS_ERROR', diagnostics);
}

const IMMUTABLE_FIELDS = ['type', 'subject', 'custodian', 'masterIdentifier'] as const;

/** JSON with object keys sorted at every depth, so that key order never counts as a change. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Update: the identity of a pointer cannot change in place. A different NHS number is a
 * supersede (R12), not an edit.
 */
export function checkImmutableFields(stored: DocumentReference, next: DocumentReference): void {
  for (const field of IMMUTABLE_FIELDS) {
    if (canonicalJson(stored[field] ?? null) !== canonicalJson(next[field] ?? null)) {
      const hint =
        field === 'subject'
          ? '; a pointer filed under the wrong NHS number is withdrawn (DELETE) and published again under the right one (R12)'
          : '';
      throw refuse('BAD_REQUEST', `The field '${field}' is immutable and cannot be updated${hint}`, field);
    }
  }
}

/** A supersede target named by a `replaces` relation. */
export interface SupersedeTarget {
  index: number;
  id: string;
  /** The element naming it (NRL: `target.identifier.value`; MHD: `target.reference`). */
  element?: NamedTarget['element'];
}

/** The `replaces` targets of a pointer, in order, named by identifier or relative reference. */
export function supersedeTargets(pointer: DocumentReference): SupersedeTarget[] {
  return (pointer.relatesTo ?? []).flatMap((relation, index) => {
    const named = relation.code === 'replaces' ? namedTarget(relation.target) : undefined;
    return named ? [{ index, id: named.id, element: named.element }] : [];
  });
}

function supersedeFault(target: SupersedeTarget, diagnostics: string): OperationOutcomeError {
  return refuse(
    'UNPROCESSABLE_ENTITY',
    diagnostics,
    `relatesTo[${target.index}].${target.element ?? 'target.identifier.value'}`,
  );
}

/** Before any read: a target must carry the caller's ODS prefix (the target is left untouched). */
export function checkSupersedeTargetOwner(target: SupersedeTarget, callerOds: string): void {
  if (!idBelongsTo(target.id, callerOds)) {
    throw supersedeFault(
      target,
      'The relatesTo target identifier value does not include the expected ODS code for this organisation',
    );
  }
}

/**
 * With the stored target (or its absence): same patient and same type, or the caller's grant
 * tolerates an absent target. Returns whether there is a target to remove.
 */
export function checkSupersedeTarget(
  target: SupersedeTarget,
  stored: StoredFacts | undefined,
  next: DocumentReference,
  grant: Grant,
): boolean {
  if (!stored) {
    if (grant.accessControls.includes('ALLOW_SUPERSEDE_WITH_DELETE_FAILURE')) return false;
    throw supersedeFault(target, 'The relatesTo target document does not exist');
  }
  if (stored.nhsNumber !== nhsNumberOf(next)) {
    throw supersedeFault(
      target,
      'The relatesTo target document NHS number does not match the NHS number in the request',
    );
  }
  if (stored.type !== typeOf(next)) {
    throw supersedeFault(target, 'The relatesTo target document type does not match the type in the request');
  }
  return true;
}
