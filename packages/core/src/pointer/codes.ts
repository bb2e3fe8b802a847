/** Code systems, identifier systems and extension URLs the pointer rules name (nrl-behaviour.md §3). */

export const SNOMED = 'http://snomed.info/sct';
export const NICIP = 'https://nicip.nhs.uk';
export const ASID_SYSTEM = 'https://fhir.nhs.uk/Id/nhsSpineASID';
export const CONTENT_STABILITY_URL =
  'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability';
export const CONTENT_STABILITY_SYSTEM = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability';
export const CONTENT_STABILITY_VALUESET = 'https://fhir.nhs.uk/England/ValueSet/England-NRLContentStability';
export const RETRIEVAL_MECHANISM_URL =
  'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-NRLRetrievalMechanism';
export const RETRIEVAL_MECHANISM_SYSTEM =
  'https://fhir.nhs.uk/England/CodeSystem/England-NRLRetrievalMechanism';
export const RETRIEVAL_MECHANISM_VALUESET =
  'https://fhir.nhs.uk/England/ValueSet/England-NRLRetrievalMechanism';
export const RETRIEVAL_MECHANISMS: Record<string, string> = { SSP: 'Spine Secure Proxy', Direct: 'Direct' };
export const PRACTICE_SETTING_VALUESET = 'https://fhir.nhs.uk/England/ValueSet/England-PracticeSetting';
export const RECORD_TYPE_SYSTEM = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLRecordType';
export const RECORD_CATEGORY_SYSTEM = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLRecordCategory';

/** relatesTo codes: `replaces` supersedes; the others are stored (nrl-behaviour.md §2.3). */
export const RELATES_TO_CODES = ['replaces', 'transforms', 'signs', 'appends', 'incorporates', 'summarizes'];
