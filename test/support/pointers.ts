/**
 * Fresh valid pointer bodies for provider tests, built from the published example
 * (`fhir-profiles/examples/DocumentReference-example-report.json`) without its server fields
 * (`id`, `meta`), for a given custodian, NHS number and pointer type.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DocumentReference } from '@medplum/fhirtypes';
import { nhsNumberCheckDigit } from '@nir/core';
import { REPO_ROOT } from './harness.ts';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** Pointer types of the demo catalogue (`system|code`) with their display and mapped category. */
export const POINTER_TYPES = {
  'https://nicip.nhs.uk|MAULR': {
    display: 'MRA Upper Limb Rt',
    category: { code: '721981007', display: 'Diagnostic studies report' },
  },
  'https://nicip.nhs.uk|MAXIB': {
    display: 'MRI Axilla Both',
    category: { code: '103693007', display: 'Diagnostic procedure' },
  },
  'http://snomed.info/sct|418062002': {
    display: 'MRA upper limb artery',
    category: { code: '721981007', display: 'Diagnostic studies report' },
  },
} as const;

/** A pointer type of the demo catalogue. */
export type PointerType = keyof typeof POINTER_TYPES;

/** NHS numbers that pass Modulus 11 (nrl-behaviour.md §4.1). */
export const VALID_NHS_NUMBERS = [
  '9000000009',
  '9278693472',
  '9999999999',
  '9995001624',
  '9785146901',
  '6700028191',
  '9000000017',
] as const;

/** Where {@link freshNhsNumber} goes on: a random start per test process, then counting up. */
let nextNhsBase = 400_000_000 + Math.floor(Math.random() * 500_000_000);

/**
 * A valid NHS number not handed out before in this process, so that each test (or group) has a
 * patient of its own.
 */
export function freshNhsNumber(): string {
  for (;;) {
    const base = String(nextNhsBase++);
    const check = nhsNumberCheckDigit(base);
    if (check !== undefined) return `${base}${check}`;
  }
}

const example = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'fhir-profiles/examples/DocumentReference-example-report.json'), 'utf8'),
) as DocumentReference;

/** What a fresh pointer is for. */
export interface PointerOptions {
  /** Custodian and author ODS code (default RR8). */
  custodian?: string;
  /** Subject NHS number (default 9000000009). */
  nhsNumber?: string;
  /** Pointer type `system|code` (default NICIP MAULR). */
  type?: PointerType;
}

/** A fresh, valid pointer body as a provider would send it (no `id`, no `meta`). */
export function validPointer(options: PointerOptions = {}): DocumentReference {
  const { custodian = 'RR8', nhsNumber = '9000000009', type = 'https://nicip.nhs.uk|MAULR' } = options;
  const { id: _id, meta: _meta, ...rest } = structuredClone(example);
  const [system, code] = type.split('|') as [string, string];
  const known = POINTER_TYPES[type];
  const ods = { identifier: { system: ODS_SYSTEM, value: custodian } };
  return {
    ...rest,
    type: { coding: [{ system, code, display: known.display }] },
    category: [
      {
        coding: [
          { system: 'http://snomed.info/sct', code: known.category.code, display: known.category.display },
        ],
      },
    ],
    subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    author: [structuredClone(ods)],
    custodian: ods,
  };
}

/** A `replaces` relation to the pointer `targetId` (a supersede). */
export function replaces(targetId: string): NonNullable<DocumentReference['relatesTo']> {
  return [{ code: 'replaces', target: { identifier: { value: targetId } } }];
}
