/**
 * The Controller Catalogue held in memory (R3, R6, issue 15 point 1). A
 * {@link CatalogueSnapshot} is every organisation, client system and grant read in one
 * statement together with the catalogue's version (migration 0010: every catalogue write bumps
 * it in its own transaction). The guard decides from the snapshot without a database round
 * trip; the request's own data statement then reads the version beside its rows, and a request
 * decided on an older version is re-authorised and redone (see the server's guard). A
 * {@link CatalogueCache} keeps the newest snapshot and reloads it once however many requests
 * find it stale at the same moment.
 */
import type { ClientSystem, Grant, Organisation, Role } from '@nir/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { AccessContext } from './catalogue-repository.ts';
import { toClient, toGrant, toOrganisation } from './catalogue-rows.ts';
import type { ClientSystemTable, DatabaseSchema, GrantTable, OrganisationTable } from './schema.ts';

type Db = Kysely<DatabaseSchema>;

/** The SQL of the catalogue's version, for statements that read it beside their rows. */
export const CATALOGUE_VERSION_SQL = '(SELECT version FROM catalogue_version)';

/** The whole catalogue at one version, indexed for the guard's lookups. */
export class CatalogueSnapshot {
  readonly version: number;
  readonly #clients: ReadonlyMap<string, ClientSystem>;
  readonly #organisations: ReadonlyMap<string, Organisation>;
  readonly #grants: ReadonlyMap<string, Grant>;

  constructor(version: number, clients: ClientSystem[], organisations: Organisation[], grants: Grant[]) {
    this.version = version;
    this.#clients = new Map(clients.map((c) => [c.clientId, c]));
    this.#organisations = new Map(organisations.map((o) => [o.odsCode, o]));
    this.#grants = new Map(grants.map((g) => [`${g.odsCode}\u0000${g.role}`, g]));
  }

  /** The client, the named organisation and its grant for `role`: what one request is decided on. */
  accessContext(clientId: string, odsCode: string, role: Role): AccessContext {
    return {
      client: this.#clients.get(clientId),
      organisation: this.#organisations.get(odsCode),
      grant: this.#grants.get(`${odsCode}\u0000${role}`),
    };
  }

  /** A client system by id. */
  client(clientId: string): ClientSystem | undefined {
    return this.#clients.get(clientId);
  }
}

/** The catalogue's version now (one single-row read). */
export async function readCatalogueVersion(db: Db): Promise<number> {
  const { rows } = await sql<{ version: string | number }>`SELECT version FROM catalogue_version`.execute(db);
  return Number(rows[0]?.version ?? 0);
}

/** Reads the whole catalogue and its version in one statement (one MVCC snapshot). */
export async function loadCatalogueSnapshot(db: Db): Promise<CatalogueSnapshot> {
  const { rows } = await sql<{
    version: string | number;
    clients: Selectable<ClientSystemTable>[];
    organisations: Selectable<OrganisationTable>[];
    grants: Selectable<GrantTable>[];
  }>`
    SELECT (SELECT version FROM catalogue_version) AS version,
           (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM client_system c) AS clients,
           (SELECT coalesce(jsonb_agg(to_jsonb(o)), '[]'::jsonb) FROM organisation o) AS organisations,
           (SELECT coalesce(jsonb_agg(to_jsonb(g)), '[]'::jsonb) FROM catalogue_grant g) AS grants`.execute(
    db,
  );
  const row = rows[0];
  if (!row) throw new Error('the catalogue could not be read');
  return new CatalogueSnapshot(
    Number(row.version),
    row.clients.map(toClient),
    row.organisations.map(toOrganisation),
    row.grants.map(toGrant),
  );
}

/**
 * The newest catalogue snapshot this process has read. {@link refresh} reloads it; concurrent
 * callers share one reload, and a reload never replaces a snapshot with an older one.
 */
export class CatalogueCache {
  readonly #db: Db;
  #current: CatalogueSnapshot;
  #loading: Promise<CatalogueSnapshot> | undefined;

  private constructor(db: Db, first: CatalogueSnapshot) {
    this.#db = db;
    this.#current = first;
  }

  /** Reads the catalogue once and holds it. */
  static async open(db: Db): Promise<CatalogueCache> {
    return new CatalogueCache(db, await loadCatalogueSnapshot(db));
  }

  /** The snapshot held now. */
  current(): CatalogueSnapshot {
    return this.#current;
  }

  /** The catalogue's version in the database now (one single-row read). */
  databaseVersion(): Promise<number> {
    return readCatalogueVersion(this.#db);
  }

  /**
   * A snapshot at least as new as `atLeast` (default: whatever the database holds now). Reads
   * again while the held one is older; requests that find it stale together wait for one read.
   */
  async refresh(atLeast?: number): Promise<CatalogueSnapshot> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (atLeast !== undefined && this.#current.version >= atLeast) return this.#current;
      const loaded = await this.#load();
      if (atLeast === undefined || loaded.version >= atLeast) return loaded;
    }
    throw new Error(`the catalogue did not reach version ${atLeast}`);
  }

  #load(): Promise<CatalogueSnapshot> {
    this.#loading ??= loadCatalogueSnapshot(this.#db)
      .then((snapshot) => {
        if (snapshot.version >= this.#current.version) this.#current = snapshot;
        return this.#current;
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }
}
