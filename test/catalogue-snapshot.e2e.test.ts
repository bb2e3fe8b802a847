/**
 * R6 with the catalogue held in memory (issue 15, point 1): a change committed after a request
 * was authorised but before its data statement ran is still obeyed. The store below holds the
 * consumer's data statement at a gate, so the change lands exactly between the request's
 * arrival (the guard decided on the old catalogue) and its statement.
 */
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { auditFacts } from '@nir/core';
import type { Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { type CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForEvents } from './support/audit-events.ts';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { freshNhsNumber, NHS_NUMBER_SYSTEM, validPointer } from './support/pointers.ts';

const backends = await testBackends();

/** A gate on the statements of `store` whose text matches: armed, the next one waits. */
function gatedStore(store: Store) {
  let armed: { matches: RegExp; reached: () => void; release: Promise<void> } | undefined;
  const db = new Proxy(store.db, {
    get(target, property) {
      if (property === 'executeQuery') {
        return async (query: CompiledQuery) => {
          const gate = armed;
          if (gate?.matches.test(query.sql)) {
            armed = undefined;
            gate.reached();
            await gate.release;
          }
          return target.executeQuery(query);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store: new Proxy(store, {
      get: (target, property) => (property === 'db' ? db : Reflect.get(target, property, target)),
    }) as Store,
    /** Holds the next matching statement; resolves once it is held, with the function that lets it go. */
    hold(matches: RegExp): Promise<() => void> {
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      return new Promise((resolve) => {
        armed = { matches, reached: () => resolve(release), release: released };
      });
    },
  };
}

describe.each(backends)('R6 between a request and its statement on $name', (backend) => {
  let t: TestRegistry;
  let gate: ReturnType<typeof gatedStore>;
  let consumer: string;
  const patient = freshNhsNumber();

  beforeAll(async () => {
    gate = gatedStore(await backend.open());
    t = await startTestRegistry(gate.store);
    consumer = await t.token('demo-consumer');
    const provider = await t.token('demo-provider-a');
    for (const type of ['https://nicip.nhs.uk|MAULR', 'http://snomed.info/sct|418062002'] as const) {
      const created = await t.fetch('/producer/FHIR/R4/DocumentReference', {
        method: 'POST',
        headers: { ...clinicalHeaders(provider, 'RR8'), 'content-type': 'application/fhir+json' },
        body: JSON.stringify(validPointer({ nhsNumber: patient, type })),
      });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const search = (requestId: string) =>
    t.fetch(`/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${patient}`, {
      headers: clinicalHeaders(consumer, 'RWY', requestId),
    });

  it('a suspension committed after the guard and before the search statement refuses the search (403), audited once as the refusal', async () => {
    const before = await search(crypto.randomUUID());
    expect(before.status).toBe(200);
    expect(((await before.json()) as Bundle).total).toBe(2);

    const held = gate.hold(/WITH m AS/);
    const requestId = crypto.randomUUID();
    const answer = search(requestId);
    const release = await held;
    await t.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
    release();
    try {
      const response = await answer;
      expect(response.status).toBe(403);
      expect(errorCode(await response.json())).toBe('ACCESS DENIED');
      const events = await waitForEvents(t.registry.store, requestId, 1);
      expect(events).toHaveLength(1);
      const facts = auditFacts(events[0] as AuditEvent);
      expect(facts.outcome).not.toBe('0');
    } finally {
      await t.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
    }
    expect((await search(crypto.randomUUID())).status).toBe(200);
  });

  it('a grant narrowed after the guard and before the statement answers on the new grant', async () => {
    const grant = await t.registry.catalogue.getGrant('RWY', 'consumer');
    if (!grant) throw new Error('demo grant missing');
    const held = gate.hold(/WITH m AS/);
    const answer = search(crypto.randomUUID());
    const release = await held;
    await t.registry.catalogue.putGrant({ ...grant, pointerTypes: ['https://nicip.nhs.uk|MAULR'] }, 'test');
    release();
    try {
      const response = await answer;
      expect(response.status).toBe(200);
      const bundle = (await response.json()) as Bundle;
      expect(bundle.total).toBe(1);
      expect(JSON.stringify(bundle.entry?.[0]?.resource)).toContain('MAULR');
    } finally {
      await t.registry.catalogue.putGrant(grant, 'test');
    }
  });

  it('a read by id and a count obey a suspension committed after their guard', async () => {
    const found = (await (await search(crypto.randomUUID())).json()) as Bundle;
    const id = found.entry?.[0]?.resource?.id;
    if (!id) throw new Error('no pointer to read');
    for (const [matches, path] of [
      [/pointer_locator/, `/consumer/FHIR/R4/DocumentReference/${id}`],
      [
        /count\(\*\) AS total FROM pointer WHERE/,
        `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${patient}&_summary=count`,
      ],
    ] as const) {
      const held = gate.hold(matches);
      const answer = t.fetch(path, { headers: clinicalHeaders(consumer, 'RWY') });
      const release = await held;
      await t.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
      release();
      try {
        expect((await answer).status, path).toBe(403);
      } finally {
        await t.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
      }
    }
  });

  it('a reactivation committed after a refusal was decided on the held catalogue is seen (the refusal is confirmed first)', async () => {
    // Suspend behind the registry's back (plain SQL, as an operator might): the held snapshot
    // still says active; then reactivate. The version moved twice; the request is served.
    await t.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
    expect((await search(crypto.randomUUID())).status).toBe(403);
    await t.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
    expect((await search(crypto.randomUUID())).status).toBe(200);
  });

  it('a client error raised before the statement, on a catalogue that has since suspended the caller, is the refusal', async () => {
    const held = gate.hold(/WITH m AS/);
    // The held statement is another request's; this one fails its parameters with no statement.
    const other = search(crypto.randomUUID());
    const release = await held;
    await t.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
    try {
      const bad = await t.fetch('/consumer/FHIR/R4/DocumentReference?subject:identifier=not-a-number', {
        headers: clinicalHeaders(consumer, 'RWY'),
      });
      expect(bad.status).toBe(403);
      release();
      expect((await other).status).toBe(403);
    } finally {
      release();
      await t.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
    }
  });
});

describe('R6 between a producer write and its transaction on PostgreSQL', () => {
  const postgres = backends.find((b) => b.name === 'postgres');
  it.runIf(postgres)(
    'a suspension committed while a create waits to read the catalogue version in its own transaction refuses it (403) and stores nothing',
    async () => {
      const database = await postgres?.freshDatabaseUrl?.();
      if (!database) throw new Error('no database');
      const { openStore } = await import('@nir/store');
      const t = await startTestRegistry(await openStore({ databaseUrl: database.url }));
      const operator = await openStore({ databaseUrl: database.url, migrate: false });
      try {
        const provider = await t.token('demo-provider-a');
        const patient = freshNhsNumber();
        const create = () =>
          t.fetch('/producer/FHIR/R4/DocumentReference', {
            method: 'POST',
            headers: { ...clinicalHeaders(provider, 'RR8'), 'content-type': 'application/fhir+json' },
            body: JSON.stringify(validPointer({ nhsNumber: patient })),
          });
        expect((await create()).status).toBe(201);
        let answer: Promise<Response> | undefined;
        // The operator holds the version row's table; the next create's check waits on it, then
        // the suspension commits with the lock's release.
        await operator.db.transaction().execute(async (trx) => {
          await sql`LOCK TABLE catalogue_version IN ACCESS EXCLUSIVE MODE`.execute(trx);
          answer = create();
          let waiting = 0;
          for (let i = 0; i < 200 && waiting === 0; i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            const { rows } = await sql<{ waiting: number }>`
              SELECT count(*)::int AS waiting FROM pg_locks
              WHERE NOT granted AND relation = 'catalogue_version'::regclass`.execute(operator.db);
            waiting = rows[0]?.waiting ?? 0;
          }
          expect(waiting).toBeGreaterThan(0);
          await sql`UPDATE organisation SET status = 'suspended' WHERE ods_code = 'RR8'`.execute(trx);
        });
        const response = await answer;
        expect(response?.status).toBe(403);
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pointer WHERE nhs_number = ${patient}`.execute(operator.db);
        expect(rows[0]?.n).toBe(1);
      } finally {
        await operator.close();
        await t.close();
        await database.drop();
      }
    },
  );
});
