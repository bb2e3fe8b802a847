/**
 * Pointer ids (nrl-behaviour.md §3.3, §2.4): `<ODS>-<local>`, where the part before the first
 * `-` is the custodian's ODS code (with an optional `.` extension). The prefix is how ownership
 * is checked on read, update and delete.
 */
import { randomUUID } from 'node:crypto';

const ID_PATTERN = /^(?=.{1,64}$)[A-Za-z0-9.]+-[A-Za-z0-9]+[A-Za-z0-9_-]*$/;

/** True when `id` has NRL's pointer id shape. */
export function isPointerIdShape(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** The ODS prefix of a pointer id (before the first `-`), or undefined when there is none. */
export function odsPrefixOf(id: string): string | undefined {
  const dash = id.indexOf('-');
  return dash > 0 ? id.slice(0, dash) : undefined;
}

/** True when the pointer id belongs to the organisation `odsCode` (plain codes compared exactly). */
export function idBelongsTo(id: string, odsCode: string): boolean {
  return odsPrefixOf(id) === odsCode;
}

/** A new server-assigned id: `<ODS>-<uuid4>`. */
export function newPointerId(odsCode: string): string {
  return `${odsCode}-${randomUUID()}`;
}
