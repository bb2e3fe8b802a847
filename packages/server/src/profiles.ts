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

/** Reads `*.json` in `dir` (not sub-folders such as `examples/`) and builds the pointer schema. */
export async function loadPublishedProfiles(dir: string): Promise<PublishedProfiles> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  const resources = await Promise.all(
    names.map(async (name) => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Resource),
  );
  return { resources, pointerSchema: pointerSchemaFrom(resources) };
}
