/**
 * ITI-65 Provide Document Bundle (mhd-balp.md §1.2, §1.7): a `transaction` Bundle of a
 * SubmissionSet List, DocumentReference POSTs and, for replacements, PATCHes marking the old
 * pointer superseded. Unlike NRL (200 with per-entry failures, not atomic), the registry commits
 * every entry or none: any refusal is one OperationOutcome naming each failing entry, and
 * nothing is stored. Content entries (Binary, FHIR documents) and Patient details are refused
 * (R1, R14): the registry holds pointers only.
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
  | { kind: 'submission-set'; index: number; id: string }
  | { kind: 'supersede-patch'; index: number; targetId: string };

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
      id: String(entry.resource.id ?? `entry-${entry.index}`),
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

function responseEntry(planned: Planned, created: Map<number, Created>): BundleEntry {
  if (planned.kind === 'pointer') {
    const result = created.get(planned.index) as Created;
    return {
      response: {
        status: '201 Created',
        location: `DocumentReference/${result.stored.id}/_history/${result.stored.version}`,
        etag: `W/"${result.stored.version}"`,
        lastModified: result.stored.updatedOn,
        outcome: writeOutcome(result.outcome),
      },
    };
  }
  if (planned.kind === 'supersede-patch') {
    return {
      response: {
        status: '200 OK',
        location: `DocumentReference/${planned.targetId}`,
        outcome: writeOutcome('deleted'),
      },
    };
  }
  return {
    response: {
      status: '200 OK',
      outcome: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'information',
            code: 'informational',
            diagnostics:
              'The SubmissionSet is recorded in the audit trail; the registry stores pointers only',
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
): Promise<Bundle> {
  const { bundle, entries } = readEntries(body);
  const planned = plan(service, bundle, entries, call);
  for (const p of planned) if (p.kind === 'submission-set') onSubmissionSet(p.id);
  const created = await pointers.transaction(async (writer) => {
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
    await call.audit?.recordWithin(writer.executor, 200);
    return results;
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: planned.map((p) => responseEntry(p, created)),
  };
}
