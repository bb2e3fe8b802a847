/**
 * Keeping the search columns (migration 0005) at the current `searchFactsOf` (issue 15 item 8).
 *
 * `search_facts_state` (migration 0012) records the facts version every pointer row is known to
 * be at. A start compares it with `SEARCH_FACTS_VERSION`: equal, nothing is scanned. Lower, the
 * registry serves at once while {@link SearchFacts.reindex} walks the table in primary-key
 * batches in the background, recomputing older rows, then records the new version. Meanwhile a
 * search stays correct: before it runs, {@link SearchFacts.ensurePatient} recomputes the
 * searched patient's older rows (every search names one patient; its rows sit on one partition
 * under the primary key), so no search reads stale facts. Once the version is recorded the check
 * is a field read.
 *
 * Every update is guarded by the row's `version` and its older `facts_version`: a row written
 * meanwhile (always at the current version) is left to its writer, and two processes doing the
 * same row agree. Rows written by an instance of an older release after a newer one recorded its
 * version keep their older facts until the next version change: a release that raises
 * `SEARCH_FACTS_VERSION` says so, and its deploy replaces the old instances before it starts
 * (docs/SCALING.md).
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { SEARCH_FACTS_VERSION, searchFactsOf } from '@nir/core';
import { type Kysely, sql } from 'kysely';
import { factColumns } from './pointer-search.ts';
import type { DatabaseSchema } from './schema.ts';

type Db = Kysely<DatabaseSchema>;

/** A pointer row whose facts are older than {@link SEARCH_FACTS_VERSION}. */
interface OlderRow {
  nhs_number: string;
  id: string;
  version: number;
  resource: unknown;
}

/** The facts version recorded for the whole table (0 when never recorded). */
export async function recordedFactsVersion(db: Db): Promise<number> {
  const row = await db.selectFrom('search_facts_state').select('version').executeTakeFirst();
  return row?.version ?? 0;
}

/** Records that every pointer row is at `version` (the loader after a bulk load; the reindex job). */
export async function recordFactsVersion(db: Db, version: number = SEARCH_FACTS_VERSION): Promise<void> {
  await sql`
    INSERT INTO search_facts_state (only_row, version, recorded_at) VALUES (true, ${version}, now())
    ON CONFLICT (only_row) DO UPDATE SET version = excluded.version, recorded_at = excluded.recorded_at`.execute(
    db,
  );
}

/** Recomputes `rows` in one statement; returns how many were updated. */
async function recompute(db: Db, rows: readonly OlderRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const facts = rows.map((row) => ({
    nhs_number: row.nhs_number,
    id: row.id,
    version: row.version,
    ...factColumns(searchFactsOf(row.resource as DocumentReference)),
  }));
  const result = await sql`
    UPDATE pointer AS p SET
      search_tokens = f.search_tokens, date_low = f.date_low, date_high = f.date_high,
      creation_low = f.creation_low, creation_high = f.creation_high,
      period_low = f.period_low, period_high = f.period_high, facts_version = ${SEARCH_FACTS_VERSION}
    FROM jsonb_to_recordset(${JSON.stringify(facts)}::jsonb) AS f(
      nhs_number text, id text, version integer, search_tokens text[],
      date_low timestamptz, date_high timestamptz, creation_low timestamptz[], creation_high timestamptz[],
      period_low timestamptz, period_high timestamptz)
    WHERE p.nhs_number = f.nhs_number AND p.id = f.id AND p.version = f.version
      AND p.facts_version < ${SEARCH_FACTS_VERSION}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** What one batch of the background reindex did. */
export interface ReindexProgress {
  /** Rows looked at so far. */
  scanned: number;
  /** Rows recomputed so far. */
  updated: number;
}

/** Options of {@link SearchFacts.reindex}. */
export interface ReindexOptions {
  /** Rows per batch (one SELECT and at most one UPDATE). */
  batchSize?: number;
  /** Stops between batches (shutdown); the version is then not recorded. */
  signal?: AbortSignal;
  /** Told after every batch. */
  onBatch?: (progress: ReindexProgress) => void;
}

/** The table-level search facts version of one store, and the work to bring rows up to it. */
export class SearchFacts {
  readonly #db: Db;
  readonly #recheckMs: number;
  #current = false;
  #checked: { at: number; current: Promise<boolean> } | undefined;

  /** `recheckMs`: while not current, how long a read of the recorded version is trusted. */
  constructor(db: Db, options: { recheckMs?: number } = {}) {
    this.#db = db;
    this.#recheckMs = options.recheckMs ?? 10_000;
  }

  /** True once every row is known to be at {@link SEARCH_FACTS_VERSION} (no read: the hot path). */
  get current(): boolean {
    return this.#current;
  }

  /**
   * Whether every row is known to be at {@link SEARCH_FACTS_VERSION} (the recorded version
   * equals it). Once true it stays true; while false it is read again after `recheckMs`, so
   * another process's finished reindex is noticed.
   */
  isCurrent(): Promise<boolean> {
    if (this.#current) return Promise.resolve(true);
    const now = Date.now();
    if (!this.#checked || now - this.#checked.at >= this.#recheckMs) {
      const current = recordedFactsVersion(this.#db).then(
        (version) => {
          this.#current = version >= SEARCH_FACTS_VERSION;
          return this.#current;
        },
        (error: unknown) => {
          this.#checked = undefined;
          throw error;
        },
      );
      this.#checked = { at: now, current };
    }
    return this.#checked.current;
  }

  /**
   * Before a search of `nhsNumber`: while the table is not current, recomputes that patient's
   * older rows (one indexed read of the patient, one update). Returns how many it recomputed.
   */
  async ensurePatient(nhsNumber: string): Promise<number> {
    if (this.#current || (await this.isCurrent())) return 0;
    const rows = await this.#db
      .selectFrom('pointer')
      .select(['nhs_number', 'id', 'version', 'resource'])
      .where('nhs_number', '=', nhsNumber)
      .where('facts_version', '<', SEARCH_FACTS_VERSION)
      .execute();
    return recompute(this.#db, rows);
  }

  /**
   * The background job: walks the whole table by primary key in batches, recomputes the rows
   * of an older facts version, then records {@link SEARCH_FACTS_VERSION}. Returns the rows it
   * recomputed. Safe to run in several processes at once (guarded updates), and to stop
   * (`signal`) and run again.
   */
  async reindex(options: ReindexOptions = {}): Promise<ReindexProgress> {
    const batchSize = options.batchSize ?? 1000;
    const progress: ReindexProgress = { scanned: 0, updated: 0 };
    let after: { nhs_number: string; id: string } | undefined;
    for (;;) {
      if (options.signal?.aborted) return progress;
      let query = this.#db
        .selectFrom('pointer')
        .select([
          'nhs_number',
          'id',
          'version',
          'facts_version',
          // Only the older rows' JSON crosses the wire.
          sql<unknown>`CASE WHEN facts_version < ${SEARCH_FACTS_VERSION} THEN resource END`.as('resource'),
        ])
        .orderBy('nhs_number')
        .orderBy('id')
        .limit(batchSize);
      if (after) {
        const { nhs_number, id } = after;
        query = query.where(sql<boolean>`(nhs_number, id) > (${nhs_number}, ${id})`);
      }
      const rows = await query.execute();
      if (rows.length === 0) break;
      progress.scanned += rows.length;
      progress.updated += await recompute(
        this.#db,
        rows.filter((row) => row.facts_version < SEARCH_FACTS_VERSION),
      );
      const last = rows[rows.length - 1] as (typeof rows)[number];
      after = { nhs_number: last.nhs_number, id: last.id };
      options.onBatch?.({ ...progress });
    }
    await recordFactsVersion(this.#db);
    this.#current = true;
    return progress;
  }
}
