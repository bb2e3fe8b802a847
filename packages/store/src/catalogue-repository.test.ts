import type { CatalogueChange, ClientInput, GrantInput, OrganisationInput } from '@nir/core';
import { OperationOutcomeError } from '@nir/core';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogueRepository } from './catalogue-repository.ts';
import type { Store } from './open-store.ts';
import type { DatabaseSchema } from './schema.ts';
import { testBackends } from './test-databases.ts';

const backends = await testBackends();

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const XRAY = 'http://snomed.info/sct|4201000179104';
const REPORT = 'http://snomed.info/sct|4241000179101';

let sequence = 0;
/** A fresh ODS code (the catalogue keeps its change log, so every test uses its own records). */
function newOds(): string {
  sequence += 1;
  return `T${String(sequence).padStart(6, '0')}`;
}
function newClientId(): string {
  sequence += 1;
  return `client-${sequence}`;
}

const JWKS = { keys: [{ kty: 'EC', kid: 'key-1', crv: 'P-384', x: 'x-coord', y: 'y-coord' }] };

function clientInput(
  clientId: string,
  organisations: string[],
  overrides: Partial<ClientInput> = {},
): ClientInput {
  return {
    clientId,
    name: `Client ${clientId}`,
    status: 'active',
    jwks: JWKS,
    organisations,
    roles: ['consumer'],
    admin: false,
    ...overrides,
  };
}

function grantInput(odsCode: string, overrides: Partial<GrantInput> = {}): GrantInput {
  return {
    odsCode,
    role: 'consumer',
    pointerTypes: [XRAY],
    interactions: ['read', 'search', 'count'],
    accessControls: [],
    ...overrides,
  };
}

/** A record as the change log keeps it: without the bookkeeping timestamp. */
function snapshotOf<T extends { updatedAt: string }>(record: T): Omit<T, 'updatedAt'> {
  const { updatedAt: _ignored, ...rest } = record;
  return rest;
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

describe.each(backends)('CatalogueRepository on $name', (backend) => {
  let store: Store | undefined;
  let repository: CatalogueRepository | undefined;

  beforeAll(async () => {
    store = await backend.open();
    repository = new CatalogueRepository(store.db);
  });

  afterAll(async () => {
    await store?.close();
  });

  function repo(): CatalogueRepository {
    if (!repository) throw new Error('store is not open');
    return repository;
  }

  function db(): Kysely<DatabaseSchema> {
    if (!store) throw new Error('store is not open');
    return store.db;
  }

  async function addOrganisation(input: Partial<OrganisationInput> = {}): Promise<string> {
    const odsCode = input.odsCode ?? newOds();
    await repo().putOrganisation({ odsCode, name: `Trust ${odsCode}`, status: 'active', ...input }, 'setup');
    return odsCode;
  }

  async function changesOf(entity: CatalogueChange['entity'], entityKey: string): Promise<CatalogueChange[]> {
    return repo().listChanges({ entity, entityKey });
  }

  describe('organisations', () => {
    it('creates an organisation at version 1', async () => {
      const odsCode = newOds();
      const result = await repo().putOrganisation(
        { odsCode, name: 'Example Trust', status: 'active' },
        'admin-1',
      );
      expect(result.created).toBe(true);
      expect(result.record).toEqual({
        odsCode,
        name: 'Example Trust',
        status: 'active',
        version: 1,
        updatedAt: expect.stringMatching(ISO),
      });
      expect(await repo().getOrganisation(odsCode)).toEqual(result.record);
    });

    it('R19: replacing an organisation increments its version', async () => {
      const odsCode = await addOrganisation();
      const second = await repo().putOrganisation({ odsCode, name: 'Renamed', status: 'active' }, 'admin-1');
      expect(second.created).toBe(false);
      expect(second.record.version).toBe(2);
      expect(second.record.name).toBe('Renamed');
      const third = await repo().putOrganisation(
        { odsCode, name: 'Renamed again', status: 'active' },
        'admin-1',
      );
      expect(third.record.version).toBe(3);
      expect(await repo().getOrganisation(odsCode)).toEqual(third.record);
    });

    it('gives undefined for an unknown organisation', async () => {
      expect(await repo().getOrganisation('NOSUCH1')).toBeUndefined();
    });

    it('lists organisations in ODS code order', async () => {
      const a = await addOrganisation();
      const b = await addOrganisation();
      const list = await repo().listOrganisations();
      const codes = list.map((o) => o.odsCode);
      expect(codes).toEqual([...codes].sort());
      expect(list).toContainEqual(await repo().getOrganisation(a));
      expect(list).toContainEqual(await repo().getOrganisation(b));
    });

    it('R19: records the creation with actor, no before and the record after', async () => {
      const odsCode = newOds();
      const { record } = await repo().putOrganisation(
        { odsCode, name: 'New Trust', status: 'active' },
        'alice',
      );
      const changes = await changesOf('organisation', odsCode);
      expect(changes).toEqual([
        {
          changeId: expect.any(Number),
          changedAt: expect.stringMatching(ISO),
          actor: 'alice',
          entity: 'organisation',
          entityKey: odsCode,
          action: 'create',
          before: null,
          after: { odsCode, name: 'New Trust', status: 'active', version: 1 },
        },
      ]);
      expect(snapshotOf(record)).toEqual(changes[0]?.after);
    });

    it('R19: records a replacement with actor, before and after', async () => {
      const odsCode = await addOrganisation({ name: 'Before Trust' });
      await repo().putOrganisation({ odsCode, name: 'After Trust', status: 'active' }, 'bob');
      const changes = await changesOf('organisation', odsCode);
      expect(changes.map((c) => [c.action, c.actor])).toEqual([
        ['create', 'setup'],
        ['update', 'bob'],
      ]);
      expect(changes[1]?.before).toEqual({ odsCode, name: 'Before Trust', status: 'active', version: 1 });
      expect(changes[1]?.after).toEqual({ odsCode, name: 'After Trust', status: 'active', version: 2 });
    });

    it('R6: setOrganisationStatus suspends, keeping the name, and records who did it', async () => {
      const odsCode = await addOrganisation({ name: 'Lapsed Trust' });
      const suspended = await repo().setOrganisationStatus(odsCode, 'suspended', 'dspt-officer');
      expect(suspended).toEqual({
        odsCode,
        name: 'Lapsed Trust',
        status: 'suspended',
        version: 2,
        updatedAt: expect.stringMatching(ISO),
      });
      expect(await repo().getOrganisation(odsCode)).toEqual(suspended);
      const last = (await changesOf('organisation', odsCode)).at(-1);
      expect(last).toMatchObject({
        action: 'update',
        actor: 'dspt-officer',
        before: { status: 'active', version: 1 },
        after: { status: 'suspended', version: 2 },
      });
    });

    it('R6: setOrganisationStatus terminates and reactivates', async () => {
      const odsCode = await addOrganisation();
      expect((await repo().setOrganisationStatus(odsCode, 'terminated', 'a')).status).toBe('terminated');
      const reactivated = await repo().setOrganisationStatus(odsCode, 'active', 'a');
      expect(reactivated.status).toBe('active');
      expect(reactivated.version).toBe(3);
    });

    it('setOrganisationStatus on an unknown organisation is NO_RECORD_FOUND and records nothing', async () => {
      const odsCode = newOds();
      const error = await refusal(repo().setOrganisationStatus(odsCode, 'suspended', 'a'));
      expect(error.status).toBe(404);
      expect(error.issues[0]?.code).toBe('NO_RECORD_FOUND');
      expect(await changesOf('organisation', odsCode)).toEqual([]);
      expect(await repo().getOrganisation(odsCode)).toBeUndefined();
    });

    it('two writers creating the same organisation at once: both succeed in turn or one gets CONFLICT, never a 500', async () => {
      const odsCode = newOds();
      const results = await Promise.allSettled([
        repo().putOrganisation({ odsCode, name: 'One', status: 'active' }, 'a'),
        repo().putOrganisation({ odsCode, name: 'Two', status: 'active' }, 'b'),
      ]);
      let fulfilled = 0;
      for (const result of results) {
        if (result.status === 'fulfilled') {
          fulfilled += 1;
        } else {
          expect(result.reason).toBeInstanceOf(OperationOutcomeError);
          const reason: unknown = result.reason;
          if (reason instanceof OperationOutcomeError) {
            expect(reason.issues[0]?.code).toBe('CONFLICT');
            expect(reason.status).toBe(409);
          }
        }
      }
      expect(fulfilled).toBeGreaterThanOrEqual(1);
      const stored = await repo().getOrganisation(odsCode);
      expect(stored?.version).toBe(fulfilled);
      expect(await changesOf('organisation', odsCode)).toHaveLength(fulfilled);
    });
  });

  describe('client systems', () => {
    it('creates a client at version 1, not demo by default', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      const input = clientInput(clientId, [ods], { roles: ['producer', 'audit'], admin: true });
      const result = await repo().putClient(input, 'admin-1');
      expect(result.created).toBe(true);
      expect(result.record).toEqual({
        clientId,
        name: input.name,
        status: 'active',
        jwks: JWKS,
        organisations: [ods],
        roles: ['producer', 'audit'],
        admin: true,
        demo: false,
        version: 1,
        updatedAt: expect.stringMatching(ISO),
      });
      expect(await repo().getClient(clientId)).toEqual(result.record);
    });

    it('accepts a client with no organisations', async () => {
      const clientId = newClientId();
      const { record } = await repo().putClient(clientInput(clientId, [], { roles: [] }), 'a');
      expect(record.organisations).toEqual([]);
      expect(record.roles).toEqual([]);
    });

    it('R19: replacing a client increments its version and records before and after', async () => {
      const ods = await addOrganisation();
      const other = await addOrganisation();
      const clientId = newClientId();
      const first = await repo().putClient(clientInput(clientId, [ods]), 'carol');
      const second = await repo().putClient(
        clientInput(clientId, [ods, other], { status: 'disabled', roles: ['consumer', 'producer'] }),
        'dave',
      );
      expect(second.created).toBe(false);
      expect(second.record.version).toBe(2);
      expect(second.record.status).toBe('disabled');
      expect(second.record.organisations).toEqual([ods, other]);
      const changes = await changesOf('client', clientId);
      expect(changes).toHaveLength(2);
      expect(changes[0]).toMatchObject({
        action: 'create',
        actor: 'carol',
        before: null,
        after: snapshotOf(first.record),
      });
      expect(changes[1]).toMatchObject({
        action: 'update',
        actor: 'dave',
        before: snapshotOf(first.record),
        after: snapshotOf(second.record),
      });
    });

    it('keeps the demo flag set by the demo seed across later replacements, unless told otherwise', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      expect((await repo().putClient(clientInput(clientId, [ods]), 'demo', { demo: true })).record.demo).toBe(
        true,
      );
      expect(
        (await repo().putClient(clientInput(clientId, [ods], { name: 'renamed' }), 'a')).record.demo,
      ).toBe(true);
      expect((await repo().putClient(clientInput(clientId, [ods]), 'a', { demo: false })).record.demo).toBe(
        false,
      );
      expect((await repo().getClient(clientId))?.demo).toBe(false);
    });

    it('R3: refuses a client for an unknown organisation (UNPROCESSABLE_ENTITY) and writes nothing', async () => {
      const known = await addOrganisation();
      const unknown = newOds();
      const clientId = newClientId();
      const error = await refusal(repo().putClient(clientInput(clientId, [known, unknown]), 'a'));
      expect(error.status).toBe(422);
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]?.code).toBe('UNPROCESSABLE_ENTITY');
      expect(error.issues[0]?.expression).toBe('organisations');
      expect(error.issues[0]?.diagnostics).toContain(unknown);
      expect(error.issues[0]?.diagnostics).not.toContain(known);
      expect(await repo().getClient(clientId)).toBeUndefined();
      expect(await changesOf('client', clientId)).toEqual([]);
    });

    it('R3: refuses to move an existing client to an unknown organisation, leaving it as it was', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      const { record } = await repo().putClient(clientInput(clientId, [ods]), 'a');
      const error = await refusal(repo().putClient(clientInput(clientId, [newOds()]), 'a'));
      expect(error.issues[0]?.code).toBe('UNPROCESSABLE_ENTITY');
      expect(await repo().getClient(clientId)).toEqual(record);
      expect(await changesOf('client', clientId)).toHaveLength(1);
    });

    it('lists clients in client id order', async () => {
      const ods = await addOrganisation();
      const a = newClientId();
      const b = newClientId();
      await repo().putClient(clientInput(b, [ods]), 'a');
      await repo().putClient(clientInput(a, [ods]), 'a');
      const list = await repo().listClients();
      const ids = list.map((c) => c.clientId);
      expect(ids).toEqual([...ids].sort());
      expect(list).toContainEqual(await repo().getClient(a));
      expect(list).toContainEqual(await repo().getClient(b));
    });

    it('R19: deleteClient removes the client and records a delete change', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      const { record } = await repo().putClient(clientInput(clientId, [ods]), 'a');
      await repo().deleteClient(clientId, 'erin');
      expect(await repo().getClient(clientId)).toBeUndefined();
      const last = (await changesOf('client', clientId)).at(-1);
      expect(last).toMatchObject({
        action: 'delete',
        actor: 'erin',
        before: snapshotOf(record),
        after: null,
      });
    });

    it('deleteClient of an unknown client is NO_RECORD_FOUND and records nothing', async () => {
      const clientId = newClientId();
      const error = await refusal(repo().deleteClient(clientId, 'a'));
      expect(error.status).toBe(404);
      expect(error.issues[0]?.code).toBe('NO_RECORD_FOUND');
      expect(await changesOf('client', clientId)).toEqual([]);
    });
  });

  describe('grants', () => {
    it('creates a grant at version 1 with a generated id', async () => {
      const ods = await addOrganisation();
      const result = await repo().putGrant(grantInput(ods), 'admin-1');
      expect(result.created).toBe(true);
      expect(result.record).toEqual({
        grantId: expect.stringMatching(UUID),
        odsCode: ods,
        role: 'consumer',
        pointerTypes: [XRAY],
        interactions: ['read', 'search', 'count'],
        accessControls: [],
        version: 1,
        updatedAt: expect.stringMatching(ISO),
      });
      expect(await repo().getGrant(ods, 'consumer')).toEqual(result.record);
      expect(await repo().getGrant(ods, 'producer')).toBeUndefined();
    });

    it('R19: replacing a grant keeps its id, increments its version and records before and after', async () => {
      const ods = await addOrganisation();
      const first = await repo().putGrant(grantInput(ods), 'a');
      const second = await repo().putGrant(
        grantInput(ods, { pointerTypes: [XRAY, REPORT], accessControls: ['ALLOW_ALL_TYPES'] }),
        'frank',
      );
      expect(second.created).toBe(false);
      expect(second.record.grantId).toBe(first.record.grantId);
      expect(second.record.version).toBe(2);
      expect(second.record.pointerTypes).toEqual([XRAY, REPORT]);
      expect(second.record.accessControls).toEqual(['ALLOW_ALL_TYPES']);
      const changes = await changesOf('grant', `${ods}/consumer`);
      expect(changes.map((c) => c.action)).toEqual(['create', 'update']);
      expect(changes[1]).toMatchObject({
        actor: 'frank',
        before: snapshotOf(first.record),
        after: snapshotOf(second.record),
      });
    });

    it('keeps one grant per organisation and role', async () => {
      const ods = await addOrganisation();
      const consumer = await repo().putGrant(grantInput(ods), 'a');
      const producer = await repo().putGrant(
        grantInput(ods, { role: 'producer', interactions: ['create', 'read'] }),
        'a',
      );
      expect(producer.created).toBe(true);
      expect(producer.record.grantId).not.toBe(consumer.record.grantId);
      expect(await repo().listGrants({ odsCode: ods })).toEqual([consumer.record, producer.record]);
    });

    it('R3: refuses a grant for an unknown organisation (UNPROCESSABLE_ENTITY) and writes nothing', async () => {
      const ods = newOds();
      const error = await refusal(repo().putGrant(grantInput(ods), 'a'));
      expect(error.status).toBe(422);
      expect(error.issues[0]?.code).toBe('UNPROCESSABLE_ENTITY');
      expect(await repo().getGrant(ods, 'consumer')).toBeUndefined();
      expect(await changesOf('grant', `${ods}/consumer`)).toEqual([]);
    });

    it('lists grants by ODS code then role, optionally for one organisation', async () => {
      const a = await addOrganisation();
      const b = await addOrganisation();
      await repo().putGrant(grantInput(b, { role: 'producer', interactions: ['create'] }), 'x');
      await repo().putGrant(
        grantInput(b, { role: 'audit', pointerTypes: [], interactions: ['audit-search'] }),
        'x',
      );
      await repo().putGrant(grantInput(a), 'x');
      expect((await repo().listGrants({ odsCode: b })).map((g) => g.role)).toEqual(['audit', 'producer']);
      expect((await repo().listGrants({ odsCode: a })).map((g) => g.role)).toEqual(['consumer']);
      const all = await repo().listGrants();
      const keys = all.map((g) => `${g.odsCode}/${g.role}`);
      expect(keys).toEqual([...keys].sort());
      expect(keys).toEqual(expect.arrayContaining([`${a}/consumer`, `${b}/audit`, `${b}/producer`]));
    });

    it('R19: deleteGrant removes the grant and records a delete change', async () => {
      const ods = await addOrganisation();
      const { record } = await repo().putGrant(grantInput(ods), 'a');
      await repo().deleteGrant(ods, 'consumer', 'grace');
      expect(await repo().getGrant(ods, 'consumer')).toBeUndefined();
      const changes = await changesOf('grant', `${ods}/consumer`);
      expect(changes.map((c) => c.action)).toEqual(['create', 'delete']);
      expect(changes[1]).toMatchObject({ actor: 'grace', before: snapshotOf(record), after: null });
    });

    it('deleteGrant of a missing grant is NO_RECORD_FOUND and records nothing', async () => {
      const ods = await addOrganisation();
      await repo().putGrant(grantInput(ods), 'a');
      const error = await refusal(repo().deleteGrant(ods, 'producer', 'a'));
      expect(error.status).toBe(404);
      expect(error.issues[0]?.code).toBe('NO_RECORD_FOUND');
      expect(await changesOf('grant', `${ods}/producer`)).toEqual([]);
      expect(await repo().getGrant(ods, 'consumer')).toBeDefined();
    });
  });

  describe('the change log (R19)', () => {
    it('records exactly one change per write, in order', async () => {
      const { rows } = await sql<{ last: number }>`
        SELECT coalesce(max(change_id), 0)::int AS last FROM catalogue_change`.execute(db());
      const afterId = rows[0]?.last ?? 0;
      const ods = await addOrganisation();
      const clientId = newClientId();
      await repo().putClient(clientInput(clientId, [ods]), 'a');
      await repo().putGrant(grantInput(ods), 'a');
      await repo().setOrganisationStatus(ods, 'suspended', 'a');
      await repo().deleteGrant(ods, 'consumer', 'a');
      await repo().deleteClient(clientId, 'a');
      const changes = await repo().listChanges({ afterId });
      expect(changes.map((c) => [c.entity, c.entityKey, c.action])).toEqual([
        ['organisation', ods, 'create'],
        ['client', clientId, 'create'],
        ['grant', `${ods}/consumer`, 'create'],
        ['organisation', ods, 'update'],
        ['grant', `${ods}/consumer`, 'delete'],
        ['client', clientId, 'delete'],
      ]);
      const ids = changes.map((c) => c.changeId);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('filters by entity and limits the number of changes', async () => {
      const ods = await addOrganisation();
      await repo().putOrganisation({ odsCode: ods, name: 'two', status: 'active' }, 'a');
      await repo().putOrganisation({ odsCode: ods, name: 'three', status: 'active' }, 'a');
      const limited = await repo().listChanges({ entity: 'organisation', entityKey: ods, limit: 2 });
      expect(limited.map((c) => c.after)).toEqual([
        expect.objectContaining({ version: 1 }),
        expect.objectContaining({ version: 2 }),
      ]);
      const grants = await repo().listChanges({ entity: 'grant' });
      expect(grants.every((c) => c.entity === 'grant')).toBe(true);
    });

    it('R19: refuses UPDATE of a change record', async () => {
      const ods = await addOrganisation();
      const [change] = await changesOf('organisation', ods);
      if (!change) throw new Error('expected a change');
      await expect(
        db()
          .updateTable('catalogue_change')
          .set({ actor: 'mallory' })
          .where('change_id', '=', change.changeId)
          .execute(),
      ).rejects.toThrow(/append-only/);
      await expect(sql`UPDATE catalogue_change SET actor = 'mallory'`.execute(db())).rejects.toThrow(
        /append-only/,
      );
      expect((await changesOf('organisation', ods))[0]?.actor).toBe('setup');
    });

    it('R19: refuses DELETE of a change record', async () => {
      const ods = await addOrganisation();
      const [change] = await changesOf('organisation', ods);
      if (!change) throw new Error('expected a change');
      await expect(
        db().deleteFrom('catalogue_change').where('change_id', '=', change.changeId).execute(),
      ).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM catalogue_change`.execute(db())).rejects.toThrow(/append-only/);
      expect(await changesOf('organisation', ods)).toHaveLength(1);
    });
  });

  describe('loadAccessContext', () => {
    it('R3: reads the client, the organisation and its grant for the role, with the types of get*', async () => {
      const ods = await addOrganisation();
      const other = await addOrganisation();
      const clientId = newClientId();
      await repo().putClient(
        clientInput(clientId, [ods, other], { roles: ['consumer', 'producer'], admin: true }),
        'a',
        { demo: true },
      );
      await repo().putGrant(grantInput(ods, { accessControls: ['ALLOW_OVERRIDE_CREATION_DATETIME'] }), 'a');
      await repo().putGrant(grantInput(ods, { role: 'producer', interactions: ['create'] }), 'a');

      const context = await repo().loadAccessContext(clientId, ods, 'consumer');
      expect(context.client).toEqual(await repo().getClient(clientId));
      expect(context.organisation).toEqual(await repo().getOrganisation(ods));
      expect(context.grant).toEqual(await repo().getGrant(ods, 'consumer'));

      const { client, organisation, grant } = context;
      if (!client || !organisation || !grant) throw new Error('expected a full context');
      expect(Array.isArray(client.organisations)).toBe(true);
      expect(client.organisations).toEqual([ods, other]);
      expect(client.roles).toEqual(['consumer', 'producer']);
      expect(client.admin).toBe(true);
      expect(client.demo).toBe(true);
      expect(typeof client.version).toBe('number');
      expect(client.updatedAt).toMatch(ISO);
      expect(client.jwks).toEqual(JWKS);
      expect(organisation.status).toBe('active');
      expect(organisation.version).toBe(1);
      expect(organisation.updatedAt).toMatch(ISO);
      expect(grant.role).toBe('consumer');
      expect(grant.pointerTypes).toEqual([XRAY]);
      expect(grant.interactions).toEqual(['read', 'search', 'count']);
      expect(grant.accessControls).toEqual(['ALLOW_OVERRIDE_CREATION_DATETIME']);
      expect(grant.version).toBe(1);
      expect(grant.updatedAt).toMatch(ISO);

      const producer = await repo().loadAccessContext(clientId, ods, 'producer');
      expect(producer.grant).toEqual(await repo().getGrant(ods, 'producer'));
    });

    it('reads booleans false and empty lists as such', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      await repo().putClient(clientInput(clientId, [ods], { roles: [] }), 'a');
      await repo().putGrant(grantInput(ods, { pointerTypes: [], interactions: [] }), 'a');
      const { client, grant } = await repo().loadAccessContext(clientId, ods, 'consumer');
      expect(client?.admin).toBe(false);
      expect(client?.demo).toBe(false);
      expect(client?.roles).toEqual([]);
      expect(grant?.pointerTypes).toEqual([]);
      expect(grant?.interactions).toEqual([]);
      expect(grant?.accessControls).toEqual([]);
    });

    it('gives undefined for a missing client, organisation or grant', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      await repo().putClient(clientInput(clientId, [ods]), 'a');

      const noGrant = await repo().loadAccessContext(clientId, ods, 'consumer');
      expect(noGrant.client?.clientId).toBe(clientId);
      expect(noGrant.organisation?.odsCode).toBe(ods);
      expect(noGrant.grant).toBeUndefined();

      await repo().putGrant(grantInput(ods), 'a');
      const noClient = await repo().loadAccessContext(newClientId(), ods, 'consumer');
      expect(noClient.client).toBeUndefined();
      expect(noClient.organisation?.odsCode).toBe(ods);
      expect(noClient.grant?.odsCode).toBe(ods);

      const noOrganisation = await repo().loadAccessContext(clientId, newOds(), 'consumer');
      expect(noOrganisation.client?.clientId).toBe(clientId);
      expect(noOrganisation.organisation).toBeUndefined();
      expect(noOrganisation.grant).toBeUndefined();

      expect(await repo().loadAccessContext(newClientId(), newOds(), 'audit')).toEqual({
        client: undefined,
        organisation: undefined,
        grant: undefined,
      });
    });

    it('R6: sees a suspension on the very next read', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      await repo().putClient(clientInput(clientId, [ods]), 'a');
      await repo().setOrganisationStatus(ods, 'suspended', 'a');
      expect((await repo().loadAccessContext(clientId, ods, 'consumer')).organisation?.status).toBe(
        'suspended',
      );
    });

    it('R3: does not see a deleted grant or client', async () => {
      const ods = await addOrganisation();
      const clientId = newClientId();
      await repo().putClient(clientInput(clientId, [ods]), 'a');
      await repo().putGrant(grantInput(ods), 'a');
      await repo().deleteGrant(ods, 'consumer', 'a');
      await repo().deleteClient(clientId, 'a');
      const context = await repo().loadAccessContext(clientId, ods, 'consumer');
      expect(context.client).toBeUndefined();
      expect(context.grant).toBeUndefined();
    });
  });
});
