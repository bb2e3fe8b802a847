/**
 * What happened, as the audit trail keeps it (R7, R10): one {@link AuditRecord} per
 * interaction, built by the HTTP layer and turned into BALP/PARS AuditEvents by
 * `toAuditEvents`. Plain data: no HTTP, no SQL.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import type { Interaction } from '../catalogue.ts';
import type { Coding } from '../purpose-of-use.ts';
import type { AuditAction, AuditOutcome, AuditSubtype, IheTransaction } from './codes.ts';

/** What kind of interaction an event records. */
export interface AuditKind {
  subtype: AuditSubtype;
  action: AuditAction;
  iheTransaction?: IheTransaction | undefined;
  /** `export` makes the event type DICOM Export (a disclosure in bulk); the default follows the subtype. */
  eventType?: 'export' | undefined;
}

/** The client system that called. `verified` is false for an identity only claimed (a refused assertion). */
export interface AuditClient {
  clientId: string;
  name?: string | undefined;
  verified: boolean;
}

/**
 * The organisation the request was made for. `verified` is false when only claimed (e.g. the
 * ODS header of a request whose token did not verify): such an organisation is named in the
 * event but is not its requester, so the event is not shared with it.
 */
export interface AuditOrganisation {
  ods: string;
  name?: string | undefined;
  verified: boolean;
}

/** The end user, from the signed IUA claims (mhd-balp.md §3.3). */
export interface AuditUser {
  id: string;
  name?: string | undefined;
  role: Coding[];
  purposeOfUse: Coding[];
}

/** A pointer involved in the interaction (R10: versions before and after a change). */
export interface AuditPointer {
  id: string;
  /** ODS code of the pointer's custodian: the event is shared with it (R8). */
  custodian: string;
  nhsNumber?: string | undefined;
  /** The pointer's master identifier: recorded with the reference so ITI-81's entity.identifier finds it. */
  masterIdentifier?: { system?: string | undefined; value: string } | undefined;
  versionBefore?: number | undefined;
  versionAfter?: number | undefined;
}

/** Another object an event names, by identifier (a catalogue record, a dropped partition, an export job). */
export interface AuditObject {
  system: string;
  value: string;
  /** FHIR resource type of the object, when it is one. */
  resourceType?: ResourceType | undefined;
  description?: string | undefined;
}

/** The refusal of a failed interaction: its registry error code and diagnostics (never the body). */
export interface AuditFailure {
  code: string;
  diagnostics?: string | undefined;
}

/** Everything the audit trail records about one interaction. */
export interface AuditRecord {
  /** When the event was recorded (ISO 8601 instant). */
  recorded: string;
  /**
   * When the request arrived (ISO 8601 instant): the event's `period` runs from it to
   * `recorded`, which gives the service review its latencies (R17).
   */
  started?: string | undefined;
  requestId?: string | undefined;
  correlationId?: string | undefined;
  kind: AuditKind;
  /** The HTTP status of the response (mapped to the BALP outcome). */
  status: number;
  failure?: AuditFailure | undefined;
  client?: AuditClient | undefined;
  requester?: AuditOrganisation | undefined;
  user?: AuditUser | undefined;
  /** `jti` of the access token the request carried. */
  tokenId?: string | undefined;
  /** The caller's network address. */
  callerIp?: string | undefined;
  /** The FHIR base (or endpoint) URL that served the request: `source.site`. */
  serverUrl: string;
  /** The registry's ASID, when it has one (PARS `source.observer`). */
  serverAsid?: string | undefined;
  /** NHS numbers of the patients involved. A search records one event per patient. */
  patients: string[];
  pointers: AuditPointer[];
  /** Custodians whose pointers were disclosed without naming the pointers (search results). */
  custodians: string[];
  /** A search or operation: the raw request (stored base64, as BALP says) and a readable description. */
  query?: { raw: string; description: string } | undefined;
  submissionSetId?: string | undefined;
  /** A token issue: the `jti` and scope of the token issued. */
  issuedToken?: { jti: string; scope: string } | undefined;
  objects?: AuditObject[] | undefined;
  /** Free text about the event (e.g. what a retention run dropped). */
  description?: string | undefined;
}

/** BALP `AuditEvent.outcome` from an HTTP status: 2xx/3xx success; 4xx minor; 5xx serious; 503 major. */
export function balpOutcome(status: number): AuditOutcome {
  if (status < 400) return '0';
  if (status < 500) return '4';
  if (status === 503) return '12';
  return '8';
}

/** The BALP kind of each catalogue interaction (the default when a route does not describe itself). */
export const INTERACTION_KINDS: Record<Interaction, AuditKind> = {
  create: { subtype: 'create', action: 'C' },
  upsert: { subtype: 'update', action: 'U' },
  update: { subtype: 'update', action: 'U' },
  delete: { subtype: 'delete', action: 'D' },
  read: { subtype: 'read', action: 'R' },
  search: { subtype: 'search-type', action: 'E', iheTransaction: 'ITI-67' },
  count: { subtype: 'search-type', action: 'E' },
  transaction: { subtype: 'transaction', action: 'C', iheTransaction: 'ITI-65' },
  history: { subtype: 'history-instance', action: 'R' },
  'audit-search': { subtype: 'search-type', action: 'E', iheTransaction: 'ITI-81' },
  'audit-export': { subtype: 'operation', action: 'R' },
};

/** The kind of a request refused before any route said what it was, from its HTTP method. */
export function kindForMethod(method: string): AuditKind {
  switch (method.toUpperCase()) {
    case 'POST':
      return { subtype: 'create', action: 'C' };
    case 'PUT':
      return { subtype: 'update', action: 'U' };
    case 'PATCH':
      return { subtype: 'patch', action: 'U' };
    case 'DELETE':
      return { subtype: 'delete', action: 'D' };
    default:
      return { subtype: 'read', action: 'R' };
  }
}

/** A pointer's master identifier for its audit entity (ITI-81's entity.identifier finds the event by it). */
export function auditMasterIdentifier(
  resource: { masterIdentifier?: { system?: string; value?: string } } | undefined,
): AuditPointer['masterIdentifier'] {
  const value = resource?.masterIdentifier?.value;
  return value ? { system: resource?.masterIdentifier?.system, value } : undefined;
}
