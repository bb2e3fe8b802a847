/**
 * The producer's pointer interactions (R4, R10–R13): validate (stages A and B) → who may write
 * what (stage C) → one write with the history and the audit record, committed by group commit
 * (`PointerRepository.write`: concurrent writes share a transaction, each behind its own
 * savepoint, and each call returns only after that commit). No HTTP here: the routes translate
 * requests into these calls and results into responses.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import {
  auditMasterIdentifier,
  checkCustodian,
  checkImmutableFields,
  checkOwnership,
  checkSupersedeTarget,
  checkSupersedeTargetOwner,
  checkTypePermitted,
  checkUpsertId,
  creationDate,
  grantAllowsType,
  newPointerId,
  type PointerSchema,
  refuse,
  type StoredFacts,
  supersedeTargets,
  validatePointer,
} from '@nir/core';
import type { PointerRepository, PointerWriter, StoredPointer, WriteCheck, WriteOrigin } from '@nir/store';
import type { Principal } from '../../http/guard.ts';
import type { WriteOutcome } from './write-response.ts';

/** What a write tells the audit trail; the record commits in the write's transaction (R7, R10). */
export interface WriteAudit {
  patient(nhsNumber: string): void;
  pointer(reference: {
    id: string;
    custodian: string;
    nhsNumber?: string;
    masterIdentifier?: { system?: string | undefined; value: string } | undefined;
    versionBefore?: number;
    versionAfter?: number;
  }): void;
  /** Records the call's audit in the write's transaction; the id of the (first) AuditEvent written. */
  recordWithin(executor: PointerWriter['executor'], status: number): Promise<string | undefined>;
}

/** One producer call: who, when, and where its audit goes. */
export interface ProducerCall {
  principal: Principal;
  now: Date;
  audit?: WriteAudit | undefined;
  /**
   * Runs first inside the write's (shared) transaction; a throw fails this write alone with the
   * thrown error, e.g. the catalogue version the request was authorised under has moved, so the
   * route reloads and redoes the request (issue 15, item 1).
   */
  check?: WriteCheck | undefined;
}

/** The result of a create, upsert or supersede. */
export interface Created {
  stored: StoredPointer;
  outcome: Extract<WriteOutcome, 'created' | 'superseded'>;
  /** Ids removed by `replaces`. */
  superseded: string[];
}

function origin(call: ProducerCall): WriteOrigin {
  return { requestId: call.principal.requestId, clientId: call.principal.clientId };
}

/** Tells the audit trail about one pointer a call touched, and its patient (R7, R10). */
function auditPointer(
  call: ProducerCall,
  pointer: StoredFacts & { resource?: DocumentReference },
  versions: { versionBefore?: number; versionAfter?: number } = {},
): void {
  call.audit?.patient(pointer.nhsNumber);
  call.audit?.pointer({
    id: pointer.id,
    custodian: pointer.custodian,
    nhsNumber: pointer.nhsNumber,
    masterIdentifier: auditMasterIdentifier(pointer.resource),
    ...versions,
  });
}

function checkVersion(stored: StoredPointer, ifMatch: number | undefined): void {
  if (ifMatch !== undefined && ifMatch !== stored.version) {
    throw refuse(
      'VERSION_CONFLICT',
      `If-Match names version ${Number.isNaN(ifMatch) ? 'that cannot be read' : ifMatch}; the current version is ${stored.version}`,
    );
  }
}

function notFound(): never {
  throw refuse('NO_RECORD_FOUND', 'The requested DocumentReference could not be found');
}

/** The provider's interactions with its pointers. */
export class PointerService {
  readonly #pointers: PointerRepository;
  readonly #schema: PointerSchema;

  constructor(pointers: PointerRepository, schema: PointerSchema) {
    this.#pointers = pointers;
    this.#schema = schema;
  }

  /** Stages A–C of a create or upsert without writing; returns the pointer and its id. */
  prepareCreate(
    body: unknown,
    mode: 'create' | 'upsert',
    call: ProducerCall,
  ): { pointer: DocumentReference; id: string } {
    const pointer = validatePointer(this.#schema, body, mode);
    const { odsCode, grant } = call.principal;
    checkCustodian(pointer, odsCode);
    checkTypePermitted(pointer, grant);
    let id = newPointerId(odsCode);
    if (mode === 'upsert') {
      id = pointer.id as string;
      checkUpsertId(id, odsCode);
    }
    for (const target of supersedeTargets(pointer)) checkSupersedeTargetOwner(target, odsCode);
    return { pointer, id };
  }

  /** Create (server id) or upsert (client id); a `replaces` relation supersedes atomically. */
  async create(body: unknown, mode: 'create' | 'upsert', call: ProducerCall): Promise<Created> {
    const prepared = this.prepareCreate(body, mode, call);
    return this.#pointers.write(async (writer) => {
      const created = await this.createWithin(writer, prepared.pointer, prepared.id, call);
      await call.audit?.recordWithin(writer.executor, 201);
      return created;
    }, call.check);
  }

  /**
   * The write of a prepared pointer inside an open transaction: the targets of `replaces` are
   * locked and checked first, then the new pointer and the removals are written. Used by single
   * creates and by each entry of an ITI-65 transaction.
   */
  async createWithin(
    writer: PointerWriter,
    pointer: DocumentReference,
    id: string,
    call: ProducerCall,
  ): Promise<Created> {
    const { grant } = call.principal;
    const toRemove = new Map<string, StoredPointer>();
    for (const target of supersedeTargets(pointer)) {
      if (toRemove.has(target.id)) continue; // the same target named twice is removed once
      const stored = await writer.lock(target.id);
      if (checkSupersedeTarget(target, stored, pointer, grant) && stored) toRemove.set(target.id, stored);
    }
    const allowOverride = grant.accessControls.includes('ALLOW_OVERRIDE_CREATION_DATETIME');
    const stored = await writer.create(
      { pointer, id, date: creationDate(pointer, call.now, allowOverride), now: call.now },
      origin(call),
    );
    auditPointer(call, stored, { versionAfter: stored.version });
    for (const old of toRemove.values()) {
      const version = await writer.remove(old, call.now, origin(call), id);
      auditPointer(call, old, { versionBefore: old.version, versionAfter: version });
    }
    const superseded = [...toRemove.keys()];
    const hasReplaces = supersedeTargets(pointer).length > 0;
    return { stored, outcome: hasReplaces ? 'superseded' : 'created', superseded };
  }

  /**
   * Update (nrl-behaviour.md §4.4): path and body ids agree, stages A and B, ownership, then
   * under the row lock: exists, `If-Match`, immutable fields and — unlike NRL — the type
   * permission again (R3).
   */
  async update(
    id: string,
    body: unknown,
    ifMatch: number | undefined,
    call: ProducerCall,
  ): Promise<StoredPointer> {
    const bodyId = (body as { id?: unknown } | null)?.id;
    if (bodyId !== id)
      throw refuse('BAD_REQUEST', 'The document id in the path does not match the document id in the body');
    const next = validatePointer(this.#schema, body, 'update');
    checkOwnership(id, call.principal.odsCode, 'updated');
    return this.#pointers.write(async (writer) => {
      const stored = (await writer.lock(id)) ?? notFound();
      checkVersion(stored, ifMatch);
      checkImmutableFields(stored.resource, next);
      checkTypePermitted(next, call.principal.grant);
      const updated = await writer.update(stored, next, call.now, origin(call));
      auditPointer(call, updated, { versionBefore: stored.version, versionAfter: updated.version });
      await call.audit?.recordWithin(writer.executor, 200);
      return updated;
    }, call.check);
  }

  /** Delete: ownership, exists, `If-Match`, and the type permission (R3; NRL skips it). */
  async delete(id: string, ifMatch: number | undefined, call: ProducerCall): Promise<{ version: number }> {
    checkOwnership(id, call.principal.odsCode, 'deleted');
    return this.#pointers.write(async (writer) => {
      const stored = (await writer.lock(id)) ?? notFound();
      checkVersion(stored, ifMatch);
      checkTypePermitted(stored.resource, call.principal.grant);
      const version = await writer.remove(stored, call.now, origin(call));
      auditPointer(call, stored, { versionBefore: stored.version, versionAfter: version });
      await call.audit?.recordWithin(writer.executor, 200);
      return { version };
    }, call.check);
  }

  /** Read an own pointer; a deleted one is 404 (R10 keeps it in the history). */
  async read(id: string, call: ProducerCall): Promise<StoredPointer> {
    checkOwnership(id, call.principal.odsCode, 'read');
    const stored = (await this.#pointers.read(id)) ?? notFound();
    auditPointer(call, stored);
    const [system = '', code = ''] = stored.type.split('|');
    if (!grantAllowsType(call.principal.grant, system, code)) {
      throw refuse(
        'ACCESS DENIED',
        'The requested DocumentReference is not of a type that this organisation is allowed to access',
      );
    }
    return stored;
  }
}
