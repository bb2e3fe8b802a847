/**
 * The searchable facts of an AuditEvent, read back from the event itself so that the columns
 * the store indexes can never disagree with the resource it keeps.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../nhs-number.ts';
import { ODS_SYSTEM } from '../ods.ts';
import {
  AUDIT_OUTCOMES,
  type AuditAction,
  type AuditOutcome,
  BALP_ENTITY_TYPE_SYSTEM,
  IHE_EVENT_TYPE_SYSTEM,
  NIR_AUDIT_SUBTYPE_SYSTEM,
  NIR_CLIENT_ID_SYSTEM,
  OBJECT_ROLE_SYSTEM,
  RESOURCE_TYPES_SYSTEM,
  RESTFUL_INTERACTION_SYSTEM,
} from './codes.ts';

/** The columns of one stored AuditEvent. */
export interface AuditFacts {
  id: string;
  recorded: string;
  requestId: string | null;
  subtype: string;
  iheTransaction: string | null;
  action: AuditAction;
  outcome: AuditOutcome;
  /** The verified client system. */
  clientId: string | null;
  /** The verified organisation the request was made for: the event is shared with it (R8). */
  requesterOds: string | null;
  /** Custodians of the pointers involved: the event is shared with each (R8). */
  custodianOds: string[];
  /** The patient of the event (one per event), for subject access requests (R9). */
  patientNhs: string | null;
}

/** Reads the facts of an event made by `toAuditEvents`; throws when a required element is missing. */
export function auditFacts(event: AuditEvent): AuditFacts {
  if (!event.id) throw new Error('AuditEvent has no id');
  if (!event.action) throw new Error('AuditEvent has no action');
  const outcome = event.outcome;
  if (!outcome || !(AUDIT_OUTCOMES as readonly string[]).includes(outcome)) {
    throw new Error('AuditEvent has no outcome');
  }
  const subtype = event.subtype?.find(
    (c) => c.system === RESTFUL_INTERACTION_SYSTEM || c.system === NIR_AUDIT_SUBTYPE_SYSTEM,
  )?.code;
  if (!subtype) throw new Error('AuditEvent has no subtype');
  const entities = event.entity ?? [];
  const requestId = entities.find(
    (e) => e.type?.system === BALP_ENTITY_TYPE_SYSTEM && e.type.code === 'XrequestId',
  )?.what?.identifier?.value;
  const patient = entities.find(
    (e) =>
      e.role?.system === OBJECT_ROLE_SYSTEM &&
      e.role.code === '1' &&
      e.what?.identifier?.system === NHS_NUMBER_SYSTEM,
  )?.what?.identifier?.value;
  const custodians = entities.flatMap((e) =>
    e.type?.system === RESOURCE_TYPES_SYSTEM &&
    e.type.code === 'Organization' &&
    e.role?.code === '17' &&
    e.what?.identifier?.system === ODS_SYSTEM &&
    e.what.identifier.value
      ? [e.what.identifier.value]
      : [],
  );
  const clientId = event.agent.find((a) => a.who?.identifier?.system === NIR_CLIENT_ID_SYSTEM)?.who
    ?.identifier?.value;
  const requesterOds = event.agent.find((a) => a.requestor && a.who?.identifier?.system === ODS_SYSTEM)?.who
    ?.identifier?.value;
  return {
    id: event.id,
    recorded: new Date(event.recorded).toISOString(),
    requestId: requestId ?? null,
    subtype,
    iheTransaction: event.subtype?.find((c) => c.system === IHE_EVENT_TYPE_SYSTEM)?.code ?? null,
    action: event.action,
    outcome: outcome as AuditOutcome,
    clientId: clientId ?? null,
    requesterOds: requesterOds ?? null,
    custodianOds: [...new Set(custodians)],
    patientNhs: patient ?? null,
  };
}
