/**
 * The consumer search in SQL on both backends (issue 4): the compiled grant as a SQL condition
 * agrees with the in-memory predicate on every case (R3), the date conditions agree with their
 * in-memory evaluation, keyset pages cover every match once, older rows are recomputed (on read while the table
 * version is older, and by the background walk), and on
 * PostgreSQL one patient's search is an index scan of one partition (the explain plans).
 */
import { readFileSync } from 'node:fs';
import type { DocumentReference } from '@medplum/fhirtypes';
import {
  compileTypeAccess,
  dateParameterFormula,
  formulaMatches,
  type Grant,
  type PointerSearch,
  SEARCH_FACTS_VERSION,
  searchFactsOf,
  type TypeAccess,
  typeAccessAllows,
} from '@nir/core';
import { testBackends } from '@nir/store/testing';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './open-store.ts';
import { PointerRepository } from './pointer-repository.ts';
import { recordedFactsVersion, recordFactsVersion } from './search-facts.ts';
import { countSql, LOCATE_SQL, pageSql, READ_SQL } from './search-sql.ts';

const EXAMPLE = new URL(
  '../../../fhir-profiles/examples/DocumentReference-example-study.json',
  import.meta.url,
);
const NHS = '9000000009';
const MAULR = 'https://nicip.nhs.uk|MAULR';
const MAXIB = 'https://nicip.nhs.uk|MAXIB';
const SCT_MRA = 'http://snomed.info/sct|418062002';
/** A granted code under another system, and a granted system with another code (NRL defect 2). */
const TYPES = [MAULR, MAXIB, SCT_MRA, 'http://snomed.info/sct|MAULR', 'https://nicip.nhs.uk|418062002'];

type GrantCase = [string, Pick<Grant, 'pointerTypes' | 'accessControls'>];
const GRANTS: GrantCase[] = [
  ['no types (deny by default)', { pointerTypes: [], accessControls: [] }],
  ['one type', { pointerTypes: [MAULR], accessControls: [] }],
  ['two types', { pointerTypes: [MAULR, SCT_MRA], accessControls: [] }],
  ['a type listed twice', { pointerTypes: [MAXIB, MAXIB], accessControls: [] }],
  ['a type no pointer has', { pointerTypes: ['http://loinc.org|18748-4'], accessControls: [] }],
  ['ALLOW_ALL_TYPES', { pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] }],
  ['ALLOW_ALL_TYPES and a list', { pointerTypes: [MAULR], accessControls: ['ALLOW_ALL_TYPES'] }],
  ['other flags only', { pointerTypes: [], accessControls: ['ALLOW_OVERRIDE_CREATION_DATETIME'] }],
];

function example(): DocumentReference {
  const { id: _id, meta: _meta, ...pointer } = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as DocumentReference;
  return pointer as DocumentReference;
}

interface Seeded {
  id: string;
  type: string;
  pointer: DocumentReference;
}

function pointerOf(nhsNumber: string, type: string, change: (p: DocumentReference) => void = () => {}) {
  const pointer = example();
  const [system, code] = type.split('|') as [string, string];
  pointer.type = { coding: [{ system, code }] };
  pointer.subject = { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber } };
  change(pointer);
  return pointer;
}

function search(changes: Partial<PointerSearch> = {}): PointerSearch {
  return { nhsNumber: NHS, tokens: [], dates: [], summaryCount: false, ...changes };
}

describe.each(await testBackends())('consumer search SQL on $name', (backend) => {
  let store: Store;
  let repo: PointerRepository;
  const seeded: Seeded[] = [];
  let clock = Date.parse('2026-11-20T10:00:00.000Z');
  let sequence = 0;

  async function seed(pointer: DocumentReference, type: string): Promise<Seeded> {
    clock += 1000;
    sequence += 1;
    const id = `RR8-search-${String(sequence).padStart(4, '0')}`;
    const now = new Date(clock);
    const stored = await repo.transaction((w) =>
      w.create({ pointer, id, date: now.toISOString(), now }, { requestId: 'r', clientId: 'c' }),
    );
    const entry = { id, type, pointer: stored.resource };
    seeded.push(entry);
    return entry;
  }

  beforeAll(async () => {
    store = await backend.open();
    repo = new PointerRepository(store.db);
    for (const type of TYPES) {
      await seed(pointerOf(NHS, type), type);
      await seed(pointerOf(NHS, type), type);
    }
    await seed(pointerOf('9278693472', MAULR), MAULR); // another patient: never in NHS's results
  });
  afterAll(async () => store?.close());

  async function visibleIds(access: TypeAccess, query = search()): Promise<string[]> {
    const page = await repo.search(query, access, 1000);
    return page.entries.map((e) => e.id).sort();
  }

  describe.each(GRANTS)('R3: the grant "%s" as SQL agrees with the in-memory predicate', (_name, grant) => {
    it('in search, count and read, pointer by pointer', async () => {
      const access = compileTypeAccess(grant);
      const sqlVisible = new Set(await visibleIds(access));
      const mine = seeded.filter((s) => s.pointer.subject?.identifier?.value === NHS);
      for (const pointer of mine) {
        expect(sqlVisible.has(pointer.id), `${pointer.type}`).toBe(typeAccessAllows(access, pointer.type));
      }
      expect((await repo.count(search(), access)).total).toBe(sqlVisible.size);
      expect((await repo.search(search(), access, 1000)).total).toBe(sqlVisible.size);
    });
  });

  it('keyset pages visit every match once, newest first, and say when the last page is reached', async () => {
    const access = compileTypeAccess({ pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] });
    const all = await repo.search(search(), access, 1000);
    const seen: string[] = [];
    let query = search();
    for (let page = 0; page < 20; page += 1) {
      const result = await repo.search(query, access, 3);
      expect(result.total).toBe(all.total);
      seen.push(...result.entries.map((e) => e.id));
      if (!result.next) break;
      query = search({ after: result.next });
    }
    expect(seen).toEqual(all.entries.map((e) => e.id));
    expect(new Set(seen).size).toBe(all.total);
    expect(all.entries.map((e) => e.createdOn)).toEqual(
      all.entries
        .map((e) => e.createdOn)
        .sort()
        .reverse(),
    );
  });

  it('returns each pointer as the JSON text it was stored with', async () => {
    const access = compileTypeAccess({ pointerTypes: [MAULR], accessControls: [] });
    const page = await repo.search(search({ ids: [seeded[0]?.id ?? ''] }), access, 10);
    expect(page.entries).toHaveLength(1);
    expect(JSON.parse(page.entries[0]?.json ?? '')).toEqual(seeded[0]?.pointer);
  });

  describe('date conditions in SQL agree with their in-memory evaluation', () => {
    const dated: Seeded[] = [];
    const variants: ((p: DocumentReference) => void)[] = [
      () => {},
      (p) => {
        if (p.context) p.context.period = { start: '2026-11-18' };
      },
      (p) => {
        if (p.context) p.context.period = { end: '2026-11-17T23:59:59Z' };
      },
      (p) => {
        if (p.context) delete p.context.period;
      },
      (p) => {
        const [content] = p.content;
        if (content) content.attachment.creation = '2026-11';
      },
      (p) => {
        const [content] = p.content;
        if (content) content.attachment.creation = '2026-11-18T15:00:00+01:00';
      },
    ];
    const NHS_DATES = '9999999999';

    beforeAll(async () => {
      for (const variant of variants) dated.push(await seed(pointerOf(NHS_DATES, MAULR, variant), MAULR));
    });

    const values = [
      '2026',
      'eq2026-11-18',
      'ne2026-11-18',
      'ge2026-11-18T15:00:00Z',
      'gt2026-11-18T15:05:00Z',
      'le2026-11-18T14:30:00Z',
      'lt2026-11-18',
      'sa2026-11-17',
      'eb2026-11-19',
      'ap2026-11-18',
      '2026-11-17,2026-11-19',
    ];
    const parameters = ['period', 'creation'] as const;

    it.each(parameters.flatMap((parameter) => values.map((value) => [parameter, value] as const)))(
      '%s=%s',
      async (parameter, value) => {
        const now = Date.parse('2026-11-28T00:00:00Z');
        const formula = dateParameterFormula(parameter, value, now);
        const access = compileTypeAccess({ pointerTypes: [MAULR], accessControls: [] });
        const found = await repo.search(
          search({ nhsNumber: NHS_DATES, dates: [{ parameter, formula }] }),
          access,
          100,
        );
        const expected = dated
          .filter((s) => {
            const facts = searchFactsOf(s.pointer);
            if (parameter === 'period') return facts.period !== null && formulaMatches(formula, facts.period);
            return facts.creation.some((range) => formulaMatches(formula, range));
          })
          .map((s) => s.id)
          .sort();
        expect(found.entries.map((e) => e.id).sort()).toEqual(expected);
      },
    );
  });

  it('issue 15: a recorded current facts version is trusted, with no scan: an older row stays as it is', async () => {
    const target = seeded[0] as Seeded;
    await recordFactsVersion(store.db);
    await sql`UPDATE pointer SET search_tokens = '{}', facts_version = 0 WHERE id = ${target.id}`.execute(
      store.db,
    );
    const bySetting = search({ tokens: [['setting|http://snomed.info/sct|310127009']], ids: [target.id] });
    const access = compileTypeAccess({ pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] });
    const trusting = new PointerRepository(store.db);
    expect(await trusting.searchFacts.isCurrent()).toBe(true);
    expect((await trusting.search(bySetting, access, 10)).total).toBe(0);
  });

  it('issue 15: while the recorded version is older, a search recomputes its patient first; the walk does the rest and records the version', async () => {
    const target = seeded[0] as Seeded;
    const elsewhere = seeded[seeded.length - 1] as Seeded; // another patient
    await sql`UPDATE pointer SET search_tokens = '{}', facts_version = 0 WHERE id IN (${target.id}, ${elsewhere.id})`.execute(
      store.db,
    );
    await recordFactsVersion(store.db, 0);
    const factsVersion = async (id: string) =>
      (await sql<{ v: number }>`SELECT facts_version AS v FROM pointer WHERE id = ${id}`.execute(store.db))
        .rows[0]?.v;
    const bySetting = search({ tokens: [['setting|http://snomed.info/sct|310127009']], ids: [target.id] });
    const access = compileTypeAccess({ pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] });
    const during = new PointerRepository(store.db);
    expect(await during.searchFacts.isCurrent()).toBe(false);
    // Correct during the reindex: the searched patient's older row is recomputed before the search.
    expect((await during.search(bySetting, access, 10)).total).toBe(1);
    expect((await during.count(bySetting, access)).total).toBe(1);
    expect(await factsVersion(target.id)).toBe(SEARCH_FACTS_VERSION);
    expect(await factsVersion(elsewhere.id)).toBe(0);

    // A stopped walk records nothing.
    const stop = new AbortController();
    const stopped = await during.searchFacts.reindex({
      batchSize: 2,
      signal: stop.signal,
      onBatch: () => stop.abort(),
    });
    expect(stopped.scanned).toBe(2);
    expect(await recordedFactsVersion(store.db)).toBe(0);

    const batches: number[] = [];
    const done = await during.searchFacts.reindex({ batchSize: 3, onBatch: (p) => batches.push(p.scanned) });
    expect(done).toEqual({ scanned: seeded.length, updated: 1 });
    expect(batches.length).toBe(Math.ceil(seeded.length / 3));
    expect(await factsVersion(elsewhere.id)).toBe(SEARCH_FACTS_VERSION);
    expect(await recordedFactsVersion(store.db)).toBe(SEARCH_FACTS_VERSION);
    expect(during.searchFacts.current).toBe(true);
    expect((await during.searchFacts.reindex()).updated).toBe(0);
    // The recomputed facts are the writer's: the setting token is back.
    const tokens = await sql<{
      t: string[];
    }>`SELECT search_tokens AS t FROM pointer WHERE id = ${elsewhere.id}`.execute(store.db);
    expect(tokens.rows[0]?.t).toEqual(searchFactsOf(elsewhere.pointer).tokens);
  });
});

const postgres = (await testBackends()).filter((backend) => backend.name === 'postgres');

describe.each(postgres)('consumer search plans on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => store?.close());

  it('explain: a patient search and count read one partition by index, a read goes by index; never a sequential scan', async () => {
    await sql`
        INSERT INTO pointer (nhs_number, id, custodian, type, category, version, created_on, updated_on, resource)
        SELECT lpad(g::text, 10, '0'), 'RAE-explain-' || g, 'RAE', ${MAULR}, 'http://snomed.info/sct|721981007', 1,
               now() - g * interval '1 second', now(), '{}'::json
        FROM generate_series(1, 40000) AS g`.execute(store.db);
    await sql`
        INSERT INTO pointer_locator (id, nhs_number, custodian, version)
        SELECT 'RAE-explain-' || g, lpad(g::text, 10, '0'), 'RAE', 1 FROM generate_series(1, 40000) AS g`.execute(
      store.db,
    );
    await sql`ANALYZE pointer`.execute(store.db);
    await sql`ANALYZE pointer_locator`.execute(store.db);
    const access = compileTypeAccess({ pointerTypes: [MAULR, SCT_MRA], accessControls: [] });
    const query = search({
      categories: [['http://snomed.info/sct|721981007']],
      tokens: [['status| |current']],
    });
    // The search and the count name the NHS number: one partition at plan time. A read finds
    // the NHS number in the locator first (by index), then reads that one partition.
    const statements = [
      { statement: pageSql(query, access, 100), onePartition: true },
      { statement: countSql(query, access), onePartition: true },
      { statement: { sql: LOCATE_SQL, parameters: ['RAE-explain-42'] }, onePartition: false },
      { statement: { sql: READ_SQL, parameters: ['0000000042', 'RAE-explain-42'] }, onePartition: true },
    ];
    for (const { statement, onePartition } of statements) {
      const result = await store.db.executeQuery<{ 'QUERY PLAN': unknown }>(
        CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${statement.sql}`, statement.parameters),
      );
      const plan = JSON.stringify(result.rows[0]?.['QUERY PLAN']);
      if (onePartition) expect(new Set(plan.match(/pointer_p\d/g)).size, plan).toBe(1);
      // The catalogue version is a one-row table read by every statement (R6): scanned, not indexed.
      expect(plan, plan).not.toMatch(/"Node Type":"Seq Scan"[^{}]*"Relation Name":"pointer/);
      expect(plan, plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    }
  });
});
