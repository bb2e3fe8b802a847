/**
 * The audit context of one request (`res.locals.audit`): what the route says happened, kept
 * until the response ends and the audit middleware records it. Routes describe themselves and
 * name the patients, pointers and SubmissionSet involved; a write records its audit inside its
 * own transaction with {@link AuditContext.recordWithin}.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type {
  AuditKind,
  AuditObject,
  AuditPointer,
  AuditRecord,
  AuditSubtype,
  IheTransaction,
  Interaction,
  OperationOutcomeError,
} from '@nir/core';
import type { AuditExecutor } from '@nir/store';
import type { Response } from 'express';

/** What the context needs from the middleware that owns it. */
export interface AuditRecorder {
  /** Builds the record of this request as it stands, for a response with `status`. */
  build(status: number): Promise<AuditRecord>;
  /** Inserts the record's events inside `executor`; returns them. */
  insertWithin(record: AuditRecord, executor: AuditExecutor): Promise<AuditEvent[]>;
  /** Records a further event for this request, as the failure `outcome` (written or deferred). */
  recordAfter(outcome: OperationOutcomeError): Promise<void>;
}

/** A description of what a route does (BALP type, subtype, action). */
export interface AuditDescription {
  subtype: AuditSubtype;
  action: AuditKind['action'];
  iheTransaction?: IheTransaction | undefined;
  /** `export`: a disclosure in bulk (DICOM Export event type). */
  eventType?: 'export' | undefined;
}

/** What was recorded inside a write's transaction: its status and first event. */
interface RecordedWithin {
  status: number;
  event: AuditEvent;
}

/** The audit of one request. */
export class AuditContext {
  readonly #recorder: AuditRecorder;
  #kind: AuditKind | undefined;
  #interaction: Interaction | undefined;
  readonly #patients = new Set<string>();
  readonly #pointers = new Map<string, AuditPointer>();
  readonly #custodians = new Set<string>();
  readonly #objects: AuditObject[] = [];
  #submissionSet: string | undefined;
  #description: string | undefined;
  #within: RecordedWithin | undefined;

  constructor(recorder: AuditRecorder) {
    this.#recorder = recorder;
  }

  /**
   * Says what the route does. When a route does not call it, the kind follows the guard's
   * interaction (e.g. `search` → search-type / E / ITI-67), else the HTTP method.
   */
  describe(description: AuditDescription): void {
    this.#kind = {
      subtype: description.subtype,
      action: description.action,
      ...(description.iheTransaction ? { iheTransaction: description.iheTransaction } : {}),
      ...(description.eventType ? { eventType: description.eventType } : {}),
    };
  }

  /** A patient involved (NHS number). Repeats and empty values are ignored. A search records one event per patient. */
  patient(nhsNumber: string): void {
    if (nhsNumber !== '') this.#patients.add(nhsNumber);
  }

  /**
   * A pointer involved (R10: with its version before and after a change). Naming the same
   * pointer again merges what is known. Its custodian sees the event (R8).
   */
  pointer(pointer: AuditPointer): void {
    const known = this.#pointers.get(pointer.id);
    const merged: AuditPointer = { ...known, ...stripUndefined(pointer) } as AuditPointer;
    this.#pointers.set(pointer.id, merged);
    if (pointer.nhsNumber) this.#patients.add(pointer.nhsNumber);
  }

  /**
   * A custodian whose pointers the response discloses without naming them (search results are
   * never copied into the audit, BALP): the custodian sees the event (R8).
   */
  custodian(ods: string): void {
    this.#custodians.add(ods);
  }

  /** The ITI-65 SubmissionSet (its uniqueId or entryUUID). */
  submissionSet(id: string): void {
    this.#submissionSet = id;
  }

  /** Another object the event names (a catalogue record, an export job). */
  object(object: AuditObject): void {
    this.#objects.push(object);
  }

  /** Free text about what happened (kept in `outcomeDesc` of a success). */
  note(description: string): void {
    this.#description = description;
  }

  /**
   * Forgets what a handler gathered (patients, pointers, custodians, objects, notes, an event
   * recorded within a transaction that then rolled back): the request is being redone from its
   * guard on a newer catalogue (R6), and the event describes the attempt that answers.
   */
  restart(): void {
    this.#kind = undefined;
    this.#patients.clear();
    this.#pointers.clear();
    this.#custodians.clear();
    this.#objects.length = 0;
    this.#submissionSet = undefined;
    this.#description = undefined;
    this.#within = undefined;
  }

  /**
   * Records the success event(s) inside the caller's write transaction, so the write and its
   * audit commit together (R7, R10). Call it last inside the transaction, with the status the
   * response will have. The response then needs no further audit write; if the transaction
   * rolls back instead (the handler throws, the response is an error), the response is
   * recorded as the failure it is: exactly one event either way. Resolves to the id of the
   * (first) event written, which a response may point to (the ITI-65 SubmissionSet's location).
   */
  async recordWithin(executor: AuditExecutor, status: number): Promise<string | undefined> {
    const record = await this.#recorder.build(status);
    const [event] = await this.#recorder.insertWithin(record, executor);
    if (event) this.#within = { status, event };
    return event?.id;
  }

  /**
   * A streamed response failed after its start was audited (issue 14, point 6): the start's
   * event stands (it was disclosed up to there) and a second event with the same request id
   * records the failure, e.g. 503 "cut after 4,000 events" (outcome 12) or 500 (outcome 8).
   */
  failedAfterStart(outcome: OperationOutcomeError): Promise<void> {
    return this.#recorder.recordAfter(outcome);
  }

  /** Set by the guard wrapper: the interaction the route was guarded for. */
  interaction(interaction: Interaction): void {
    this.#interaction = interaction;
  }

  /** The interaction the route was guarded for, if any (read on every response by the metrics). */
  guardedInteraction(): Interaction | undefined {
    return this.#interaction;
  }

  /** What the route said: for the record builder. */
  snapshot(): {
    kind: AuditKind | undefined;
    interaction: Interaction | undefined;
    patients: string[];
    pointers: AuditPointer[];
    custodians: string[];
    objects: AuditObject[];
    submissionSetId: string | undefined;
    description: string | undefined;
  } {
    return {
      kind: this.#kind,
      interaction: this.#interaction,
      patients: [...this.#patients],
      pointers: [...this.#pointers.values()],
      custodians: [...this.#custodians],
      objects: [...this.#objects],
      submissionSetId: this.#submissionSet,
      description: this.#description,
    };
  }

  /** What `recordWithin` wrote, if anything. */
  recordedWithin(): RecordedWithin | undefined {
    return this.#within;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The audit context of a request, or undefined where the audit trail is not mounted. */
export function findAudit(res: Response): AuditContext | undefined {
  const audit: unknown = res.locals.audit;
  return audit instanceof AuditContext ? audit : undefined;
}

/** The audit context of a request; throws when the audit trail is not mounted (a wiring error). */
export function auditOf(res: Response): AuditContext {
  const audit = findAudit(res);
  if (!audit) throw new Error('No audit context: the audit middleware is not mounted on this route');
  return audit;
}
