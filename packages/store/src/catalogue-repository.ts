/**
 * The Controller Catalogue in the database (R3, R6, R19). Every write runs in one transaction
 * with its change record (who, when, before, after), so the history can never miss a change.
 */
import { randomUUID } from 'node:crypto';
import {
  type CatalogueChange,
  type CatalogueEntity,
  type ClientInput,
  type ClientSystem,
  type Grant,
  type GrantInput,
  type Organisation,
  type OrganisationInput,
  type OrganisationStatus,
  type Role,
  refuse,
} from '@nir/core';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { recordChange } from './catalogue-change-log.ts';
import { toChange, toClient, toGrant, toOrganisation } from './catalogue-rows.ts';
import type { ClientSystemTable, DatabaseSchema, GrantTable, OrganisationTable } from './schema.ts';

type Db = Kysely<DatabaseSchema>;
type Trx = Transaction<DatabaseSchema>;

/** A write's outcome: the record as stored and whether it was new. */
export interface WriteResult<T> {
  record: T;
  created: boolean;
}

/** The catalogue records one request is decided on, read together. */
export interface AccessContext {
  client: ClientSystem | undefined;
  organisation: Organisation | undefined;
  grant: Grant | undefined;
}

/** A unique violation from a concurrent writer becomes a 409 instead of a 500. */
async function conflictOnRace<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw refuse('CONFLICT', 'A concurrent change to the same catalogue record won; retry');
    }
    throw error;
  }
}

/** Reads and writes the Controller Catalogue. */
export class CatalogueRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Runs several catalogue writes as one: all commit, with their change records, or none do
   * (a catalogue import, for example).
   */
  async transaction<T>(work: (catalogue: CatalogueRepository) => Promise<T>): Promise<T> {
    return this.#write((trx) => work(new CatalogueRepository(trx)));
  }

  /** One write transaction, or the enclosing one when this repository already runs inside a transaction. */
  #write<T>(work: (trx: Trx) => Promise<T>): Promise<T> {
    return this.#db.isTransaction ? work(this.#db as Trx) : this.#db.transaction().execute(work);
  }

  /** Reads the client, the named organisation and its grant for `role` in one query (the hot path). */
  async loadAccessContext(clientId: string, odsCode: string, role: Role): Promise<AccessContext> {
    const { rows } = await sql<{
      client: Selectable<ClientSystemTable> | null;
      organisation: Selectable<OrganisationTable> | null;
      grant: Selectable<GrantTable> | null;
    }>`
      SELECT to_jsonb(c) AS client, to_jsonb(o) AS organisation, to_jsonb(g) AS grant
      FROM (SELECT 1) AS one
      LEFT JOIN client_system c ON c.client_id = ${clientId}
      LEFT JOIN organisation o ON o.ods_code = ${odsCode}
      LEFT JOIN catalogue_grant g ON g.ods_code = ${odsCode} AND g.role = ${role}`.execute(this.#db);
    const row = rows[0];
    return {
      client: row?.client ? toClient(row.client) : undefined,
      organisation: row?.organisation ? toOrganisation(row.organisation) : undefined,
      grant: row?.grant ? toGrant(row.grant) : undefined,
    };
  }

  async getOrganisation(odsCode: string): Promise<Organisation | undefined> {
    const row = await this.#db
      .selectFrom('organisation')
      .selectAll()
      .where('ods_code', '=', odsCode)
      .executeTakeFirst();
    return row && toOrganisation(row);
  }

  async listOrganisations(): Promise<Organisation[]> {
    const rows = await this.#db.selectFrom('organisation').selectAll().orderBy('ods_code').execute();
    return rows.map(toOrganisation);
  }

  /** Creates or replaces an organisation. */
  async putOrganisation(input: OrganisationInput, actor: string): Promise<WriteResult<Organisation>> {
    return this.#upsertOrganisation(input.odsCode, () => input, actor);
  }

  /** Changes an organisation's status (suspend, terminate, reactivate): effective on its next request (R6). */
  async setOrganisationStatus(
    odsCode: string,
    status: OrganisationStatus,
    actor: string,
  ): Promise<Organisation> {
    const { record } = await this.#upsertOrganisation(
      odsCode,
      (before) => {
        if (!before) throw refuse('NO_RECORD_FOUND', `Organisation '${odsCode}' is not in the catalogue`);
        return { name: before.name, status, rateLimitPerMinute: before.rateLimitPerMinute };
      },
      actor,
    );
    return record;
  }

  /** Reads the organisation under a row lock, builds the new values from it, writes and records the change. */
  #upsertOrganisation(
    odsCode: string,
    build: (before: Organisation | undefined) => {
      name: string;
      status: OrganisationStatus;
      rateLimitPerMinute?: number | undefined;
    },
    actor: string,
  ): Promise<WriteResult<Organisation>> {
    return conflictOnRace(() =>
      this.#write(async (trx) => {
        const beforeRow = await trx
          .selectFrom('organisation')
          .selectAll()
          .where('ods_code', '=', odsCode)
          .forUpdate()
          .executeTakeFirst();
        const before = beforeRow && toOrganisation(beforeRow);
        const { name, status, rateLimitPerMinute } = build(before);
        const values = {
          name,
          status,
          rate_limit_per_minute: rateLimitPerMinute ?? null,
          updated_at: new Date(),
        };
        const row = before
          ? await trx
              .updateTable('organisation')
              .set({ ...values, version: sql`version + 1` })
              .where('ods_code', '=', odsCode)
              .returningAll()
              .executeTakeFirstOrThrow()
          : await trx
              .insertInto('organisation')
              .values({ ods_code: odsCode, ...values })
              .returningAll()
              .executeTakeFirstOrThrow();
        const after = toOrganisation(row);
        await recordChange(trx, actor, 'organisation', odsCode, before, after);
        return { record: after, created: !before };
      }),
    );
  }

  async getClient(clientId: string): Promise<ClientSystem | undefined> {
    const row = await this.#db
      .selectFrom('client_system')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && toClient(row);
  }

  async listClients(): Promise<ClientSystem[]> {
    const rows = await this.#db.selectFrom('client_system').selectAll().orderBy('client_id').execute();
    return rows.map(toClient);
  }

  /** Creates or replaces a client system; every organisation it acts for must be in the catalogue. */
  async putClient(
    input: ClientInput,
    actor: string,
    options: { demo?: boolean } = {},
  ): Promise<WriteResult<ClientSystem>> {
    return conflictOnRace(() =>
      this.#write(async (trx) => {
        await this.#requireOrganisations(trx, input.organisations);
        const beforeRow = await trx
          .selectFrom('client_system')
          .selectAll()
          .where('client_id', '=', input.clientId)
          .forUpdate()
          .executeTakeFirst();
        const before = beforeRow && toClient(beforeRow);
        const values = {
          name: input.name,
          status: input.status,
          jwks: JSON.stringify(input.jwks),
          organisations: input.organisations,
          roles: input.roles,
          is_admin: input.admin,
          is_demo: options.demo ?? before?.demo ?? false,
          rate_limit_per_minute: input.rateLimitPerMinute ?? null,
          token_limit_per_minute: input.tokenLimitPerMinute ?? null,
          updated_at: new Date(),
        };
        const row = before
          ? await trx
              .updateTable('client_system')
              .set({ ...values, version: sql`version + 1` })
              .where('client_id', '=', input.clientId)
              .returningAll()
              .executeTakeFirstOrThrow()
          : await trx
              .insertInto('client_system')
              .values({ client_id: input.clientId, ...values })
              .returningAll()
              .executeTakeFirstOrThrow();
        const after = toClient(row);
        await recordChange(trx, actor, 'client', input.clientId, before, after);
        return { record: after, created: !before };
      }),
    );
  }

  /** Removes a client system; its tokens stop working on their next request. */
  async deleteClient(clientId: string, actor: string): Promise<void> {
    await this.#write(async (trx) => {
      const row = await trx
        .deleteFrom('client_system')
        .where('client_id', '=', clientId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw refuse('NO_RECORD_FOUND', `Client '${clientId}' is not in the catalogue`);
      await recordChange(trx, actor, 'client', clientId, toClient(row), undefined);
    });
  }

  async getGrant(odsCode: string, role: Role): Promise<Grant | undefined> {
    const row = await this.#db
      .selectFrom('catalogue_grant')
      .selectAll()
      .where('ods_code', '=', odsCode)
      .where('role', '=', role)
      .executeTakeFirst();
    return row && toGrant(row);
  }

  async listGrants(filter: { odsCode?: string } = {}): Promise<Grant[]> {
    let query = this.#db.selectFrom('catalogue_grant').selectAll();
    if (filter.odsCode) query = query.where('ods_code', '=', filter.odsCode);
    const rows = await query.orderBy('ods_code').orderBy('role').execute();
    return rows.map(toGrant);
  }

  /** Creates or replaces the grant of one organisation in one role. */
  async putGrant(input: GrantInput, actor: string): Promise<WriteResult<Grant>> {
    return conflictOnRace(() =>
      this.#write(async (trx) => {
        await this.#requireOrganisations(trx, [input.odsCode]);
        const beforeRow = await trx
          .selectFrom('catalogue_grant')
          .selectAll()
          .where('ods_code', '=', input.odsCode)
          .where('role', '=', input.role)
          .forUpdate()
          .executeTakeFirst();
        const before = beforeRow && toGrant(beforeRow);
        const values = {
          pointer_types: input.pointerTypes,
          interactions: input.interactions,
          access_controls: input.accessControls,
          updated_at: new Date(),
        };
        const row = before
          ? await trx
              .updateTable('catalogue_grant')
              .set({ ...values, version: sql`version + 1` })
              .where('grant_id', '=', before.grantId)
              .returningAll()
              .executeTakeFirstOrThrow()
          : await trx
              .insertInto('catalogue_grant')
              .values({ grant_id: randomUUID(), ods_code: input.odsCode, role: input.role, ...values })
              .returningAll()
              .executeTakeFirstOrThrow();
        const after = toGrant(row);
        await recordChange(trx, actor, 'grant', `${input.odsCode}/${input.role}`, before, after);
        return { record: after, created: !before };
      }),
    );
  }

  /** Withdraws one organisation's grant in one role: deny from its next request. */
  async deleteGrant(odsCode: string, role: Role, actor: string): Promise<void> {
    await this.#write(async (trx) => {
      const row = await trx
        .deleteFrom('catalogue_grant')
        .where('ods_code', '=', odsCode)
        .where('role', '=', role)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw refuse('NO_RECORD_FOUND', `Organisation '${odsCode}' has no ${role} grant`);
      await recordChange(trx, actor, 'grant', `${odsCode}/${role}`, toGrant(row), undefined);
    });
  }

  /** The kept history of catalogue changes, oldest first, optionally for one entity. */
  async listChanges(
    filter: { entity?: CatalogueEntity; entityKey?: string; afterId?: number; limit?: number } = {},
  ): Promise<CatalogueChange[]> {
    let query = this.#db.selectFrom('catalogue_change').selectAll();
    if (filter.entity) query = query.where('entity', '=', filter.entity);
    if (filter.entityKey) query = query.where('entity_key', '=', filter.entityKey);
    if (filter.afterId !== undefined) query = query.where('change_id', '>', filter.afterId);
    const rows = await query
      .orderBy('change_id')
      .limit(filter.limit ?? 1000)
      .execute();
    return rows.map(toChange);
  }

  /** The id of the latest catalogue change (0 when none): the catalogue's version, for metrics. */
  async latestChangeId(): Promise<number> {
    const row = await this.#db
      .selectFrom('catalogue_change')
      .select((eb) => eb.fn.max('change_id').as('v'))
      .executeTakeFirst();
    return Number(row?.v ?? 0);
  }

  async #requireOrganisations(trx: Trx, odsCodes: string[]): Promise<void> {
    if (odsCodes.length === 0) return;
    const found = await trx
      .selectFrom('organisation')
      .select('ods_code')
      .where('ods_code', 'in', odsCodes)
      .execute();
    const known = new Set(found.map((r) => r.ods_code));
    const missing = odsCodes.filter((c) => !known.has(c));
    if (missing.length > 0) {
      throw refuse(
        'UNPROCESSABLE_ENTITY',
        `Unknown organisation(s) ${missing.join(', ')}: add them to the catalogue first`,
        'organisations',
      );
    }
  }
}
