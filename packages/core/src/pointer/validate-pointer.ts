/**
 * Pointer validation in NRL's stages (nrl-behaviour.md §4): A parsing (the profile's closed
 * content model and FHIR datatypes; every fault reported), then B business rules (the first
 * fault). Stage C (who may write what) needs the caller and lives in `producer-rules.ts`.
 */
import type { DocumentReference, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { isTestRangeNhsNumber } from '../nhs-number.ts';
import { OperationOutcomeError, refuse } from '../outcomes.ts';
import { checkBusinessRules, type WriteMode } from './business-rules.ts';
import { ElementModel } from './element-model.ts';
import { datatypeIssues } from './fhir-datatypes.ts';
import { checkStructure } from './structure.ts';
import { buildTerminology, NIR_CANONICAL, type Terminology } from './terminology.ts';

/** The canonical URL of the NIR pointer profile. */
export const NIR_POINTER_PROFILE = `${NIR_CANONICAL}/StructureDefinition/NIR-DocumentReference`;

/** Everything the validator enforces, read from the published profiles (R13). */
export interface PointerSchema {
  profile: StructureDefinition;
  model: ElementModel;
  terminology: Terminology;
  /**
   * Sandbox registry (`NIR_SANDBOX`, R15): only NHS test-range numbers are accepted, so a real
   * patient can never be written.
   */
  sandbox?: boolean | undefined;
}

/** Builds the schema from the published conformance resources; throws when one is missing or inconsistent. */
export function pointerSchemaFrom(resources: readonly Resource[]): PointerSchema {
  const profile = resources.find(
    (r): r is StructureDefinition =>
      r.resourceType === 'StructureDefinition' && r.url === NIR_POINTER_PROFILE,
  );
  if (!profile) throw new Error(`the published profile ${NIR_POINTER_PROFILE} is missing`);
  return {
    profile,
    model: ElementModel.fromStructureDefinition(profile),
    terminology: buildTerminology(resources),
  };
}

/**
 * Stage A only: throws 400 `MESSAGE_NOT_WELL_FORMED` (one issue per fault) unless `body` is
 * structurally a NIR pointer.
 */
export function parsePointer(schema: PointerSchema, body: unknown): DocumentReference {
  const structural = checkStructure(schema.model, body);
  if (structural.length > 0) throw new OperationOutcomeError(structural);
  const datatypes = datatypeIssues(schema.model, body as Record<string, unknown>);
  if (datatypes.length > 0) throw new OperationOutcomeError(datatypes);
  return body as DocumentReference;
}

/** Stages A and B: returns the pointer, or throws the refusal NRL would give. */
export function validatePointer(schema: PointerSchema, body: unknown, mode: WriteMode): DocumentReference {
  const pointer = parsePointer(schema, body);
  const failure = checkBusinessRules(pointer, schema.terminology, mode);
  if (failure) {
    const { rule: _rule, ...issue } = failure;
    throw new OperationOutcomeError(issue);
  }
  const nhsNumber = pointer.subject?.identifier?.value ?? '';
  if (schema.sandbox && !isTestRangeNhsNumber(nhsNumber)) {
    throw refuse(
      'UNPROCESSABLE_ENTITY',
      'This is a sandbox registry: only NHS test-range numbers (999 prefix, valid Modulus 11) are accepted',
      'subject.identifier.value',
    );
  }
  return pointer;
}
