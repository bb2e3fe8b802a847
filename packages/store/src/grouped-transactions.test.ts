/**
 * Group commit of producer writes on both backends (issue 15, item 4): concurrent writes share
 * one transaction (one commit), a failing write fails alone, nobody is answered before the
 * commit, and the duplicate races give NRL's answers (an id: 409 for all but one; a
 * masterIdentifier: both stored, nrl-behaviour.md §3.3).
 */
import { readFileSync } from 'node:fs';
import type { AuditEvent, DocumentReference } from '@medplum/fhirtypes';
import { INTERACTION_KINDS, OperationOutcomeError, refuse, toAuditEvents } from '@nir/core';
import { testBackends } from '@nir/store/testing';
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from './audit-store.ts';
import type { GroupedBatchReport } from './grouped-transactions.ts';
import type { Store } from './open-store.ts';
import {
  type NewPointer,
  PointerRepository,
  type PointerWriter,
  type WriteOrigin,
} from './pointer-repository.ts';
import type { DatabaseSchema } from './schema.ts';

/** A create's AuditEvent (what the producer service records within the write). */
function auditEventOf(id: string): AuditEvent {
  const [event] = toAuditEvents({
    recorded: new Date().toISOString(),
    requestId: `req-${id}`,
    kind: INTERACTION_KINDS.create,
    status: 201,
    client: { clientId: 'demo-provider-a', verified: true },
    requester: { ods: 'RR8', verified: true },
    serverUrl: 'http://nir.test/producer/FHIR/R4',
    patients: ['9000000009'],
    pointers: [{ id, custodian: 'RR8', nhsNumber: '9000000009', versionAfter: 1 }],
    custodians: ['RR8'],
  });
  if (!event) throw new Error('no event');
  return event;
}

const EXAMPLE = new URL(
  '../../../fhir-profiles/examples/DocumentReference-example-report.json',
  import.meta.url,
);
const ORIGIN: WriteOrigin = { requestId: 'req-gc', clientId: 'client-gc' };

let sequence = 0;
function newPointer(id = `RR8-gc-${++sequence}`): NewPointer {
  const { id: _id, meta: _meta, ...pointer } = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as DocumentReference;
  const now = new Date(Date.parse('2026-12-02T10:00:00.000Z') + sequence * 1000);
  return { pointer: pointer as DocumentReference, id, date: now.toISOString(), now };
}

/** The top-level transaction id the statement runs in (the same inside every savepoint). */
async function transactionId(trx: Transaction<DatabaseSchema>): Promise<string> {
  const { rows } = await sql<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid`.execute(trx);
  return rows[0]?.xid ?? '';
}

async function settle<T>(work: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, error };
  }
}

describe.each(await testBackends())('grouped producer writes on $name', (backend) => {
  let store: Store | undefined;
  let pointers: PointerRepository | undefined;
  const batches: GroupedBatchReport[] = [];

  beforeAll(async () => {
    store = await backend.open();
    pointers = new PointerRepository(store.db, { groupCommit: { onBatch: (b) => batches.push(b) } });
  });

  afterAll(async () => {
    await store?.close();
  });

  function repo(): PointerRepository {
    if (!pointers) throw new Error('store is not open');
    return pointers;
  }

  function db(): Store['db'] {
    if (!store) throw new Error('store is not open');
    return store.db;
  }

  /** A create as the producer service writes it, reporting the transaction it ran in. */
  function create(input: NewPointer, after?: (writer: PointerWriter) => Promise<void>) {
    return repo().write(async (writer) => {
      const stored = await writer.create(input, ORIGIN);
      await after?.(writer);
      return { stored, xid: await transactionId(writer.executor) };
    });
  }

  it('runs concurrent creates in one transaction and answers each with its own pointer', async () => {
    batches.length = 0;
    const inputs = Array.from({ length: 8 }, () => newPointer());
    const results = await Promise.all(inputs.map((input) => create(input)));
    expect(results.map((r) => r.stored.id)).toEqual(inputs.map((i) => i.id));
    expect(new Set(results.map((r) => r.xid)).size).toBe(1);
    expect(batches).toEqual([expect.objectContaining({ writes: 8, failedWrites: 0, failed: false })]);
    for (const input of inputs) expect((await repo().read(input.id))?.version).toBe(1);
  });

  it('starts a new transaction for writes beyond maxBatch', async () => {
    const small = new PointerRepository(db(), { groupCommit: { maxBatch: 2 } });
    const xids = await Promise.all(
      Array.from({ length: 5 }, () =>
        small.write(async (writer) => {
          await writer.create(newPointer(), ORIGIN);
          return transactionId(writer.executor);
        }),
      ),
    );
    expect(xids[0]).toBe(xids[1]);
    expect(xids[2]).toBe(xids[3]);
    expect(new Set(xids).size).toBe(3);
  });

  it('fails a refused write alone: what it wrote is undone, the others commit', async () => {
    batches.length = 0;
    const [before, refused, after] = [newPointer(), newPointer(), newPointer()];
    const results = await Promise.all([
      settle(create(before)),
      // Refused after its rows were written: the savepoint takes them back.
      settle(
        create(refused, async () => {
          throw refuse('UNPROCESSABLE_ENTITY', 'refused after writing');
        }),
      ),
      settle(create(after)),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const error = (results[1] as { error: unknown }).error;
    expect(error).toBeInstanceOf(OperationOutcomeError);
    expect((error as OperationOutcomeError).status).toBe(422);
    expect(batches).toEqual([expect.objectContaining({ writes: 3, failedWrites: 1, failed: false })]);
    expect(await repo().read(before.id)).toBeDefined();
    expect(await repo().read(refused.id)).toBeUndefined();
    expect(await repo().history(refused.id)).toEqual([]);
    expect(await repo().read(after.id)).toBeDefined();
  });

  it('fails a write whose statement fails alone: the transaction goes on for the others', async () => {
    const [first, broken, last] = [newPointer(), newPointer(), newPointer()];
    const results = await Promise.all([
      settle(create(first)),
      settle(
        create(broken, async (writer) => {
          await sql`SELECT 1 / 0`.execute(writer.executor);
        }),
      ),
      settle(create(last)),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(String((results[1] as { error: unknown }).error)).toMatch(/division by zero/);
    expect(await repo().read(first.id)).toBeDefined();
    expect(await repo().read(broken.id)).toBeUndefined();
    expect(await repo().read(last.id)).toBeDefined();
  });

  it("fails a write whose check throws alone, with the check's own error", async () => {
    class CatalogueMoved extends Error {}
    const [ok, stale] = [newPointer(), newPointer()];
    let checkedIn: string | undefined;
    const results = await Promise.all([
      settle(
        repo().write(
          (writer) => writer.create(ok, ORIGIN),
          async (trx) => {
            checkedIn = await transactionId(trx);
          },
        ),
      ),
      settle(
        repo().write(
          (writer) => writer.create(stale, ORIGIN),
          async () => {
            throw new CatalogueMoved('catalogue version 7, expected 6');
          },
        ),
      ),
    ]);
    expect(results[0]?.ok).toBe(true);
    expect((results[1] as { error: unknown }).error).toBeInstanceOf(CatalogueMoved);
    expect(checkedIn).toMatch(/^\d+$/);
    expect(await repo().read(ok.id)).toBeDefined();
    expect(await repo().read(stale.id)).toBeUndefined();
  });

  it('answers nobody before the commit: a commit that fails fails every write of the batch', async () => {
    // A deferred constraint is checked at COMMIT: the batch's commit fails after every write ran.
    await sql`CREATE TABLE IF NOT EXISTS gc_deferred (n integer, CONSTRAINT gc_once UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)`.execute(
      db(),
    );
    batches.length = 0;
    const inputs = [newPointer(), newPointer(), newPointer()];
    let answered = 0;
    let answeredBeforeLastWrite: number | undefined;
    const writes = inputs.map((input, i) =>
      settle(
        create(input, async (writer) => {
          if (i === 1) await sql`INSERT INTO gc_deferred VALUES (1), (1)`.execute(writer.executor);
          if (i === inputs.length - 1) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            answeredBeforeLastWrite = answered;
          }
        }),
      ).finally(() => {
        answered++;
      }),
    );
    const results = await Promise.all(writes);
    expect(answeredBeforeLastWrite).toBe(0);
    expect(results.map((r) => r.ok)).toEqual([false, false, false]);
    for (const r of results) expect(String((r as { error: unknown }).error)).toMatch(/gc_once|duplicate key/);
    expect(batches).toEqual([expect.objectContaining({ writes: 3, failedWrites: 0, failed: true })]);
    for (const input of inputs) expect(await repo().read(input.id)).toBeUndefined();
  });

  it('gives a duplicate id in one batch 409 DUPLICATE_REJECTED for all but the first', async () => {
    const id = `RR8-gc-same-${++sequence}`;
    const results = await Promise.all([settle(create(newPointer(id))), settle(create(newPointer(id)))]);
    expect(results[0]?.ok).toBe(true);
    const error = (results[1] as { error: unknown }).error as OperationOutcomeError;
    expect(error.status).toBe(409);
    expect(error.issues).toEqual([{ code: 'DUPLICATE_REJECTED' }]);
    expect(await repo().history(id)).toHaveLength(1);
  });

  it('stores both pointers of a masterIdentifier race, as NRL does (only an id must be unique)', async () => {
    const [a, b] = [newPointer(), newPointer()];
    expect(a.pointer.masterIdentifier).toEqual(b.pointer.masterIdentifier);
    const results = await Promise.all([create(a), create(b)]);
    expect(results.map((r) => r.stored.id)).toEqual([a.id, b.id]);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pointer WHERE id IN (${a.id}, ${b.id})
        AND master_identifier = ${`${a.pointer.masterIdentifier?.system}|${a.pointer.masterIdentifier?.value}`}`.execute(
      db(),
    );
    expect(rows[0]?.n).toBe(2);
  });

  it('publishes a deleted id again inside a batch: its history goes on (version 3)', async () => {
    const input = newPointer();
    await create(input);
    await repo().write(async (writer) => {
      const current = await writer.lock(input.id);
      if (!current) throw new Error('test: not live');
      await writer.remove(current, new Date(), ORIGIN);
    });
    const [again] = await Promise.all([create(newPointer(input.id)), create(newPointer())]);
    expect(again.stored.version).toBe(3);
    expect(again.stored.resource.meta?.versionId).toBe('3');
    expect((await repo().read(input.id))?.version).toBe(3);
    expect((await repo().history(input.id)).map((v) => v.action)).toEqual(['create', 'delete', 'create']);
  });

  it('writes the audit events of a batch in one statement before its commit, not those of a failed write', async () => {
    const audit = new AuditStore(db());
    const [a, failed, b] = [newPointer(), newPointer(), newPointer()];
    const events = new Map([a, failed, b].map((p) => [p.id, auditEventOf(p.id)]));
    let visibleInsideTransaction: number | undefined;
    const write = (input: NewPointer, fail = false) =>
      settle(
        create(input, async (writer) => {
          await audit.insert([events.get(input.id) as AuditEvent], writer.executor);
          const { rows } = await sql<{ n: number }>`
            SELECT count(*)::int AS n FROM audit_event WHERE id = ${events.get(input.id)?.id}::uuid`.execute(
            writer.executor,
          );
          visibleInsideTransaction = rows[0]?.n;
          if (fail) throw refuse('UNPROCESSABLE_ENTITY', 'refused after its audit');
        }),
      );
    const results = await Promise.all([write(a), write(failed, true), write(b)]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(visibleInsideTransaction).toBe(0); // deferred to the batch's one INSERT
    expect(await audit.read(events.get(a.id)?.id as string)).toBeDefined();
    expect(await audit.read(events.get(failed.id)?.id as string)).toBeUndefined();
    expect(await audit.read(events.get(b.id)?.id as string)).toBeDefined();
  });

  it('fails every write of a batch whose audit insert fails: no write is answered without its AuditEvent (R7)', async () => {
    const audit = new AuditStore(db());
    const [a, b] = [newPointer(), newPointer()];
    const broken = { ...auditEventOf(b.id), id: 'not-a-uuid' };
    const results = await Promise.all([
      settle(create(a, (writer) => audit.insert([auditEventOf(a.id)], writer.executor))),
      settle(create(b, (writer) => audit.insert([broken], writer.executor))),
    ]);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(await repo().read(a.id)).toBeUndefined();
    expect(await repo().read(b.id)).toBeUndefined();
  });
});
