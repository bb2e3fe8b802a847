/**
 * The audit trail in the database (R7–R10): AuditEvents written once and never changed, in
 * month partitions of `audit_event`. Inserts take one multi-row statement, optionally inside a
 * caller's transaction (a write commits its audit atomically). Reads page with a keyset on
 * `(recorded, id)`, so a search page and an export chunk cost the same at any depth, and an
 * export of millions of events runs in constant memory on both PostgreSQL and PGlite.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { type AuditOutcome, auditFacts, printableText, uuidv7Time } from '@nir/core';
import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import { type AuditJsonMatch, auditJsonCriteria } from './audit-json-criteria.ts';
import { ROLLUP_SHARDS, rollupCtes, rollupRows } from './audit-rollup.ts';
import { addBeforeCommit } from './grouped-transactions.ts';
import type { DatabaseSchema } from './schema.ts';
import { isoTimestamp } from './schema.ts';

type Db = Kysely<DatabaseSchema>;

/**
 * An event as JSON that PostgreSQL's jsonb accepts. What a client sent can reach an event
 * (names, diagnostics): control characters and broken UTF-16 become U+FFFD rather than break
 * the insert. The usual event has none, and is serialised once without a replacer.
 */
function eventJson(event: AuditEvent): string {
  const json = JSON.stringify(event);
  // Escapes JSON.stringify writes for control characters (other than \t \n \r) and lone surrogates.
  if (!/\\u00[01][0-9a-f]|\\[bf]|\\ud[89a-f]/i.test(json)) return json;
  return JSON.stringify(event, (_key, value: unknown) =>
    typeof value === 'string' ? printableText(value) : value,
  );
}

/**
 * The events of a batch as one JSON array: a single text parameter, which `json_array_elements`
 * splits back into each event's own text (the `json` type keeps it as written). As an array of
 * texts, every event was escaped again, character by character, for PostgreSQL's array
 * syntax (pg's `escapeElement`: the largest single function of an audited search's profile).
 */
function eventsJson(events: readonly AuditEvent[]): string {
  let out = '[';
  for (let i = 0; i < events.length; i++) out += (i === 0 ? '' : ',') + eventJson(events[i] as AuditEvent);
  return `${out}]`;
}

/** Where audit events are written: the database, or a caller's transaction. */
export type AuditExecutor = Kysely<DatabaseSchema>;

/** A position in `(recorded, id)` order: the last event of a page. */
export interface AuditCursor {
  recorded: string;
  id: string;
}

/** What to find. Every criterion narrows; none means every event. */
export interface AuditQuery {
  /** Recorded at or after (ISO instant). */
  from?: string | undefined;
  /** Recorded before (ISO instant). */
  to?: string | undefined;
  /**
   * R8 visibility: only events whose requester is this organisation or which involve a pointer
   * it is custodian of.
   */
  visibleTo?: string | undefined;
  patientNhs?: string | undefined;
  requesterOds?: string | undefined;
  clientId?: string | undefined;
  /** A subtype code or an IHE transaction code. */
  subtype?: string | undefined;
  outcome?: AuditOutcome | undefined;
  /** Any of these subtype or IHE transaction codes (ITI-81 `subtype`, comma = OR). */
  subtypes?: string[] | undefined;
  /** Any of these outcomes. */
  outcomes?: AuditOutcome[] | undefined;
  /** Any of these actions (C, R, U, D, E). */
  actions?: string[] | undefined;
  /** ITI-81 criteria on what the event records: an AND of ORs (`audit-json-criteria.ts`). */
  recorded?: AuditJsonMatch[][] | undefined;
}

/** A page of events, with the cursor of the next page when there may be more. */
export interface AuditPage {
  events: AuditEvent[];
  next: AuditCursor | undefined;
}

/** An event as JSON text, for streaming without re-serialising. */
export interface AuditJsonRow {
  id: string;
  recorded: string;
  json: string;
}

/** A stored event with the facts its visibility is decided on. */
export interface StoredAuditEvent {
  event: AuditEvent;
  requesterOds: string | null;
  custodianOds: string[];
  patientNhs: string | null;
}

/** Default rows per export chunk: a few thousand keeps memory flat and round trips few. */
export const AUDIT_CHUNK_SIZE = 2000;

function monthKey(iso: string): string {
  return iso.slice(0, 7);
}

/** The first instant of the UTC month `offset` months after the month of `at`. */
export function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

function criteria(query: AuditQuery) {
  return (eb: ExpressionBuilder<DatabaseSchema, 'audit_event'>): Expression<SqlBool> => {
    const all: Expression<SqlBool>[] = [];
    if (query.from) all.push(eb('recorded', '>=', query.from));
    if (query.to) all.push(eb('recorded', '<', query.to));
    if (query.visibleTo !== undefined) {
      all.push(
        eb.or([
          eb('requester_ods', '=', query.visibleTo),
          sql<SqlBool>`custodian_ods @> ARRAY[${query.visibleTo}]::text[]`,
        ]),
      );
    }
    if (query.patientNhs !== undefined) all.push(eb('patient_nhs', '=', query.patientNhs));
    if (query.requesterOds !== undefined) all.push(eb('requester_ods', '=', query.requesterOds));
    if (query.clientId !== undefined) all.push(eb('client_id', '=', query.clientId));
    if (query.subtype !== undefined) {
      all.push(eb.or([eb('subtype', '=', query.subtype), eb('ihe_transaction', '=', query.subtype)]));
    }
    if (query.outcome !== undefined) all.push(eb('outcome', '=', query.outcome));
    if (query.subtypes !== undefined) {
      all.push(eb.or([eb('subtype', 'in', query.subtypes), eb('ihe_transaction', 'in', query.subtypes)]));
    }
    if (query.outcomes !== undefined) all.push(eb('outcome', 'in', query.outcomes));
    if (query.actions !== undefined) all.push(eb('action', 'in', query.actions));
    all.push(...auditJsonCriteria(query.recorded ?? []));
    return eb.and(all);
  };
}

function after(cursor: AuditCursor | undefined, order: 'asc' | 'desc') {
  return (eb: ExpressionBuilder<DatabaseSchema, 'audit_event'>): Expression<SqlBool> => {
    if (!cursor) return eb.and([]);
    const op = order === 'asc' ? sql.raw('>') : sql.raw('<');
    // The plain bound lets PostgreSQL prune partitions; the row comparison is the exact keyset.
    return eb.and([
      eb('recorded', order === 'asc' ? '>=' : '<=', cursor.recorded),
      sql<SqlBool>`(recorded, id) ${op} (${cursor.recorded}::timestamptz, ${cursor.id}::uuid)`,
    ]);
  };
}

/** How the audit store writes. */
export interface AuditStoreOptions {
  /**
   * Maintain the service-review rollup (R17) in the statement that inserts the events. Default
   * true; off only to measure what the rollup costs (`NIR_AUDIT_ROLLUP`, benchmarks).
   */
  rollup?: boolean;
}

/** Reads and writes AuditEvents. */
export class AuditStore {
  readonly #db: Db;
  readonly #rollup: boolean;
  /** Months (`YYYY-MM`) whose partition is known to exist. */
  readonly #months = new Set<string>();

  constructor(db: Db, options: AuditStoreOptions = {}) {
    this.#db = db;
    this.#rollup = options.rollup ?? true;
  }

  /** Runs `work` in one transaction (e.g. a retention drop with its own audit event). */
  transaction<T>(work: (trx: AuditExecutor) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(work);
  }

  /** Creates the partitions of the month of `at` and `monthsAhead` months after it. Returns their names. */
  async ensurePartitions(at: Date = new Date(), monthsAhead = 3): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i <= monthsAhead; i++) {
      const start = monthStart(at, i).toISOString();
      names.push(await this.#ensure(this.#db, start));
      this.#months.add(monthKey(start));
    }
    return names;
  }

  async #ensure(executor: Db, at: string): Promise<string> {
    const { rows } = await sql<{
      name: string;
    }>`SELECT audit_ensure_partition(${at}::timestamptz) AS name`.execute(executor);
    return rows[0]?.name ?? '';
  }

  /**
   * Inserts `events` in one statement. With `executor` (a transaction) the events commit or
   * roll back with the caller's write. A month without a known partition gets one first (inside
   * the same executor, so a transaction never waits on another connection).
   */
  async insert(events: readonly AuditEvent[], executor: Db = this.#db): Promise<void> {
    if (events.length === 0) return;
    // In a group-committed write (grouped-transactions.ts) the events of the whole batch go in
    // one statement just before its commit; they commit exactly with the write.
    if (
      executor.isTransaction &&
      addBeforeCommit(executor as Transaction<DatabaseSchema>, this.#insertBatch, events)
    )
      return;
    await this.#insertNow(events, executor);
  }

  /** The sink of a group-committed batch's events (one function per store: one statement). */
  readonly #insertBatch = (events: AuditEvent[], trx: Db): Promise<void> => this.#insertNow(events, trx);

  async #insertNow(events: readonly AuditEvent[], executor: Db): Promise<void> {
    const facts = events.map(auditFacts);
    for (const month of new Set(facts.map((f) => monthKey(f.recorded)))) {
      if (this.#months.has(month)) continue;
      await this.#ensure(executor, `${month}-01T00:00:00Z`);
      // Inside a transaction the partition exists only if it commits: do not remember it.
      if (!executor.isTransaction) this.#months.add(month);
    }
    // One statement whatever the batch size (one prepared plan): a column per array.
    const column = <T>(pick: (f: (typeof facts)[number], i: number) => T) => facts.map(pick);
    // The rollup rows ride in the same statement (data-modifying CTEs): they commit with the events.
    // A transaction keeps its rollup rows locked until it commits: writers spread over shards 1-15.
    const shard = executor.isTransaction ? 1 + Math.floor(Math.random() * ROLLUP_SHARDS) : 0;
    const ctes = this.#rollup ? rollupCtes(rollupRows(events, facts), shard) : [];
    await sql`
      ${ctes.length > 0 ? sql`WITH ${sql.join(ctes, sql`, `)}` : sql``}
      INSERT INTO audit_event (id, recorded, request_id, subtype, ihe_transaction, action, outcome, client_id,
                               requester_ods, custodian_ods, patient_nhs, shard_key, resource)
      SELECT e.id, e.recorded, e.request_id, e.subtype, e.ihe_transaction, e.action, e.outcome, e.client_id,
             e.requester_ods, ARRAY(SELECT json_array_elements_text(e.custodians::json)), e.patient_nhs,
             ${facts[0]?.id ?? null}::text, j.resource
      FROM unnest(${column((f) => f.id)}::uuid[], ${column((f) => f.recorded)}::timestamptz[],
                  ${column((f) => (f.requestId === null ? null : printableText(f.requestId)))}::text[],
                  ${column((f) => f.subtype)}::text[], ${column((f) => f.iheTransaction)}::text[],
                  ${column((f) => f.action)}::text[], ${column((f) => f.outcome)}::text[],
                  ${column((f) => f.clientId)}::text[], ${column((f) => f.requesterOds)}::text[],
                  ${column((f) => JSON.stringify(f.custodianOds))}::text[], ${column((f) => f.patientNhs)}::text[])
        WITH ORDINALITY AS e(id, recorded, request_id, subtype, ihe_transaction, action, outcome, client_id,
             requester_ods, custodians, patient_nhs, n)
      JOIN json_array_elements(${eventsJson(events)}::json) WITH ORDINALITY AS j(resource, n) USING (n)`.execute(
      executor,
    );
  }

  /** One page of matching events in `(recorded, id)` order (newest first by default). */
  async search(
    query: AuditQuery,
    page: { limit: number; after?: AuditCursor | undefined; order?: 'asc' | 'desc' },
  ): Promise<AuditPage> {
    const order = page.order ?? 'desc';
    const rows = await this.#db
      .selectFrom('audit_event')
      .select(['id', 'recorded', 'resource'])
      .where(criteria(query))
      .where(after(page.after, order))
      .orderBy('recorded', order)
      .orderBy('id', order)
      .limit(page.limit + 1)
      .execute();
    const more = rows.length > page.limit;
    const kept = more ? rows.slice(0, page.limit) : rows;
    const last = kept.at(-1);
    return {
      events: kept.map((r) => r.resource as AuditEvent),
      next: more && last ? { recorded: isoTimestamp(last.recorded), id: last.id } : undefined,
    };
  }

  /** Reads one event by id (its UUIDv7 time names the partition), with its visibility facts. */
  async read(id: string): Promise<StoredAuditEvent | undefined> {
    const ms = uuidv7Time(id);
    if (ms === undefined) return undefined;
    const row = await this.#db
      .selectFrom('audit_event')
      .select(['resource', 'requester_ods', 'custodian_ods', 'patient_nhs'])
      .where('recorded', '=', new Date(ms).toISOString())
      .where('id', '=', id)
      .executeTakeFirst();
    return (
      row && {
        event: row.resource as AuditEvent,
        requesterOds: row.requester_ods,
        custodianOds: row.custodian_ods,
        patientNhs: row.patient_nhs,
      }
    );
  }

  /** True when the event `id` recorded at `recorded` is stored (committed). */
  async exists(id: string, recorded: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('audit_event')
      .select('id')
      .where('recorded', '=', recorded)
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** How many events match (for progress reporting). */
  async count(query: AuditQuery): Promise<number> {
    const row = await this.#db
      .selectFrom('audit_event')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where(criteria(query))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Every matching event, oldest first, as JSON text in chunks of `chunkSize`: each chunk is a
   * separate keyset query, so memory stays flat however many events match and no connection or
   * cursor is held between chunks (works the same on PGlite, which has no server cursors).
   */
  async *chunks(query: AuditQuery, chunkSize: number = AUDIT_CHUNK_SIZE): AsyncGenerator<AuditJsonRow[]> {
    let cursor: AuditCursor | undefined;
    for (;;) {
      const rows = await this.#db
        .selectFrom('audit_event')
        .select(['id', 'recorded', sql<string>`resource::text`.as('json')])
        .where(criteria(query))
        .where(after(cursor, 'asc'))
        .orderBy('recorded', 'asc')
        .orderBy('id', 'asc')
        .limit(chunkSize)
        .execute();
      if (rows.length === 0) return;
      const chunk = rows.map((r) => ({ id: r.id, recorded: isoTimestamp(r.recorded), json: r.json }));
      yield chunk;
      const last = chunk.at(-1);
      if (rows.length < chunkSize || !last) return;
      cursor = { recorded: last.recorded, id: last.id };
    }
  }

  /** The names of the existing month partitions, oldest first. */
  async partitions(): Promise<string[]> {
    const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_event'::regclass ORDER BY c.relname`.execute(this.#db);
    return rows.map((r) => r.name);
  }

  /**
   * Retention: drops every month partition that ends at or before `cutoff` (whole partitions,
   * never rows: the events stay immutable), inside `executor` when given. Returns their names.
   */
  async dropPartitionsBefore(cutoff: Date, executor: Db = this.#db): Promise<string[]> {
    const { rows } = await sql<{ name: string }>`
      SELECT audit_drop_partitions_before(${cutoff.toISOString()}::timestamptz) AS name`.execute(executor);
    const dropped = rows.map((r) => r.name);
    for (const name of dropped) {
      const match = /^audit_event_p(\d{4})(\d{2})$/.exec(name);
      if (match) this.#months.delete(`${match[1]}-${match[2]}`);
    }
    return dropped;
  }
}
