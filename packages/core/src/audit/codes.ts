/**
 * The code systems and codes of the registry's AuditEvents: IHE BALP on FHIR R4 AuditEvent,
 * with the NHS England PARS agent and entity slices (mhd-balp.md §3.1–3.4). Exact strings only.
 */

/** `AuditEvent.type`: a RESTful operation. */
export const AUDIT_EVENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
/** DICOM codes for event types and agent roles. */
export const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
/** `AuditEvent.subtype` for FHIR interactions. */
export const RESTFUL_INTERACTION_SYSTEM = 'http://hl7.org/fhir/restful-interaction';
/** `AuditEvent.subtype` for IHE transactions (ITI-65, ITI-67, ...). */
export const IHE_EVENT_TYPE_SYSTEM = 'urn:ihe:event-type-code';
/** `AuditEvent.subtype` for the registry's own events (token issue, catalogue change, retention). */
export const NIR_AUDIT_SUBTYPE_SYSTEM = 'https://fhir.nir.nhs.uk/CodeSystem/nir-audit-event-subtype';
/** `entity.type`: Person or System Object. */
export const AUDIT_ENTITY_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
/** BALP's entity type for the X-Request-Id. */
export const BALP_ENTITY_TYPE_SYSTEM = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
/** `entity.role`. */
export const OBJECT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/object-role';
/** FHIR resource types, used as entity types by PARS (Endpoint) and for custodian organisations. */
export const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types';
/** `source.type`. */
export const SECURITY_SOURCE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/security-source-type';
/** User agent types (IRCP, AUT, ...). */
export const PARTICIPATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** The user's organisation agent type (BALP AuthZ pattern: `userorg`). */
export const ROLE_CLASS_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
/** The custodian server agent type of a delete (BALP Delete). */
export const PROVENANCE_PARTICIPANT_TYPE_SYSTEM =
  'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/** PARS: the transaction id entity's identifier system (carries the X-Request-Id). */
export const TRANSACTION_ID_SYSTEM = 'https://fhir.nhs.uk/Id/transaction';
/** PARS: the registry's ASID (`source.observer`). */
export const PARS_ASID_SYSTEM = 'https://fhir.nhs.uk/Id/accredited-system';
/** SDS user ids of end users. */
export const SDS_USER_ID_SYSTEM = 'https://fhir.nhs.uk/Id/sds-user-id';
/** The registry's client ids (Controller Catalogue). */
export const NIR_CLIENT_ID_SYSTEM = 'https://fhir.nir.nhs.uk/Id/client-id';
/** A URI identifier (the registry's base URL, SubmissionSet ids, token ids). */
export const URI_SYSTEM = 'urn:ietf:rfc:3986';
/** Prefix BALP gives OAuth token ids (`jti`). */
export const JTI_PREFIX = 'urn:ietf:params:oauth:jti:';
/** Identifier systems of catalogue records named by admin events. */
export const NIR_CATALOGUE_SYSTEM_PREFIX = 'https://fhir.nir.nhs.uk/Id/catalogue-';

/** The BALP profiles (canonical prefix). */
export const BALP_PROFILE_PREFIX = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
/** The NHS England PARS AuditEvent profile. */
export const PARS_PROFILE = 'https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS';

/** FHIR R4 `AuditEvent.action`. */
export const AUDIT_ACTIONS = ['C', 'R', 'U', 'D', 'E'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** FHIR R4 `AuditEvent.outcome`: success, minor, serious, major failure. */
export const AUDIT_OUTCOMES = ['0', '4', '8', '12'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** The restful-interaction subtypes the registry records. */
export const RESTFUL_SUBTYPES = [
  'create',
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'search-type',
  'search-system',
  'transaction',
  'operation',
  'capabilities',
] as const;
export type RestfulSubtype = (typeof RESTFUL_SUBTYPES)[number];

/** The registry's own subtypes, for events that are not FHIR interactions. */
export const NIR_SUBTYPES = {
  'token-issue': 'Access token issue (OAuth 2.0 client credentials)',
  'catalogue-change': 'Controller Catalogue change',
  'catalogue-read': 'Controller Catalogue read',
  'signing-key-rotation': 'Registry signing key rotation',
  'audit-retention': 'Audit retention: expired partitions dropped',
  'request-refused': 'Request refused before its interaction was known',
  'sandbox-reset': "Conformance sandbox reset: a supplier's sandbox pointers and audit removed (R15)",
} as const;
export type NirSubtype = keyof typeof NIR_SUBTYPES;

/** Any subtype code the registry records. */
export type AuditSubtype = RestfulSubtype | NirSubtype;

/** IHE transactions the registry names in `subtype`, with their displays. */
export const IHE_TRANSACTIONS = {
  'ITI-65': 'Provide Document Bundle',
  'ITI-66': 'Find Document Lists',
  'ITI-67': 'Find Document References',
  'ITI-68': 'Retrieve Document',
  'ITI-81': 'Retrieve ATNA Audit Event',
} as const;
export type IheTransaction = keyof typeof IHE_TRANSACTIONS;

/** True when `code` is one of the registry's subtypes. */
export function isAuditSubtype(code: string): code is AuditSubtype {
  return (RESTFUL_SUBTYPES as readonly string[]).includes(code) || Object.hasOwn(NIR_SUBTYPES, code);
}

/** The code system a subtype code belongs to. */
export function subtypeSystem(code: AuditSubtype): string {
  return (RESTFUL_SUBTYPES as readonly string[]).includes(code)
    ? RESTFUL_INTERACTION_SYSTEM
    : NIR_AUDIT_SUBTYPE_SYSTEM;
}
