/**
 * Issue 19, R6 on Citus: every write to the Controller Catalogue bumps its version in the same
 * transaction (migration 0010), whoever writes it: the repository (admin API, CLI) or plain SQL.
 * On Citus the catalogue tables are reference tables and the bump is a row trigger on each of
 * their placements (migrations/citus): these tests check that the version moves on every kind of
 * write, that every node's copy of it stays equal, that a rolled-back write moves nothing, and
 * that the coordinator still tells listeners (NOTIFY nir_catalogue).
 */
import { CatalogueRepository, readCatalogueVersion, type Store } from '@nir/store';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCitusStore } from './citus-store.ts';

let citus: Awaited<ReturnType<typeof openCitusStore>>;
let store: Store;

beforeAll(async () => {
  citus = await openCitusStore();
  store = citus.store;
});

afterAll(async () => citus?.close());

/** The version on every placement of catalogue_version (coordinator and workers). */
async function placementVersions(): Promise<string[]> {
  const { rows } = await sql<{ result: string }>`
    SELECT result FROM run_command_on_placements('catalogue_version', 'SELECT version FROM %s')`.execute(
    store.db,
  );
  return rows.map((r) => r.result);
}

/** Runs `write`; expects the version to have risen and every copy of it to agree. */
async function expectBump(write: () => Promise<unknown>): Promise<void> {
  const before = await readCatalogueVersion(store.db);
  await write();
  const after = await readCatalogueVersion(store.db);
  expect(after).toBeGreaterThan(before);
  const copies = await placementVersions();
  expect(copies.length, 'a copy on the coordinator and on each worker').toBeGreaterThanOrEqual(3);
  expect(new Set(copies), `every copy of the version: ${copies}`).toEqual(new Set([String(after)]));
}

describe('the catalogue version on Citus (R6)', () => {
  it('the catalogue tables and the version are reference tables', async () => {
    const { rows } = await sql<{ table: string; kind: string }>`
      SELECT logicalrelid::text AS table, partmethod AS kind FROM pg_dist_partition
      WHERE logicalrelid::text IN ('organisation', 'client_system', 'catalogue_grant', 'catalogue_version')
      ORDER BY 1`.execute(store.db);
    expect(rows).toEqual([
      { table: 'catalogue_grant', kind: 'n' },
      { table: 'catalogue_version', kind: 'n' },
      { table: 'client_system', kind: 'n' },
      { table: 'organisation', kind: 'n' },
    ]);
  });

  it('bumps on every write through the repository: organisation, client, grant, deletes', async () => {
    const catalogue = new CatalogueRepository(store.db);
    await expectBump(() =>
      catalogue.putOrganisation({ odsCode: 'RCITUS1', name: 'Citus Trust', status: 'active' }, 'test'),
    );
    await expectBump(() =>
      catalogue.putClient(
        {
          clientId: 'citus-client',
          name: 'Citus client',
          status: 'active',
          jwks: { keys: [] },
          organisations: ['RCITUS1'],
          roles: ['consumer'],
          admin: false,
        },
        'test',
      ),
    );
    await expectBump(() =>
      catalogue.putGrant(
        {
          odsCode: 'RCITUS1',
          role: 'consumer',
          pointerTypes: ['https://nicip.nhs.uk|MAULR'],
          interactions: ['read'],
          accessControls: [],
        },
        'test',
      ),
    );
    await expectBump(() => catalogue.deleteGrant('RCITUS1', 'consumer', 'test'));
    await expectBump(() => catalogue.deleteClient('citus-client', 'test'));
  });

  it('bumps on plain SQL: INSERT, UPDATE and DELETE on each catalogue table', async () => {
    await expectBump(() =>
      sql`INSERT INTO organisation (ods_code, name, status) VALUES ('RCITUS2', 'Plain SQL', 'active')`.execute(
        store.db,
      ),
    );
    await expectBump(() =>
      sql`INSERT INTO catalogue_grant (grant_id, ods_code, role) VALUES ('citus-g', 'RCITUS2', 'producer')`.execute(
        store.db,
      ),
    );
    await expectBump(() =>
      sql`UPDATE catalogue_grant SET interactions = '{create}' WHERE grant_id = 'citus-g'`.execute(store.db),
    );
    await expectBump(() =>
      sql`INSERT INTO client_system (client_id, name, status, jwks) VALUES ('citus-plain', 'Plain', 'active', '{}')`.execute(
        store.db,
      ),
    );
    await expectBump(() =>
      sql`UPDATE client_system SET status = 'disabled' WHERE client_id = 'citus-plain'`.execute(store.db),
    );
    await expectBump(() => sql`DELETE FROM client_system WHERE client_id = 'citus-plain'`.execute(store.db));
    await expectBump(() => sql`DELETE FROM catalogue_grant WHERE grant_id = 'citus-g'`.execute(store.db));
    await expectBump(() =>
      sql`UPDATE organisation SET name = 'Renamed' WHERE ods_code = 'RCITUS2'`.execute(store.db),
    );
  });

  it('a write rolled back leaves the version where it was, on every node', async () => {
    const before = await readCatalogueVersion(store.db);
    await expect(
      store.db.transaction().execute(async (trx) => {
        await sql`UPDATE organisation SET name = 'Never' WHERE ods_code = 'RCITUS2'`.execute(trx);
        expect(await readCatalogueVersion(trx)).toBeGreaterThan(before);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await readCatalogueVersion(store.db)).toBe(before);
    expect(new Set(await placementVersions())).toEqual(new Set([String(before)]));
  });

  it('the coordinator notifies listeners of the new version (NOTIFY nir_catalogue)', async () => {
    const listener = new pg.Client({ connectionString: citus.url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query('LISTEN nir_catalogue');
      await sql`UPDATE organisation SET name = 'Heard' WHERE ods_code = 'RCITUS2'`.execute(store.db);
      const version = await readCatalogueVersion(store.db);
      for (let i = 0; i < 50 && !heard.includes(String(version)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(heard).toContain(String(version));
    } finally {
      await listener.end();
    }
  });
});
