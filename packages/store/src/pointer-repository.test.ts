/**
 * The pointer store on both backends (R1, R10, R11): create, read, update, remove, the version
 * history and its append-only guarantee, and that a failed transaction leaves nothing.
 */
import { readFileSync } from 'node:fs';
import type { DocumentReference } from '@medplum/fhirtypes';
import { OperationOutcomeError, stampPointer } from '@nir/core';
import { testBackends } from '@nir/store/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './open-store.ts';
import {
  type NewPointer,
  PointerRepository,
  type StoredPointer,
  type WriteOrigin,
} from './pointer-repository.ts';

const EXAMPLE = new URL(
  '../../../fhir-profiles/examples/DocumentReference-example-report.json',
  import.meta.url,
);
const MAULR = 'https://nicip.nhs.uk|MAULR';
const MAXIB = 'https://nicip.nhs.uk|MAXIB';
const REPORT_CATEGORY = 'http://snomed.info/sct|721981007';
const PROCEDURE_CATEGORY = 'http://snomed.info/sct|103693007';
const ORIGIN: WriteOrigin = { requestId: 'req-1', clientId: 'client-1' };

/** The published report example as a producer sends it: no id, no meta. */
function examplePointer(): DocumentReference {
  const { id: _id, meta: _meta, ...pointer } = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as DocumentReference;
  return pointer as DocumentReference;
}

interface PointerOptions {
  nhsNumber?: string;
  custodian?: string;
  /** MAULR (report category) unless MAXIB (procedure category). */
  type?: 'MAULR' | 'MAXIB';
}

function pointerFor(options: PointerOptions = {}): DocumentReference {
  const pointer = examplePointer();
  const custodian = options.custodian ?? 'RR8';
  pointer.subject = {
    identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: options.nhsNumber ?? '9000000009' },
  };
  pointer.custodian = {
    identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: custodian },
  };
  pointer.author = [
    { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: custodian } },
  ];
  if (options.type === 'MAXIB') {
    pointer.type = {
      coding: [{ system: 'https://nicip.nhs.uk', code: 'MAXIB', display: 'MRI Axilla Both' }],
    };
    pointer.category = [
      { coding: [{ system: 'http://snomed.info/sct', code: '103693007', display: 'Diagnostic procedure' }] },
    ];
  }
  return pointer;
}

let sequence = 0;
/** A fresh pointer id (the store is shared by the tests of one backend). */
function newId(custodian = 'RR8'): string {
  sequence += 1;
  return `${custodian}-test-${String(sequence).padStart(4, '0')}`;
}

/** Distinct instants, a second apart, so that creation order is deterministic. */
let clock = Date.parse('2026-11-20T10:00:00.000Z');
function tick(): Date {
  clock += 1000;
  return new Date(clock);
}

function newPointer(options: PointerOptions & { id?: string; date?: string } = {}): NewPointer {
  const now = tick();
  const custodian = options.custodian ?? 'RR8';
  return {
    pointer: pointerFor(options),
    id: options.id ?? newId(custodian),
    date: options.date ?? now.toISOString(),
    now,
  };
}

async function refusal(work: Promise<unknown>): Promise<OperationOutcomeError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof OperationOutcomeError) return error;
    throw error;
  }
  throw new Error('expected an OperationOutcomeError, but the write succeeded');
}

describe.each(await testBackends())('PointerRepository on $name', (backend) => {
  let store: Store | undefined;
  let repository: PointerRepository | undefined;

  beforeAll(async () => {
    store = await backend.open();
    repository = new PointerRepository(store.db);
  });

  afterAll(async () => {
    await store?.close();
  });

  function repo(): PointerRepository {
    if (!repository) throw new Error('store is not open');
    return repository;
  }

  function db(): Store['db'] {
    if (!store) throw new Error('store is not open');
    return store.db;
  }

  function create(input: NewPointer, action: 'create' | 'supersede' = 'create'): Promise<StoredPointer> {
    return repo().transaction((writer) => writer.create(input, ORIGIN, action));
  }

  async function remove(id: string, supersededBy?: string): Promise<number> {
    return repo().transaction(async (writer) => {
      const current = await writer.lock(id);
      if (!current) throw new Error(`test: ${id} is not live`);
      return writer.remove(current, tick(), ORIGIN, supersededBy);
    });
  }

  it('creates a pointer and reads it back as stored (server id, meta, date; element order kept)', async () => {
    const input = newPointer({ date: '2026-11-01T08:00:00.000Z' });
    const created = await create(input);
    const expected = stampPointer(input.pointer, {
      id: input.id,
      version: 1,
      now: input.now,
      date: '2026-11-01T08:00:00.000Z',
    });
    const read = await repo().read(input.id);
    expect(read).toEqual(created);
    expect(read).toEqual({
      id: input.id,
      nhsNumber: '9000000009',
      custodian: 'RR8',
      type: MAULR,
      category: REPORT_CATEGORY,
      version: 1,
      createdOn: input.now.toISOString(),
      updatedOn: input.now.toISOString(),
      resource: expected,
    });
    expect(read?.resource.meta?.versionId).toBe('1');
    expect(read?.resource.meta?.lastUpdated).toBe(input.now.toISOString());
    expect(Object.keys(read?.resource ?? {})).toEqual(Object.keys(expected));
    const history = await repo().history(input.id);
    expect(history).toEqual([
      {
        id: input.id,
        version: 1,
        nhsNumber: '9000000009',
        custodian: 'RR8',
        action: 'create',
        recordedAt: input.now.toISOString(),
        requestId: 'req-1',
        clientId: 'client-1',
        supersededBy: null,
        resource: expected,
      },
    ]);
  });

  it('reads nothing for an id never stored', async () => {
    expect(await repo().read('RR8-never-stored')).toBeUndefined();
    expect(await repo().read("RR8-1' OR 1=1 --")).toBeUndefined();
    expect(await repo().history('RR8-never-stored')).toEqual([]);
  });

  it('refuses a second create of a live id: 409 DUPLICATE_REJECTED, the first kept', async () => {
    const first = newPointer();
    await create(first);
    const again = newPointer({ id: first.id, nhsNumber: '9000000017', type: 'MAXIB' });
    const refused = await refusal(create(again));
    expect(refused.status).toBe(409);
    expect(refused.issues).toEqual([{ code: 'DUPLICATE_REJECTED' }]);
    const read = await repo().read(first.id);
    expect(read?.version).toBe(1);
    expect(read?.nhsNumber).toBe('9000000009');
    expect(read?.type).toBe(MAULR);
    expect(await repo().history(first.id)).toHaveLength(1);
  });

  it('removes a pointer: read undefined, history create v1 and delete v2', async () => {
    const input = newPointer();
    await create(input);
    expect(await remove(input.id)).toBe(2);
    expect(await repo().read(input.id)).toBeUndefined();
    expect(await repo().transaction((writer) => writer.lock(input.id))).toBeUndefined();
    const history = await repo().history(input.id);
    expect(history.map((v) => [v.version, v.action, v.resource === null, v.supersededBy])).toEqual([
      [2, 'delete', true, null],
      [1, 'create', false, null],
    ]);
  });

  it('keeps a supersede as its own action, naming the new pointer', async () => {
    const old = newPointer();
    await create(old);
    const replacement = newPointer();
    await create(replacement, 'supersede');
    await remove(old.id, replacement.id);
    expect((await repo().history(replacement.id)).map((v) => v.action)).toEqual(['supersede']);
    const [deletion] = await repo().history(old.id);
    expect(deletion).toMatchObject({
      version: 2,
      action: 'supersede',
      supersededBy: replacement.id,
      resource: null,
    });
  });

  it('re-creates a deleted id: the version history continues at 3', async () => {
    const input = newPointer();
    await create(input);
    await remove(input.id);
    const again = newPointer({ id: input.id, nhsNumber: '9000000017' });
    const recreated = await create(again);
    expect(recreated.version).toBe(3);
    const read = await repo().read(input.id);
    expect(read?.version).toBe(3);
    expect(read?.nhsNumber).toBe('9000000017');
    expect(read?.resource.meta?.versionId).toBe('3');
    expect((await repo().history(input.id)).map((v) => [v.version, v.action])).toEqual([
      [3, 'create'],
      [2, 'delete'],
      [1, 'create'],
    ]);
    // Live again: a further create of the id is a duplicate.
    expect((await refusal(create(newPointer({ id: input.id })))).status).toBe(409);
  });

  it('updates a pointer: version bumped, date and creation time kept, mutable fields replaced', async () => {
    const input = newPointer({ date: '2026-11-01T08:00:00.000Z' });
    await create(input);
    const next = pointerFor();
    next.docStatus = 'entered-in-error';
    next.date = '2030-01-01T00:00:00.000Z';
    next.category = [
      { coding: [{ system: 'http://snomed.info/sct', code: '103693007', display: 'Diagnostic procedure' }] },
    ];
    const now = tick();
    const updated = await repo().transaction(async (writer) => {
      const current = await writer.lock(input.id);
      if (!current) throw new Error('test: not live');
      return writer.update(current, next, now, { requestId: 'req-2', clientId: 'client-2' });
    });
    const read = await repo().read(input.id);
    expect(read).toEqual(updated);
    expect(read?.version).toBe(2);
    expect(read?.createdOn).toBe(input.now.toISOString());
    expect(read?.updatedOn).toBe(now.toISOString());
    expect(read?.category).toBe(PROCEDURE_CATEGORY);
    expect(read?.resource.date).toBe('2026-11-01T08:00:00.000Z');
    expect(read?.resource.docStatus).toBe('entered-in-error');
    expect(read?.resource.meta).toMatchObject({ versionId: '2', lastUpdated: now.toISOString() });
    const history = await repo().history(input.id);
    expect(history.map((v) => [v.version, v.action, v.requestId, v.clientId])).toEqual([
      [2, 'update', 'req-2', 'client-2'],
      [1, 'create', 'req-1', 'client-1'],
    ]);
    expect(history[0]?.resource?.docStatus).toBe('entered-in-error');
    expect(history[1]?.resource?.docStatus).toBe('final');
    // A later create of the id is still a duplicate: the locator follows the version.
    expect((await refusal(create(newPointer({ id: input.id })))).status).toBe(409);
  });

  it('a transaction that throws after a create leaves nothing', async () => {
    const input = newPointer();
    await expect(
      repo().transaction(async (writer) => {
        await writer.create(input, ORIGIN);
        throw new Error('boom after the create');
      }),
    ).rejects.toThrow('boom after the create');
    expect(await repo().read(input.id)).toBeUndefined();
    expect(await repo().history(input.id)).toEqual([]);
    // The id was not claimed either.
    expect((await create(input)).version).toBe(1);
  });

  it('a transaction that throws after a remove keeps the pointer', async () => {
    const input = newPointer();
    await create(input);
    await expect(
      repo().transaction(async (writer) => {
        const current = await writer.lock(input.id);
        if (current) await writer.remove(current, tick(), ORIGIN);
        throw new Error('boom after the remove');
      }),
    ).rejects.toThrow('boom after the remove');
    expect((await repo().read(input.id))?.version).toBe(1);
    expect(await repo().history(input.id)).toHaveLength(1);
  });

  describe('searchOwn and holdsPatient', () => {
    const nhsNumber = '9278693472';
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const report = newPointer({ nhsNumber });
      const procedure = newPointer({ nhsNumber, type: 'MAXIB' });
      const otherCustodian = newPointer({ nhsNumber, custodian: 'RA7' });
      const otherPatient = newPointer({ nhsNumber: '9995001624' });
      const deleted = newPointer({ nhsNumber });
      for (const input of [report, procedure, otherCustodian, otherPatient, deleted]) await create(input);
      await remove(deleted.id);
      Object.assign(ids, {
        report: report.id,
        procedure: procedure.id,
        otherCustodian: otherCustodian.id,
        otherPatient: otherPatient.id,
      });
    });

    async function search(query: {
      custodian: string;
      types?: string[];
      categories?: string[];
    }): Promise<string[]> {
      const found = await repo().searchOwn({ nhsNumber, ...query });
      return found.map((pointer) => pointer.id);
    }

    it('finds only the custodian’s live pointers for the patient, in creation order', async () => {
      expect(await search({ custodian: 'RR8' })).toEqual([ids.report, ids.procedure]);
      expect(await search({ custodian: 'RA7' })).toEqual([ids.otherCustodian]);
      expect(await search({ custodian: 'RX1' })).toEqual([]);
    });

    it('narrows by type (system|code)', async () => {
      expect(await search({ custodian: 'RR8', types: [MAULR] })).toEqual([ids.report]);
      expect(await search({ custodian: 'RR8', types: [MAXIB] })).toEqual([ids.procedure]);
      expect(await search({ custodian: 'RR8', types: ['http://snomed.info/sct|MAULR'] })).toEqual([]);
    });

    it('narrows by categories (any of them)', async () => {
      expect(await search({ custodian: 'RR8', categories: [PROCEDURE_CATEGORY] })).toEqual([ids.procedure]);
      expect(await search({ custodian: 'RR8', categories: [REPORT_CATEGORY, PROCEDURE_CATEGORY] })).toEqual([
        ids.report,
        ids.procedure,
      ]);
      expect(await search({ custodian: 'RR8', types: [MAULR], categories: [PROCEDURE_CATEGORY] })).toEqual(
        [],
      );
    });

    it('holdsPatient: true for a custodian with a live pointer for the patient, false otherwise', async () => {
      expect(await repo().holdsPatient('RR8', nhsNumber)).toBe(true);
      expect(await repo().holdsPatient('RA7', nhsNumber)).toBe(true);
      expect(await repo().holdsPatient('RX1', nhsNumber)).toBe(false);
      expect(await repo().holdsPatient('RA7', '9995001624')).toBe(false);
      await remove(ids.otherCustodian as string);
      expect(await repo().holdsPatient('RA7', nhsNumber)).toBe(false);
    });
  });

  it('R10: pointer_history is append-only (UPDATE and DELETE refused)', async () => {
    const input = newPointer();
    await create(input);
    await expect(
      sql`UPDATE pointer_history SET action = 'update' WHERE id = ${input.id}`.execute(db()),
    ).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM pointer_history WHERE id = ${input.id}`.execute(db())).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM pointer_history`.execute(db())).rejects.toThrow(/append-only/);
    expect((await repo().history(input.id)).map((v) => [v.version, v.action])).toEqual([[1, 'create']]);
  });
});
