/**
 * Test fixtures for the pointer validator: the published conformance resources of
 * `fhir-profiles/` (the schema the registry enforces, R13) and its valid example pointers.
 * For tests only; nothing in the registry imports this file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocumentReference, Resource } from '@medplum/fhirtypes';
import { type PointerSchema, pointerSchemaFrom } from './validate-pointer.ts';

/** The repository's `fhir-profiles/` folder. */
export const PROFILES_DIR = fileURLToPath(new URL('../../../../fhir-profiles', import.meta.url));

/** Every FHIR JSON file at the top of `fhir-profiles/` (not `examples/`), fresh copies. */
export function publishedResources(): Resource[] {
  return readdirSync(PROFILES_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(path.join(PROFILES_DIR, name), 'utf8')) as Resource);
}

/** The pointer schema built from the published files, as the server builds it. */
export function publishedSchema(): PointerSchema {
  return pointerSchemaFrom(publishedResources());
}

/** The published example pointers, by file name. */
export const EXAMPLE_FILES = [
  'DocumentReference-example-report.json',
  'DocumentReference-example-study.json',
] as const;

/** A fresh copy of a published example pointer (as stored: with id and meta). */
export function examplePointer(
  file: (typeof EXAMPLE_FILES)[number] = 'DocumentReference-example-report.json',
): DocumentReference {
  return JSON.parse(readFileSync(path.join(PROFILES_DIR, 'examples', file), 'utf8')) as DocumentReference;
}

/** A fresh valid pointer as a producer sends it (the report example, NICIP `MAULR`). */
export function validPointer(): DocumentReference {
  return examplePointer('DocumentReference-example-report.json');
}

/** A deep copy of any JSON value. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

type JsonObject = Record<string, unknown>;

/** The parent object and last key of a path such as `content[0].attachment.url`. */
function parentOf(root: object, path: string): [JsonObject, string] {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  const last = keys.pop() as string;
  let node = root as JsonObject;
  for (const key of keys) {
    const next = node[key];
    if (typeof next !== 'object' || next === null)
      throw new Error(`test fixture: no '${key}' on the way to ${path}`);
    node = next as JsonObject;
  }
  return [node, last];
}

/** Sets the element at `path` (`a.b[0].c`); an index one past the end appends. */
export function setPath(root: object, path: string, value: unknown): void {
  const [parent, key] = parentOf(root, path);
  parent[key] = value;
}

/** Removes the element at `path` (an array item is spliced out). */
export function deletePath(root: object, path: string): void {
  const [parent, key] = parentOf(root, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
}

/** The element at `path`. */
export function getPath(root: object, path: string): unknown {
  const [parent, key] = parentOf(root, path);
  return parent[key];
}
