/**
 * The bench loader: `node scripts/bench/load.ts --pointers 1000000 [--seed 1] [--fresh]`
 * (DATABASE_URL names the scratch database). Generates the population of `generate.ts`,
 * validates every pointer through the API's create path in worker threads (`load-worker.ts`)
 * and streams the rows with `COPY … FROM STDIN` (pg-copy-streams), each chunk of patients in one
 * transaction: its pointers, locators and history commit together or not at all. The tables'
 * indexes (the migrations' own definitions) are dropped before the COPY and built once after
 * it, inside the measured time; then VACUUM (ANALYZE) as after any bulk load. A loaded
 * dataset is remembered in `bench_dataset`, so running again with the same size and seed
 * reuses it.
 *
 * `--aged` loads the same pointers as years of publication through the API would leave them
 * (issue 15): in time order across patients, `created_on` increasing with insertion order, so
 * one patient's pointers are interleaved with everyone else's and sit on as many heap pages as
 * they have pointers. The chunks are COPYed into unlogged staging tables and then inserted into
 * `pointer` and `pointer_history` ordered by time (`INSERT … SELECT … ORDER BY created_on, id`).
 */
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CatalogueRepository, type DatabaseSchema, openStore, recordFactsVersion } from '@nir/store';
import { SingleBar } from 'cli-progress';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ensureBenchCatalogue } from './bench-catalogue.ts';
import { benchPatient } from './generate.ts';
import {
  HISTORY_COLUMNS,
  LOCATOR_COLUMNS,
  type LoadChunk,
  type LoadTask,
  type LoadWorkerData,
  PATIENT_COLUMNS,
  POINTER_COLUMNS,
} from './load-protocol.ts';

/** What to load. */
export interface LoadOptions {
  databaseUrl: string;
  pointers: number;
  seed: number;
  /** Empty the pointer tables first even when another dataset is loaded. */
  fresh?: boolean;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Show a progress bar on stderr. */
  progress?: boolean;
  /** Insert in time order across patients (as the API would have), not patient by patient. */
  aged?: boolean;
}

/** A loaded dataset. */
export interface LoadedDataset {
  seed: number;
  target: number;
  patients: number;
  pointers: number;
  /** Pointers per second of the load that made it (S4), or of this run if it loaded. */
  pointersPerSecond: number;
  seconds: number;
  /** Loaded in time order across patients (`--aged`), not patient by patient. */
  aged: boolean;
  /** Of `seconds`, the index builds after the COPY (absent when reused). */
  indexSeconds?: number;
  /** The VACUUM (ANALYZE) after a load, not counted in `seconds` (absent when reused). */
  vacuumSeconds?: number;
  reused: boolean;
}

const PATIENTS_PER_TASK = 500;
const PROFILES_DIR = fileURLToPath(new URL('../../fhir-profiles', import.meta.url));

/** Patients needed for `target` pointers (the first `n` patients of the seed). */
export function patientsFor(seed: number, target: number): number {
  let pointers = 0;
  let index = 0;
  while (pointers < target) pointers += benchPatient(seed, index++).pointers;
  return index;
}

/** The staging tables of an aged load: the chunks land here, then go to the real tables in time order. */
const STAGED = { pointer: 'bench_stage_pointer', pointer_history: 'bench_stage_history' } as const;

async function copyChunk(pool: pg.Pool, chunk: LoadChunk, aged: boolean): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // A bulk load is restarted from empty if interrupted: its commits need not wait for the disk.
    await client.query('SET LOCAL synchronous_commit = off');
    const copy = async (table: string, columns: readonly string[], text: string) => {
      await pipeline(
        Readable.from([text]),
        client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)),
      );
    };
    await copy(aged ? STAGED.pointer : 'pointer', POINTER_COLUMNS, chunk.pointer);
    await copy('pointer_locator', LOCATOR_COLUMNS, chunk.locator);
    await copy(aged ? STAGED.pointer_history : 'pointer_history', HISTORY_COLUMNS, chunk.history);
    await copy('bench_patient', PATIENT_COLUMNS, chunk.patients);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The tables the loader COPYs into that have indexes of their own. */
const INDEXED_TABLES = ['pointer', 'pointer_locator', 'pointer_history'] as const;

/** An index of the pointer tables as the migrations made it, to build again after a load. */
interface IndexDefinition {
  table: string;
  name: string;
  /** `ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY …` for a constraint's index, else `CREATE INDEX …`. */
  create: string;
  drop: string;
}

/**
 * Every index of the pointer tables, read from the catalog (so exactly what the migrations
 * made: the same columns, order and partitioning; a partitioned table's index is created on
 * every partition again, as the migration did).
 */
async function pointerIndexes(db: Kysely<DatabaseSchema>): Promise<IndexDefinition[]> {
  const { rows } = await sql<{
    table: string;
    name: string;
    definition: string;
    constraint: string | null;
    constraint_definition: string | null;
  }>`
    SELECT t.relname AS table, i.relname AS name, pg_get_indexdef(i.oid) AS definition,
           c.conname AS constraint, pg_get_constraintdef(c.oid) AS constraint_definition
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
      LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
     WHERE t.relname IN (${sql.join(INDEXED_TABLES)})
     ORDER BY t.relname, i.relname`.execute(db);
  return rows.map((row) =>
    row.constraint && row.constraint_definition
      ? {
          table: row.table,
          name: row.name,
          create: `ALTER TABLE ${row.table} ADD CONSTRAINT ${row.constraint} ${row.constraint_definition}`,
          drop: `ALTER TABLE ${row.table} DROP CONSTRAINT ${row.constraint}`,
        }
      : {
          table: row.table,
          name: row.name,
          // A partitioned table's index reads `ON ONLY`: built here on every partition.
          create: row.definition.replace(/ ON ONLY /, ' ON '),
          drop: `DROP INDEX ${row.name}`,
        },
  );
}

/**
 * Builds `indexes` on two connections at once (one core each; the pointer table's on one, the
 * locator's and history's on the other), with room to sort in memory.
 */
async function buildIndexes(pool: pg.Pool, indexes: readonly IndexDefinition[]): Promise<void> {
  const lanes = [
    indexes.filter((index) => index.table === 'pointer'),
    indexes.filter((index) => index.table !== 'pointer'),
  ];
  await Promise.all(
    lanes.map(async (lane) => {
      const client = await pool.connect();
      try {
        await client.query(`SET maintenance_work_mem = '256MB'`);
        for (const index of lane) await client.query(index.create);
      } finally {
        client.release();
      }
    }),
  );
}

/** Loads (or reuses) the dataset of `options`; returns what is in the database. */
export async function loadDataset(options: LoadOptions): Promise<LoadedDataset> {
  const store = await openStore({ databaseUrl: options.databaseUrl, poolSize: 2 });
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  try {
    await sql`CREATE TABLE IF NOT EXISTS bench_patient (i integer PRIMARY KEY, nhs_number text NOT NULL, pointers integer NOT NULL)`.execute(
      store.db,
    );
    await sql`CREATE TABLE IF NOT EXISTS bench_dataset (seed integer NOT NULL, target bigint NOT NULL, patients integer NOT NULL,
      pointers bigint NOT NULL, seconds double precision NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())`.execute(
      store.db,
    );
    await sql`ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS aged boolean NOT NULL DEFAULT false`.execute(
      store.db,
    );
    const aged = options.aged ?? false;
    const grants = await ensureBenchCatalogue(new CatalogueRepository(store.db));
    const existing = await sql<{
      seed: number;
      target: string;
      patients: number;
      pointers: string;
      seconds: number;
      aged: boolean;
    }>`
      SELECT seed, target, patients, pointers, seconds, aged FROM bench_dataset`.execute(store.db);
    const loaded = existing.rows[0];
    if (
      loaded &&
      !options.fresh &&
      loaded.seed === options.seed &&
      Number(loaded.target) === options.pointers &&
      loaded.aged === aged
    ) {
      // The ids ever published: the loaded ones and what earlier runs' scenarios added.
      const live = await sql<{ n: string }>`SELECT count(*) AS n FROM pointer_locator`.execute(store.db);
      const liveCount = Number(live.rows[0]?.n ?? 0);
      return {
        seed: loaded.seed,
        target: Number(loaded.target),
        patients: loaded.patients,
        pointers: liveCount,
        seconds: loaded.seconds,
        pointersPerSecond: Number(loaded.pointers) / loaded.seconds,
        aged,
        reused: true,
      };
    }
    // Another dataset (or leftovers of an interrupted load): start from empty pointer tables.
    await sql`TRUNCATE pointer, pointer_locator, pointer_history, bench_patient, bench_dataset`.execute(
      store.db,
    );
    if (aged) {
      for (const [target, staging] of Object.entries(STAGED)) {
        await sql`DROP TABLE IF EXISTS ${sql.table(staging)}`.execute(store.db);
        await sql`CREATE UNLOGGED TABLE ${sql.table(staging)} (LIKE ${sql.table(target)})`.execute(store.db);
      }
    }

    const patients = patientsFor(options.seed, options.pointers);
    const workerCount = options.workers ?? availableParallelism();
    const data: LoadWorkerData = {
      seed: options.seed,
      profilesDir: PROFILES_DIR,
      grants,
      now: new Date().toISOString(),
    };
    // A bulk load builds the indexes once at the end (a sort per index) instead of inserting
    // into each of them row by row; the definitions are the migrations' own, read back from the
    // catalog, and the build counts in the load's time. Uniqueness is checked when the primary
    // keys are built. A failed load leaves empty tables with every index back.
    const indexes = await pointerIndexes(store.db);
    for (const index of indexes) await sql.raw(index.drop).execute(store.db);
    let indexed = false;
    const restoreIndexes = async () => {
      if (indexed) return;
      indexed = true;
      await buildIndexes(pool, indexes);
    };
    const bar = options.progress
      ? new SingleBar({
          format: 'loading {bar} {percentage}% | {value}/{total} pointers | {rate}/s | eta {eta}s',
          stream: process.stderr,
        })
      : undefined;
    let copied = 0;
    const started = performance.now();
    bar?.start(options.pointers, 0, { rate: 0 });
    let next = 0;
    const copies = new Set<Promise<void>>();
    let failure: unknown;
    const workers = Array.from(
      { length: workerCount },
      () => new Worker(new URL('./load-worker.ts', import.meta.url), { workerData: data }),
    );
    const loading = Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const give = () => {
              if (failure || next >= patients) {
                resolve();
                return;
              }
              const task: LoadTask = { from: next, to: Math.min(patients, next + PATIENTS_PER_TASK) };
              next = task.to;
              worker.postMessage(task);
            };
            worker.on('error', reject);
            worker.on(
              'message',
              async (message: { ready?: boolean; ok?: boolean; chunk?: LoadChunk; error?: string }) => {
                if (message.ready) return give();
                if (!message.ok || !message.chunk) {
                  failure = new Error(`a generated pointer failed validation: ${message.error}`);
                  return reject(failure);
                }
                const chunk = message.chunk;
                // Back-pressure: at most two chunks in flight to PostgreSQL.
                while (copies.size >= 2) await Promise.race(copies);
                const copy = copyChunk(pool, chunk, aged).then(() => {
                  copied += chunk.pointers;
                  bar?.update(copied, { rate: Math.round(copied / ((performance.now() - started) / 1000)) });
                });
                copies.add(copy);
                copy.then(
                  () => copies.delete(copy),
                  (error: unknown) => {
                    failure = error;
                    reject(error);
                  },
                );
                give();
              },
            );
          }),
      ),
    ).finally(() => Promise.all(workers.map((worker) => worker.terminate())));
    try {
      await loading;
      await Promise.all(copies);
      if (aged) {
        // What years of API writes leave: each row lands after every row published before it.
        await sql`INSERT INTO pointer SELECT * FROM ${sql.table(STAGED.pointer)} ORDER BY created_on, id`.execute(
          store.db,
        );
        await sql`INSERT INTO pointer_history SELECT * FROM ${sql.table(STAGED.pointer_history)} ORDER BY recorded_at, id`.execute(
          store.db,
        );
      }
    } catch (error) {
      await Promise.allSettled(copies);
      await sql`TRUNCATE pointer, pointer_locator, pointer_history, bench_patient`.execute(store.db);
      await restoreIndexes();
      throw error;
    } finally {
      if (aged) {
        for (const staging of Object.values(STAGED)) {
          await sql`DROP TABLE IF EXISTS ${sql.table(staging)}`.execute(store.db);
        }
      }
    }
    bar?.stop();
    const copiedSeconds = (performance.now() - started) / 1000;
    await restoreIndexes();
    const seconds = (performance.now() - started) / 1000;
    // As after any bulk load: set hint bits and the visibility map now, not during the first
    // searches (this PostgreSQL may run without autovacuum), and give the planner statistics.
    const vacuumStarted = performance.now();
    await sql`VACUUM (ANALYZE) pointer, pointer_locator, pointer_history, bench_patient`.execute(store.db);
    const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
    // Every row was written at the current search facts version (newPointerRows): say so, so the
    // registry's start skips the reindex (issue 15).
    await recordFactsVersion(store.db);
    await sql`INSERT INTO bench_dataset (seed, target, patients, pointers, seconds, aged)
      VALUES (${options.seed}, ${options.pointers}, ${patients}, ${copied}, ${seconds}, ${aged})`.execute(
      store.db,
    );
    return {
      seed: options.seed,
      target: options.pointers,
      patients,
      pointers: copied,
      seconds,
      indexSeconds: seconds - copiedSeconds,
      pointersPerSecond: copied / seconds,
      aged,
      vacuumSeconds,
      reused: false,
    };
  } finally {
    await pool.end();
    await store.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      pointers: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      fresh: { type: 'boolean', default: false },
      aged: { type: 'boolean', default: false },
      workers: { type: 'string' },
    },
  });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL must name the scratch database to load');
  const result = await loadDataset({
    databaseUrl,
    pointers: Number(values.pointers),
    seed: Number(values.seed),
    fresh: values.fresh,
    aged: values.aged,
    ...(values.workers ? { workers: Number(values.workers) } : {}),
    progress: true,
  });
  console.log(
    `${result.reused ? 'reused' : 'loaded'} ${result.pointers} pointers${result.aged ? ' (aged)' : ''} for ${result.patients} patients ` +
      `in ${result.seconds.toFixed(1)} s (${Math.round(result.pointersPerSecond)} pointers/s` +
      (result.indexSeconds === undefined
        ? ''
        : `, of which index builds ${result.indexSeconds.toFixed(1)} s`) +
      ')' +
      (result.vacuumSeconds === undefined
        ? ''
        : `, then VACUUM (ANALYZE) in ${result.vacuumSeconds.toFixed(1)} s`),
  );
}
