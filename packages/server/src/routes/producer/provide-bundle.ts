/**
 * ITI-65 Provide Document Bundle (mhd-balp.md §1.2, §1.7): a `transaction` Bundle of a
 * SubmissionSet List, DocumentReference POSTs and, for replacements, PATCHes marking the old
 * pointer superseded. Unlike NRL (200 with per-entry failures, not atomic), the registry commits
 * every entry or none: any refusal is one OperationOutcome naming each failing entry, and
 * nothing is stored. Content entries (Binary, FHIR documents) and Patient details are refused
 * (R1, R14): the registry holds pointers only.
 *
 * Every resource of the Bundle names one patient: the SubmissionSet's `subject` and every
 * DocumentReference's (MHDS ITI-65 step 5; XDS's XDSPatientIdDoesNotMatch), else the whole
 * Bundle is refused. The response has one entry per request entry (MHD
 * ProvideDocumentBundleResponse): each create `201 Created` with a `location` of the form a plain
 * create gives; the SubmissionSet, which the registry records in the audit trail rather than
 * storing as a List, is located at the AuditEvent that records it.
 */
import type { Bundle, BundleEntry, DocumentReference } from '@medplum/fhirtypes';
import {
  type IssueSpec,
  isOperationOutcomeError,
  OperationOutcomeError,
  refuse,
  supersedeTargets,
} from '@nir/core';
import type { PointerRepository } from '@nir/store';
import type { Created, PointerService, ProducerCall } from './pointer-service.ts';
import { writeOutcome } from './write-response.ts';

const UNCONTAINED_PROFILE =
  'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.UnContained.Comprehensive.ProvideBundle';
const SUBMISSION_SET_CODE = 'submissionset';

type Entry = { index: number; resource: Record<string, unknown>; method: string; url: string };

type Planned =
  | { kind: 'pointer'; index: number; pointer: DocumentReference; id: string }
  | { kind: 'submission-set'; index: number; id: string; subject: PatientKey | undefined }
  | { kind: 'supersede-patch'; index: number; targetId: string };

/** A patient as an identifier `system|value`. */
type PatientKey = string;

/** Where the response's entries point: the same forms as the plain interactions give. */
export interface BundleLocations {
  /** A pointer, as a create's `Location` names it. */
  pointer(id: string): string;
  /** The AuditEvent recording the SubmissionSet. */
  auditEvent(id: string): string;
}

/** MHD's code when a Bundle's resources name different patients (ITI TF-3 Table 4.2.4.1-2). */
const PATIENT_MISMATCH = 'XDSPatientIdDoesNotMatch';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Places an entry's issues in the Bundle: `subject` → `Bundle.entry[i].resource.subject`. */
function inEntry(index: number, issues: readonly IssueSpec[]): IssueSpec[] {
  const resource = `Bundle.entry[${index}].resource`;
  const place = (expression: string) => {
    if (expression.startsWith('Bundle.')) return expression; // already names the entry
    if (expression === 'DocumentReference') return resource; // NRL's whole-resource location
    return `${resource}.${expression}`;
  };
  return issues.map((issue) => {
    const expressions = issue.expression === undefined ? [] : [issue.expression].flat();
    return { ...issue, expression: expressions.length ? expressions.map(place) : `Bundle.entry[${index}]` };
  });
}

function readEntries(body: unknown): { bundle: Bundle; entries: Entry[] } {
  if (!isObject(body) || body.resourceType !== 'Bundle') {
    throw refuse(
      'MESSAGE_NOT_WELL_FORMED',
      "Request body could not be parsed (resourceType: Input should be 'Bundle')",
      'resourceType',
    );
  }
  if (body.type !== 'transaction') {
    throw refuse(
      'MESSAGE_NOT_WELL_FORMED',
      "Request body could not be parsed (type: Input should be 'transaction')",
      'type',
    );
  }
  if (!Array.isArray(body.entry) || body.entry.length === 0) {
    throw refuse(
      'MESSAGE_NOT_WELL_FORMED',
      'Request body could not be parsed (entry: Field required)',
      'entry',
    );
  }
  const entries = body.entry.map((raw: unknown, index: number): Entry => {
    const request = isObject(raw) && isObject(raw.request) ? raw.request : undefined;
    if (!isObject(raw) || !isObject(raw.resource) || !request || typeof request.method !== 'string') {
      throw refuse(
        'MESSAGE_NOT_WELL_FORMED',
        `Request body could not be parsed (entry[${index}]: each entry needs a resource and request.method)`,
        `Bundle.entry[${index}]`,
      );
    }
    return {
      index,
      resource: raw.resource,
      method: request.method,
      url: typeof request.url === 'string' ? request.url : '',
    };
  });
  return { bundle: body as unknown as Bundle, entries };
}

function unsupported(index: number, diagnostics: string): OperationOutcomeError {
  return new OperationOutcomeError({
    code: 'UNPROCESSABLE_ENTITY',
    diagnostics,
    expression: `Bundle.entry[${index}]`,
  });
}

function isSubmissionSet(resource: Record<string, unknown>): boolean {
  const coding = (resource.code as { coding?: { code?: string }[] } | undefined)?.coding ?? [];
  return coding.some((c) => c.code === SUBMISSION_SET_CODE);
}

/**
 * The SubmissionSet's id for the audit trail: its uniqueId (`urn:oid:`), else its entryUUID
 * (`urn:uuid:`), else its resource id (mhd-balp.md §1.2).
 */
function submissionSetId(entry: Entry): string {
  const identifiers = Array.isArray(entry.resource.identifier) ? entry.resource.identifier : [];
  const values = identifiers.flatMap((i: unknown) =>
    isObject(i) && typeof i.value === 'string' ? [i.value] : [],
  );
  return (
    values.find((v) => v.startsWith('urn:oid:')) ??
    values.find((v) => v.startsWith('urn:uuid:')) ??
    (typeof entry.resource.id === 'string' ? entry.resource.id : `entry-${entry.index}`)
  );
}

/**
 * The patient a SubmissionSet names, by identifier (the registry knows patients by NHS number
 * only, R1); undefined when it names none (MHD Minimal: `subject` 0..1).
 */
function submissionSetSubject(entry: Entry): PatientKey | undefined {
  const subject = entry.resource.subject;
  if (subject === undefined) return undefined;
  const identifier = isObject(subject) && isObject(subject.identifier) ? subject.identifier : undefined;
  if (!identifier || typeof identifier.system !== 'string' || typeof identifier.value !== 'string') {
    throw new OperationOutcomeError({
      code: 'UNPROCESSABLE_ENTITY',
      diagnostics: `${PATIENT_MISMATCH}: the SubmissionSet's subject must identify the patient by identifier (system and value: the NHS number), as the DocumentReferences do; the registry resolves no other patient reference (R1)`,
      expression: `Bundle.entry[${entry.index}].resource.subject`,
    });
  }
  return `${identifier.system}|${identifier.value}`;
}

function pointerPatient(pointer: DocumentReference): PatientKey {
  const identifier = pointer.subject?.identifier;
  return `${identifier?.system ?? ''}|${identifier?.value ?? ''}`;
}

/**
 * Every DocumentReference names the SubmissionSet's patient, or (when the SubmissionSet names
 * none) the first DocumentReference's: else the whole Bundle is refused, naming each entry that
 * differs (MHDS ITI-65 step 5).
 */
function checkOnePatient(planned: readonly Planned[]): void {
  const submissionSet = planned.find((p) => p.kind === 'submission-set');
  const pointers = planned.filter((p) => p.kind === 'pointer');
  const expected = submissionSet?.subject ?? (pointers[0] ? pointerPatient(pointers[0].pointer) : undefined);
  const named = submissionSet?.subject ? "the SubmissionSet's subject" : 'the first DocumentReference';
  const issues: IssueSpec[] = pointers
    .filter((p) => pointerPatient(p.pointer) !== expected)
    .map((p) => ({
      code: 'UNPROCESSABLE_ENTITY',
      diagnostics: `${PATIENT_MISMATCH}: the DocumentReference's subject is not the patient ${named} names; every resource of a Provide Document Bundle names the same patient`,
      expression: `Bundle.entry[${p.index}].resource.subject.identifier.value`,
    }));
  if (issues.length > 0) throw new OperationOutcomeError(issues);
}

function patchTarget(entry: Entry): string | undefined {
  const match = /^(?:.*\/)?DocumentReference\/([^/?]+)$/.exec(entry.url);
  const operation = (
    entry.resource.parameter as
      | { name?: string; part?: { name?: string; valueString?: string; valueCode?: string }[] }[]
      | undefined
  )?.[0];
  const parts = operation?.part ?? [];
  const value = (name: string) => parts.find((p) => p.name === name);
  const isSupersede =
    value('type')?.valueCode === 'replace' &&
    value('path')?.valueString === 'DocumentReference.status' &&
    (value('value')?.valueCode ?? value('value')?.valueString) === 'superseded';
  return match?.[1] && isSupersede ? match[1] : undefined;
}

/** The uncontained-comprehensive profile lets a missing author default to the custodian (as NRL does). */
function withDefaults(bundle: Bundle, resource: Record<string, unknown>): unknown {
  const profiles = bundle.meta?.profile ?? [];
  if (
    !profiles.includes(UNCONTAINED_PROFILE) ||
    resource.author !== undefined ||
    !isObject(resource.custodian)
  ) {
    return resource;
  }
  return { ...resource, author: [resource.custodian] };
}

function plan(service: PointerService, bundle: Bundle, entries: Entry[], call: ProducerCall): Planned[] {
  const issues: IssueSpec[] = [];
  let status: number | undefined;
  const planned: Planned[] = [];
  for (const entry of entries) {
    try {
      planned.push(planOne(service, bundle, entry, call));
    } catch (error) {
      if (!isOperationOutcomeError(error)) throw error;
      status ??= error.status;
      issues.push(...inEntry(entry.index, error.issues));
    }
  }
  if (issues.length > 0) throw new OperationOutcomeError(issues, status);
  const submissionSets = planned.filter((p) => p.kind === 'submission-set');
  if (submissionSets.length > 1)
    throw unsupported(submissionSets[1]?.index ?? 0, 'A Provide Document Bundle has one SubmissionSet');
  checkOnePatient(planned);
  const replaced = new Set(
    planned.flatMap((p) => (p.kind === 'pointer' ? supersedeTargets(p.pointer).map((t) => t.id) : [])),
  );
  for (const p of planned) {
    if (p.kind === 'supersede-patch' && !replaced.has(p.targetId)) {
      throw unsupported(
        p.index,
        `DocumentReference/${p.targetId} can only be marked superseded by a DocumentReference in this Bundle that replaces it`,
      );
    }
  }
  return planned;
}

function planOne(service: PointerService, bundle: Bundle, entry: Entry, call: ProducerCall): Planned {
  const type = entry.resource.resourceType;
  if (type === 'DocumentReference') {
    if (entry.method !== 'POST')
      throw unsupported(entry.index, 'DocumentReference entries are created with POST');
    const prepared = service.prepareCreate(withDefaults(bundle, entry.resource), 'create', call);
    return { kind: 'pointer', index: entry.index, ...prepared };
  }
  if (type === 'List' && isSubmissionSet(entry.resource) && entry.method === 'POST') {
    return {
      kind: 'submission-set',
      index: entry.index,
      id: submissionSetId(entry),
      subject: submissionSetSubject(entry),
    };
  }
  if (type === 'Parameters' && entry.method === 'PATCH') {
    const targetId = patchTarget(entry);
    if (!targetId) {
      throw unsupported(
        entry.index,
        'Only the MHD UpdateDocumentRefs patch (DocumentReference.status → superseded) is accepted',
      );
    }
    return { kind: 'supersede-patch', index: entry.index, targetId };
  }
  if (type === 'Binary' || type === 'Bundle') {
    throw unsupported(
      entry.index,
      'FHIRDocumentNotSupported: the registry stores pointers only, never document content (R1, R14); host the document and point to it',
    );
  }
  if (type === 'List') {
    throw unsupported(
      entry.index,
      'PartialFolderContentNotProcessed: folders are not supported by this registry',
    );
  }
  if (type === 'Patient') {
    throw unsupported(
      entry.index,
      'Patient details are not accepted (R1): identify the patient by NHS number in subject.identifier',
    );
  }
  throw unsupported(entry.index, `Entries of type ${String(type)} are not part of a Provide Document Bundle`);
}

/** What the transaction wrote: the pointers created and the AuditEvent recording it all. */
interface Written {
  created: Map<number, Created>;
  auditEventId: string | undefined;
}

function responseEntry(
  planned: Planned,
  written: Written,
  locations: BundleLocations,
  now: string,
): BundleEntry {
  if (planned.kind === 'pointer') {
    const result = written.created.get(planned.index) as Created;
    return {
      response: {
        status: '201 Created',
        location: locations.pointer(result.stored.id),
        etag: `W/"${result.stored.version}"`,
        lastModified: result.stored.updatedOn,
        outcome: writeOutcome(result.outcome),
      },
    };
  }
  if (planned.kind === 'supersede-patch') {
    // A PATCH creates nothing: 200, located at the pointer it marked superseded (now removed).
    return {
      response: {
        status: '200 OK',
        location: locations.pointer(planned.targetId),
        outcome: writeOutcome('deleted'),
      },
    };
  }
  return {
    response: {
      status: '201 Created',
      // The SubmissionSet is not kept as a List (no ITI-66): the AuditEvent that records it is
      // where it lives. Without an audit trail (never in the registry) it is named by its id.
      location: written.auditEventId
        ? locations.auditEvent(written.auditEventId)
        : `List/${encodeURIComponent(planned.id)}`,
      lastModified: now,
      outcome: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'information',
            code: 'informational',
            diagnostics:
              'The SubmissionSet is recorded in the audit trail (the AuditEvent at location); the registry stores pointers only',
          },
        ],
      },
    },
  };
}

/** Processes a Provide Document Bundle atomically; the `transaction-response` Bundle. */
export async function provideBundle(
  service: PointerService,
  pointers: PointerRepository,
  body: unknown,
  call: ProducerCall,
  onSubmissionSet: (id: string) => void,
  locations: BundleLocations,
): Promise<Bundle> {
  const { bundle, entries } = readEntries(body);
  const planned = plan(service, bundle, entries, call);
  for (const p of planned) if (p.kind === 'submission-set') onSubmissionSet(p.id);
  const written = await pointers.transaction(async (writer): Promise<Written> => {
    const results = new Map<number, Created>();
    for (const p of planned) {
      if (p.kind !== 'pointer') continue;
      try {
        results.set(p.index, await service.createWithin(writer, p.pointer, p.id, call));
      } catch (error) {
        if (!isOperationOutcomeError(error)) throw error;
        throw new OperationOutcomeError(inEntry(p.index, error.issues), error.status);
      }
    }
    const auditEventId = await call.audit?.recordWithin(writer.executor, 200);
    return { created: results, auditEventId: auditEventId ?? undefined };
  });
  const now = call.now.toISOString();
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: planned.map((p) => responseEntry(p, written, locations, now)),
  };
}
