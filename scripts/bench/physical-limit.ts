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
