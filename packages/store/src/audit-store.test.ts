import type { AuditEvent } from '@medplum/fhirtypes';
import { type AuditRecord, INTERACTION_KINDS, toAuditEvents } from '@nir/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointerTableCustody } from './audit-custody.ts';
import { AuditExportJobs } from './audit-export-jobs.ts';
import { AuditStore, monthStart } from './audit-store.ts';
import type { Store } from './open-store.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

const A = '9000000009';
const B = '9434765919';

function event(overrides: Partial<AuditRecord> = {}): AuditEvent {
  const [first] = toAuditEvents({
    recorded: new Date().toISOString(),
    requestId: `req-${Math.random()}`,
    kind: INTERACTION_KINDS.search,
    status: 200,
    client: { clientId: 'demo-consumer', verified: true },
    requester: { ods: 'RWY', verified: true },
    serverUrl: 'http://nir.test/consumer/FHIR/R4',
    patients: [A],
    pointers: [],
    custodians: ['RR8'],
    ...overrides,
  });
  if (!first) throw new Error('no event');
  return first;
}

describe.each(backends)('AuditStore on $name', (backend) => {
  let store: Store;
  let audit: AuditStore;

  beforeAll(async () => {
    store = await backend.open();
    audit = new AuditStore(store.db);
    await audit.ensurePartitions(new Date(), 3);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores each event of a batch as its own text, in order, with quotes, backslashes and non-ASCII intact', async () => {
    const events = [
      event({ requestId: 'text-1', description: 'a "quoted" \\ path, café, 日本, 🩻' }),
      event({ requestId: 'text-2' }),
      event({ requestId: 'text-3', description: '{"not": ["json", "but text"]}' }),
    ];
    await audit.insert(events);
    const { rows } = await sql<{ id: string; text: string }>`
      SELECT id::text AS id, resource::text AS text FROM audit_event
      WHERE request_id IN ('text-1', 'text-2', 'text-3') ORDER BY request_id`.execute(store.db);
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(rows.map((r) => r.text)).toEqual(events.map((e) => JSON.stringify(e)));
  });

  it('creates the partitions of this month and three ahead, idempotently', async () => {
    const names = await audit.ensurePartitions(new Date(), 3);
    expect(names).toHaveLength(4);
    const now = new Date();
    const key = `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(names[0]).toBe(`audit_event_p${key}`);
    const partitions = await audit.partitions();
    for (const name of names) expect(partitions).toContain(name);
  });

  it('R8: an organisation sees the events it requested and those on pointers it is custodian of, nothing else', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const mine = event({ requester: { ods: 'RAE', verified: true }, custodians: [] });
    const onMyPointers = event({ requester: { ods: 'RWY', verified: true }, custodians: ['RAE'] });
    const others = event({ requester: { ods: 'RWY', verified: true }, custodians: ['RR8'] });
    const unverified = event({ requester: { ods: 'RAE', verified: false }, custodians: [] });
    await audit.insert([mine, onMyPointers, others, unverified]);
    const page = await audit.search({ from, visibleTo: 'RAE' }, { limit: 100 });
    expect(page.events.map((e) => e.id).sort()).toEqual([mine.id, onMyPointers.id].sort());
    expect(page.next).toBeUndefined();
  });

  it('filters by patient, requester, client, subtype (or IHE transaction) and outcome', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const tag = `client-${Math.random().toString(36).slice(2, 8)}`;
    const read = event({
      kind: INTERACTION_KINDS.read,
      patients: [B],
      client: { clientId: tag, verified: true },
    });
    const refused = event({
      status: 403,
      failure: { code: 'ACCESS DENIED' },
      client: { clientId: tag, verified: true },
    });
    await audit.insert([read, refused]);
    const ids = async (q: Parameters<AuditStore['search']>[0]) =>
      (await audit.search({ from, clientId: tag, ...q }, { limit: 10 })).events.map((e) => e.id);
    expect(await ids({ patientNhs: B })).toEqual([read.id]);
    expect(await ids({ subtype: 'read' })).toEqual([read.id]);
    expect(await ids({ subtype: 'ITI-67' })).toEqual([refused.id]);
    expect(await ids({ outcome: '4' })).toEqual([refused.id]);
    expect(await ids({ requesterOds: 'RWY' })).toHaveLength(2);
    expect(await ids({ requesterOds: 'RAE' })).toEqual([]);
  });

  it('pages with a keyset, newest first, without gaps or repeats; and oldest first', async () => {
    const tag = `pager-${Math.random().toString(36).slice(2, 8)}`;
    const base = Date.now() - 60_000;
    const events = Array.from({ length: 23 }, (_, i) =>
      event({
        // Several share a millisecond: the id breaks ties.
        recorded: new Date(base + Math.floor(i / 3)).toISOString(),
        client: { clientId: tag, verified: true },
      }),
    );
    await audit.insert(events);
    for (const order of ['desc', 'asc'] as const) {
      const seen: string[] = [];
      let after: Awaited<ReturnType<AuditStore['search']>>['next'];
      let pages = 0;
      do {
        const page = await audit.search({ clientId: tag }, { limit: 5, after, order });
        seen.push(...page.events.map((e) => e.id ?? ''));
        after = page.next;
        pages++;
      } while (after);
      expect(pages).toBe(5);
      const expected = events.map((e) => e.id ?? '').sort((x, y) => x.localeCompare(y));
      expect(seen).toEqual(order === 'asc' ? expected : [...expected].reverse());
    }
  });

  it('reads one event by id, and says whether an event exists', async () => {
    const stored = event({ custodians: ['RR8', 'RAE'] });
    await audit.insert([stored]);
    const read = await audit.read(stored.id ?? '');
    expect(read?.event).toEqual(stored);
    expect(read?.requesterOds).toBe('RWY');
    expect(read?.custodianOds).toEqual(['RR8', 'RAE']);
    expect(read?.patientNhs).toBe(A);
    expect(await audit.exists(stored.id ?? '', stored.recorded)).toBe(true);
    expect(await audit.read('6f0c3f3e-3b7e-4c1e-9a55-0d7f6e0c2b11')).toBeUndefined();
    expect(await audit.read(event().id ?? '')).toBeUndefined();
  });

  it('R7: text a client sent (a NUL, broken UTF-16) never stops an event from being stored', async () => {
    const stored = event({ requestId: 'req-\u0000-\ud800' });
    const resource = stored as unknown as { outcomeDesc?: string };
    resource.outcomeDesc = 'diagnostics with \u0000 and \udc00 and \b\u001f';
    await audit.insert([stored]);
    const read = await audit.read(stored.id ?? '');
    expect((read?.event as { outcomeDesc?: string } | undefined)?.outcomeDesc).toBe(
      'diagnostics with \uFFFD and \uFFFD and \uFFFD\uFFFD',
    );
  });

  it('R7: inside a transaction, events commit or roll back with the write', async () => {
    const committed = event();
    const rolledBack = event();
    await store.db.transaction().execute((trx) => audit.insert([committed], trx));
    await expect(
      store.db.transaction().execute(async (trx) => {
        await audit.insert([rolledBack], trx);
        throw new Error('the write failed');
      }),
    ).rejects.toThrow('the write failed');
    expect(await audit.exists(committed.id ?? '', committed.recorded)).toBe(true);
    expect(await audit.exists(rolledBack.id ?? '', rolledBack.recorded)).toBe(false);
  });

  it('events are immutable: UPDATE and DELETE are refused', async () => {
    const stored = event();
    await audit.insert([stored]);
    await expect(
      sql`UPDATE audit_event SET outcome = '8' WHERE id = ${stored.id}::uuid`.execute(store.db),
    ).rejects.toThrow(/immutable/);
    await expect(
      sql`DELETE FROM audit_event WHERE id = ${stored.id}::uuid`.execute(store.db),
    ).rejects.toThrow(/immutable/);
    expect(await audit.exists(stored.id ?? '', stored.recorded)).toBe(true);
  });

  it('creates the partition an insert needs, inside a transaction too; retention drops whole expired partitions', async () => {
    const old = event({ recorded: '2019-03-15T12:00:00.000Z' });
    const older = event({ recorded: '2019-02-01T00:00:00.000Z' });
    await audit.insert([old]);
    await store.db.transaction().execute((trx) => audit.insert([older], trx));
    expect(await audit.partitions()).toEqual(
      expect.arrayContaining(['audit_event_p201902', 'audit_event_p201903']),
    );
    // The month of the cutoff is kept whole.
    const dropped = await audit.dropPartitionsBefore(new Date('2019-03-20T00:00:00Z'));
    expect(dropped).toEqual(['audit_event_p201902']);
    expect(await audit.exists(older.id ?? '', older.recorded)).toBe(false);
    expect(await audit.exists(old.id ?? '', old.recorded)).toBe(true);
    expect(await audit.dropPartitionsBefore(new Date('2019-04-01T00:00:00Z'))).toEqual([
      'audit_event_p201903',
    ]);
    // A later insert for a dropped month recreates its partition.
    await audit.insert([event({ recorded: '2019-03-02T00:00:00.000Z' })]);
    expect(await audit.partitions()).toContain('audit_event_p201903');
    await audit.dropPartitionsBefore(new Date('2019-04-01T00:00:00Z'));
    const current = monthStart(new Date());
    expect(await audit.dropPartitionsBefore(current)).not.toContain(
      `audit_event_p${current.toISOString().slice(0, 7).replace('-', '')}`,
    );
  });

  it('streams every match oldest first in keyset chunks, and counts them', async () => {
    const tag = `export-${Math.random().toString(36).slice(2, 8)}`;
    const base = Date.now() - 120_000;
    const events = Array.from({ length: 1234 }, (_, i) =>
      event({ recorded: new Date(base + i * 7).toISOString(), client: { clientId: tag, verified: true } }),
    );
    for (let i = 0; i < events.length; i += 500) await audit.insert(events.slice(i, i + 500));
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const chunk of audit.chunks({ clientId: tag }, 300)) {
      sizes.push(chunk.length);
      for (const row of chunk) {
        ids.push(row.id);
        expect((JSON.parse(row.json) as AuditEvent).id).toBe(row.id);
      }
    }
    expect(sizes).toEqual([300, 300, 300, 300, 34]);
    expect(ids).toEqual(events.map((e) => e.id));
    expect(await audit.count({ clientId: tag })).toBe(1234);
  });
});

describe.each(backends)('AuditExportJobs and the custody check on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('creates, reads, cancels once and purges jobs', async () => {
    const jobs = new AuditExportJobs(store.db);
    const id = crypto.randomUUID();
    const job = await jobs.create({
      id,
      odsCode: 'RR8',
      clientId: 'demo-audit',
      requestUrl: 'http://nir.test/audit/FHIR/R4/$export?_type=AuditEvent',
      since: '2026-01-01T00:00:00.000Z',
      transactionTime: '2026-11-28T10:00:00.000Z',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(job).toMatchObject({ id, odsCode: 'RR8', status: 'active', since: '2026-01-01T00:00:00.000Z' });
    expect(await jobs.get(id)).toEqual(job);
    expect(await jobs.cancel(id)).toBe(true);
    expect(await jobs.cancel(id)).toBe(false);
    expect((await jobs.get(id))?.status).toBe('cancelled');
    expect(await jobs.purgeExpired(new Date(Date.now() + 120_000))).toBe(1);
    expect(await jobs.get(id)).toBeUndefined();
  });

  it('R9: a provider holds a patient when it is custodian of one of their pointers', async () => {
    await sql`INSERT INTO pointer (nhs_number, id, custodian, type, category, version, created_on, updated_on, resource)
      VALUES (${A}, 'RR8-1', 'RR8', 't', 'c', 1, now(), now(), '{}')`.execute(store.db);
    const custody = pointerTableCustody(store.db);
    expect(await custody('RR8', A)).toBe(true);
    expect(await custody('RAE', A)).toBe(false);
    expect(await custody('RR8', B)).toBe(false);
  });
});
