/**
 * Pointers the kit publishes: the published example (`fhir-profiles/examples`) made into a
 * fresh pointer of a test patient, with the type's display and category taken from the
 * registry's own published ConceptMap (`NIR-PointerTypeCategory`), so the kit follows the
 * schema the registry enforces (R13).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConceptMap, DocumentReference } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '@nir/core';

/** A pointer type with its display and mapped category, from the ConceptMap. */
export interface PointerTypeInfo {
  system: string;
  code: string;
  display: string;
  category: { system: string; code: string; display: string };
}

/** Finds `type` (`system|code`) in the published type → category ConceptMap. */
export function pointerTypeInfo(map: ConceptMap, type: string): PointerTypeInfo {
  const [system, code] = type.split('|') as [string, string | undefined];
  for (const group of map.group ?? []) {
    if (group.source !== system) continue;
    const element = group.element?.find((e) => e.code === code);
    const target = element?.target?.[0];
    if (element && target?.code) {
      return {
        system,
        code: code ?? '',
        display: element.display ?? '',
        category: { system: group.target ?? '', code: target.code, display: target.display ?? '' },
      };
    }
  }
  throw new Error(`pointer type '${type}' is not in the registry's published ConceptMap ${map.url ?? ''}`);
}

/** Reads the published example pointer of the installation. */
export async function examplePointer(repoRoot: string): Promise<DocumentReference> {
  const file = path.join(repoRoot, 'fhir-profiles', 'examples', 'DocumentReference-example-report.json');
  return JSON.parse(await readFile(file, 'utf8')) as DocumentReference;
}

/** A fresh pointer body (no id, no meta) of `type` for `nhsNumber`, custodian `ods`. */
export function pointerFor(
  example: DocumentReference,
  type: PointerTypeInfo,
  nhsNumber: string,
  ods: string,
  run: string,
): DocumentReference {
  const { id: _id, meta: _meta, ...rest } = structuredClone(example);
  const org = { identifier: { system: ODS_SYSTEM, value: ods } };
  return {
    ...rest,
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` },
    type: { coding: [{ system: type.system, code: type.code, display: type.display }] },
    category: [{ coding: [{ ...type.category }] }],
    subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    author: [structuredClone(org)],
    custodian: org,
    description: `NIR conformance kit test pointer (run ${run})`,
  };
}
