/**
 * Realistic imaging pointers for the benchmark (issue 6): deterministic from a seed, so two runs
 * of the same size load the same data. A patient has 1–15 pointers (most have few), and one in
 * 2,000 has a long history of 200–500 (the S2b patient's kind); each pointer is an imaging
 * report or study from one of the bench providers, about 1.5 KB as stored.
 *
 * Nothing here writes: the loader (`load.ts`) validates every body through the API's validator.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { nhsNumberCheckDigit } from '@nir/core';
import { prng } from '../../test/support/prng.ts';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** The imaging types the bench publishes (all in the NIR pointer type value set) and their category. */
export const BENCH_TYPES = [
  { code: '363680008', display: 'Radiographic imaging procedure', weight: 40 },
  { code: '77477000', display: 'Computed tomography', weight: 18 },
  { code: '16310003', display: 'Ultrasonography', weight: 20 },
  { code: '113091000', display: 'Magnetic resonance imaging', weight: 12 },
  { code: '71651007', display: 'Mammography', weight: 6 },
  { code: '44491008', display: 'Fluoroscopy', weight: 2 },
  { code: '82918005', display: 'Positron emission tomography', weight: 2 },
] as const;
export const SNOMED = 'http://snomed.info/sct';
const CATEGORY = { code: '721981007', display: 'Diagnostic studies report' };

/** The providers the bench loads for (the demo providers RR8 and RAE among them). */
export const BENCH_PROVIDERS = [
  'RR8',
  'RAE',
  'RXF',
  'RCF',
  'RWA',
  'RJL',
  'RFF',
  'RCB',
  'RHQ',
  'RFR',
] as const;

const SETTINGS = [
  { code: '310125001', display: 'Radiology service' },
  { code: '708175003', display: 'Diagnostic imaging service' },
  { code: '310128004', display: 'Computerized tomography service' },
  { code: '310127009', display: 'Magnetic resonance imaging service' },
  { code: '310169008', display: 'Ultrasonography service' },
];

/** NRL's content stability extension (required): imaging content is static. */
const CONTENT_EXTENSIONS = [
  {
    url: 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability',
    valueCodeableConcept: {
      coding: [
        {
          system: 'https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability',
          code: 'static',
          display: 'Static',
        },
      ],
    },
  },
];

const BODY_PARTS = [
  'chest',
  'abdomen',
  'pelvis',
  'head',
  'spine',
  'knee',
  'hip',
  'shoulder',
  'wrist',
  'ankle',
];

/** The `index`th valid NHS number of the bench (9 digits from 600000000 up, Modulus 11). */
export function benchNhsNumber(index: number): string {
  // About 1 in 11 bases has no check digit; stride 1 over bases and skip those.
  let base = 600_000_000 + Math.floor(index * 1.1);
  for (;;) {
    const check = nhsNumberCheckDigit(String(base));
    if (check !== undefined) return `${base}${check}`;
    base += 1;
  }
}

/** One patient of the generated population. */
export interface BenchPatient {
  index: number;
  nhsNumber: string;
  pointers: number;
}

/** Pointers per patient: 1–15, geometric (mean about 4), and a long tail of 200–500. */
export function pointersFor(random: () => number): number {
  if (random() < 0.0005) return 200 + Math.floor(random() * 301);
  let n = 1;
  while (n < 15 && random() < 0.72) n += 1;
  return n;
}

/** Patients the bench's writes spread over (see `writtenPatientIndex`). */
export const WRITTEN_PATIENTS = 100_000;

/**
 * The index of a patient the bench's writes (S3, S7) publish for, from a draw in [0, 1): never
 * one of the `loaded` patients the searches ask for (a gap of 100 covers neighbouring indices
 * that share an NHS number). Writing for searched patients made a reused dataset's searches
 * answer more pointers each run (some 35,000 a run), and so cost more CPU, a drift of the data
 * taken for a cost of the growing audit (issue 15).
 */
export function writtenPatientIndex(loaded: number, draw: number): number {
  return loaded + 100 + Math.floor(draw * WRITTEN_PATIENTS);
}

/** The population of patient `index` (deterministic from seed and index). */
export function benchPatient(seed: number, index: number): BenchPatient {
  const random = prng(seed * 1_000_003 + index);
  return { index, nhsNumber: benchNhsNumber(index), pointers: pointersFor(random) };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function weighted<T extends { weight: number }>(random: () => number, items: readonly T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let at = random() * total;
  for (const item of items) {
    at -= item.weight;
    if (at < 0) return item;
  }
  return items[items.length - 1] as T;
}

function hex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The `n`th pointer body of a patient, as a provider would POST it (no id, no meta). Studies
 * are spread over the ten years before `now`. `custodianOverride` publishes it for another provider
 * (the API scenarios write as RR8, whose demo client has a key).
 */
export function benchPointer(
  seed: number,
  patient: BenchPatient,
  n: number,
  now: Date,
  custodianOverride?: string,
): DocumentReference {
  const random = prng((seed * 1_000_003 + patient.index) * 7919 + n);
  const drawn = pick(random, BENCH_PROVIDERS);
  const custodian = custodianOverride ?? drawn;
  const type = weighted(random, BENCH_TYPES);
  const part = pick(random, BODY_PARTS);
  const setting = pick(random, SETTINGS);
  const studyStart = new Date(now.getTime() - Math.floor(random() * 3650 * 86_400_000));
  studyStart.setUTCMilliseconds(0);
  const studyEnd = new Date(studyStart.getTime() + (5 + Math.floor(random() * 55)) * 60_000);
  const reported = new Date(studyEnd.getTime() + Math.floor(random() * 72) * 3_600_000);
  const accession = `${custodian}.${Math.floor(random() * 1e10)}`;
  const studyUid = `1.2.826.0.1.3680043.10.${Math.floor(random() * 1e6)}.${patient.index}.${n}`;
  const ods = { identifier: { system: ODS_SYSTEM, value: custodian } };
  const isReport = random() < 0.6;
  const host = `pacs.${custodian.toLowerCase()}.nhs.uk`;
  return {
    resourceType: 'DocumentReference',
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:oid:${studyUid}` },
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: SNOMED, code: type.code, display: type.display }] },
    category: [{ coding: [{ system: SNOMED, ...CATEGORY }] }],
    subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: patient.nhsNumber } },
    date: reported.toISOString(),
    author: [{ identifier: { ...ods.identifier } }],
    custodian: ods,
    description: `${type.display} ${part}`,
    content: [
      {
        attachment: isReport
          ? {
              contentType: 'application/pdf',
              url: `https://${host}/reports/${uuid(random)}`,
              title: 'Radiology report',
              creation: reported.toISOString(),
            }
          : {
              contentType: 'application/dicom',
              url: `https://${host}/wado-rs/studies/${studyUid}`,
              title: 'Imaging study',
              creation: studyEnd.toISOString(),
            },
        format: isReport
          ? {
              system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode',
              code: 'urn:ihe:rad:PDF',
              display: 'Radiology XDS-I PDF',
            }
          : {
              system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/dicom-uid',
              code: '1.2.840.10008.5.1.4.1.1.88.59',
              display: 'Key Object Selection Document Storage',
            },
        extension: CONTENT_EXTENSIONS,
      },
    ],
    context: {
      period: { start: studyStart.toISOString(), end: studyEnd.toISOString() },
      practiceSetting: { coding: [{ system: SNOMED, ...setting }] },
      related: [
        {
          identifier: {
            system: `https://${host}/Id/accession-number`,
            value: accession,
          },
        },
      ],
    },
  };
}
