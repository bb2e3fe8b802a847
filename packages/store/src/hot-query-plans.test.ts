/**
 * Explain plans of the hot queries on PostgreSQL (issue 6: "an explain-plan test guards each
 * hot query"; docs/SCALING.md). At a billion pointers a query that falls back to a sequential
 * scan, or that visits every hash partition of `pointer`, costs thousands of pages instead of a
 * handful: these tests fail when a change to the code or the schema makes a hot query do so.
 *
 * Covered here (the consumer page, count and read by id are in pointer-search.test.ts):
 * 1. `PointerWriter.lock(id)`: the locator row `FOR UPDATE` through `pointer_locator`'s key;
 * 2. its follow-up fetch of the `pointer` row by (nhs_number, id): one partition, by its key;
 * 3. `PointerRepository.searchOwn` (producer search): one partition, by index;
 * 4. `CatalogueRepository.loadAccessContext` (the guard's read on every request, R3, R6): every
 *    catalogue table by index;
 * 5. the consumer search page and count (`pageSql`, `countSql`) once the visibility
 *    map is set: an index-only scan of `pointer_patient_recent` that visits no heap page
 *    (migration 0011, issue 15: a patient's pointers together whatever order they were written).
 * The audit search by patient is not here: `AuditStore` exposes no statement builder.
 *
 * The SQL is never re-typed: each method runs for real against a Kysely whose query log keeps
 * what it sent, and that exact text with its parameters is explained, so a change to the code
 * changes what is explained. The tables are seeded with enough rows (tens of thousands of
 * pointers, thousands of catalogue records) that the planner prefers an index when one serves.
 */
import { type ClientInput, compileTypeAccess } from '@nir/core';
import { testBackends } from '@nir/store/testing';
import { CompiledQuery, Kysely, type LogEvent, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogueRepository } from './catalogue-repository.ts';
import { openStore, type Store } from './open-store.ts';
import { PointerRepository } from './pointer-repository.ts';
import type { DatabaseSchema } from './schema.ts';
import { countSql, pageSql } from './search-sql.ts';

const MAULR = 'https://nicip.nhs.uk|MAULR';
const MAXIB = 'https://nicip.nhs.uk|MAXIB';
const CATEGORY = 'http://snomed.info/sct|721981007';
const POINTERS = 40_000;
const PATIENTS = 10_000;
const ORGANISATIONS = 5_000;
const JWKS = { keys: [{ kty: 'EC', kid: 'key-1', crv: 'P-384', x: 'x-coord', y: 'y-coord' }] };

/** One node of an `EXPLAIN (FORMAT JSON)` plan, as far as these tests read it. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan tree, depth first. */
function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/** The nodes that read a table (sequential, index or bitmap heap scans). */
function scansOf(nodes: PlanNode[]): PlanNode[] {
  return nodes.filter((n) => n['Relation Name'] !== undefined);
}

const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'];
const POINTER_PARTITION = /^pointer_p\d+$/;

const postgres = (await testBackends()).find((backend) => backend.name === 'postgres');

describe.runIf(postgres !== undefined)('hot query plans on postgres', () => {
  let store: Store;
  let drop: () => Promise<void> = async () => undefined;
  /** The same database through a Kysely that logs every statement it sends. */
  let traced: Kysely<DatabaseSchema>;
  let sent: CompiledQuery[] = [];

  beforeAll(async () => {
    if (!postgres?.freshDatabaseUrl) throw new Error('the postgres test backend gives no database URL');
    const database = await postgres.freshDatabaseUrl();
    drop = database.drop;
    store = await openStore({ databaseUrl: database.url });
    traced = new Kysely<DatabaseSchema>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
      log: (event: LogEvent) => {
        sent.push(event.query);
      },
    });
    // Patients with four pointers each, from four custodians, spread over the eight partitions.
    await sql`
      INSERT INTO pointer (nhs_number, id, custodian, type, category, version, created_on, updated_on, resource)
      SELECT lpad((g % ${PATIENTS})::text, 10, '0'), 'RAE-plan-' || g,
             (ARRAY['RAE', 'RR8', 'RXF', 'RCF'])[1 + (g / ${PATIENTS}) % 4],
             CASE WHEN g % 2 = 0 THEN ${MAULR} ELSE ${MAXIB} END, ${CATEGORY}, 1,
             now() - g * interval '1 second', now(), '{}'::json
      FROM generate_series(1, ${POINTERS}) AS g`.execute(store.db);
    await sql`
      INSERT INTO pointer_locator (id, nhs_number, custodian, version)
      SELECT 'RAE-plan-' || g, lpad((g % ${PATIENTS})::text, 10, '0'),
             (ARRAY['RAE', 'RR8', 'RXF', 'RCF'])[1 + (g / ${PATIENTS}) % 4], 1
      FROM generate_series(1, ${POINTERS}) AS g`.execute(store.db);
    // A catalogue the size of a national one: organisations, a client each, a grant per role.
    await sql`
      INSERT INTO organisation (ods_code, name, status)
      SELECT 'P' || lpad(g::text, 5, '0'), 'Trust ' || g, 'active' FROM generate_series(1, ${ORGANISATIONS}) AS g`.execute(
      store.db,
    );
    await sql`
      INSERT INTO client_system (client_id, name, status, jwks, organisations, roles)
      SELECT 'plan-client-' || g, 'Client ' || g, 'active', '{"keys":[]}'::jsonb,
             ARRAY['P' || lpad(g::text, 5, '0')], ARRAY['producer', 'consumer']
      FROM generate_series(1, ${ORGANISATIONS}) AS g`.execute(store.db);
    await sql`
      INSERT INTO catalogue_grant (grant_id, ods_code, role, pointer_types, interactions)
      SELECT 'plan-grant-' || g || '-' || r, 'P' || lpad(g::text, 5, '0'), r, ARRAY[${MAULR}], ARRAY['read', 'search']
      FROM generate_series(1, ${ORGANISATIONS}) AS g, unnest(ARRAY['producer', 'consumer']) AS r`.execute(
      store.db,
    );
    await sql`ANALYZE pointer, pointer_locator, organisation, client_system, catalogue_grant`.execute(
      store.db,
    );
  });

  afterAll(async () => {
    await traced?.destroy();
    await store?.close();
    await drop();
  });

  /** Runs `work` against the traced database; returns what it sent. */
  async function statementsOf(
    work: (db: Kysely<DatabaseSchema>) => Promise<unknown>,
  ): Promise<CompiledQuery[]> {
    sent = [];
    await work(traced);
    return sent;
  }

  /** The one statement sent that reads `table` (a whole word of the SQL). */
  function reading(statements: CompiledQuery[], table: string): CompiledQuery {
    const found = statements.filter((s) => new RegExp(`from "${table}"`).test(s.sql));
    expect(found, statements.map((s) => s.sql).join('\n')).toHaveLength(1);
    return found[0] as CompiledQuery;
  }

  /** The plan of `statement` with its own parameters, as its nodes, and as text for messages. */
  async function explain(statement: CompiledQuery): Promise<{ nodes: PlanNode[]; text: string }> {
    const result = await store.db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${statement.sql}`, [...statement.parameters]),
    );
    const plan = result.rows[0]?.['QUERY PLAN'][0].Plan;
    if (!plan) throw new Error(`no plan for ${statement.sql}`);
    return { nodes: nodesOf(plan), text: `${statement.sql}\n${JSON.stringify(plan, null, 1)}` };
  }

  /** Every table read is read through an index; nothing is read sequentially. */
  function expectIndexedOnly(nodes: PlanNode[], text: string): void {
    expect(
      nodes.filter((n) => n['Node Type'] === 'Seq Scan'),
      text,
    ).toEqual([]);
    const scans = scansOf(nodes);
    expect(scans.length, text).toBeGreaterThan(0);
    for (const scan of scans) expect(INDEX_SCANS, text).toContain(scan['Node Type']);
  }

  /** The `pointer` partitions a plan reads. */
  function partitionsRead(nodes: PlanNode[]): Set<string> {
    return new Set(
      scansOf(nodes)
        .map((n) => n['Relation Name'] ?? '')
        .filter((name) => POINTER_PARTITION.test(name)),
    );
  }

  it('PointerWriter.lock: the locator row is locked through the pointer_locator primary key', async () => {
    const statements = await statementsOf((db) =>
      new PointerRepository(db).transaction((writer) => writer.lock('RAE-plan-4242')),
    );
    const { nodes, text } = await explain(reading(statements, 'pointer_locator'));
    expect(
      nodes.map((n) => n['Node Type']),
      text,
    ).toContain('LockRows');
    expectIndexedOnly(nodes, text);
    expect(
      scansOf(nodes).map((n) => [n['Relation Name'], n['Index Name']]),
      text,
    ).toEqual([['pointer_locator', 'pointer_locator_pkey']]);
  });

  it('PointerWriter.lock: the pointer row is fetched from one partition by its primary key', async () => {
    let locked: unknown;
    const statements = await statementsOf(async (db) => {
      locked = await new PointerRepository(db).transaction((writer) => writer.lock('RAE-plan-4242'));
    });
    expect(locked, 'the seeded pointer is found').toMatchObject({ id: 'RAE-plan-4242' });
    const { nodes, text } = await explain(reading(statements, 'pointer'));
    expectIndexedOnly(nodes, text);
    const partitions = partitionsRead(nodes);
    expect(partitions.size, text).toBe(1);
    const [partition] = [...partitions];
    expect(
      scansOf(nodes).map((n) => n['Index Name']),
      text,
    ).toEqual([`${partition}_pkey`]);
  });

  it.each([
    ['by patient and custodian', {}],
    ['narrowed by type and category', { types: [MAULR], categories: [CATEGORY] }],
  ])('PointerRepository.searchOwn %s: one partition, by index', async (_name, narrowing) => {
    let found: unknown[] = [];
    const statements = await statementsOf(async (db) => {
      found = await new PointerRepository(db).searchOwn({
        nhsNumber: '0000004242',
        custodian: 'RAE',
        ...narrowing,
      });
    });
    expect(found.length, 'the seeded pointers are found').toBeGreaterThan(0);
    const { nodes, text } = await explain(reading(statements, 'pointer'));
    expectIndexedOnly(nodes, text);
    expect(partitionsRead(nodes).size, text).toBe(1);
  });

  it('CatalogueRepository.loadAccessContext (every request): client, organisation and grant by index', async () => {
    const setup = new CatalogueRepository(store.db);
    await setup.putOrganisation({ odsCode: 'RWYPLAN', name: 'Plan Trust', status: 'active' }, 'plan');
    const client: ClientInput = {
      clientId: 'plan-consumer',
      name: 'Plan consumer',
      status: 'active',
      jwks: JWKS,
      organisations: ['RWYPLAN'],
      roles: ['consumer'],
      admin: false,
    };
    await setup.putClient(client, 'plan');
    await setup.putGrant(
      {
        odsCode: 'RWYPLAN',
        role: 'consumer',
        pointerTypes: [MAULR],
        interactions: ['read', 'search', 'count'],
        accessControls: [],
      },
      'plan',
    );
    await sql`ANALYZE organisation, client_system, catalogue_grant`.execute(store.db);

    let context: Awaited<ReturnType<CatalogueRepository['loadAccessContext']>> | undefined;
    const statements = await statementsOf(async (db) => {
      context = await new CatalogueRepository(db).loadAccessContext('plan-consumer', 'RWYPLAN', 'consumer');
    });
    expect(context?.client?.clientId).toBe('plan-consumer');
    expect(context?.organisation?.odsCode).toBe('RWYPLAN');
    expect(context?.grant?.pointerTypes).toEqual([MAULR]);
    expect(statements, 'one statement per request').toHaveLength(1);
    const { nodes, text } = await explain(statements[0] as CompiledQuery);
    expectIndexedOnly(nodes, text);
    expect(new Set(scansOf(nodes).map((n) => n['Relation Name'])), text).toEqual(
      new Set(['client_system', 'organisation', 'catalogue_grant']),
    );
  });

  it('consumer search page and count: an index-only scan of pointer_patient_recent, no heap page visited once vacuumed', async () => {
    // What a vacuumed (or autovacuumed, migration 0011) partition looks like: every page all-visible.
    await sql`VACUUM pointer`.execute(store.db);
    const access = compileTypeAccess({ pointerTypes: [MAULR, MAXIB], accessControls: [] });
    const search = { nhsNumber: '0000004242', tokens: [], dates: [], summaryCount: false };
    const covering = await sql<{ name: string }>`
      SELECT inhrelid::regclass::text AS name FROM pg_inherits
      WHERE inhparent = 'pointer_patient_recent'::regclass`.execute(store.db);
    const partitionIndexes = covering.rows.map((r) => r.name);
    expect(partitionIndexes).toHaveLength(8);
    for (const compiled of [pageSql(search, access, 20), countSql(search, access)]) {
      const result = await store.db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        CompiledQuery.raw(`EXPLAIN (ANALYZE, FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]),
      );
      const plan = result.rows[0]?.['QUERY PLAN'][0].Plan as PlanNode;
      const nodes = nodesOf(plan);
      const text = `${compiled.sql}\n${JSON.stringify(plan, null, 1)}`;
      // The one-row catalogue version (R6) is read beside the pointers; the pointers are one scan.
      const scans = scansOf(nodes).filter((n) => n['Relation Name'] !== 'catalogue_version');
      expect(scans, text).toHaveLength(1);
      const [scan] = scans as [PlanNode];
      expect(scan['Node Type'], text).toBe('Index Only Scan');
      expect(partitionIndexes, text).toContain(scan['Index Name']);
      expect(scan['Actual Rows'], `the patient's four seeded pointers: ${text}`).toBe(4);
      expect(scan['Heap Fetches'], text).toBe(0);
    }
  });
});
