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
  CLAIM_ID,
  claimParameters,
  DELETE_POINTER,
  historyParameters,
  INSERT_HISTORY,
  INSERT_POINTER,
  LOCATE_VERSION,
  pointerParameters,
  UPDATE_POINTER,
} from './pointer-write-sql.ts';
import { type DatabaseSchema, isoTimestamp, type PointerTable } from './schema.ts';
import { SearchFacts } from './search-facts.ts';
import { LOCATE_SQL, READ_SQL } from './search-sql.ts';

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
   * The live pointer with `id` and the catalogue's version (pre-built texts: prepared
   * statements): the consumer read. The locator names the patient, with the catalogue's
   * version beside it; then one primary-key lookup of the pointer. Two statements, each on one
   * shard on Citus (issue 19), where a join of the two would be a fan-out; a pointer deleted
   * between them reads as absent, as if the read came just after the delete.
   */
  async readVersioned(id: string): Promise<PointerRead> {
    const located = await this.#db.executeQuery<{
      catalogue_version: string | number;
      nhs_number: string | null;
    }>(CompiledQuery.raw(LOCATE_SQL, [id]));
    const row = located.rows[0];
    const catalogueVersion = Number(row?.catalogue_version ?? 0);
    if (!row?.nhs_number) return { pointer: undefined, catalogueVersion };
    const read = await this.#db.executeQuery<Selectable<PointerTable>>(
      CompiledQuery.raw(READ_SQL, [row.nhs_number, id]),
    );
    const stored = read.rows[0];
    return { pointer: stored && toStored(stored), catalogueVersion };
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
    // Claim the id; then the pointer and its history at the version claimed (1, or the next
    // version of a deleted id published again: an upsert whose history continues).
    const first = newPointerRows(input, 1, origin, action);
    const { rows: claimed } = await this.executor.executeQuery<{ version: number }>(
      CompiledQuery.raw(CLAIM_ID, claimParameters(first)),
    );
    const version = claimed[0]?.version;
    if (version === undefined) throw refuse('DUPLICATE_REJECTED');
    const rows = version === 1 ? first : newPointerRows(input, version, origin, action);
    await this.executor.executeQuery(CompiledQuery.raw(INSERT_POINTER, pointerParameters(rows)));
    await this.executor.executeQuery(CompiledQuery.raw(INSERT_HISTORY, historyParameters(rows)));
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
    // The pointer, its locator and its history row: one statement each, in this transaction.
    const { rows } = await this.executor.executeQuery<Selectable<PointerTable>>(
      CompiledQuery.raw(UPDATE_POINTER, [
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
      ]),
    );
    const row = rows[0];
    if (!row) throw new Error(`pointer ${current.id} was locked but is not stored`);
    await this.executor.executeQuery(CompiledQuery.raw(LOCATE_VERSION, [current.id, version, false]));
    await this.executor.executeQuery(
      CompiledQuery.raw(INSERT_HISTORY, [
        current.nhsNumber,
        current.id,
        version,
        current.custodian,
        'update',
        now,
        origin.requestId,
        origin.clientId,
        null,
        json,
      ]),
    );
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
    // The pointer row goes, its locator is marked deleted at the new version, and the history
    // keeps a row with no resource: one statement each, in this transaction.
    await this.executor.executeQuery(CompiledQuery.raw(DELETE_POINTER, [current.nhsNumber, current.id]));
    await this.executor.executeQuery(CompiledQuery.raw(LOCATE_VERSION, [current.id, version, true]));
    await this.executor.executeQuery(
      CompiledQuery.raw(INSERT_HISTORY, [
        current.nhsNumber,
        current.id,
        version,
        current.custodian,
        supersededBy ? 'supersede' : 'delete',
        now,
        origin.requestId,
        origin.clientId,
        supersededBy ?? null,
        null,
      ]),
    );
    return version;
  }
}
