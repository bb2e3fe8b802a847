import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogueRepository } from './catalogue-repository.ts';
import { CatalogueCache, loadCatalogueSnapshot, readCatalogueVersion } from './catalogue-snapshot.ts';
import type { Store } from './open-store.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();
const JWKS = { keys: [{ kty: 'EC', kid: 'key-1', crv: 'P-384', x: 'x-coord', y: 'y-coord' }] };

describe.each(backends)('the catalogue in memory with its version (R6) on $name', (backend) => {
  let store: Store;
  let catalogue: CatalogueRepository;

  beforeAll(async () => {
    store = await backend.open();
    catalogue = new CatalogueRepository(store.db);
  });
  afterAll(async () => {
    await store.close();
  });

  it('every write to an organisation, a client or a grant bumps the version in its transaction, whoever writes', async () => {
    const start = await readCatalogueVersion(store.db);
    await catalogue.putOrganisation({ odsCode: 'SNAP1', name: 'Snapshot one', status: 'active' }, 'test');
    const afterOrganisation = await readCatalogueVersion(store.db);
    expect(afterOrganisation).toBeGreaterThan(start);
    await catalogue.putClient(
      {
        clientId: 'snap-client',
        name: 'Snap client',
        status: 'active',
        jwks: JWKS,
        organisations: ['SNAP1'],
        roles: ['consumer'],
        admin: false,
      },
      'test',
    );
    const afterClient = await readCatalogueVersion(store.db);
    expect(afterClient).toBeGreaterThan(afterOrganisation);
    await catalogue.putGrant(
      { odsCode: 'SNAP1', role: 'consumer', pointerTypes: [], interactions: ['search'], accessControls: [] },
      'test',
    );
    const afterGrant = await readCatalogueVersion(store.db);
    expect(afterGrant).toBeGreaterThan(afterClient);
    // Plain SQL, outside the repository: the trigger still bumps it.
    await sql`UPDATE organisation SET name = 'Renamed' WHERE ods_code = 'SNAP1'`.execute(store.db);
    const afterSql = await readCatalogueVersion(store.db);
    expect(afterSql).toBeGreaterThan(afterGrant);
    // A write that rolls back leaves the version as it was.
    await expect(
      store.db.transaction().execute(async (trx) => {
        await sql`UPDATE organisation SET status = 'suspended' WHERE ods_code = 'SNAP1'`.execute(trx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await readCatalogueVersion(store.db)).toBe(afterSql);
  });

  it('the version row is one row, never deleted nor added to', async () => {
    await expect(sql`DELETE FROM catalogue_version`.execute(store.db)).rejects.toThrow(/exactly one row/);
    await expect(sql`INSERT INTO catalogue_version (version) VALUES (1)`.execute(store.db)).rejects.toThrow();
  });

  it('a snapshot holds every record at one version and answers the guard without the database', async () => {
    await catalogue.putOrganisation({ odsCode: 'SNAP2', name: 'Snapshot two', status: 'suspended' }, 'test');
    const snapshot = await loadCatalogueSnapshot(store.db);
    expect(snapshot.version).toBe(await readCatalogueVersion(store.db));
    const context = snapshot.accessContext('snap-client', 'SNAP1', 'consumer');
    expect(context.client?.name).toBe('Snap client');
    expect(context.organisation?.name).toBe('Renamed');
    expect(context.grant?.interactions).toEqual(['search']);
    expect(snapshot.accessContext('snap-client', 'SNAP2', 'consumer')).toEqual({
      client: context.client,
      organisation: expect.objectContaining({ odsCode: 'SNAP2', status: 'suspended' }),
      grant: undefined,
    });
    expect(snapshot.accessContext('nobody', 'NONE1', 'producer')).toEqual({
      client: undefined,
      organisation: undefined,
      grant: undefined,
    });
    // The same records as the per-request read the guard used before.
    expect(snapshot.accessContext('snap-client', 'SNAP1', 'consumer')).toEqual(
      await catalogue.loadAccessContext('snap-client', 'SNAP1', 'consumer'),
    );
  });

  it('the cache reloads once for concurrent callers, never goes back, and reaches the version asked for', async () => {
    const cache = await CatalogueCache.open(store.db);
    const held = cache.current();
    expect(await cache.refresh(held.version)).toBe(held);
    await catalogue.setOrganisationStatus('SNAP1', 'suspended', 'test');
    const target = await cache.databaseVersion();
    expect(target).toBeGreaterThan(held.version);
    const reloads = await Promise.all([cache.refresh(target), cache.refresh(target), cache.refresh()]);
    expect(new Set(reloads).size).toBe(1);
    expect(cache.current().version).toBe(target);
    expect(cache.current().accessContext('snap-client', 'SNAP1', 'consumer').organisation?.status).toBe(
      'suspended',
    );
    await expect(cache.refresh(target + 1000)).rejects.toThrow(/did not reach/);
    expect(cache.current().version).toBe(target);
  });
});
