/**
 * The consumer policy, randomised (issue 4, R3, R6; docs/consumer-api.md): random consumer
 * grants, organisation statuses and queries over a seeded pool of pointers of every pointer
 * type, from several custodians, for several patients. For every consumer and query the answer
 * equals a brute-force filter of the pool by the catalogue: no pointer of a type the grant does
 * not list ever appears in a search (on any page), in a count or through a read.
 *
 * The pool is seeded once per backend through the provider API (every type of
 * `ValueSet-NIR-PointerType` with its category from `ConceptMap-NIR-PointerTypeCategory`), a
 * few pointers are then deleted. Each run rewrites the consumer organisation's grant and status
 * in the catalogue (read on every request) and sends one search or count (GET, form POST, JSON
 * POST, or POST with the query string merged), following every `next` link, and reads a few
 * pooled ids. The registry runs with a small search cap and largest page, so that capped
 * Bundles (the too-costly warning and a `next` link) and shortened pages are met too.
 * `FC_SEED=<seed>` replays a failure that fast-check reported; `CONSUMER_POLICY_RUNS` sets
 * the number of runs (default 200 per backend).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DocumentReference } from '@medplum/fhirtypes';
import { demoUserClaims } from '@nir/cli';
import type { AccessControl, GrantInput, Interaction, OrganisationStatus } from '@nir/core';
import { testBackends } from '@nir/store/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import {
  clinicalHeaders,
  errorCode,
  REPO_ROOT,
  startTestRegistry,
  type TestRegistry,
} from './support/harness.ts';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, VALID_NHS_NUMBERS, validPointer } from './support/pointers.ts';

const backends = await testBackends();
const CONSUMER = '/consumer/FHIR/R4';
const PRODUCER = '/producer/FHIR/R4';
const RUNS = Number(process.env.CONSUMER_POLICY_RUNS ?? 200);
/** Small, so that searches without `_count` are cut by the cap and `_count` is cut to the largest page. */
const SEARCH_CAP = 12;
const MAX_COUNT = 9;
/** `FC_SEED=<seed>` replays a failure that fast-check reported. */
const REPLAY = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

// ---------------------------------------------------------------------------------------------
// The published terminology: every pointer type and its category

const SNOMED = 'http://snomed.info/sct';

interface TypeInfo {
  system: string;
  code: string;
  display: string;
  category: { code: string; display: string };
}

function readProfile<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'fhir-profiles', name), 'utf8')) as T;
}

const valueSet = readProfile<{
  compose: { include: { system: string; concept: { code: string; display: string }[] }[] };
}>('ValueSet-NIR-PointerType.json');
const conceptMap = readProfile<{
  group: {
    source: string;
    element: { code: string; target: { code: string; display: string }[] }[];
  }[];
}>('ConceptMap-NIR-PointerTypeCategory.json');

/** Every pointer type `system|code` with its display and mapped category. */
const TYPES: Record<string, TypeInfo> = {};
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
const TYPE_KEYS = Object.keys(TYPES);
/** Every category `system|code` the types map to (the NIR-PointerCategory value set). */
const CATEGORY_KEYS = [...new Set(Object.values(TYPES).map((t) => `${SNOMED}|${t.category.code}`))];

/**
 * Well-formed `system|code` types that no pointer has: a known code under another system (the
 * system and code are both compared, NRL defect 2) and codes of no NIR type.
 */
const FOREIGN_TYPES = [
  'http://snomed.info/sct|MAULR',
  'https://nicip.nhs.uk|418062002',
  'http://loinc.org|18748-4',
  'http://snomed.info/sct|1234567890',
];

// ---------------------------------------------------------------------------------------------
// The catalogue of the test

/** Custodians that publish the pool (demo-provider-a acts for all of them). */
const CUSTODIANS = ['RR8', 'RAE', 'RGT', 'RM1'] as const;
/** Consumer organisations (demo-consumer acts for all of them); RR8 is also a custodian. */
const CONSUMERS = ['RWY', 'RXF', 'RJ1', 'RR8'] as const;
/** A known organisation that holds no pointers. */
const NOT_A_CUSTODIAN = 'RWY';
/** Patients of the pool, and one valid NHS number with no pointers. */
const PATIENT_A = VALID_NHS_NUMBERS[0];
const PATIENTS = [PATIENT_A, VALID_NHS_NUMBERS[1], VALID_NHS_NUMBERS[2]];
const NO_POINTERS_PATIENT = VALID_NHS_NUMBERS[3];
const QUERY_PATIENTS = [...PATIENTS, NO_POINTERS_PATIENT];
const POOL_SIZE = 78;
const DELETED = 8;
const PATIENT_KEYS = ['subject:identifier', 'patient:identifier', 'patient.identifier', 'subject.identifier'];
const CONSUMER_INTERACTIONS: Interaction[] = ['read', 'search', 'count'];

/** One pointer of the pool as the provider API stored it. */
interface Pooled {
  id: string;
  nhsNumber: string;
  custodian: string;
  type: string;
  category: string;
  deleted: boolean;
}

/** A valid pointer body of any NIR type (the example with its type and mapped category swapped). */
function pointerOf(custodian: string, nhsNumber: string, type: string): DocumentReference {
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
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

type GrantChoice = {
  types: string[];
  allowAll: boolean;
  interactions: Interaction[];
} | null;

type TypeChoice =
  | { kind: 'granted'; pick: number }
  | { kind: 'any'; type: string }
  | { kind: 'foreign'; type: string };

const typeChoiceArb: fc.Arbitrary<TypeChoice> = fc.oneof(
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

const grantArb: fc.Arbitrary<GrantChoice> = fc.oneof(
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

const odsListArb = fc.subarray([...CUSTODIANS, NOT_A_CUSTODIAN], { minLength: 1, maxLength: 3 });

type Method = 'GET' | 'POST-form' | 'POST-json' | 'POST-merged';

const queryArb = fc.record({
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

const runArb = fc.record({
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

type Run = typeof runArb extends fc.Arbitrary<infer T> ? T : never;
type Query = Run['query'];

/** Inputs every run tries first: one of each outcome class. */
const ALL_GRANTED: GrantChoice = { types: TYPE_KEYS, allowAll: false, interactions: CONSUMER_INTERACTIONS };
const EXAMPLE_QUERY: Query = {
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
const EXAMPLES: [Run][] = [
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
function grantSees(grant: NonNullable<GrantChoice>, type: string): boolean {
  return grant.allowAll || grant.types.includes(type);
}

/** The `type` values a query sends, resolved against the grant. */
function resolveTypes(choices: TypeChoice[] | undefined, grant: GrantChoice): string[] | undefined {
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
function guardRefusal(run: Run, interaction: Interaction): string | undefined {
  if (run.status !== 'active') return `organisation ${run.status}`;
  if (!run.grant) return 'no consumer grant';
  if (run.grant.types.length === 0 && !run.grant.allowAll) return 'a grant with no types';
  if (!run.grant.interactions.includes(interaction)) return `grant lacks ${interaction}`;
  return undefined;
}

/** The ids a search of `query` must return, filtering the pool by hand. */
function expectedIds(
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

// ---------------------------------------------------------------------------------------------

interface Issue {
  severity?: string;
  code?: string;
}

interface Page {
  resourceType?: string;
  type?: string;
  total?: number;
  link?: { relation?: string; url?: string }[];
  entry?: { fullUrl?: string; resource?: DocumentReference; search?: { mode?: string } }[];
}

describe.each(backends)('consumer policy (R3, R6) on $name', (backend) => {
  let t: TestRegistry;
  const pool: Pooled[] = [];
  const consumerTokens = new Map<string, string>();
  const producerTokens = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), {
      env: {
        NIR_ACCESS_TOKEN_TTL: '3600',
        NIR_CONSUMER_SEARCH_CAP: String(SEARCH_CAP),
        NIR_CONSUMER_MAX_COUNT: String(MAX_COUNT),
      },
    });
    const catalogue = t.registry.catalogue;
    for (const ods of [...CUSTODIANS, ...CONSUMERS]) {
      if (!(await catalogue.getOrganisation(ods))) {
        await catalogue.putOrganisation({ odsCode: ods, name: `TEST ${ods}`, status: 'active' }, 'test');
      }
    }
    for (const ods of CUSTODIANS) {
      await catalogue.putGrant(
        {
          odsCode: ods,
          role: 'producer',
          pointerTypes: TYPE_KEYS,
          interactions: ['create', 'delete', 'read'],
          accessControls: [],
        },
        'test',
      );
    }
    for (const ods of CONSUMERS) await putConsumerGrant(ods, ALL_GRANTED);
    const producer = await catalogue.getClient('demo-provider-a');
    const consumer = await catalogue.getClient('demo-consumer');
    if (!producer || !consumer) throw new Error('demo clients missing');
    await catalogue.putClient({ ...producer, organisations: [...CUSTODIANS] }, 'test');
    await catalogue.putClient({ ...consumer, organisations: [...CONSUMERS] }, 'test');
    for (const ods of CUSTODIANS) {
      producerTokens.set(ods, await t.token('demo-provider-a', { iua: demoUserClaims(ods) }));
    }
    for (const ods of CONSUMERS) {
      consumerTokens.set(ods, await t.token('demo-consumer', { iua: demoUserClaims(ods) }));
    }
    await seedPool();
  }, 120_000);
  afterAll(async () => t?.close());

  function producerToken(ods: string): string {
    const token = producerTokens.get(ods);
    if (!token) throw new Error(`no producer token for ${ods}`);
    return token;
  }

  function consumerToken(ods: string): string {
    const token = consumerTokens.get(ods);
    if (!token) throw new Error(`no consumer token for ${ods}`);
    return token;
  }

  async function putConsumerGrant(ods: string, grant: NonNullable<GrantChoice>): Promise<void> {
    const input: GrantInput = {
      odsCode: ods,
      role: 'consumer',
      pointerTypes: grant.types,
      interactions: grant.interactions,
      accessControls: grant.allowAll ? (['ALLOW_ALL_TYPES'] as AccessControl[]) : [],
    };
    await t.registry.catalogue.putGrant(input, 'test');
  }

  /** Every type at least once, then random types, custodians and patients; a few are then deleted. */
  async function seedPool(): Promise<void> {
    const random = prng(20_261_128);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const plans = Array.from({ length: POOL_SIZE }, (_, i) => ({
      type: i < TYPE_KEYS.length ? (TYPE_KEYS[i] as string) : pick(TYPE_KEYS),
      custodian: pick(CUSTODIANS),
      // Most pointers belong to the first patient, so that paging has pages to walk.
      nhsNumber: random() < 0.6 ? PATIENT_A : pick(PATIENTS),
    }));
    for (const plan of plans) {
      const reply = await fhirCall(
        t,
        'POST',
        `${PRODUCER}/DocumentReference`,
        { token: producerToken(plan.custodian), ods: plan.custodian },
        pointerOf(plan.custodian, plan.nhsNumber, plan.type),
      );
      expect(reply.status, reply.text).toBe(201);
      const id = (reply.headers.get('location') ?? '').split('/').pop() ?? '';
      expect(id.startsWith(`${plan.custodian}-`), id).toBe(true);
      const category = `${SNOMED}|${TYPES[plan.type]?.category.code}`;
      pool.push({ id, ...plan, category, deleted: false });
    }
    for (let i = 0; i < DELETED; i++) {
      const victim = pool[(i * 9 + 4) % pool.length];
      if (!victim || victim.deleted) continue;
      const reply = await fhirCall(t, 'DELETE', `${PRODUCER}/DocumentReference/${victim.id}`, {
        token: producerToken(victim.custodian),
        ods: victim.custodian,
      });
      expect(reply.status, reply.text).toBe(200);
      victim.deleted = true;
    }
  }

  /** The search parameters of a query, in the contract's table order. */
  function parametersOf(query: Query, types: string[] | undefined): [string, string][] {
    const params: [string, string][] = [[query.patientKey, `${NHS_NUMBER_SYSTEM}|${query.patient}`]];
    const ods = (codes: string[]) => codes.map((c) => `${ODS_SYSTEM}|${c}`).join(',');
    if (query.custodians) params.push(['custodian:identifier', ods(query.custodians)]);
    if (query.excluded) params.push(['exclude-custodian', ods(query.excluded)]);
    if (types) params.push(['type', types.join(',')]);
    if (query.categories) params.push(['category', query.categories.join(',')]);
    if (query.count !== undefined) params.push(['_count', String(query.count)]);
    if (query.summaryCount) params.push(['_summary', 'count']);
    return params;
  }

  async function parse(response: Response): Promise<FhirReply> {
    const text = await response.text();
    let body: FhirReply['body'] = {};
    try {
      body = text ? (JSON.parse(text) as FhirReply['body']) : {};
    } catch {
      body = {};
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  /** Sends the first page of a search the way `method` says. */
  async function firstPage(method: Method, params: [string, string][], caller: string): Promise<FhirReply> {
    const headers = clinicalHeaders(consumerToken(caller), caller);
    const form = (list: [string, string][]) => new URLSearchParams(list).toString();
    if (method === 'GET') {
      return parse(await t.fetch(`${CONSUMER}/DocumentReference?${form(params)}`, { headers }));
    }
    if (method === 'POST-json') {
      return parse(
        await t.fetch(`${CONSUMER}/DocumentReference/_search`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(Object.fromEntries(params)),
        }),
      );
    }
    // Form body; 'POST-merged' sends the patient in the body and the rest in the query string.
    const [patient, ...rest] = params;
    const inBody = method === 'POST-form' ? params : patient ? [patient] : [];
    const query = method === 'POST-form' || rest.length === 0 ? '' : `?${form(rest)}`;
    return parse(
      await t.fetch(`${CONSUMER}/DocumentReference/_search${query}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: form(inBody),
      }),
    );
  }

  function linkOf(page: Page, relation: string): string | undefined {
    return page.link?.find((l) => l.relation === relation)?.url;
  }

  async function followNext(url: string, caller: string): Promise<FhirReply> {
    const next = new URL(url);
    expect(next.origin, url).toBe(t.url);
    expect(next.searchParams.get('_page_token'), url).toBeTruthy();
    return parse(
      await t.fetch(`${next.pathname}${next.search}`, {
        headers: clinicalHeaders(consumerToken(caller), caller),
      }),
    );
  }

  function expectRefusal(reply: FhirReply, status: number, code: string, context: string): void {
    expect(reply.status, context).toBe(status);
    expect(reply.body.resourceType, context).toBe('OperationOutcome');
    expect(errorCode(reply.body), context).toBe(code);
  }

  /** The search or count of one run against the oracle; returns the outcome class. */
  async function checkSearch(run: Run): Promise<string> {
    const { query } = run;
    const types = resolveTypes(query.types, run.grant);
    const params = parametersOf(query, types);
    const context = `${run.consumer} (${run.status}) grant ${JSON.stringify(run.grant)}\n${query.method} ${JSON.stringify(params)}`;
    const reply = await firstPage(query.method, params, run.consumer);
    const shown = `${context}\n→ ${reply.status} ${reply.text.slice(0, 1500)}`;

    // A count asked for in a POST body is decided after the guard, which chose `search` from the
    // query string: it needs both interactions (docs/consumer-api.md, order of checks).
    const countInBody = query.summaryCount && (query.method === 'POST-json' || query.method === 'POST-form');
    const refused = countInBody
      ? (guardRefusal(run, 'search') ?? guardRefusal(run, 'count'))
      : guardRefusal(run, query.summaryCount ? 'count' : 'search');
    if (refused || !run.grant) {
      expectRefusal(reply, 403, 'ACCESS DENIED', `${refused}: ${shown}`);
      return `403 (${refused})`;
    }
    const grant = run.grant;
    const outside = (types ?? []).filter((type) => !grantSees(grant, type));
    if (outside.length > 0) {
      expectRefusal(
        reply,
        400,
        'INVALID_CODE_SYSTEM',
        `type ${outside.join(',')} outside the grant: ${shown}`,
      );
      const issue = reply.body.issue?.[0];
      expect(issue?.code, shown).toBe('code-invalid');
      expect(issue?.expression, shown).toEqual(['type']);
      return '400 type outside the grant';
    }

    const expected = expectedIds(pool, grant, query, types);
    expect(reply.status, shown).toBe(200);
    const page = reply.body as Page;
    expect(page.resourceType, shown).toBe('Bundle');
    expect(page.type, shown).toBe('searchset');
    const self = linkOf(page, 'self') ?? '';
    expect(
      self.startsWith(
        `${t.url}${CONSUMER}/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${query.patient}`,
      ),
      `self link ${self}; ${shown}`,
    ).toBe(true);
    expect(page.total, shown).toBe(expected.length);

    if (query.summaryCount) {
      expect('entry' in page, `a count has no entry key; ${shown}`).toBe(false);
      return expected.length === 0 ? '200 count 0' : '200 count';
    }
    if (query.count === 0) {
      expect(page.entry ?? [], shown).toEqual([]);
      return '200 total only';
    }

    // Every page: only granted types, no fullUrl, at most the page size (`_count` up to the
    // largest page, else the cap), `total` exact, newest first; a page the cap cut ends with
    // the too-costly warning.
    const pageSize = query.count === undefined ? SEARCH_CAP : Math.min(query.count, MAX_COUNT);
    const seen: string[] = [];
    const stored: string[] = [];
    let current: Page = page;
    let pages = 1;
    for (;;) {
      const entries = current.entry ?? [];
      const pointers = entries.filter((e) => e.search?.mode !== 'outcome');
      const outcomes = entries.filter((e) => e.search?.mode === 'outcome');
      expect(pointers.length, `page ${pages} holds more than ${pageSize}; ${shown}`).toBeLessThanOrEqual(
        pageSize,
      );
      for (const entry of pointers) {
        const resource = entry.resource;
        const coding = resource?.type?.coding?.[0];
        const type = `${coding?.system}|${coding?.code}`;
        expect(resource?.resourceType, shown).toBe('DocumentReference');
        expect(entry.fullUrl, shown).toBeUndefined();
        expect(grantSees(grant, type), `a pointer of an ungranted type ${type} appeared; ${shown}`).toBe(
          true,
        );
        seen.push(resource?.id ?? '');
        stored.push(resource?.meta?.lastUpdated ?? '');
      }
      const next = linkOf(current, 'next');
      if (seen.length >= expected.length) {
        expect(next, `a next link after the last pointer; ${shown}`).toBeUndefined();
      }
      if (query.count === undefined && next) {
        expect(outcomes.length, `a capped Bundle without its warning; ${shown}`).toBe(1);
        expect(entries[entries.length - 1], shown).toBe(outcomes[0]);
        const warning = outcomes[0]?.resource as unknown as { resourceType?: string; issue?: Issue[] };
        expect(warning.resourceType, shown).toBe('OperationOutcome');
        expect(warning.issue?.[0]?.severity, shown).toBe('warning');
        expect(warning.issue?.[0]?.code, shown).toBe('too-costly');
      } else {
        expect(outcomes, `an outcome entry in a Bundle the cap did not cut; ${shown}`).toEqual([]);
      }
      if (!next) break;
      expect(pages, `too many pages; ${shown}`).toBeLessThan(POOL_SIZE + 2);
      const following = await followNext(next, run.consumer);
      expect(following.status, `next ${next} → ${following.status} ${following.text.slice(0, 500)}`).toBe(
        200,
      );
      current = following.body as Page;
      expect(current.total, `total on page ${pages + 1}; ${shown}`).toBe(expected.length);
      pages += 1;
    }
    expect(new Set(seen).size, `an id was returned twice; ${shown}`).toBe(seen.length);
    expect([...seen].sort(), shown).toEqual(expected);
    // Newest first (the pool's pointers were never updated, so lastUpdated is the stored time).
    expect(stored, `not newest first; ${shown}`).toEqual([...stored].sort().reverse());
    if (expected.length === 0) return '200 empty';
    if (pages === 1) return '200 one page';
    return query.count === undefined ? '200 capped' : '200 several pages';
  }

  /** Reads pooled ids: 200 exactly for the granted types, 403 for the others, 404 when deleted. */
  async function checkReads(run: Run, picks: readonly number[]): Promise<string[]> {
    const outcomes: string[] = [];
    const refused = guardRefusal(run, 'read');
    for (const n of picks) {
      const pooled = pool[n % pool.length];
      if (!pooled) continue;
      const reply = await fhirCall(t, 'GET', `${CONSUMER}/DocumentReference/${pooled.id}`, {
        token: consumerToken(run.consumer),
        ods: run.consumer,
      });
      const context = `read ${pooled.id} (${pooled.type}${pooled.deleted ? ', deleted' : ''}) as ${run.consumer} (${run.status}) grant ${JSON.stringify(run.grant)}\n→ ${reply.status} ${reply.text.slice(0, 800)}`;
      if (refused || !run.grant) {
        expectRefusal(reply, 403, 'ACCESS DENIED', `${refused}: ${context}`);
        outcomes.push('read 403 guard');
      } else if (pooled.deleted) {
        expectRefusal(reply, 404, 'NO_RECORD_FOUND', context);
        outcomes.push('read 404');
      } else if (grantSees(run.grant, pooled.type)) {
        expect(reply.status, context).toBe(200);
        expect(reply.body.id, context).toBe(pooled.id);
        expect(reply.headers.get('etag'), context).toBeTruthy();
        expect(reply.headers.get('last-modified'), context).toBeTruthy();
        outcomes.push('read 200');
      } else {
        expectRefusal(reply, 403, 'ACCESS DENIED', context);
        expect(reply.body.issue?.[0]?.diagnostics, context).toBe(
          'The requested DocumentReference is not of a type that this organisation is allowed to access',
        );
        outcomes.push('read 403 type');
      }
    }
    return outcomes;
  }

  async function applyCatalogue(run: Run): Promise<void> {
    const catalogue = t.registry.catalogue;
    await catalogue.setOrganisationStatus(run.consumer, run.status, 'test');
    if (run.grant) await putConsumerGrant(run.consumer, run.grant);
    else if (await catalogue.getGrant(run.consumer, 'consumer')) {
      await catalogue.deleteGrant(run.consumer, 'consumer', 'test');
    }
  }

  it(`answers ${RUNS} random consumers and queries exactly as a brute-force filter of the pool`, async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(runArb, async (run) => {
        await applyCatalogue(run);
        seen.add(await checkSearch(run));
        for (const outcome of await checkReads(run, run.reads)) seen.add(outcome);
      }),
      { numRuns: RUNS, examples: EXAMPLES, ...REPLAY },
    );
    // Not vacuous: every class of outcome was met.
    expect([...seen]).toEqual(
      expect.arrayContaining([
        '200 several pages',
        '200 capped',
        '200 one page',
        '200 count',
        '400 type outside the grant',
        'read 200',
        'read 403 type',
        'read 404',
        'read 403 guard',
      ]),
    );
    expect([...seen].some((s) => s.startsWith('403'))).toBe(true);
  }, 120_000);

  it('reads every pooled id: 200 exactly for the granted types, 403 for the others, 404 when deleted', async () => {
    const grants: NonNullable<GrantChoice>[] = [
      {
        types: TYPE_KEYS.filter((_, i) => i % 3 === 0),
        allowAll: false,
        interactions: CONSUMER_INTERACTIONS,
      },
      { types: [], allowAll: true, interactions: ['read'] },
    ];
    for (const grant of grants) {
      const run: Run = { consumer: 'RJ1', status: 'active', grant, query: EXAMPLE_QUERY, reads: [] };
      await applyCatalogue(run);
      const outcomes = await checkReads(
        run,
        pool.map((_, i) => i),
      );
      expect(outcomes.filter((o) => o === 'read 404').length).toBe(pool.filter((p) => p.deleted).length);
    }
  }, 60_000);
});
