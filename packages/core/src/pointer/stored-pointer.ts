/**
 * The server-set parts of a stored pointer (nrl-behaviour.md §3.3; mhd-balp.md §7): id,
 * `meta.versionId`, `meta.lastUpdated` and `date`.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { NIR_CANONICAL } from './terminology.ts';

const PROFILE = `${NIR_CANONICAL}/StructureDefinition/NIR-DocumentReference`;

/** What the server decides when it stores a version. */
export interface Stamp {
  id: string;
  version: number;
  now: Date;
  /** The `date` to store: now on create, the client's with the override flag, the stored one on update. */
  date: string;
}

/** The pointer as stored: the client's elements with the server's id, meta and date. */
export function stampPointer(pointer: DocumentReference, stamp: Stamp): DocumentReference {
  const { resourceType: _type, id: _id, meta: _meta, date: _date, ...rest } = pointer;
  return {
    resourceType: 'DocumentReference',
    id: stamp.id,
    meta: { versionId: String(stamp.version), lastUpdated: stamp.now.toISOString(), profile: [PROFILE] },
    ...rest,
    date: stamp.date,
  };
}

/** The `date` of a new pointer: the sent one only when the grant allows overriding it. */
export function creationDate(pointer: DocumentReference, now: Date, allowOverride: boolean): string {
  return allowOverride && pointer.date ? pointer.date : now.toISOString();
}
