import { toAuditEvents } from '@nir/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from './audit-store.ts';
import type { Store } from './open-store.ts';
import { SandboxStore } from './sandbox-store.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

function event(clientId: string) {
  return toAuditEvents({
    recorded: new Date().toISOString(),
    kind: { subtype: 'read', action: 'R' },
    status: 200,
    client: { clientId, verified: true },
    serverUrl: 'http://registry.test',
    patients: ['9995001624'],
    pointers: [],
    custodians: [],
  });
}

async function history(store: Store, id: string, clientId: string): Promise<void> {
  await sql`INSERT INTO pointer_history (id, version, nhs_number, custodian, action, recorded_at, request_id, client_id)
            VALUES (${id}, 1, '9995001624', 'RR8', 'create', now(), 'r1', ${clientId})`.execute(store.db);
}

// R15: the sandbox mark and reset (migrations/0009_sandbox.sql). Everywhere else the audit and
// the pointer history stay immutable (R7, R10).
describe.each(backends)('SandboxStore on $name', (backend) => {
  // Two databases: a sandbox one (marked by the first test) and a production-like one.
  let sandboxDb: Store;
  let plainDb: Store;
  beforeAll(async () => {
    [sandboxDb, plainDb] = await Promise.all([backend.open(), backend.open()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([sandboxDb?.close(), plainDb?.close()]);
  });

  it('a fresh database is marked once; the mark is permanent', async () => {
    const store = sandboxDb;
    const sandbox = new SandboxStore(store.db);
    expect(await sandbox.isMarked()).toBe(false);
    await sandbox.mark();
    await sandbox.mark();
    expect(await sandbox.isMarked()).toBe(true);
    await expect(sql`DELETE FROM sandbox_registry`.execute(store.db)).rejects.toThrow(/permanent/);
  });

  it('outside a sandbox the reset is refused and the audit stays immutable, even with the reset setting', async () => {
    const store = plainDb;
    await new AuditStore(store.db).insert(event('pacs'));
    await expect(new SandboxStore(store.db).reset('pacs')).rejects.toThrow(/not a sandbox/);
    await expect(
      store.db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('nir.sandbox_reset', 'on', true)`.execute(trx);
        await trx.deleteFrom('audit_event').execute();
      }),
    ).rejects.toThrow(/immutable/);
  });

  it('a database that has held pointers cannot become a sandbox', async () => {
    const store = plainDb;
    await history(store, 'RR8-real', 'pacs');
    await expect(new SandboxStore(store.db).mark()).rejects.toThrow(/cannot become a sandbox/);
  });

  it("in a sandbox the reset removes one client's history and audit, records itself, and leaves others", async () => {
    const store = sandboxDb;
    const sandbox = new SandboxStore(store.db);
    await sandbox.mark();
    const audit = new AuditStore(store.db);
    await audit.insert([...event('pacs'), ...event('pacs'), ...event('other')]);
    await history(store, 'RR8-a', 'pacs');
    await history(store, 'RR8-b', 'other');
    const own = event('operator');
    const result = await sandbox.reset('pacs', own);
    expect(result).toEqual({ pointers: 0, historyRows: 1, auditEvents: 2 });
    const clients = await store.db
      .selectFrom('audit_event')
      .select('client_id')
      .orderBy('client_id')
      .execute();
    expect(clients.map((c) => c.client_id)).toEqual(['operator', 'other']);
    const kept = await store.db.selectFrom('pointer_history').select('id').execute();
    expect(kept).toEqual([{ id: 'RR8-b' }]);
    // The setting lasted only for the reset's transaction.
    await expect(store.db.deleteFrom('audit_event').execute()).rejects.toThrow(/immutable/);
    await expect(store.db.deleteFrom('pointer_history').execute()).rejects.toThrow(/append-only/);
  });
});
