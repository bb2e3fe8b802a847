/**
 * S0, the physical limit: `pgbench` running the registry's own consumer search statement (the
 * one `pageSql` builds for an NRL search with the bench consumer's grant) for random bench
 * patients, and `pgbench -S` (primary-key selects) for reference. Every HTTP figure of the
 * bench is given as a percentage of the first.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { compileTypeAccess, type Grant, readConsumerSearch, type Terminology } from '@nir/core';
import { pageSql } from '@nir/store';
import pg from 'pg';

const run = promisify(execFile);

/** A literal for a compiled parameter. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(',')}]::text[]`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * The registry's search statement for one patient as a pgbench script: the NHS number comes
 * from `bench_patient` row `:i`, drawn at random; everything else is the statement as compiled.
 */
export function searchScript(
  grant: Grant,
  terminology: Terminology,
  patients: number,
  pageSize: number,
): string {
  const marker = '9434765919';
  const access = compileTypeAccess(grant);
  const { search } = readConsumerSearch(
    { 'subject:identifier': `https://fhir.nhs.uk/Id/nhs-number|${marker}` },
    { access, terminology, maxCount: 100, now: Date.now(), source: 'query', lenient: false },
  );
  const compiled = pageSql(search, access, pageSize);
  const text = compiled.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = compiled.parameters[Number(n) - 1];
    return value === marker ? '(SELECT nhs_number FROM bench_patient WHERE i = :i)' : literal(value);
  });
  return `\\set i random(0, ${patients - 1})\n${text.replace(/\s+/g, ' ')};\n`;
}

/** A pgbench result. */
export interface PgbenchResult {
  tps: number;
  latencyMs: number;
  failed: number;
}

function parse(output: string): PgbenchResult {
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  const failed = /number of failed transactions: (\d+)/.exec(output);
  if (!tps || !latency) throw new Error(`pgbench printed no result:\n${output}`);
  return { tps: Number(tps[1]), latencyMs: Number(latency[1]), failed: Number(failed?.[1] ?? 0) };
}

/** Runs pgbench for `seconds` at `clients` connections (prepared statements, two threads). */
async function pgbench(
  databaseUrl: string,
  seconds: number,
  clients: number,
  what: string[],
): Promise<PgbenchResult> {
  const args = [
    '-n',
    '-M',
    'prepared',
    '-T',
    String(seconds),
    '-c',
    String(clients),
    '-j',
    '2',
    ...what,
    databaseUrl,
  ];
  const { stdout, stderr } = await run('pgbench', args, { maxBuffer: 16 * 1024 * 1024 });
  return parse(stdout + stderr);
}

/** Runs `script` with pgbench for `seconds` at `clients` connections. */
export async function pgbenchScript(
  databaseUrl: string,
  script: string,
  seconds: number,
  clients: number,
): Promise<PgbenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nir-bench-'));
  const file = path.join(dir, 'search.sql');
  await writeFile(file, script);
  try {
    return await pgbench(databaseUrl, seconds, clients, ['-f', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `pgbench -S` (select-only, on pgbench's own tables, initialised once at `scale`). */
export async function pgbenchSelectOnly(
  databaseUrl: string,
  seconds: number,
  clients: number,
  scale: number,
): Promise<PgbenchResult> {
  const probe = await run('psql', [
    databaseUrl,
    '-Atc',
    "SELECT to_regclass('pgbench_accounts') IS NOT NULL",
  ]);
  if (probe.stdout.trim() !== 't') await run('pgbench', ['-i', '-q', '-s', String(scale), databaseUrl]);
  return pgbench(databaseUrl, seconds, clients, ['-S']);
}

/** What one search touches, averaged over sampled patients (EXPLAIN (ANALYZE, BUFFERS)). */
export interface SearchFootprint {
  /** Patients sampled. */
  samples: number;
  /** Rows the search returned (its page, here every match). */
  rowsPerSearch: number;
  /** Shared buffers the statement touched (hit + read): index and heap pages. */
  buffersPerSearch: number;
  /** Distinct heap pages holding the patient's rows: what a search that visits the heap reads. */
  heapPagesPerPatient: number;
  /** Heap pages the plan's index-only scans still had to visit (Heap Fetches). */
  heapFetchesPerSearch: number;
}

interface PlanNode {
  'Node Type': string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Heap Fetches'?: number;
  Plans?: PlanNode[];
}

function heapFetches(node: PlanNode): number {
  return (node['Heap Fetches'] ?? 0) + (node.Plans ?? []).reduce((sum, child) => sum + heapFetches(child), 0);
}

/**
 * Runs the S0 statement (`searchScript`) under EXPLAIN (ANALYZE, BUFFERS) for `samples` random
 * bench patients and averages what each touched; also counts the distinct heap pages of those
 * patients' rows (from `ctid`), which is what locality decides.
 */
export async function searchFootprint(
  databaseUrl: string,
  script: string,
  patients: number,
  samples: number,
): Promise<SearchFootprint> {
  const statement = script.split('\n')[1]?.replace(/;\s*$/, '') ?? '';
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let rows = 0;
    let buffers = 0;
    let pages = 0;
    let fetches = 0;
    for (let k = 0; k < samples; k++) {
      const i = Math.floor((k * patients) / samples);
      const nhs = await client.query<{ nhs_number: string }>(
        'SELECT nhs_number FROM bench_patient WHERE i = $1',
        [i],
      );
      const nhsNumber = nhs.rows[0]?.nhs_number ?? '';
      const sqlText = statement.replace(
        '(SELECT nhs_number FROM bench_patient WHERE i = :i)',
        `'${nhsNumber}'`,
      );
      const explained = await client.query<{
        'QUERY PLAN': { Plan: PlanNode & { 'Actual Rows': number } }[];
      }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sqlText}`);
      const plan = explained.rows[0]?.['QUERY PLAN'][0]?.Plan;
      if (!plan) throw new Error('EXPLAIN returned no plan');
      rows += plan['Actual Rows'];
      buffers += (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      fetches += heapFetches(plan);
      const heap = await client.query<{ pages: string }>(
        `SELECT count(DISTINCT (ctid::text::point)[0] || ':' || tableoid) AS pages FROM pointer WHERE nhs_number = $1`,
        [nhsNumber],
      );
      pages += Number(heap.rows[0]?.pages ?? 0);
    }
    return {
      samples,
      rowsPerSearch: rows / samples,
      buffersPerSearch: buffers / samples,
      heapPagesPerPatient: pages / samples,
      heapFetchesPerSearch: fetches / samples,
    };
  } finally {
    await client.end();
  }
}
