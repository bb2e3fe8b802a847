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
 * the number of runs (default 200 per backend). The pool, the arbitraries and the brute-force
 * oracle are in `support/consumer-policy-model.ts`.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { demoUserClaims } from '@nir/cli';
import type { AccessControl, GrantInput } from '@nir/core';
import { testBackends } from '@nir/store/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_GRANTED,
  CONSUMER_INTERACTIONS,
  CONSUMERS,
  CUSTODIANS,
  DELETED,
  EXAMPLE_QUERY,
  EXAMPLES,
  expectedIds,
  type GrantChoice,
  grantSees,
  guardRefusal,
  MAX_COUNT,
  type Method,
  PATIENT_A,
  PATIENTS,
  POOL_SIZE,
  type Pooled,
  pointerOf,
  prng,
  type Query,
  type Run,
  resolveTypes,
  runArb,
  SEARCH_CAP,
  SNOMED,
  TYPE_KEYS,
  TYPES,
} from './support/consumer-policy-model.ts';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from './support/pointers.ts';

const backends = await testBackends();
const CONSUMER = '/consumer/FHIR/R4';
const PRODUCER = '/producer/FHIR/R4';
const RUNS = Number(process.env.CONSUMER_POLICY_RUNS ?? 200);
/** `FC_SEED=<seed>` replays a failure that fast-check reported. */
const REPLAY = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

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

    // Every page: only granted types, each entry with its absolute fullUrl and search.mode match
    // (FHIR R4; issue 13), at most the page size (`_count` up to the
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
        expect(entry.fullUrl, shown).toBe(`${t.url}${CONSUMER}/DocumentReference/${resource?.id}`);
        expect(entry.search?.mode, shown).toBe('match');
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
