/**
 * Races on one pointer over real HTTP, on both databases (issue 3, Tests): a supersede is
 * atomic and exactly one of two concurrent supersedes of the same pointer wins (the store never
 * holds both replacements, nor neither); a concurrent update and delete serialise cleanly; two
 * `If-Match` updates of the same version give one 200 and one 412.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import { errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { freshNhsNumber, NHS_NUMBER_SYSTEM, replaces, validPointer } from './support/pointers.ts';

const backends = await testBackends();
const BASE = '/producer/FHIR/R4';
const ROUNDS = 10;

type Reply = FhirReply;

describe.each(backends)('producer concurrency on $name', (backend) => {
  let t: TestRegistry;
  let token: string;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    token = await t.token('demo-provider-a');
  });
  afterAll(async () => t?.close());

  function call(
    method: string,
    pathname: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    return fhirCall(t, method, `${BASE}${pathname}`, { token, ods: 'RR8', headers }, body);
  }

  function idOf(reply: Reply): string {
    return (reply.headers.get('location') ?? '').split('/').pop() ?? '';
  }

  async function create(doc: DocumentReference): Promise<string> {
    const reply = await call('POST', '/DocumentReference', doc);
    expect(reply.status, reply.text).toBe(201);
    return idOf(reply);
  }

  /** Rows of one patient in each pointer table. */
  async function rowsOf(nhsNumber: string) {
    const db = t.registry.store.db;
    const [pointer, locator, history] = await Promise.all([
      db.selectFrom('pointer').select(['id']).where('nhs_number', '=', nhsNumber).execute(),
      db
        .selectFrom('pointer_locator')
        .select(['id', 'deleted'])
        .where('nhs_number', '=', nhsNumber)
        .execute(),
      db
        .selectFrom('pointer_history')
        .select(['id', 'version', 'action', 'superseded_by'])
        .where('nhs_number', '=', nhsNumber)
        .orderBy('id')
        .orderBy('version')
        .execute(),
    ]);
    return { pointer, locator, history };
  }

  it(`two supersedes of one pointer at once: exactly one wins (${ROUNDS} races)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const nhsNumber = freshNhsNumber();
      const p = await create(validPointer({ nhsNumber }));
      const replacement = () => ({ ...validPointer({ nhsNumber }), relatesTo: replaces(p) });
      const replies = await Promise.all([
        call('POST', '/DocumentReference', replacement()),
        call('POST', '/DocumentReference', replacement()),
      ]);

      const statuses = replies.map((r) => r.status).sort();
      expect(statuses, replies.map((r) => r.text).join('\n')).toEqual([201, 422]);
      const winner = replies.find((r) => r.status === 201) as Reply;
      const loser = replies.find((r) => r.status === 422) as Reply;
      expect(winner.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_SUPERSEDED');
      expect(errorCode(loser.body)).toBe('UNPROCESSABLE_ENTITY');
      expect(loser.body.issue?.[0]?.diagnostics).toBe('The relatesTo target document does not exist');
      expect(loser.body.issue?.[0]?.expression).toEqual(['relatesTo[0].target.identifier.value']);
      const winnerId = idOf(winner);
      expect(winnerId).toMatch(/^RR8-/);
      expect(loser.headers.get('location')).toBeNull();

      // The producer search sees the winner only: not P, not the loser.
      const search = await call(
        'GET',
        `/DocumentReference?subject:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`)}`,
      );
      expect(search.status, search.text).toBe(200);
      expect(search.body.total).toBe(1);
      expect(search.body.entry?.map((e) => e.resource?.id)).toEqual([winnerId]);
      expect((await call('GET', `/DocumentReference/${p}`)).status).toBe(404);
      expect((await call('GET', `/DocumentReference/${winnerId}`)).status).toBe(200);

      // The tables: one live pointer (the winner), P's locator marked deleted, no trace of the loser.
      const rows = await rowsOf(nhsNumber);
      expect(rows.pointer).toEqual([{ id: winnerId }]);
      expect(rows.locator).toHaveLength(2);
      expect(rows.locator.find((l) => l.id === p)?.deleted).toBe(true);
      expect(rows.locator.find((l) => l.id === winnerId)?.deleted).toBe(false);
      expect(new Set(rows.history.map((h) => h.id))).toEqual(new Set([p, winnerId]));

      // P's history ends with exactly one supersede, by the winner.
      const history = rows.history.filter((h) => h.id === p);
      expect(history.map((h) => [h.version, h.action, h.superseded_by])).toEqual([
        [1, 'create', null],
        [2, 'supersede', winnerId],
      ]);
      const httpHistory = await call('GET', `/DocumentReference/${p}/_history`);
      expect(httpHistory.status, httpHistory.text).toBe(200);
    }
  });

  it(`a concurrent update and delete of one pointer serialise (${ROUNDS} races)`, async () => {
    const seen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const nhsNumber = freshNhsNumber();
      const p = await create(validPointer({ nhsNumber }));
      const edited = { ...validPointer({ nhsNumber }), id: p, description: `edited in round ${round}` };
      const [update, remove] = await Promise.all([
        call('PUT', `/DocumentReference/${p}`, edited),
        call('DELETE', `/DocumentReference/${p}`),
      ]);
      seen.add(`${update.status}/${remove.status}`);

      // The delete always wins in the end: the pointer exists when it runs, whichever goes first.
      expect(remove.status, remove.text).toBe(200);
      expect(remove.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_DELETED');
      expect([200, 404], update.text).toContain(update.status);
      expect((await call('GET', `/DocumentReference/${p}`)).status).toBe(404);

      const rows = await rowsOf(nhsNumber);
      expect(rows.pointer).toEqual([]);
      expect(rows.locator).toEqual([{ id: p, deleted: true }]);
      const actions = rows.history.map((h) => [h.version, h.action]);
      if (update.status === 200) {
        // Update first: version 2 is the update, the delete is version 3 and says so.
        expect(update.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_UPDATED');
        expect(update.headers.get('etag')).toBe('W/"2"');
        expect(remove.headers.get('etag')).toBe('W/"3"');
        expect(actions).toEqual([
          [1, 'create'],
          [2, 'update'],
          [3, 'delete'],
        ]);
      } else {
        // Delete first: the update finds nothing, and nothing of it was kept.
        expect(errorCode(update.body)).toBe('NO_RECORD_FOUND');
        expect(remove.headers.get('etag')).toBe('W/"2"');
        expect(actions).toEqual([
          [1, 'create'],
          [2, 'delete'],
        ]);
      }
    }
    expect([...seen].every((s) => s === '200/200' || s === '404/200')).toBe(true);
  });

  it(`two If-Match updates of the same version: one 200, one 412 VERSION_CONFLICT (${ROUNDS} races)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const nhsNumber = freshNhsNumber();
      const p = await create(validPointer({ nhsNumber }));
      const edit = (description: string) => ({ ...validPointer({ nhsNumber }), id: p, description });
      const replies = await Promise.all(
        ['edit A', 'edit B'].map((description) =>
          call('PUT', `/DocumentReference/${p}`, edit(description), { 'if-match': 'W/"1"' }),
        ),
      );
      expect(replies.map((r) => r.status).sort(), replies.map((r) => r.text).join('\n')).toEqual([200, 412]);
      const winner = replies.findIndex((r) => r.status === 200);
      const loser = replies[1 - winner] as Reply;
      expect((replies[winner] as Reply).headers.get('etag')).toBe('W/"2"');
      expect(errorCode(loser.body)).toBe('VERSION_CONFLICT');

      const read = await call('GET', `/DocumentReference/${p}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe('W/"2"');
      expect(read.body.meta?.versionId).toBe('2');
      expect(read.body.description).toBe(winner === 0 ? 'edit A' : 'edit B');

      const rows = await rowsOf(nhsNumber);
      expect(rows.history.map((h) => [h.version, h.action])).toEqual([
        [1, 'create'],
        [2, 'update'],
      ]);
    }
  });
});
