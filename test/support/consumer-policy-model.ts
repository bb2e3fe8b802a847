/**
 * The model behind the randomised consumer policy test (test/consumer-policy.e2e.test.ts):
 * the published pointer types and categories, the pool's shape, the fast-check arbitraries of
 * grants and queries, and the brute-force oracle (what the catalogue lets a consumer see).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DocumentReference } from '@medplum/fhirtypes';
import type { Interaction, OrganisationStatus } from '@nir/core';
import fc from 'fast-check';
import { REPO_ROOT } from './harness.ts';
import { VALID_NHS_NUMBERS, validPointer } from './pointers.ts';

/** Small, so that searches without `_count` are cut by the cap and `_count` is cut to the largest page. */
export const SEARCH_CAP = 12;
export const MAX_COUNT = 9;

// ---------------------------------------------------------------------------------------------
// The published terminology: every pointer type and its category

export const SNOMED = 'http://snomed.info/sct';

export interface TypeInfo {
  system: string;
  code: string;
  display: string;
  category: { code: string; display: string };
}

export function readProfile<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'fhir-profiles', name), 'utf8')) as T;
}

export const valueSet = readProfile<{
  compose: { include: { system: string; concept: { code: string; display: string }[] }[] };
}>('ValueSet-NIR-PointerType.json');
export const conceptMap = readProfile<{
  group: {
    source: string;
    element: { code: string; target: { code: string; display: string }[] }[];
  }[];
}>('ConceptMap-NIR-PointerTypeCategory.json');

/** Every pointer type `system|code` with its display and mapped category. */
export const TYPES: Record<string, TypeInfo> = {};
for (const include of valueSet.compose.include) {
  for (const concept of include.concept) {
    const mapped = conceptMap.group
      .find((g) => g.source === include.system)
      ?.element.find((e) => e.code === concept.code)?.target[0];
    if (!mapped) throw new Error(`no category for ${include.system}|${concept.code}`);
    TYPES[`${include.system}|${concept.code}`] = {
      system: include.system,
      code: concept.code,
      display: concept.display,
      category: { code: mapped.code, display: mapped.display },
    };
  }
}
export const TYPE_KEYS = Object.keys(TYPES);
/** Every category `system|code` the types map to (the NIR-PointerCategory value set). */
export const CATEGORY_KEYS = [...new Set(Object.values(TYPES).map((t) => `${SNOMED}|${t.category.code}`))];

/**
 * Well-formed `system|code` types that no pointer has: a known code under another system (the
 * system and code are both compared, NRL defect 2) and codes of no NIR type.
 */
export const FOREIGN_TYPES = [
  'http://snomed.info/sct|MAULR',
  'https://nicip.nhs.uk|418062002',
  'http://loinc.org|18748-4',
  'http://snomed.info/sct|1234567890',
];

// ---------------------------------------------------------------------------------------------
// The catalogue of the test

/** Custodians that publish the pool (demo-provider-a acts for all of them). */
export const CUSTODIANS = ['RR8', 'RAE', 'RGT', 'RM1'] as const;
/** Consumer organisations (demo-consumer acts for all of them); RR8 is also a custodian. */
export const CONSUMERS = ['RWY', 'RXF', 'RJ1', 'RR8'] as const;
/** A known organisation that holds no pointers. */
export const NOT_A_CUSTODIAN = 'RWY';
/** Patients of the pool, and one valid NHS number with no pointers. */
export const PATIENT_A = VALID_NHS_NUMBERS[0];
export const PATIENTS = [PATIENT_A, VALID_NHS_NUMBERS[1], VALID_NHS_NUMBERS[2]];
export const NO_POINTERS_PATIENT = VALID_NHS_NUMBERS[3];
export const QUERY_PATIENTS = [...PATIENTS, NO_POINTERS_PATIENT];
export const POOL_SIZE = 78;
export const DELETED = 8;
export const PATIENT_KEYS = [
  'subject:identifier',
  'patient:identifier',
  'patient.identifier',
  'subject.identifier',
];
export const CONSUMER_INTERACTIONS: Interaction[] = ['read', 'search', 'count'];

/** One pointer of the pool as the provider API stored it. */
export interface Pooled {
  id: string;
  nhsNumber: string;
  custodian: string;
  type: string;
  category: string;
  deleted: boolean;
}

/** A valid pointer body of any NIR type (the example with its type and mapped category swapped). */
export function pointerOf(custodian: string, nhsNumber: string, type: string): DocumentReference {
  const info = TYPES[type];
  if (!info) throw new Error(`unknown type ${type}`);
  const body = validPointer({ custodian, nhsNumber });
  body.masterIdentifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` };
  body.type = { coding: [{ system: info.system, code: info.code, display: info.display }] };
  body.category = [
    { coding: [{ system: SNOMED, code: info.category.code, display: info.category.display }] },
  ];
  return body;
}

/** A small deterministic generator, so that every backend gets the same pool shape. */
export { prng } from './prng.ts';

// ---------------------------------------------------------------------------------------------
// Arbitraries

export type GrantChoice = {
  types: string[];
  allowAll: boolean;
  interactions: Interaction[];
} | null;

export type TypeChoice =
  | { kind: 'granted'; pick: number }
  | { kind: 'any'; type: string }
  | { kind: 'foreign'; type: string };

export const typeChoiceArb: fc.Arbitrary<TypeChoice> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('granted' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('any' as const), type: fc.constantFrom(...TYPE_KEYS) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('foreign' as const), type: fc.constantFrom(...FOREIGN_TYPES) }),
  },
);

export const grantArb: fc.Arbitrary<GrantChoice> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 14,
    arbitrary: fc.record({
      types: fc.oneof(
        { weight: 1, arbitrary: fc.constant<string[]>([]) },
        { weight: 8, arbitrary: fc.subarray(TYPE_KEYS, { minLength: 1, maxLength: 14 }) },
      ),
      allowAll: fc.oneof(
        { weight: 4, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      interactions: fc.oneof(
        { weight: 5, arbitrary: fc.constant(CONSUMER_INTERACTIONS) },
        { weight: 2, arbitrary: fc.subarray(CONSUMER_INTERACTIONS) },
      ),
    }),
  },
);

export const odsListArb = fc.subarray([...CUSTODIANS, NOT_A_CUSTODIAN], { minLength: 1, maxLength: 3 });

export type Method = 'GET' | 'POST-form' | 'POST-json' | 'POST-merged';

export const queryArb = fc.record({
  patient: fc.constantFrom(...QUERY_PATIENTS),
  patientKey: fc.constantFrom(...PATIENT_KEYS),
  types: fc.option(fc.array(typeChoiceArb, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 2 }),
  categories: fc.option(fc.subarray(CATEGORY_KEYS, { minLength: 1, maxLength: 3 }), {
    nil: undefined,
    freq: 3,
  }),
  custodians: fc.option(odsListArb, { nil: undefined, freq: 3 }),
  excluded: fc.option(odsListArb, { nil: undefined, freq: 3 }),
  count: fc.option(fc.integer({ min: 0, max: MAX_COUNT + 4 }), { nil: undefined, freq: 2 }),
  summaryCount: fc.oneof(
    { weight: 3, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  method: fc.constantFrom<Method>('GET', 'POST-form', 'POST-json', 'POST-merged'),
});

export const runArb = fc.record({
  consumer: fc.constantFrom(...CONSUMERS),
  status: fc.oneof(
    { weight: 12, arbitrary: fc.constant<OrganisationStatus>('active') },
    { weight: 1, arbitrary: fc.constant<OrganisationStatus>('suspended') },
    { weight: 1, arbitrary: fc.constant<OrganisationStatus>('terminated') },
  ),
  grant: grantArb,
  query: queryArb,
  /** Picks of pooled ids to read (including deleted ones). */
  reads: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
});

export type Run = typeof runArb extends fc.Arbitrary<infer T> ? T : never;
export type Query = Run['query'];

/** Inputs every run tries first: one of each outcome class. */
export const ALL_GRANTED: NonNullable<GrantChoice> = {
  types: TYPE_KEYS,
  allowAll: false,
  interactions: CONSUMER_INTERACTIONS,
};
export const EXAMPLE_QUERY: Query = {
  patient: PATIENT_A,
  patientKey: 'subject:identifier',
  types: undefined,
  categories: undefined,
  custodians: undefined,
  excluded: undefined,
  count: 5,
  summaryCount: false,
  method: 'GET',
};
export const EXAMPLES: [Run][] = [
  [{ consumer: 'RWY', status: 'active', grant: ALL_GRANTED, query: EXAMPLE_QUERY, reads: [0, 1, 2] }],
  [
    {
      consumer: 'RWY',
      status: 'active',
      grant: ALL_GRANTED,
      query: { ...EXAMPLE_QUERY, count: undefined, method: 'POST-merged' },
      reads: [8],
    },
  ],
  [
    {
      consumer: 'RXF',
      status: 'active',
      grant: { types: TYPE_KEYS.slice(0, 5), allowAll: false, interactions: CONSUMER_INTERACTIONS },
      query: { ...EXAMPLE_QUERY, method: 'POST-form', count: undefined },
      reads: [3, 4, 5, 6],
    },
  ],
  [
    {
      consumer: 'RJ1',
      status: 'active',
      grant: { types: [], allowAll: true, interactions: CONSUMER_INTERACTIONS },
      query: { ...EXAMPLE_QUERY, summaryCount: true, method: 'POST-json' },
      reads: [7],
    },
  ],
  [
    {
      consumer: 'RR8',
      status: 'active',
      grant: { types: TYPE_KEYS.slice(10, 14), allowAll: false, interactions: CONSUMER_INTERACTIONS },
      query: { ...EXAMPLE_QUERY, types: [{ kind: 'any', type: TYPE_KEYS[0] ?? '' }] },
      reads: [0],
    },
  ],
  [{ consumer: 'RWY', status: 'suspended', grant: ALL_GRANTED, query: EXAMPLE_QUERY, reads: [0] }],
  [
    {
      consumer: 'RWY',
      status: 'active',
      grant: { types: [], allowAll: false, interactions: CONSUMER_INTERACTIONS },
      query: EXAMPLE_QUERY,
      reads: [0],
    },
  ],
  [
    {
      consumer: 'RXF',
      status: 'active',
      grant: { types: TYPE_KEYS, allowAll: false, interactions: ['read', 'search'] },
      query: { ...EXAMPLE_QUERY, summaryCount: true },
      reads: [0],
    },
  ],
  // A count under a grant that allows `count` but not `search`: a count is its own interaction.
  [
    {
      consumer: 'RXF',
      status: 'active',
      grant: { types: TYPE_KEYS, allowAll: false, interactions: ['read', 'count'] },
      query: { ...EXAMPLE_QUERY, summaryCount: true },
      reads: [0],
    },
  ],
];

// ---------------------------------------------------------------------------------------------
// The brute-force oracle

/** What the grant lets the caller see, as the contract says (ALLOW_ALL_TYPES, or the listed types). */
export function grantSees(grant: NonNullable<GrantChoice>, type: string): boolean {
  return grant.allowAll || grant.types.includes(type);
}

/** The `type` values a query sends, resolved against the grant. */
export function resolveTypes(choices: TypeChoice[] | undefined, grant: GrantChoice): string[] | undefined {
  if (!choices) return undefined;
  const granted = grant?.types ?? [];
  return [
    ...new Set(
      choices.map((c) => {
        if (c.kind === 'granted') return granted[c.pick % Math.max(granted.length, 1)] ?? TYPE_KEYS[0] ?? '';
        return c.type;
      }),
    ),
  ];
}

/** Why the guard refuses the request before any parameter is read, or undefined. */
export function guardRefusal(run: Run, interaction: Interaction): string | undefined {
  if (run.status !== 'active') return `organisation ${run.status}`;
  if (!run.grant) return 'no consumer grant';
  if (run.grant.types.length === 0 && !run.grant.allowAll) return 'a grant with no types';
  if (!run.grant.interactions.includes(interaction)) return `grant lacks ${interaction}`;
  return undefined;
}

/** The ids a search of `query` must return, filtering the pool by hand. */
export function expectedIds(
  pool: readonly Pooled[],
  grant: NonNullable<GrantChoice>,
  query: Query,
  types?: string[],
) {
  return pool
    .filter(
      (p) =>
        !p.deleted &&
        p.nhsNumber === query.patient &&
        grantSees(grant, p.type) &&
        (types === undefined || types.includes(p.type)) &&
        (query.categories === undefined || query.categories.includes(p.category)) &&
        (query.custodians === undefined || query.custodians.includes(p.custodian)) &&
        (query.excluded === undefined || !query.excluded.includes(p.custodian)),
    )
    .map((p) => p.id)
    .sort();
}
