/**
 * Pointers in the database (R1, R10, R11). Reads find a pointer by id through
 * `pointer_locator` (one partition touched); writes run in one transaction that locks the
 * locator row, so a supersede, an update and a delete of the same pointer serialise and an
 * ITI-65 transaction commits all its entries or none. Every version is kept in
 * `pointer_history` in the same transaction (R10).
 */

import type { DocumentReference } from '@medplum/fhirtypes';
import {
  categoryOf,
  type PointerSearch,
  refuse,
  SEARCH_FACTS_VERSION,
  type StoredFacts,
  searchFactsOf,
  stampPointer,
  type TypeAccess,
} from '@nir/core';
import { CompiledQuery, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import {
  type GroupedTransactionOptions,
  GroupedTransactions,
  type WriteCheck,
} from './grouped-transactions.ts';
import { type NewPointer, type NewPointerRows, newPointerRows, type WriteOrigin } from './pointer-rows.ts';
import { countPointers, factColumns, type SearchPage, searchPointers } from './pointer-search.ts';
import {
  CREATE_FIRST_VERSION,
  createParameters,
  REMOVE_VERSION,
  UPDATE_VERSION,
} from './pointer-write-sql.ts';
import { type DatabaseSchema, isoTimestamp, type PointerTable } from './schema.ts';
import { SearchFacts } from './search-facts.ts';
import { READ_SQL } from './search-sql.ts';

export type { NewPointer, WriteOrigin } from './pointer-rows.ts';

type Db = Kysely<DatabaseSchema>;
type Trx = Transaction<DatabaseSchema>;

/** A live pointer as stored. */
export interface StoredPointer extends StoredFacts {
  category: string;
  version: number;
  createdOn: string;
  updatedOn: string;
  resource: DocumentReference;
}

/** One kept version of a pointer (R10). */
export interface PointerVersion {
  id: string;
  version: number;
  nhsNumber: string;
  custodian: string;
  action: 'create' | 'update' | 'delete' | 'supersede';
  recordedAt: string;
  requestId: string | null;
  clientId: string | null;
  supersededBy: string | null;
  /** The pointer as this version left it; absent for a deletion. */
  resource: DocumentReference | null;
}

/** The producer search: the caller's own pointers for one patient. */
export interface OwnPointerQuery {
  custodian: string;
  nhsNumber: string;
  /** `system|code` values, any of which matches. */
  types?: string[];
  /** `system|code` values, any of which matches. */
  categories?: string[];
}

function toStored(row: Selectable<PointerTable>): StoredPointer {
  return {
    id: row.id,
    nhsNumber: row.nhs_number,
    custodian: row.custodian,
    type: row.type,
    category: row.category,
    version: row.version,
    createdOn: isoTimestamp(row.created_on),
    updatedOn: isoTimestamp(row.updated_on),
    resource: row.resource as DocumentReference,
  };
}

/** A read by id, with the catalogue's version the statement saw (R6). */
export interface PointerRead {
  /** The live pointer, or undefined (never stored, or deleted). */
  pointer: StoredPointer | undefined;
  catalogueVersion: number;
}

/** The live pointer a create stored, from the rows it wrote (no read back). */
function storedOf(rows: NewPointerRows): StoredPointer {
  const row = rows.pointer;
  return toStored({
    ...row,
    updated_on: row.created_on,
    resource: rows.resource,
  } as Selectable<PointerTable>);
}

/** Reads pointers; writes go through {@link PointerRepository.transaction}. */
export class PointerRepository {
  readonly #db: Db;
  readonly #grouped: GroupedTransactions | undefined;
  /**
   * The table's search facts version (issue 15): while a background reindex runs, a search
   * first recomputes its patient's older rows.
   */
  readonly searchFacts: SearchFacts;

  /**
   * `groupCommit` (default on) lets {@link PointerRepository.write} share transactions between
   * concurrent writes; `false` gives every write its own transaction.
   */
  constructor(db: Db, options: { groupCommit?: GroupedTransactionOptions | false } = {}) {
    this.#db = db;
    const group = options.groupCommit ?? {};
    this.#grouped = group === false || db.isTransaction ? undefined : new GroupedTransactions(db, group);
    this.searchFacts = new SearchFacts(db);
  }

  /**
   * Runs writes as one transaction of their own: every change and its history commit together,
   * or none do. For a write of many parts (an ITI-65 transaction); a single write goes through
   * {@link PointerRepository.write}.
   */
  transaction<T>(work: (writer: PointerWriter) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(new PointerWriter(this.#db as Trx));
    return this.#db.transaction().execute((trx) => work(new PointerWriter(trx)));
  }

  /**
   * One producer write (a create, update or delete with its audit) by group commit: it runs
   * behind its own savepoint inside a transaction it may share with concurrent writes, and the
   * promise settles only after that transaction committed (see {@link GroupedTransactions}).
   * Everything `work` does commits together, or none of it does; a throw fails this write
   * alone. `check` runs first in the same transaction (e.g. that the catalogue version the
   * request was authorised under still holds); its throw also fails this write alone, with
   * the thrown error.
   */
  write<T>(work: (writer: PointerWriter) => Promise<T>, check?: WriteCheck): Promise<T> {
    const run = async (trx: Trx) => {
      if (check) await check(trx);
      return work(new PointerWriter(trx));
    };
    if (this.#grouped) return this.#grouped.run((trx) => work(new PointerWriter(trx)), check);
    if (this.#db.isTransaction) return run(this.#db as Trx);
    return this.#db.transaction().execute(run);
  }

  /** Resolves once no grouped write is queued or in flight (for a clean shutdown). */
  drain(): Promise<void> {
    return this.#grouped?.drain() ?? Promise.resolve();
  }

  /** The live pointer with `id`, or undefined (never stored, or deleted). */
  async read(id: string): Promise<StoredPointer | undefined> {
    return (await this.readVersioned(id)).pointer;
  }

  /**
   * The live pointer with `id` and the catalogue's version, in one statement (a pre-built
   * text: one prepared statement): the consumer read.
   */
  async readVersioned(id: string): Promise<PointerRead> {
    const result = await this.#db.executeQuery<
      Partial<Selectable<PointerTable>> & { catalogue_version: string | number }
    >(CompiledQuery.raw(READ_SQL, [id]));
    const row = result.rows[0];
    const pointer = row?.id ? toStored(row as Selectable<PointerTable>) : undefined;
    return { pointer, catalogueVersion: Number(row?.catalogue_version ?? 0) };
  }

  /** The caller's own live pointers for one patient, optionally narrowed by type and category. */
  async searchOwn(query: OwnPointerQuery): Promise<StoredPointer[]> {
    let select = this.#db
      .selectFrom('pointer')
      .selectAll()
      .where('nhs_number', '=', query.nhsNumber)
      .where('custodian', '=', query.custodian);
    if (query.types !== undefined) select = select.where('type', 'in', query.types);
    if (query.categories !== undefined) select = select.where('category', 'in', query.categories);
    const rows = await select.orderBy('created_on').orderBy('id').execute();
    return rows.map(toStored);
  }

  /** One page of a consumer search, with the exact total, filtered by the compiled grant (R3). */
  async search(search: PointerSearch, access: TypeAccess, pageSize: number): Promise<SearchPage> {
    if (!this.searchFacts.current) await this.searchFacts.ensurePatient(search.nhsNumber);
    return searchPointers(this.#db, search, access, pageSize);
  }

  /** How many pointers a consumer search matches for the caller (R3), with the catalogue's version. */
  async count(
    search: PointerSearch,
    access: TypeAccess,
  ): Promise<{ total: number; catalogueVersion: number }> {
    if (!this.searchFacts.current) await this.searchFacts.ensurePatient(search.nhsNumber);
    return countPointers(this.#db, search, access);
  }

  /** Every kept version of a pointer, newest first (R10). */
  async history(id: string): Promise<PointerVersion[]> {
    const rows = await this.#db
      .selectFrom('pointer_history')
      .selectAll()
      .where('id', '=', id)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      version: row.version,
      nhsNumber: row.nhs_number,
      custodian: row.custodian,
      action: row.action as PointerVersion['action'],
      recordedAt: isoTimestamp(row.recorded_at),
      requestId: row.request_id,
      clientId: row.client_id,
      supersededBy: row.superseded_by,
      resource: (row.resource as DocumentReference | null) ?? null,
    }));
  }

  /** True when `custodian` holds at least one live pointer for the patient (audit subject access). */
  async holdsPatient(custodian: string, nhsNumber: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('pointer')
      .select(sql<number>`1`.as('one'))
      .where('nhs_number', '=', nhsNumber)
      .where('custodian', '=', custodian)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}

/** Writes inside one transaction. */
export class PointerWriter {
  /** The transaction, for writes that must commit with the pointer (the audit record). */
  readonly executor: Trx;

  constructor(executor: Trx) {
    this.executor = executor;
  }

  /** Locks the pointer `id` for this transaction; the live pointer, or undefined when absent or deleted. */
  async lock(id: string): Promise<StoredPointer | undefined> {
    const locator = await this.executor
      .selectFrom('pointer_locator')
      .select(['nhs_number', 'deleted'])
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!locator || locator.deleted) return undefined;
    const row = await this.executor
      .selectFrom('pointer')
      .selectAll()
      .where('nhs_number', '=', locator.nhs_number)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return toStored(row);
  }

  /**
   * Stores a new pointer under `id`: 409 `DUPLICATE_REJECTED` when a live pointer has it. A
   * deleted id may be published again (an upsert from a synchronising system); its version
   * history continues.
   */
  async create(
    input: NewPointer,
    origin: WriteOrigin,
    action: 'create' | 'supersede' = 'create',
  ): Promise<StoredPointer> {
    // The common case in one round trip: claim the id and, when this is the id's first version,
    // insert the pointer and its history in the same statement (data-modifying CTEs).
    const first = newPointerRows(input, 1, origin, action);
    const { rows: claimed } = await this.executor.executeQuery<{ version: number }>(
      CompiledQuery.raw(CREATE_FIRST_VERSION, createParameters(first)),
    );
    const version = claimed[0]?.version;
    if (version === undefined) throw refuse('DUPLICATE_REJECTED');
    if (version === 1) return storedOf(first);
    // A deleted id published again (an upsert): its history continues at `version`.
    const rows = newPointerRows(input, version, origin, action);
    await this.executor.insertInto('pointer').values(rows.pointer).execute();
    await this.executor.insertInto('pointer_history').values(rows.history).execute();
    return storedOf(rows);
  }

  /** Replaces the mutable content of a locked pointer; `date` and creation time are kept. */
  async update(
    current: StoredPointer,
    next: DocumentReference,
    now: Date,
    origin: WriteOrigin,
  ): Promise<StoredPointer> {
    const version = current.version + 1;
    const resource = stampPointer(next, {
      id: current.id,
      version,
      now,
      date: current.resource.date ?? current.createdOn,
    });
    const json = JSON.stringify(resource);
    const facts = factColumns(searchFactsOf(resource));
    // The pointer, its locator and its history row in one statement (one round trip).
    const { rows } = await this.executor.executeQuery<Selectable<PointerTable>>(
      CompiledQuery.raw(UPDATE_VERSION, [
        current.nhsNumber,
        current.id,
        version,
        now,
        categoryOf(next),
        json,
        facts.search_tokens,
        facts.date_low,
        facts.date_high,
        facts.creation_low,
        facts.creation_high,
        facts.period_low,
        facts.period_high,
        SEARCH_FACTS_VERSION,
        current.custodian,
        origin.requestId,
        origin.clientId,
      ]),
    );
    const row = rows[0];
    if (!row) throw new Error(`pointer ${current.id} was locked but is not stored`);
    return toStored(row);
  }

  /** Removes a locked pointer (a delete, or the old side of a supersede); returns the deletion's version. */
  async remove(
    current: StoredPointer,
    now: Date,
    origin: WriteOrigin,
    supersededBy?: string,
  ): Promise<number> {
    const version = current.version + 1;
    // The pointer row, its locator and its history row in one statement (one round trip).
    await this.executor.executeQuery(
      CompiledQuery.raw(REMOVE_VERSION, [
        current.nhsNumber,
        current.id,
        version,
        current.custodian,
        supersededBy ? 'supersede' : 'delete',
        now,
        origin.requestId,
        origin.clientId,
        supersededBy ?? null,
      ]),
    );
    return version;
  }
}
