/**
 * Issue 19: on Citus every hot query is one task on one worker (a router plan), so that no
 * request fans out over the cluster: the consumer search and count, the read by id (locator,
 * then pointer), the producer's lock and every write statement (create, update, delete), the
 * producer search, and the guard's catalogue reads (R3, R6). The SQL is never re-typed: each
 * method runs for real against a Kysely that logs what it sends, and that text with its
 * parameters is explained on the coordinator.
 *
 * A plan passes when Citus runs it as exactly one task, with no distributed subplan (a CTE or
 * subquery Citus would run first and ship through the coordinator), on a worker when it reads
 * a distributed table (a catalogue-only statement reads the coordinator's own copy of the
 * reference tables, one task too).
 */
import { compileTypeAccess } from '@nir/core';
import {
  CatalogueRepository,
  countSql,
  type NewPointer,
  PointerRepository,
  pageSql,
  readCatalogueVersion,
  type Store,
} from '@nir/store';
import { CompiledQuery, Kysely, type LogEvent, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validPointer } from '../support/pointers.ts';
import { openCitusStore } from './citus-store.ts';

const MAULR = 'https://nicip.nhs.uk|MAULR';
const NHS = '9000000009';
const ORIGIN = { requestId: 'req-plan', clientId: 'client-plan' };

/** Tables Citus distributes by hash (all else the hot queries read is a reference table). */
const DISTRIBUTED = /\b(pointer|pointer_locator|pointer_history|audit_event)\b/;

let citus: Awaited<ReturnType<typeof openCitusStore>>;
let store: Store;
let traced: Kysely<never>;
let sent: CompiledQuery[] = [];
let coordinatorPort = '';

beforeAll(async () => {
  citus = await openCitusStore();
  store = citus.store;
  coordinatorPort = new URL(citus.url).port;
  traced = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: citus.url, max: 2 }) }),
    log: (event: LogEvent) => {
      sent.push(event.query);
    },
  });
});

afterAll(async () => {
  await traced?.destroy();
  await citus?.close();
});

/** Runs `work` against the traced database; returns the statements it sent (no BEGIN/COMMIT). */
async function statementsOf(work: (db: Kysely<never>) => Promise<unknown>): Promise<CompiledQuery[]> {
  sent = [];
  await work(traced);
  return sent.filter((s) => !/^\s*(begin|commit|rollback|savepoint|release)/i.test(s.sql));
}

/** The text plan of `statement` with its own parameters. */
async function explain(statement: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  const result = await store.db.executeQuery<{ 'QUERY PLAN': string }>(
    CompiledQuery.raw(`EXPLAIN (COSTS OFF) ${statement.sql}`, [...statement.parameters]),
  );
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** Why a plan is not one task on one worker, or undefined when it is. */
async function notOneTask(statement: {
  sql: string;
  parameters: readonly unknown[];
}): Promise<string | undefined> {
  const plan = await explain(statement);
  if (!/Custom Scan \(Citus Adaptive\)/.test(plan)) return `not a Citus plan:\n${plan}`;
  if (/Distributed Subplan/.test(plan)) return `a distributed subplan:\n${plan}`;
  const counts = [...plan.matchAll(/Task Count: (\d+)/g)].map((m) => m[1]);
  if (counts.join() !== '1') return `task counts ${counts.join()}:\n${plan}`;
  const nodes = [...plan.matchAll(/Node: host=\S+ port=(\d+)/g)].map((m) => m[1]);
  if (nodes.length !== 1) return `${nodes.length} tasks shown:\n${plan}`;
  if (DISTRIBUTED.test(statement.sql) && nodes[0] === coordinatorPort) return `on the coordinator:\n${plan}`;
  return undefined;
}

/** One task, no subplan; on a worker when the statement reads a distributed table. */
async function expectOneTask(statement: { sql: string; parameters: readonly unknown[] }): Promise<void> {
  expect(await notOneTask(statement), statement.sql).toBeUndefined();
}

function newPointer(id: string): NewPointer {
  return { pointer: validPointer({ nhsNumber: NHS }), id, date: '2026-01-01T00:00:00Z', now: new Date() };
}

describe('hot queries on Citus: one task on one worker', () => {
  it('the producer create: claim, pointer and history, each one task', async () => {
    const statements = await statementsOf((db) =>
      new PointerRepository(db as never, { groupCommit: false }).transaction((w) =>
        w.create(newPointer('RR8-plan-1'), ORIGIN),
      ),
    );
    expect(statements.map((s) => s.sql.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'INSERT INTO pointer_locator',
      'INSERT INTO pointer',
      'INSERT INTO pointer_history',
    ]);
    for (const statement of statements) await expectOneTask(statement);
  });

  it('the producer lock, update and delete: every statement one task', async () => {
    const repository = new PointerRepository(traced as never, { groupCommit: false });
    await repository.transaction((w) => w.create(newPointer('RR8-plan-2'), ORIGIN));
    const statements = await statementsOf((db) =>
      new PointerRepository(db as never, { groupCommit: false }).transaction(async (w) => {
        const current = await w.lock('RR8-plan-2');
        if (!current) throw new Error('the pointer was just created');
        const updated = await w.update(
          current,
          { ...current.resource, description: 'changed' },
          new Date(),
          ORIGIN,
        );
        await w.remove(updated, new Date(), ORIGIN);
      }),
    );
    // lock: locator FOR UPDATE, pointer; update: pointer, locator, history; delete: the same.
    expect(statements).toHaveLength(8);
    for (const statement of statements) await expectOneTask(statement);
  });

  it('the consumer read by id: the locator, then the pointer, each one task', async () => {
    await new PointerRepository(store.db, { groupCommit: false }).transaction((w) =>
      w.create(newPointer('RR8-plan-3'), ORIGIN),
    );
    let read: unknown;
    const statements = await statementsOf(async (db) => {
      read = await new PointerRepository(db as never, { groupCommit: false }).readVersioned('RR8-plan-3');
    });
    expect(read).toMatchObject({ pointer: { id: 'RR8-plan-3' } });
    expect(statements).toHaveLength(2);
    for (const statement of statements) await expectOneTask(statement);
  });

  it('the consumer search page and count, and the producer search: one task each', async () => {
    const access = compileTypeAccess({ pointerTypes: [MAULR], accessControls: [] });
    const search = { nhsNumber: NHS, tokens: [], dates: [], summaryCount: false };
    await expectOneTask(pageSql(search, access, 20));
    await expectOneTask(countSql(search, access));
    const own = await statementsOf((db) =>
      new PointerRepository(db as never, { groupCommit: false }).searchOwn({
        nhsNumber: NHS,
        custodian: 'RR8',
      }),
    );
    expect(own).toHaveLength(1);
    await expectOneTask(own[0] as CompiledQuery);
  });

  it('the check fails a fan-out: the read by id as one statement (before issue 19) is never one task', async () => {
    // The locator joined with the pointer: Citus refuses to plan it (a repartition join).
    const join =
      'SELECT p.* FROM pointer_locator l JOIN pointer p ON p.nhs_number = l.nhs_number AND p.id = l.id WHERE l.id = $1';
    await expect(notOneTask({ sql: join, parameters: ['RR8-plan-3'] })).rejects.toThrow(/repartition/);
    // The NHS number from a subquery: a subplan first, then every shard of pointer.
    const nested =
      'SELECT * FROM pointer WHERE nhs_number = (SELECT nhs_number FROM pointer_locator WHERE id = $1) AND id = $1';
    expect(await notOneTask({ sql: nested, parameters: ['RR8-plan-3'] })).toMatch(/subplan/);
    const scan = 'SELECT count(*) FROM pointer WHERE custodian = $1';
    expect(await notOneTask({ sql: scan, parameters: ['RR8'] })).toMatch(/task counts/);
  });

  it("the guard's catalogue reads (R3, R6): the version and an access context, one task each", async () => {
    const statements = await statementsOf(async (db) => {
      await readCatalogueVersion(db as never);
      await new CatalogueRepository(db as never).loadAccessContext('plan-client', 'RR8', 'consumer');
    });
    expect(statements).toHaveLength(2);
    for (const statement of statements) await expectOneTask(statement);
  });
});
