/**
 * Turns an {@link AuditRecord} into FHIR R4 AuditEvents shaped as IHE BALP with the NHS
 * England PARS agent and entity slices (mhd-balp.md §3.2–3.4). Pure: the same record and id
 * source give the same events.
 *
 * - One event per patient (BALP: a search spanning patients is audited once per patient);
 *   one event when no patient is involved. Search results are never copied in: only the
 *   custodians whose pointers were disclosed.
 * - Data minimisation: no OperationOutcome is contained; a failure's registry error code and
 *   diagnostics go in `outcomeDesc`.
 * - The custodian ODS code of each pointer involved is an entity (type Organization, role Data
 *   Repository), so "accesses to the pointers I published" is a plain search (R8).
 * - An identity that was only claimed (a refused token) is named in `display` and never as an
 *   identifier, so it can neither be searched for nor make the event visible to anyone.
 */
import type {
  AuditEvent,
  AuditEventAgent,
  AuditEventEntity,
  CodeableConcept,
  Coding,
} from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../nhs-number.ts';
import { ODS_SYSTEM } from '../ods.ts';
import {
  AUDIT_ENTITY_TYPE_SYSTEM,
  AUDIT_EVENT_TYPE_SYSTEM,
  BALP_ENTITY_TYPE_SYSTEM,
  BALP_PROFILE_PREFIX,
  DCM_SYSTEM,
  IHE_EVENT_TYPE_SYSTEM,
  IHE_TRANSACTIONS,
  JTI_PREFIX,
  NIR_CLIENT_ID_SYSTEM,
  NIR_SUBTYPES,
  OBJECT_ROLE_SYSTEM,
  PARS_ASID_SYSTEM,
  PARS_PROFILE,
  PARTICIPATION_TYPE_SYSTEM,
  PROVENANCE_PARTICIPANT_TYPE_SYSTEM,
  RESOURCE_TYPES_SYSTEM,
  ROLE_CLASS_SYSTEM,
  SDS_USER_ID_SYSTEM,
  SECURITY_SOURCE_TYPE_SYSTEM,
  subtypeSystem,
  TRANSACTION_ID_SYSTEM,
  URI_SYSTEM,
} from './codes.ts';
import { type AuditPointer, type AuditRecord, balpOutcome } from './record.ts';
import { uuidv7 } from './uuidv7.ts';

/** The registry's name in agents and the observer. */
export const REGISTRY_DISPLAY = 'National Imaging Registry';

/** The MHD audit profiles of the IHE transactions the registry serves. */
const MHD_PROFILES: Partial<Record<string, string>> = {
  'ITI-65': 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.ProvideBundle.Audit.Recipient',
  'ITI-67':
    'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.FindDocumentReferences.Audit.Responder',
};

/** Options of {@link toAuditEvents}. */
export interface ToAuditEventsOptions {
  /** Makes an event id for the record's time (default: a random UUIDv7 of that time). */
  newId?: (recordedMs: number) => string;
}

const coding = (system: string, code: string, display?: string): Coding =>
  display === undefined ? { system, code } : { system, code, display };
const concept = (c: Coding): CodeableConcept => ({ coding: [c] });

const DCM = {
  application: coding(DCM_SYSTEM, '110150', 'Application'),
  destination: coding(DCM_SYSTEM, '110152', 'Destination Role ID'),
  source: coding(DCM_SYSTEM, '110153', 'Source Role ID'),
  export: coding(DCM_SYSTEM, '110106', 'Export'),
  import: coding(DCM_SYSTEM, '110107', 'Import'),
  authentication: coding(DCM_SYSTEM, '110114', 'User Authentication'),
  applicationActivity: coding(DCM_SYSTEM, '110100', 'Application Activity'),
};
const USER_RECIPIENT = coding(PARTICIPATION_TYPE_SYSTEM, 'IRCP', 'information recipient');
const USER_AUTHOR = coding(PARTICIPATION_TYPE_SYSTEM, 'AUT', 'author (originator)');
const USER_ORG = coding(ROLE_CLASS_SYSTEM, 'PROV', 'healthcare provider');
const CUSTODIAN_SERVER = coding(PROVENANCE_PARTICIPANT_TYPE_SYSTEM, 'custodian', 'Custodian');

const ENTITY_PERSON = coding(AUDIT_ENTITY_TYPE_SYSTEM, '1', 'Person');
const ENTITY_SYSTEM_OBJECT = coding(AUDIT_ENTITY_TYPE_SYSTEM, '2', 'System Object');
const ENTITY_REQUEST_ID = coding(BALP_ENTITY_TYPE_SYSTEM, 'XrequestId', 'X-Request-Id');
const ENTITY_ORGANISATION = coding(RESOURCE_TYPES_SYSTEM, 'Organization', 'Organization');
const ROLE_PATIENT = coding(OBJECT_ROLE_SYSTEM, '1', 'Patient');
const ROLE_DOMAIN_RESOURCE = coding(OBJECT_ROLE_SYSTEM, '4', 'Domain Resource');
const ROLE_SECURITY_RESOURCE = coding(OBJECT_ROLE_SYSTEM, '13', 'Security Resource');
const ROLE_DATA_REPOSITORY = coding(OBJECT_ROLE_SYSTEM, '17', 'Data Repository');
const ROLE_JOB = coding(OBJECT_ROLE_SYSTEM, '20', 'Job');
const ROLE_QUERY = coding(OBJECT_ROLE_SYSTEM, '24', 'Query');

/** The event type: Import for ITI-65, User Authentication for a token, Export for exports, else rest. */
function eventType(record: AuditRecord): Coding {
  const { kind } = record;
  if (kind.eventType === 'export') return DCM.export;
  if (kind.iheTransaction === 'ITI-65') return DCM.import;
  if (kind.subtype === 'token-issue') return DCM.authentication;
  if (kind.subtype === 'audit-retention') return DCM.applicationActivity;
  return coding(AUDIT_EVENT_TYPE_SYSTEM, 'rest', 'RESTful Operation');
}

/** Agent types by action (BALP §3.2 table): who sends the data and who receives it. */
function agentTypes(record: AuditRecord): { client: Coding; server: Coding; user: Coding } {
  switch (record.kind.action) {
    case 'R':
      return { client: DCM.destination, server: DCM.source, user: USER_RECIPIENT };
    case 'D':
      return { client: DCM.application, server: CUSTODIAN_SERVER, user: USER_AUTHOR };
    case 'C':
    case 'U':
      return { client: DCM.source, server: DCM.destination, user: USER_AUTHOR };
    default:
      return { client: DCM.source, server: DCM.destination, user: USER_RECIPIENT };
  }
}

/** The BALP (or MHD) profile a successful event claims; failures claim none (BALP fixes outcome 0). */
function profiles(record: AuditRecord, patient: boolean): string[] {
  if (balpOutcome(record.status) !== '0') return [];
  const out: string[] = [];
  const mhd = record.kind.iheTransaction && MHD_PROFILES[record.kind.iheTransaction];
  if (mhd) out.push(mhd);
  const base: Partial<Record<string, string>> = {
    create: 'Create',
    read: 'Read',
    vread: 'Read',
    update: 'Update',
    patch: 'Update',
    delete: 'Delete',
    'search-type': 'Query',
    'search-system': 'Query',
  };
  const name = base[record.kind.subtype];
  if (name && !mhd) out.push(`${BALP_PROFILE_PREFIX}${patient ? 'Patient' : ''}${name}`);
  if (record.serverAsid) out.push(PARS_PROFILE);
  return out;
}

function subtypes(record: AuditRecord): Coding[] {
  const { subtype, iheTransaction } = record.kind;
  const nirDisplay = (NIR_SUBTYPES as Record<string, string>)[subtype];
  const out = [coding(subtypeSystem(subtype), subtype, nirDisplay)];
  if (iheTransaction)
    out.push(coding(IHE_EVENT_TYPE_SYSTEM, iheTransaction, IHE_TRANSACTIONS[iheTransaction]));
  return out;
}

function agents(record: AuditRecord): AuditEventAgent[] {
  const types = agentTypes(record);
  const tokenPolicy = record.tokenId ? [`${JTI_PREFIX}${record.tokenId}`] : undefined;
  const client: AuditEventAgent = {
    type: concept(types.client),
    who: record.client?.verified
      ? {
          identifier: { system: NIR_CLIENT_ID_SYSTEM, value: record.client.clientId },
          type: 'Device',
          ...(record.client.name ? { display: record.client.name } : {}),
        }
      : {
          type: 'Device',
          display: record.client
            ? `${record.client.clientId} (claimed, not verified)`
            : 'Unidentified client (no valid credentials)',
        },
    requestor: !record.user,
    ...(record.callerIp ? { network: { address: record.callerIp, type: '2' as const } } : {}),
    ...(tokenPolicy && !record.user ? { policy: tokenPolicy } : {}),
  };
  const server: AuditEventAgent = {
    type: concept(types.server),
    who: { identifier: { system: URI_SYSTEM, value: record.serverUrl }, display: REGISTRY_DISPLAY },
    requestor: false,
    network: { address: record.serverUrl, type: '5' },
  };
  const out = [client, server];
  if (record.user) {
    const { user } = record;
    out.push({
      type: concept(types.user),
      who: {
        identifier: { system: SDS_USER_ID_SYSTEM, value: user.id },
        type: 'Practitioner',
        ...(user.name ? { display: user.name } : {}),
      },
      ...(user.name ? { name: user.name } : {}),
      requestor: true,
      ...(user.role.length > 0 ? { role: user.role.map((c) => ({ coding: [{ ...c }] })) } : {}),
      ...(user.purposeOfUse.length > 0
        ? { purposeOfUse: user.purposeOfUse.map((c) => ({ coding: [{ ...c }] })) }
        : {}),
      ...(tokenPolicy ? { policy: tokenPolicy } : {}),
    });
  }
  if (record.requester) {
    const org = record.requester;
    out.push({
      type: concept(USER_ORG),
      who: org.verified
        ? {
            identifier: { system: ODS_SYSTEM, value: org.ods },
            type: 'Organization',
            ...(org.name ? { display: org.name } : {}),
          }
        : { type: 'Organization', display: `${org.ods} (claimed, not verified)` },
      requestor: org.verified,
    });
  }
  return out;
}

function pointerEntity(pointer: AuditPointer, success: boolean): AuditEventEntity {
  const version = success ? pointer.versionAfter : undefined;
  const detail = [
    ...(pointer.versionBefore !== undefined
      ? [{ type: 'versionBefore', valueString: String(pointer.versionBefore) }]
      : []),
    ...(version !== undefined ? [{ type: 'versionAfter', valueString: String(version) }] : []),
  ];
  return {
    what: {
      reference: `DocumentReference/${pointer.id}${version !== undefined ? `/_history/${version}` : ''}`,
      type: 'DocumentReference',
      ...(pointer.masterIdentifier
        ? {
            identifier: {
              ...(pointer.masterIdentifier.system ? { system: pointer.masterIdentifier.system } : {}),
              value: pointer.masterIdentifier.value,
            },
          }
        : {}),
    },
    type: ENTITY_SYSTEM_OBJECT,
    role: ROLE_DOMAIN_RESOURCE,
    ...(detail.length > 0 ? { detail } : {}),
  };
}

function entities(
  record: AuditRecord,
  patient: string | undefined,
  pointers: AuditPointer[],
  custodians: string[],
): AuditEventEntity[] {
  const success = balpOutcome(record.status) === '0';
  const out: AuditEventEntity[] = [];
  if (record.requestId) {
    out.push({
      what: { identifier: { system: TRANSACTION_ID_SYSTEM, value: record.requestId } },
      type: ENTITY_REQUEST_ID,
      ...(record.correlationId
        ? { detail: [{ type: 'X-Correlation-Id', valueString: record.correlationId }] }
        : {}),
    });
  }
  if (patient) {
    out.push({
      what: { identifier: { system: NHS_NUMBER_SYSTEM, value: patient }, type: 'Patient' },
      type: ENTITY_PERSON,
      role: ROLE_PATIENT,
    });
  }
  if (record.query) {
    out.push({
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_QUERY,
      query: Buffer.from(record.query.raw, 'utf8').toString('base64'),
      description: record.query.description,
    });
  }
  for (const pointer of pointers) out.push(pointerEntity(pointer, success));
  for (const ods of custodians) {
    out.push({
      what: { identifier: { system: ODS_SYSTEM, value: ods }, type: 'Organization' },
      type: ENTITY_ORGANISATION,
      role: ROLE_DATA_REPOSITORY,
      description: 'Custodian of pointers involved',
    });
  }
  if (record.submissionSetId) {
    out.push({
      what: { identifier: { system: URI_SYSTEM, value: record.submissionSetId }, type: 'List' },
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_JOB,
      description: 'SubmissionSet',
    });
  }
  if (record.issuedToken) {
    out.push({
      what: { identifier: { system: URI_SYSTEM, value: `${JTI_PREFIX}${record.issuedToken.jti}` } },
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_SECURITY_RESOURCE,
      description: `Access token issued; scope: ${record.issuedToken.scope}`,
    });
  }
  for (const object of record.objects ?? []) {
    out.push({
      what: {
        identifier: { system: object.system, value: object.value },
        ...(object.resourceType ? { type: object.resourceType } : {}),
      },
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_DOMAIN_RESOURCE,
      ...(object.description ? { description: object.description } : {}),
    });
  }
  return out;
}

function outcomeDesc(record: AuditRecord): string | undefined {
  if (record.failure) {
    return record.failure.diagnostics
      ? `${record.failure.code}: ${record.failure.diagnostics}`
      : record.failure.code;
  }
  return record.description;
}

function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/**
 * The AuditEvents of one interaction: one per patient involved (each with the pointers of that
 * patient, and the pointers whose patient is not known), or one when no patient is involved.
 */
export function toAuditEvents(record: AuditRecord, options: ToAuditEventsOptions = {}): AuditEvent[] {
  const recordedMs = Date.parse(record.recorded);
  if (Number.isNaN(recordedMs)) throw new RangeError(`recorded is not an instant: '${record.recorded}'`);
  const newId = options.newId ?? ((ms: number) => uuidv7(ms));
  const patients = unique([
    ...record.patients,
    ...record.pointers.flatMap((p) => (p.nhsNumber ? [p.nhsNumber] : [])),
  ]);
  const outcome = balpOutcome(record.status);
  const description = outcomeDesc(record);
  const startedMs = record.started === undefined ? Number.NaN : Date.parse(record.started);
  const period = Number.isNaN(startedMs)
    ? undefined
    : {
        start: new Date(Math.min(startedMs, recordedMs)).toISOString(),
        end: new Date(recordedMs).toISOString(),
      };
  const purposeOfEvent = record.user?.purposeOfUse.map((c) => ({ coding: [{ ...c }] })) ?? [];
  const observer = record.serverAsid
    ? { identifier: { system: PARS_ASID_SYSTEM, value: record.serverAsid }, display: REGISTRY_DISPLAY }
    : { identifier: { system: URI_SYSTEM, value: record.serverUrl }, display: REGISTRY_DISPLAY };

  const build = (patient: string | undefined): AuditEvent => {
    const pointers = record.pointers.filter((p) => p.nhsNumber === undefined || p.nhsNumber === patient);
    const custodians = unique([...record.custodians, ...pointers.map((p) => p.custodian)]);
    const profile = profiles(record, patient !== undefined);
    return {
      resourceType: 'AuditEvent',
      id: newId(recordedMs),
      ...(profile.length > 0 ? { meta: { profile } } : {}),
      type: eventType(record),
      subtype: subtypes(record),
      action: record.kind.action,
      ...(period ? { period } : {}),
      recorded: new Date(recordedMs).toISOString(),
      outcome,
      ...(description !== undefined ? { outcomeDesc: description } : {}),
      ...(purposeOfEvent.length > 0 ? { purposeOfEvent } : {}),
      agent: agents(record),
      source: {
        site: record.serverUrl,
        observer,
        type: [coding(SECURITY_SOURCE_TYPE_SYSTEM, '4', 'Application Server')],
      },
      entity: entities(record, patient, pointers, custodians),
    };
  };
  return patients.length === 0 ? [build(undefined)] : patients.map(build);
}
