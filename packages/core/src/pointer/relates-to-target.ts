/**
 * Which pointer a `relatesTo.target` names. A target is a FHIR Reference (issue 13): NRL clients
 * name the pointer by `identifier.value` (`{"type": "DocumentReference", "identifier": {"value":
 * "<id>"}}`), MHD clients by a relative literal reference (`{"reference":
 * "DocumentReference/<id>"}`, mhd-balp.md §1.2 "Associations"). The identifier wins, as in NRL;
 * a reference naming another pointer than the identifier does is refused (V4).
 */
import type { Reference } from '@medplum/fhirtypes';

/** A relative reference to a DocumentReference of this registry (optionally a version of it). */
const RELATIVE_POINTER_REFERENCE = /^DocumentReference\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/\d+)?$/;

/** The pointer a relatesTo target names, and the element that names it. */
export interface NamedTarget {
  id: string;
  /** `target.identifier.value` or `target.reference`, below `relatesTo[i].`. */
  element: 'target.identifier.value' | 'target.reference';
}

/** The pointer id a relative literal reference names, if it names one of ours. */
export function pointerIdOfReference(reference: string | undefined): string | undefined {
  return reference === undefined ? undefined : RELATIVE_POINTER_REFERENCE.exec(reference)?.[1];
}

/** The pointer a target names: its identifier value, else its relative reference; undefined when neither. */
export function namedTarget(target: Reference | undefined): NamedTarget | undefined {
  const value = target?.identifier?.value;
  if (value) return { id: value, element: 'target.identifier.value' };
  const fromReference = pointerIdOfReference(target?.reference);
  return fromReference ? { id: fromReference, element: 'target.reference' } : undefined;
}

/** True when the target names one pointer by identifier and another by reference. */
export function targetConflicts(target: Reference | undefined): boolean {
  const value = target?.identifier?.value;
  const fromReference = pointerIdOfReference(target?.reference);
  return Boolean(value && fromReference && value !== fromReference);
}
