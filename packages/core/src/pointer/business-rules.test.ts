/**
 * Stage B (nrl-behaviour.md §4.3): every rule id of business-rules.ts, content-rules.ts and retrieval-url.ts,
 * each broken by one mutation of a valid pointer, with NRL's code, status, expression and
 * diagnostics. The schema is the published one (fhir-profiles/, R13).
 */
import { readFileSync } from 'node:fs';
import type { DocumentReference } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode, OperationOutcomeError } from '../outcomes.ts';
import { checkBusinessRules, type RuleFailure, type WriteMode } from './business-rules.ts';
import {
  ASID_SYSTEM,
  CONTENT_STABILITY_URL,
  RETRIEVAL_MECHANISM_SYSTEM,
  RETRIEVAL_MECHANISM_URL,
} from './codes.ts';
import { checkStructure } from './structure.ts';
import {
  deletePath,
  EXAMPLE_FILES,
  examplePointer,
  getPath,
  publishedSchema,
  setPath,
  validPointer,
} from './test-fixtures.ts';
import { type PointerSchema, parsePointer, validatePointer } from './validate-pointer.ts';

const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SNOMED = 'http://snomed.info/sct';
const NRL_FORMAT = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode';
const STABILITY_SYSTEM = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability';
const STABILITY_VS = 'https://fhir.nhs.uk/England/ValueSet/England-NRLContentStability';
const RETRIEVAL_VS = 'https://fhir.nhs.uk/England/ValueSet/England-NRLRetrievalMechanism';
const PRACTICE_VS = 'https://fhir.nhs.uk/England/ValueSet/England-PracticeSetting';
const RECORD_TYPE = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLRecordType';
const RECORD_CATEGORY = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLRecordCategory';
const SSP_URL = 'ssp://ris.example.nhs.uk/reports/7c9e2a41';

function asid(value: string) {
  return { identifier: { system: ASID_SYSTEM, value } };
}

function retrievalExtension(code: string, display: string) {
  return {
    url: RETRIEVAL_MECHANISM_URL,
    valueCodeableConcept: { coding: [{ system: RETRIEVAL_MECHANISM_SYSTEM, code, display }] },
  };
}

function stabilityExtension(code: string, display: string) {
  return {
    url: CONTENT_STABILITY_URL,
    valueCodeableConcept: { coding: [{ system: STABILITY_SYSTEM, code, display }] },
  };
}

interface RuleCase {
  rule: string;
  /** What the case changes in the valid report example. */
  change: string;
  mutate: (pointer: DocumentReference) => void;
  expression: string;
  diagnostics: string;
  /** UNPROCESSABLE_ENTITY unless said otherwise. */
  code?: ErrorCode;
  mode?: WriteMode;
  /**
   * False when stage A refuses the mutated body first (the rule guards direct callers only);
   * otherwise the whole validator must answer with exactly this issue.
   */
  reachable?: boolean;
}

const STABILITY_LOC = 'content[0].extension[0].valueCodeableConcept';

const CASES: RuleCase[] = [
  // V1: required fields, in NRL's order.
  ...(['custodian', 'type', 'subject', 'category', 'author'] as const).map(
    (field): RuleCase => ({
      rule: 'V1',
      change: `no ${field}`,
      mutate: (p) => deletePath(p, field),
      expression: field,
      diagnostics: `The required field '${field}' is missing`,
    }),
  ),
  {
    rule: 'V1',
    change: 'no id on upsert',
    mutate: (p) => deletePath(p, 'id'),
    mode: 'upsert',
    expression: 'id',
    diagnostics: "The required field 'id' is missing",
  },
  {
    rule: 'V1',
    change: 'no status (stage A refuses it first)',
    mutate: (p) => deletePath(p, 'status'),
    expression: 'status',
    diagnostics: "The required field 'status' is missing",
    reachable: false,
  },
  // V2: identifiers present (an identifier-less reference is `{}`, which stage A refuses).
  {
    rule: 'V2.custodian',
    change: 'custodian without identifier',
    mutate: (p) => setPath(p, 'custodian', {}),
    expression: 'custodian.identifier',
    diagnostics: 'Custodian must have an identifier',
    reachable: false,
  },
  {
    rule: 'V2.subject',
    change: 'subject without identifier',
    mutate: (p) => setPath(p, 'subject', {}),
    expression: 'subject.identifier',
    diagnostics: 'Subject must have an identifier',
    reachable: false,
  },
  // V3: identifier systems and the NHS number (R12).
  {
    rule: 'V3.subject-system',
    change: 'subject system not the NHS number system',
    mutate: (p) => setPath(p, 'subject.identifier.system', 'https://fhir.nhs.uk/Id/local-patient-id'),
    expression: 'subject.identifier.system',
    diagnostics: `Provided subject identifier system is not the NHS number system (expected '${NHS_SYSTEM}')`,
  },
  {
    rule: 'V3.custodian-system',
    change: 'custodian system not ODS',
    mutate: (p) => setPath(p, 'custodian.identifier.system', 'https://example.org/ods'),
    expression: 'custodian.identifier.system',
    diagnostics: `Provided custodian identifier system is not the ODS system (expected: '${ODS}')`,
  },
  {
    rule: 'V3.nhs-number',
    change: 'NHS number failing Modulus 11',
    mutate: (p) => setPath(p, 'subject.identifier.value', '9000000008'),
    expression: 'subject.identifier.value',
    diagnostics: 'Invalid NHS number',
  },
  // V4: relatesTo.
  {
    rule: 'V4.code',
    change: 'unknown relatesTo code in the second relation',
    mutate: (p) =>
      setPath(p, 'relatesTo', [
        { code: 'replaces', target: { identifier: { value: 'RR8-old' } } },
        { code: 'obsoletes', target: { identifier: { value: 'RR8-older' } } },
      ]),
    expression: 'relatesTo[1].code',
    diagnostics: 'Invalid relatesTo code: obsoletes',
  },
  {
    rule: 'V4.replaces-target',
    change: "'replaces' target naming no pointer (display and an absolute reference only)",
    mutate: (p) =>
      setPath(p, 'relatesTo', [
        {
          code: 'replaces',
          target: { reference: 'https://other.example/fhir/DocumentReference/x', display: 'Old report' },
        },
      ]),
    expression: 'relatesTo[0].target.identifier.value',
    diagnostics: "relatesTo code 'replaces' must have a target identifier",
  },
  {
    rule: 'V4.target',
    change: "'transforms' target naming no pointer",
    mutate: (p) => setPath(p, 'relatesTo', [{ code: 'transforms', target: { display: 'Old report' } }]),
    expression: 'relatesTo[0].target.identifier.value',
    diagnostics: 'No identifier value provided for relatesTo target',
  },
  {
    rule: 'V4.target-conflict',
    change: 'a target whose reference and identifier name different pointers',
    mutate: (p) =>
      setPath(p, 'relatesTo', [
        {
          code: 'replaces',
          target: { reference: 'DocumentReference/RR8-a', identifier: { value: 'RR8-b' } },
        },
      ]),
    expression: 'relatesTo[0].target.reference',
    diagnostics: 'The relatesTo target reference and identifier name different documents',
  },
  // V5: SSP and ASID.
  {
    rule: 'V5.related',
    change: 'ssp:// url without context.related',
    mutate: (p) => {
      setPath(p, 'content[0].attachment.url', SSP_URL);
      deletePath(p, 'context.related');
    },
    expression: 'context.related',
    diagnostics:
      'Missing context.related. It must be provided and contain a single valid ASID identifier when content contains an SSP URL',
  },
  {
    rule: 'V5.asid',
    change: 'ssp:// url with only an accession number in context.related',
    mutate: (p) => setPath(p, 'content[0].attachment.url', SSP_URL),
    expression: 'context.related',
    diagnostics:
      'Missing ASID identifier. context.related must contain a single valid ASID identifier when content contains an SSP URL',
  },
  {
    rule: 'V5.multiple',
    change: 'two ASIDs (with an https url: the rule applies to any url)',
    mutate: (p) => {
      setPath(p, 'context.related[1]', asid('200000000123'));
      setPath(p, 'context.related[2]', asid('200000000124'));
    },
    expression: 'context.related',
    diagnostics:
      'Multiple ASID identifiers provided. Only a single valid ASID identifier can be provided in the context.related.',
  },
  {
    rule: 'V5.value',
    change: 'an ASID of 5 digits',
    mutate: (p) => {
      setPath(p, 'content[0].attachment.url', SSP_URL);
      setPath(p, 'context.related[1]', asid('12345'));
    },
    expression: 'context.related[1].identifier.value',
    diagnostics:
      "Invalid ASID value '12345'. A single ASID consisting of 12 digits can be provided in the context.related field.",
  },
  // V6: type.
  {
    rule: 'V6.length',
    change: 'two type codings',
    mutate: (p) =>
      setPath(p, 'type.coding[1]', { system: SNOMED, code: '418062002', display: 'MRA upper limb artery' }),
    expression: 'type.coding',
    diagnostics: 'Invalid type coding length: 2 Type Coding must only contain a single value',
  },
  {
    rule: 'V6.system',
    change: 'type system LOINC',
    mutate: (p) => setPath(p, 'type.coding[0].system', 'http://loinc.org'),
    expression: 'type.coding[0].system',
    diagnostics: `Invalid type system: http://loinc.org Type system must be either '${SNOMED}' or 'https://nicip.nhs.uk'`,
  },
  {
    rule: 'V6.code',
    change: 'unknown NICIP code',
    mutate: (p) => setPath(p, 'type.coding[0].code', 'ZZZZZ'),
    expression: 'type.coding[0].code',
    diagnostics: `Invalid type code: ZZZZZ Type must be a member of the England-NRLRecordType value set (${RECORD_TYPE})`,
  },
  {
    rule: 'V6.display',
    change: 'type display not the published one',
    mutate: (p) => setPath(p, 'type.coding[0].display', 'MRA Upper Limb Right'),
    expression: 'type.coding[0].display',
    diagnostics: "type code 'MAULR' must have a display value of 'MRA Upper Limb Rt'",
  },
  // V7: category.
  {
    rule: 'V7.length',
    change: 'two categories',
    mutate: (p) =>
      setPath(p, 'category[1]', {
        coding: [{ system: SNOMED, code: '721981007', display: 'Diagnostic studies report' }],
      }),
    expression: 'category',
    diagnostics: 'Invalid category length: 2 Category must only contain a single value',
  },
  {
    rule: 'V7.coding-length',
    change: 'two category codings',
    mutate: (p) =>
      setPath(p, 'category[0].coding[1]', {
        system: SNOMED,
        code: '103693007',
        display: 'Diagnostic procedure',
      }),
    expression: 'category[0].coding',
    diagnostics: 'Invalid category coding length: 2 Category Coding must only contain a single value',
  },
  {
    rule: 'V7.system',
    change: 'category system LOINC',
    mutate: (p) => setPath(p, 'category[0].coding[0].system', 'http://loinc.org'),
    expression: 'category[0].coding[0].system',
    diagnostics: `Invalid category system: http://loinc.org Category system must be '${SNOMED}'`,
  },
  {
    rule: 'V7.code',
    change: 'unknown category code',
    mutate: (p) => setPath(p, 'category[0].coding[0].code', '1234567'),
    expression: 'category[0].coding[0].code',
    diagnostics: `Invalid category code: 1234567 Category must be a member of the England-NRLRecordCategory value set (${RECORD_CATEGORY})`,
  },
  {
    rule: 'V7.display',
    change: 'category display not the published one',
    mutate: (p) => setPath(p, 'category[0].coding[0].display', 'Diagnostic report'),
    expression: 'category[0].coding[0].display',
    diagnostics: "category code '721981007' must have a display value of 'Diagnostic studies report'",
  },
  // V8: author.
  {
    rule: 'V8.length',
    change: 'two authors',
    mutate: (p) => setPath(p, 'author[1]', { identifier: { system: ODS, value: 'RA7' } }),
    expression: 'author',
    diagnostics: 'Invalid author length: 2 Author must only contain a single value',
  },
  {
    rule: 'V8.system',
    change: 'author system not ODS',
    mutate: (p) => setPath(p, 'author[0].identifier.system', 'https://example.org/org'),
    expression: 'author[0].identifier.system',
    diagnostics: `Invalid author system: 'https://example.org/org' Author system must be '${ODS}'`,
  },
  {
    rule: 'V8.value',
    change: 'author value not alphanumeric',
    mutate: (p) => setPath(p, 'author[0].identifier.value', 'RR8-01'),
    expression: 'author[0].identifier.value',
    diagnostics: "Invalid author value: 'RR8-01' Author value must be alphanumeric",
  },
  {
    rule: 'V8.length-value',
    change: 'author value of 13 characters',
    mutate: (p) => setPath(p, 'author[0].identifier.value', 'ABCDEFGHIJKLM'),
    expression: 'author[0].identifier.value',
    diagnostics: "Invalid author value: 'ABCDEFGHIJKLM' Author value must be less than 13 characters",
  },
  // V9: the type's one category.
  {
    rule: 'V9',
    change: 'a valid category that is not the type’s',
    mutate: (p) =>
      setPath(p, 'category[0].coding[0]', {
        system: SNOMED,
        code: '103693007',
        display: 'Diagnostic procedure',
      }),
    expression: 'category.coding[0].code',
    diagnostics: `The Category code of the provided document '${SNOMED}|103693007' must match the allowed category for pointer type 'https://nicip.nhs.uk|MAULR' with a category value of '${SNOMED}|721981007'`,
  },
  // V10: content type and format.
  {
    rule: 'V10.content-type',
    change: 'contentType application/msword',
    mutate: (p) => setPath(p, 'content[0].attachment.contentType', 'application/msword'),
    expression: 'content[0].attachment.contentType',
    diagnostics:
      "Invalid contentType: application/msword. Must be 'application/pdf', 'text/html', 'application/json', 'application/fhir+json', 'application/json+fhir', 'application/dicom', 'application/dicom+json' or 'text/plain'",
  },
  {
    rule: 'V10.format-display',
    change: 'format display not the published one',
    mutate: (p) => setPath(p, 'content[0].format.display', 'PDF'),
    expression: 'content[0].format.display',
    diagnostics: "Invalid display for format code 'urn:ihe:rad:PDF'. Expected 'Radiology XDS-I PDF'",
  },
  {
    rule: 'V10.format-code',
    change: 'structured format with a PDF',
    mutate: (p) =>
      setPath(p, 'content[0].format', {
        system: NRL_FORMAT,
        code: 'urn:nhs-ic:structured',
        display: 'Structured Document',
      }),
    expression: 'content[0].format.code',
    diagnostics:
      "Invalid content format code: urn:nhs-ic:structured format code must be 'urn:nhs-ic:unstructured' or 'urn:ihe:rad:PDF' for application/pdf attachments.",
  },
  {
    rule: 'V10.format-code',
    change: 'unstructured format with text/html (NRL: record-contact only)',
    mutate: (p) => {
      setPath(p, 'content[0].attachment.contentType', 'text/html');
      setPath(p, 'content[0].format', {
        system: NRL_FORMAT,
        code: 'urn:nhs-ic:unstructured',
        display: 'Unstructured Document',
      });
    },
    expression: 'content[0].format.code',
    diagnostics:
      "Invalid content format code: urn:nhs-ic:unstructured format code must be 'urn:nhs-ic:record-contact' for text/html attachments.",
  },
  {
    rule: 'V10.format-code',
    change: 'unknown format code',
    mutate: (p) =>
      setPath(p, 'content[0].format', { system: NRL_FORMAT, code: 'urn:nhs-ic:other', display: 'Other' }),
    expression: 'content[0].format.code',
    diagnostics:
      "Invalid content format code: urn:nhs-ic:other format code must be 'urn:nhs-ic:unstructured' or 'urn:ihe:rad:PDF' for application/pdf attachments.",
  },
  // V11: content extensions.
  {
    rule: 'V11.unknown',
    change: 'an extension the profile does not define',
    mutate: (p) =>
      setPath(p, 'content[0].extension[2]', {
        url: 'https://example.org/ext',
        valueCodeableConcept: { coding: [{ system: 'https://example.org', code: 'x', display: 'X' }] },
      }),
    expression: 'content[0].extension[2].url',
    diagnostics: "Invalid content extension: unknown extension 'https://example.org/ext'",
  },
  {
    rule: 'V11.stability-shape',
    change: 'stability extension without valueCodeableConcept (Medplum ext-1 refuses it first)',
    mutate: (p) => setPath(p, 'content[0].extension[0]', { url: CONTENT_STABILITY_URL }),
    code: 'BAD_REQUEST',
    expression: `${STABILITY_LOC}.coding`,
    diagnostics: `Invalid content stability extension (${STABILITY_LOC}.coding: Field required, see: ${STABILITY_VS})`,
    reachable: false,
  },
  {
    rule: 'V11.stability-shape',
    change: 'stability extension with two codings',
    mutate: (p) =>
      setPath(p, `${STABILITY_LOC}.coding[1]`, {
        system: STABILITY_SYSTEM,
        code: 'dynamic',
        display: 'Dynamic',
      }),
    code: 'BAD_REQUEST',
    expression: `${STABILITY_LOC}.coding`,
    diagnostics: `Invalid content stability extension (${STABILITY_LOC}.coding: List should have exactly 1 item, see: ${STABILITY_VS})`,
  },
  {
    rule: 'V11.stability-shape',
    change: 'stability coding in another system',
    mutate: (p) => setPath(p, `${STABILITY_LOC}.coding[0].system`, 'https://example.org/stability'),
    code: 'BAD_REQUEST',
    expression: `${STABILITY_LOC}.coding[0].system`,
    diagnostics: `Invalid content stability extension (${STABILITY_LOC}.coding[0].system: Input should be '${STABILITY_SYSTEM}', see: ${STABILITY_VS})`,
  },
  {
    rule: 'V11.stability-shape',
    change: 'stability code volatile',
    mutate: (p) => setPath(p, `${STABILITY_LOC}.coding[0].code`, 'volatile'),
    code: 'BAD_REQUEST',
    expression: `${STABILITY_LOC}.coding[0].code`,
    diagnostics: `Invalid content stability extension (${STABILITY_LOC}.coding[0].code: Input should be 'static' or 'dynamic', see: ${STABILITY_VS})`,
  },
  {
    rule: 'V11.stability-display',
    change: 'stability display Dynamic with code static',
    mutate: (p) => setPath(p, `${STABILITY_LOC}.coding[0].display`, 'Dynamic'),
    expression: `${STABILITY_LOC}.coding[0].display`,
    diagnostics:
      "Invalid content extension display: Dynamic Extension display must be the same as code either 'Static' or 'Dynamic'",
  },
  {
    rule: 'V11.stability-count',
    change: 'no stability extension',
    mutate: (p) => deletePath(p, 'content[0].extension[0]'),
    expression: 'content[0].extension',
    diagnostics: `Invalid content extension: Extension must have one content stability extension, see: ('${STABILITY_VS}')`,
  },
  {
    rule: 'V11.stability-count',
    change: 'two stability extensions',
    mutate: (p) => setPath(p, 'content[0].extension[2]', stabilityExtension('dynamic', 'Dynamic')),
    expression: 'content[0].extension',
    diagnostics: `Invalid content extension: Extension must have one content stability extension, see: ('${STABILITY_VS}')`,
  },
  {
    rule: 'V11.retrieval-count',
    change: 'two retrieval extensions',
    mutate: (p) => setPath(p, 'content[0].extension[2]', retrievalExtension('SSP', 'Spine Secure Proxy')),
    expression: 'content[0].extension',
    diagnostics: `Invalid content retrieval extension: Extension must have one content retrieval extension, see: ('${RETRIEVAL_VS}')`,
  },
  {
    rule: 'V11.retrieval-code',
    change: 'retrieval code Courier',
    mutate: (p) => setPath(p, 'content[0].extension[1]', retrievalExtension('Courier', 'Courier')),
    expression: 'content[0].extension[1].valueCodeableConcept.coding[0].code',
    diagnostics: `Invalid content retrieval extension code: Courier, see: ('${RETRIEVAL_VS}')`,
  },
  {
    rule: 'V11.retrieval-display',
    change: 'retrieval display in lower case',
    mutate: (p) => setPath(p, 'content[0].extension[1]', retrievalExtension('SSP', 'spine secure proxy')),
    expression: 'content[0].extension[1].valueCodeableConcept.coding[0].display',
    diagnostics:
      "Invalid content extension display: spine secure proxy Expected display is 'Spine Secure Proxy'",
  },
  // V12: practice setting.
  {
    rule: 'V12.coding',
    change: 'practice setting without coding (stage A refuses `{}` first)',
    mutate: (p) => setPath(p, 'context.practiceSetting', {}),
    expression: 'context.practiceSetting.coding',
    diagnostics: 'Invalid practice setting: must contain a Coding',
    reachable: false,
  },
  {
    rule: 'V12.length',
    change: 'two practice setting codings',
    mutate: (p) =>
      setPath(p, 'context.practiceSetting.coding[1]', {
        system: SNOMED,
        code: '310127009',
        display: 'Magnetic resonance imaging service',
      }),
    expression: 'context.practiceSetting.coding',
    diagnostics:
      'Invalid practice setting coding length: 2 Practice Setting Coding must only contain a single value',
  },
  {
    rule: 'V12.system',
    change: 'practice setting system LOINC',
    mutate: (p) => setPath(p, 'context.practiceSetting.coding[0].system', 'http://loinc.org'),
    expression: 'context.practiceSetting.coding[0].system',
    diagnostics: `Invalid practice setting system: http://loinc.org Practice Setting system must be '${SNOMED}'`,
  },
  {
    rule: 'V12.code',
    change: 'practice setting code outside the value set',
    mutate: (p) => setPath(p, 'context.practiceSetting.coding[0].code', '999999999'),
    expression: 'context.practiceSetting.coding[0].code',
    diagnostics: `Invalid practice setting code: 999999999 Practice Setting coding must be a member of value set ${PRACTICE_VS}`,
  },
  {
    rule: 'V12.display',
    change: 'practice setting display not the published one',
    mutate: (p) => setPath(p, 'context.practiceSetting.coding[0].display', 'Radiology'),
    expression: 'context.practiceSetting.coding[0]',
    diagnostics: `Invalid practice setting coding: display Radiology does not match the expected display for 310125001 Practice Setting coding is bound to value set ${PRACTICE_VS}`,
  },
  // NIR retrieval URL rules (R1, R14), on the second content to check the index.
  ...(
    [
      [
        'NIR.url-absolute',
        'a relative url',
        '/reports/7c9e2a41',
        "Invalid retrieval URL: '/reports/7c9e2a41' must be an absolute https or ssp URL",
        true,
      ],
      [
        'NIR.url-scheme',
        'an http url',
        'http://ris.example.nhs.uk/reports/1',
        "Invalid retrieval URL scheme 'http': the registry accepts https (including DICOMweb) and ssp URLs only",
        true,
      ],
      [
        'NIR.url-credentials',
        'userinfo in the url',
        'https://ris:secret@ris.example.nhs.uk/reports/1',
        'Invalid retrieval URL: it must not contain credentials',
        true,
      ],
      [
        'NIR.url-credentials',
        'an access_token query parameter',
        'https://ris.example.nhs.uk/reports/1?access_token=abc',
        "Invalid retrieval URL: the query parameter 'access_token' carries credentials, which a pointer must not hold",
        true,
      ],
      [
        'NIR.url-nhs-number',
        "the patient's NHS number in the path",
        'https://ris.example.nhs.uk/patients/9000000009/reports/1',
        "Invalid retrieval URL: it must not contain the patient's NHS number (R1); reference the record by an accession number or study UID",
        true,
      ],
    ] as const
  ).map(
    ([rule, change, url, diagnostics, reachable]): RuleCase => ({
      rule,
      change,
      mutate: (p) => {
        const second = structuredClone(getPath(p, 'content[0]'));
        setPath(second as object, 'attachment.url', url);
        setPath(p, 'content[1]', second);
      },
      expression: 'content[1].attachment.url',
      diagnostics,
      reachable,
    }),
  ),
];

let schema: PointerSchema;

beforeAll(() => {
  schema = publishedSchema();
});

function mutated(testCase: RuleCase): DocumentReference {
  const pointer = validPointer();
  testCase.mutate(pointer);
  return pointer;
}

describe('stage B business rules (nrl-behaviour.md §4.3)', () => {
  it('the table covers every rule id that business-rules.ts and retrieval-url.ts produce', () => {
    const produced = new Set<string>();
    for (const file of ['business-rules.ts', 'content-rules.ts', 'retrieval-url.ts']) {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      for (const match of source.matchAll(/fail\(\s*'([^']+)'/g)) produced.add(match[1] as string);
    }
    expect(produced.size).toBeGreaterThan(40);
    expect([...produced].sort()).toEqual([...new Set(CASES.map((c) => c.rule))].sort());
  });

  it.each(CASES.map((c) => [`${c.rule} (${c.change}): ${c.diagnostics}`, c] as const))(
    '%s',
    (_name, testCase) => {
      const code = testCase.code ?? 'UNPROCESSABLE_ENTITY';
      const pointer = mutated(testCase);
      const failure = checkBusinessRules(pointer, schema.terminology, testCase.mode ?? 'create');
      expect(failure).toEqual<RuleFailure>({
        rule: testCase.rule,
        code,
        expression: testCase.expression,
        diagnostics: testCase.diagnostics,
      });
      const entry = ERROR_CODES[code];
      if (code === 'BAD_REQUEST') expect([entry.status, entry.issue]).toEqual([400, 'invalid']);
      else expect([entry.status, entry.issue]).toEqual([422, 'business-rule']);

      if (testCase.reachable === false) {
        // Stage A answers first; the rule still guards direct callers.
        expect(() => parsePointer(schema, pointer)).toThrow(OperationOutcomeError);
        return;
      }
      expect(checkStructure(schema.model, pointer)).toEqual([]);
      let thrown: unknown;
      try {
        validatePointer(schema, pointer, testCase.mode ?? 'create');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OperationOutcomeError);
      const refusal = thrown as OperationOutcomeError;
      expect(refusal.status).toBe(entry.status);
      expect(refusal.issues).toEqual([
        { code, expression: testCase.expression, diagnostics: testCase.diagnostics },
      ]);
      expect(refusal.toOperationOutcome().issue?.[0]?.code).toBe(entry.issue);
    },
  );

  describe.each(EXAMPLE_FILES)('the published example %s', (file) => {
    it.each(['create', 'upsert', 'update'] as const)('passes every rule in mode %s', (mode) => {
      const pointer = examplePointer(file);
      expect(checkBusinessRules(pointer, schema.terminology, mode)).toBeUndefined();
      expect(validatePointer(schema, pointer, mode)).toBe(pointer);
    });
  });

  it("V1: 'id' is not required on create (the server assigns it) but is for upsert and update", () => {
    const pointer = validPointer();
    deletePath(pointer, 'id');
    expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
    for (const mode of ['upsert', 'update'] as const) {
      expect(checkBusinessRules(pointer, schema.terminology, mode)).toEqual({
        rule: 'V1',
        code: 'UNPROCESSABLE_ENTITY',
        expression: 'id',
        diagnostics: "The required field 'id' is missing",
      });
    }
  });

  it('V1 reports the first missing field in its order: custodian before author', () => {
    const pointer = validPointer();
    deletePath(pointer, 'author');
    deletePath(pointer, 'custodian');
    expect(checkBusinessRules(pointer, schema.terminology, 'create')?.expression).toBe('custodian');
  });

  it.each([
    [
      'V3.custodian-system before V6.display',
      (p: DocumentReference) => {
        setPath(p, 'type.coding[0].display', 'wrong');
        setPath(p, 'custodian.identifier.system', 'https://example.org/ods');
      },
      'V3.custodian-system',
    ],
    [
      'V6.display before V12.display',
      (p: DocumentReference) => {
        setPath(p, 'context.practiceSetting.coding[0].display', 'wrong');
        setPath(p, 'type.coding[0].display', 'wrong');
      },
      'V6.display',
    ],
    [
      'V9 before NIR.url-scheme',
      (p: DocumentReference) => {
        setPath(p, 'content[0].attachment.url', 'http://ris.example.nhs.uk/r/1');
        setPath(p, 'category[0].coding[0]', {
          system: SNOMED,
          code: '103693007',
          display: 'Diagnostic procedure',
        });
      },
      'V9',
    ],
    [
      'content[0] before content[1]',
      (p: DocumentReference) => {
        const second = structuredClone(getPath(p, 'content[0]'));
        setPath(p, 'content[1]', second);
        setPath(p, 'content[1].format.display', 'wrong');
        setPath(p, 'content[0].attachment.url', 'http://ris.example.nhs.uk/r/1');
      },
      'NIR.url-scheme',
    ],
  ])('the first failure wins (two faults): %s', (_name, mutate, rule) => {
    const pointer = validPointer();
    mutate(pointer);
    expect(checkBusinessRules(pointer, schema.terminology, 'create')?.rule).toBe(rule);
  });

  it.each(['1234567890', '123', '999999999', '9000000001'])(
    'R12: NHS number %s fails Modulus 11 or format → V3.nhs-number, 422 (NRL-765 answers 500)',
    (nhsNumber) => {
      const pointer = validPointer();
      setPath(pointer, 'subject.identifier.value', nhsNumber);
      expect(() => validatePointer(schema, pointer, 'create')).toThrow(OperationOutcomeError);
      expect(checkBusinessRules(pointer, schema.terminology, 'create')).toMatchObject({
        rule: 'V3.nhs-number',
        code: 'UNPROCESSABLE_ENTITY',
        expression: 'subject.identifier.value',
      });
      try {
        validatePointer(schema, pointer, 'create');
      } catch (error) {
        expect((error as OperationOutcomeError).status).toBe(422);
      }
    },
  );

  it.each(['9278693472', '9999999999', '9995001624', '9785146901', '6700028191', '9000000017'])(
    'R12: a valid NHS number %s passes',
    (nhsNumber) => {
      const pointer = validPointer();
      setPath(pointer, 'subject.identifier.value', nhsNumber);
      expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
    },
  );

  it('V5: an ssp:// url with one 12-digit ASID passes', () => {
    const pointer = validPointer();
    setPath(pointer, 'content[0].attachment.url', SSP_URL);
    setPath(pointer, 'content[0].extension[1]', retrievalExtension('SSP', 'Spine Secure Proxy'));
    setPath(pointer, 'context.related[1]', asid('200000000123'));
    expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
    expect(validatePointer(schema, pointer, 'create')).toBe(pointer);
  });

  it('V5: one valid ASID with an https url passes (the ASID is only required for ssp)', () => {
    const pointer = validPointer();
    setPath(pointer, 'context.related[1]', asid('200000000123'));
    expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
  });

  it.each([
    ['788007007', 'General practice service'],
    ['788002001', 'Adult mental health service'],
  ])('V12: any England-PracticeSetting service passes, as in NRL (issue 13): %s %s', (code, display) => {
    const pointer = validPointer();
    setPath(pointer, 'context.practiceSetting.coding[0]', { system: SNOMED, code, display });
    expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
    setPath(pointer, 'context.practiceSetting.coding[0].display', display.toUpperCase());
    expect(checkBusinessRules(pointer, schema.terminology, 'create')?.rule).toBe('V12.display');
  });

  it("V11: the stability display matches its code ignoring case ('STATIC' for static)", () => {
    const pointer = validPointer();
    setPath(pointer, `${STABILITY_LOC}.coding[0].display`, 'STATIC');
    expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
  });

  it('V11: the retrieval extension is optional (at most one)', () => {
    const pointer = validPointer();
    deletePath(pointer, 'content[0].extension[1]');
    expect(checkBusinessRules(pointer, schema.terminology, 'create')).toBeUndefined();
  });

  // Regression (a bug this suite found, now fixed; business-rules.ts sspAsid, `startsWith('ssp://')`): the URL rule accepts any case of
  // the scheme (WHATWG URL lower-cases it), but V5 only recognises lower-case `ssp://`, so an
  // `SSP://` pointer is accepted with no ASID at all.
  it('V5: an SSP:// url (scheme in upper case) without an ASID is refused like ssp://', () => {
    const pointer = validPointer();
    setPath(pointer, 'content[0].attachment.url', 'SSP://ris.example.nhs.uk/reports/7c9e2a41');
    expect(checkBusinessRules(pointer, schema.terminology, 'create')?.rule).toBe('V5.asid');
  });

  // Regression (a bug this suite found, now fixed; business-rules.ts checkContentExtensions, `RETRIEVAL_MECHANISMS[coding?.code ?? '']`):
  // a plain-object lookup finds Object.prototype members, so the code 'toString' is taken as
  // known and reported as a display fault ("Expected display is 'function toString() …'").
  it("V11.retrieval-code: the code 'toString' is an unknown retrieval code", () => {
    const pointer = validPointer();
    setPath(pointer, 'content[0].extension[1]', retrievalExtension('toString', 'Direct'));
    expect(checkBusinessRules(pointer, schema.terminology, 'create')?.rule).toBe('V11.retrieval-code');
  });
});
