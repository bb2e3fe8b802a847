/**
 * The published conformance resources (R13): every FHIR JSON file at the top of
 * `fhir-profiles/`, loaded once at start. The pointer validator is built from them, and the
 * APIs serve them, so suppliers read exactly the schema that is enforced.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { type PointerSchema, pointerSchemaFrom } from '@nir/core';

/** The published resources and the validator schema built from them. */
export interface PublishedProfiles {
  resources: Resource[];
  pointerSchema: PointerSchema;
}

/**
 * The FHIR R4 core definitions the CapabilityStatements name (`r4-core/`, copied verbatim from
 * the HL7 R4 4.0.1 definitions), served so that every canonical a statement names resolves.
 */
export const CORE_DEFINITIONS_DIR = 'r4-core';

async function readJsonFiles(dir: string): Promise<Resource[]> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.json'))
    .sort();
  return Promise.all(
    names.map(async (name) => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Resource),
  );
}

/**
 * Reads `*.json` in `dir` and in its `r4-core/` (not other sub-folders such as `examples/`)
 * and builds the pointer schema.
 */
export async function loadPublishedProfiles(dir: string): Promise<PublishedProfiles> {
  const resources = [
    ...(await readJsonFiles(dir)),
    ...(await readJsonFiles(path.join(dir, CORE_DEFINITIONS_DIR))),
  ];
  return { resources, pointerSchema: pointerSchemaFrom(resources) };
}
