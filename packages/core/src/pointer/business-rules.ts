/**
 * Stage B of pointer validation (nrl-behaviour.md §4.3): the NRL business rules V1–V12 plus
 * the registry's own (R1 retrieval references, R12 NHS number). Every failure is 422
 * `UNPROCESSABLE_ENTITY` with the offending element, except the content stability extension
 * faults NRL reports as 400 `BAD_REQUEST`. The first failure wins, as in NRL.
 */
import type { Coding, DocumentReference } from '@medplum/fhirtypes';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM } from '../nhs-number.ts';
import { ODS_SYSTEM } from '../ods.ts';
import {
  ASID_SYSTEM,
  PRACTICE_SETTING_VALUESET,
  RECORD_CATEGORY_SYSTEM,
  RECORD_TYPE_SYSTEM,
  RELATES_TO_CODES,
  SNOMED,
} from './codes.ts';
import { checkContent } from './content-rules.ts';
import { namedTarget, targetConflicts } from './relates-to-target.ts';
import { fail, type RuleFailure } from './rule-failure.ts';
import type { Terminology } from './terminology.ts';

export type { RuleFailure } from './rule-failure.ts';

/** How a pointer reaches the rules: a create has no id yet; upsert and update carry one. */
export type WriteMode = 'create' | 'upsert' | 'update';

type Rule = (
  pointer: DocumentReference,
  terminology: Terminology,
  mode: WriteMode,
) => RuleFailure | undefined;

const V1_FIELDS = ['custodian', 'id', 'type', 'status', 'subject', 'category', 'author'] as const;

const requiredFields: Rule = (pointer, _t, mode) => {
  for (const field of V1_FIELDS) {
    if (field === 'id' && mode === 'create') continue;
    if (pointer[field] === undefined) return fail('V1', field, `The required field '${field}' is missing`);
  }
  return undefined;
};

const identifiersPresent: Rule = (pointer) => {
  if (!pointer.custodian?.identifier) {
    return fail('V2.custodian', 'custodian.identifier', 'Custodian must have an identifier');
  }
  if (!pointer.subject?.identifier)
    return fail('V2.subject', 'subject.identifier', 'Subject must have an identifier');
  return undefined;
};

const identifierSystems: Rule = (pointer) => {
  const subject = pointer.subject?.identifier;
  if (subject?.system !== NHS_NUMBER_SYSTEM) {
    return fail(
      'V3.subject-system',
      'subject.identifier.system',
      `Provided subject identifier system is not the NHS number system (expected '${NHS_NUMBER_SYSTEM}')`,
    );
  }
  if (pointer.custodian?.identifier?.system !== ODS_SYSTEM) {
    return fail(
      'V3.custodian-system',
      'custodian.identifier.system',
      `Provided custodian identifier system is not the ODS system (expected: '${ODS_SYSTEM}')`,
    );
  }
  if (!isValidNhsNumber(subject.value ?? '')) {
    // NRL answers 500 here (NRL-765); the registry refuses it as the business rule it is (R12).
    return fail('V3.nhs-number', 'subject.identifier.value', 'Invalid NHS number');
  }
  return undefined;
};

const relatesTo: Rule = (pointer) => {
  for (const [i, relation] of (pointer.relatesTo ?? []).entries()) {
    if (!RELATES_TO_CODES.includes(relation.code ?? '')) {
      return fail('V4.code', `relatesTo[${i}].code`, `Invalid relatesTo code: ${relation.code}`);
    }
    if (targetConflicts(relation.target)) {
      return fail(
        'V4.target-conflict',
        `relatesTo[${i}].target.reference`,
        'The relatesTo target reference and identifier name different documents',
      );
    }
    if (!namedTarget(relation.target)) {
      return relation.code === 'replaces'
        ? fail(
            'V4.replaces-target',
            `relatesTo[${i}].target.identifier.value`,
            "relatesTo code 'replaces' must have a target identifier",
          )
        : fail(
            'V4.target',
            `relatesTo[${i}].target.identifier.value`,
            'No identifier value provided for relatesTo target',
          );
    }
  }
  return undefined;
};

const sspAsid: Rule = (pointer) => {
  const related = pointer.context?.related ?? [];
  const asids = related
    .map((item, index) => ({ index, identifier: item.identifier }))
    .filter(({ identifier }) => identifier?.system === ASID_SYSTEM);
  const usesSsp = (pointer.content ?? []).some((c) => /^ssp:\/\//i.test(c.attachment?.url ?? ''));
  if (usesSsp && related.length === 0) {
    return fail(
      'V5.related',
      'context.related',
      'Missing context.related. It must be provided and contain a single valid ASID identifier when content contains an SSP URL',
    );
  }
  if (usesSsp && asids.length === 0) {
    return fail(
      'V5.asid',
      'context.related',
      'Missing ASID identifier. context.related must contain a single valid ASID identifier when content contains an SSP URL',
    );
  }
  if (asids.length > 1) {
    return fail(
      'V5.multiple',
      'context.related',
      'Multiple ASID identifiers provided. Only a single valid ASID identifier can be provided in the context.related.',
    );
  }
  const [asid] = asids;
  if (asid && !/^\d{12}$/.test(asid.identifier?.value ?? '')) {
    return fail(
      'V5.value',
      `context.related[${asid.index}].identifier.value`,
      `Invalid ASID value '${asid.identifier?.value}'. A single ASID consisting of 12 digits can be provided in the context.related field.`,
    );
  }
  return undefined;
};

const pointerType: Rule = (pointer, terminology) => {
  const codings = pointer.type?.coding ?? [];
  if (codings.length !== 1) {
    return fail(
      'V6.length',
      'type.coding',
      `Invalid type coding length: ${codings.length} Type Coding must only contain a single value`,
    );
  }
  const [coding] = codings as [Coding];
  const systems = terminology.pointerTypes.systems;
  if (!systems.includes(coding.system ?? '')) {
    return fail(
      'V6.system',
      'type.coding[0].system',
      `Invalid type system: ${coding.system} Type system must be either ${systems.map((s) => `'${s}'`).join(' or ')}`,
    );
  }
  const known = terminology.pointerTypes.get(coding.system, coding.code);
  if (!known) {
    return fail(
      'V6.code',
      'type.coding[0].code',
      `Invalid type code: ${coding.code} Type must be a member of the England-NRLRecordType value set (${RECORD_TYPE_SYSTEM})`,
    );
  }
  if (coding.display !== known.display) {
    return fail(
      'V6.display',
      'type.coding[0].display',
      `type code '${coding.code}' must have a display value of '${known.display}'`,
    );
  }
  return undefined;
};

const category: Rule = (pointer, terminology) => {
  const categories = pointer.category ?? [];
  if (categories.length !== 1) {
    return fail(
      'V7.length',
      'category',
      `Invalid category length: ${categories.length} Category must only contain a single value`,
    );
  }
  const codings = categories[0]?.coding ?? [];
  if (codings.length !== 1) {
    return fail(
      'V7.coding-length',
      'category[0].coding',
      `Invalid category coding length: ${codings.length} Category Coding must only contain a single value`,
    );
  }
  const [coding] = codings as [Coding];
  if (coding.system !== SNOMED) {
    return fail(
      'V7.system',
      'category[0].coding[0].system',
      `Invalid category system: ${coding.system} Category system must be '${SNOMED}'`,
    );
  }
  const known = terminology.categories.get(coding.system, coding.code);
  if (!known) {
    return fail(
      'V7.code',
      'category[0].coding[0].code',
      `Invalid category code: ${coding.code} Category must be a member of the England-NRLRecordCategory value set (${RECORD_CATEGORY_SYSTEM})`,
    );
  }
  if (coding.display !== known.display) {
    return fail(
      'V7.display',
      'category[0].coding[0].display',
      `category code '${coding.code}' must have a display value of '${known.display}'`,
    );
  }
  return undefined;
};

const author: Rule = (pointer) => {
  const authors = pointer.author ?? [];
  if (authors.length !== 1) {
    return fail(
      'V8.length',
      'author',
      `Invalid author length: ${authors.length} Author must only contain a single value`,
    );
  }
  const identifier = authors[0]?.identifier;
  if (identifier?.system !== ODS_SYSTEM) {
    return fail(
      'V8.system',
      'author[0].identifier.system',
      `Invalid author system: '${identifier?.system}' Author system must be '${ODS_SYSTEM}'`,
    );
  }
  const value = identifier.value ?? '';
  if (!/^[A-Za-z0-9]+$/.test(value)) {
    return fail(
      'V8.value',
      'author[0].identifier.value',
      `Invalid author value: '${value}' Author value must be alphanumeric`,
    );
  }
  if (value.length > 12) {
    return fail(
      'V8.length-value',
      'author[0].identifier.value',
      `Invalid author value: '${value}' Author value must be less than 13 characters`,
    );
  }
  return undefined;
};

const typeCategory: Rule = (pointer, terminology) => {
  const type = pointer.type?.coding?.[0] as Coding;
  const sent = pointer.category?.[0]?.coding?.[0] as Coding;
  const mapped = terminology.categoryOfType(type.system as string, type.code as string);
  if (!mapped || mapped.system !== sent.system || mapped.code !== sent.code) {
    return fail(
      'V9',
      'category.coding[0].code',
      `The Category code of the provided document '${sent.system}|${sent.code}' must match the allowed category for pointer type '${type.system}|${type.code}' with a category value of '${mapped?.system}|${mapped?.code}'`,
    );
  }
  return undefined;
};

const practiceSetting: Rule = (pointer, terminology) => {
  const codings = pointer.context?.practiceSetting?.coding;
  if (!codings?.length) {
    return fail(
      'V12.coding',
      'context.practiceSetting.coding',
      'Invalid practice setting: must contain a Coding',
    );
  }
  if (codings.length > 1) {
    return fail(
      'V12.length',
      'context.practiceSetting.coding',
      `Invalid practice setting coding length: ${codings.length} Practice Setting Coding must only contain a single value`,
    );
  }
  const [coding] = codings as [Coding];
  if (coding.system !== SNOMED) {
    return fail(
      'V12.system',
      'context.practiceSetting.coding[0].system',
      `Invalid practice setting system: ${coding.system} Practice Setting system must be '${SNOMED}'`,
    );
  }
  const known = terminology.practiceSettings.get(coding.system, coding.code);
  if (!known) {
    return fail(
      'V12.code',
      'context.practiceSetting.coding[0].code',
      `Invalid practice setting code: ${coding.code} Practice Setting coding must be a member of value set ${PRACTICE_SETTING_VALUESET}`,
    );
  }
  if (coding.display !== known.display) {
    return fail(
      'V12.display',
      'context.practiceSetting.coding[0]',
      `Invalid practice setting coding: display ${coding.display} does not match the expected display for ${coding.code} Practice Setting coding is bound to value set ${PRACTICE_SETTING_VALUESET}`,
    );
  }
  return undefined;
};

/** The rules in NRL's order. */
const RULES: Rule[] = [
  requiredFields,
  identifiersPresent,
  identifierSystems,
  relatesTo,
  sspAsid,
  pointerType,
  category,
  author,
  typeCategory,
  checkContent,
  practiceSetting,
];

/** Runs the business rules on a structurally valid pointer; the first failure, or undefined. */
export function checkBusinessRules(
  pointer: DocumentReference,
  terminology: Terminology,
  mode: WriteMode,
): RuleFailure | undefined {
  for (const rule of RULES) {
    const failure = rule(pointer, terminology, mode);
    if (failure) return failure;
  }
  return undefined;
}
