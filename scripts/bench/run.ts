/**
 * `pnpm bench`: the performance suite of issue 6 against PostgreSQL, end to end.
 *
 *   pnpm bench                      1 M pointers (loaded once into nir_bench_1m, then reused)
 *   pnpm bench --size 10m           10 M pointers
 *   pnpm bench --size short         100 k pointers, short scenarios: CI's run; fails on any error
 *   pnpm bench --aged               adds S0-aged and S2-aged: the same pointers loaded in time
 *                                   order across patients (`load.ts --aged`) into <database>_aged
 *   pnpm bench --soak-minutes 30    adds the soak under S2: per window (--soak-window-seconds, default
 *                                   60) req/s, p99, server CPU per search, RSS and the audit's size,
 *                                   then a restart of the registry and S2 again (S2-restart, one
 *                                   minute in windows of 10 s: the warm-up of a fresh process shows)
 *   pnpm bench --soak-only --soak-minutes 5   the soak and its restart leg alone (no S0–S7)
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nir_bench_<size>) names a
 * scratch database, created when missing. Scenarios: S0 pgbench on the registry's own search
 * SQL and `pgbench -S`; S2 consumer search (closed loop at 32 connections; open loop at 500
 * req/s); S2b paging a 500-pointer patient; S3 producer create; S4 bulk ingest (the loader);
 * S5 search with the durable audit on and off; S7 an NRL-like mix; S2-limit / S2-nolimit the
 * consumer search with the rate limiter on and off (issue 14); S2-w2 the S2 search on two worker
 * processes (`NIR_WORKERS=2`, issue 15). Prints one table (each HTTP figure also as a percentage
 * of S0) and writes it as JSON to bench-results/. With `--aged` (BENCH_AGED_DATABASE_URL, default
 * the bench database's name + `_aged`) it also reports what a search touches on each layout
 * (EXPLAIN (ANALYZE, BUFFERS) over sampled patients).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { DocumentReference } from '@medplum/fhirtypes';
import { loadPublishedProfiles } from '@nir/server';
import { CatalogueRepository, openStore } from '@nir/store';
import { sql } from 'kysely';
import { freePort } from '../../test/support/free-port.ts';
import { clinicalHeaders } from '../../test/support/harness.ts';
import { prng } from '../../test/support/prng.ts';
import { demoAccessToken, type ServerProcess, stopServerProcess } from '../../test/support/server-process.ts';
import { startBenchRegistry } from './bench-registry.ts';
import { benchPatient, benchPointer, writtenPatientIndex } from './generate.ts';
import { loadDataset } from './load.ts';
import { type BenchRequest, closedLoop, type LoadResult, openLoop, pagingWalk } from './load-generators.ts';
import {
  pgbenchScript,
  pgbenchSelectOnly,
  type SearchFootprint,
  searchFootprint,
  searchScript,
} from './physical-limit.ts';
import { processTreeCpuSeconds } from './process-cpu.ts';
import { formatTable, type Report, type Row } from './report.ts';
import { soak as runSoak, type SoakResult } from './soak.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SIZES = { short: 100_000, '1m': 1_000_000, '10m': 10_000_000 } as const;
type Size = keyof typeof SIZES;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seconds: { type: 'string' },
    'soak-minutes': { type: 'string', default: '0' },
    'soak-window-seconds': { type: 'string', default: '60' },
    'soak-only': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    fresh: { type: 'boolean', default: false },
    aged: { type: 'boolean', default: false },
  },
});
const size = values.size as Size;
if (!(size in SIZES)) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
const short = size === 'short';
const seconds = Number(values.seconds ?? (short ? 5 : 20));
const soakMinutes = Number(values['soak-minutes']);
const soakWindowSeconds = Number(values['soak-window-seconds']);
const soakOnly = values['soak-only'];
if (soakOnly && !(soakMinutes > 0)) throw new Error('--soak-only needs --soak-minutes');
const seed = Number(values.seed);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/nir_bench_${size}`;
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const agedDatabaseUrl = values.aged
  ? (process.env.BENCH_AGED_DATABASE_URL ??
    (() => {
      const url = new URL(databaseUrl);
      url.pathname = `${url.pathname}_aged`;
      return url.toString();
    })())
  : undefined;

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const { stdout } = await run('psql', [
    admin.toString(),
    '-Atc',
    `SELECT 1 FROM pg_database WHERE datname = '${name}'`,
  ]);
  if (stdout.trim() !== '1') await run('psql', [admin.toString(), '-qc', `CREATE DATABASE "${name}"`]);
}

/** Samples a process's resident set size (VmRSS) until stopped; the largest seen, in MB. */
function rssSampler(pid: number | undefined, everyMs = 500) {
  const samples: number[] = [];
  const read = async () => {
    if (pid === undefined) return;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      samples.push(kb / 1024);
    } catch {
      // the process ended
    }
  };
  const timer = setInterval(() => void read(), everyMs);
  void read();
  return {
    samples,
    stop: async () => {
      clearInterval(timer);
      await read();
      return Math.max(0, ...samples);
    },
  };
}

const token = (server: ServerProcess, clientId: string, ods: string) =>
  demoAccessToken(server.url, clientId, ods);

/** A clinical request's headers (a fresh X-Request-Id each time), with a FHIR JSON body or none. */
function headers(bearer: string, ods: string, json = false): Record<string, string> {
  return { ...clinicalHeaders(bearer, ods), ...(json ? { 'content-type': 'application/fhir+json' } : {}) };
}

/** The registry on the bench database (or `url`): see bench-registry.ts. S2-limit / S2-nolimit
 * compare the limiter on (quotas far above any scenario) with it off. */
function startRegistry(extra: Record<string, string> = {}, url = databaseUrl): Promise<ServerProcess> {
  return startBenchRegistry(url, extra);
}

// ---------------------------------------------------------------------------------------------
await ensureDatabase(databaseUrl);
log(`dataset: ${SIZES[size].toLocaleString('en-GB')} pointers in ${new URL(databaseUrl).pathname.slice(1)}`);
const dataset = await loadDataset({
  databaseUrl,
  pointers: SIZES[size],
  seed,
  fresh: values.fresh,
  progress: process.stderr.isTTY,
});
log(
  `${dataset.reused ? 'reused' : 'loaded'} ${dataset.pointers} pointers, ${dataset.patients} patients` +
    (dataset.vacuumSeconds === undefined
      ? ''
      : ` in ${dataset.seconds.toFixed(0)} s` +
        (dataset.indexSeconds === undefined
          ? ''
          : ` (index builds ${dataset.indexSeconds.toFixed(0)} s of it)`) +
        `, then VACUUM (ANALYZE) ${dataset.vacuumSeconds.toFixed(0)} s`),
);

const agedDataset = agedDatabaseUrl
  ? await (async () => {
      await ensureDatabase(agedDatabaseUrl);
      log(`aged dataset: the same pointers in time order in ${new URL(agedDatabaseUrl).pathname.slice(1)}`);
      const loaded = await loadDataset({
        databaseUrl: agedDatabaseUrl,
        pointers: SIZES[size],
        seed,
        fresh: values.fresh,
        aged: true,
        progress: process.stderr.isTTY,
      });
      log(`${loaded.reused ? 'reused' : 'loaded'} ${loaded.pointers} aged pointers`);
      return loaded;
    })()
  : undefined;

const store = await openStore({ databaseUrl, poolSize: 1, migrate: false });
const { pointerSchema } = await loadPublishedProfiles(path.join(REPO_ROOT, 'fhir-profiles'));
const grant = await new CatalogueRepository(store.db).getGrant('RWY', 'consumer');
if (!grant) throw new Error('the bench consumer RWY has no grant');
const patientRows = await sql<{ nhs_number: string; pointers: number }>`
  SELECT nhs_number, pointers FROM bench_patient ORDER BY i LIMIT 200000`.execute(store.db);
const patients = patientRows.rows.map((r) => r.nhs_number);
const longest = await sql<{ nhs_number: string; pointers: number }>`
  SELECT nhs_number, pointers FROM bench_patient ORDER BY pointers DESC, i LIMIT 1`.execute(store.db);
const bigPatient = longest.rows[0];
const s0Script = searchScript(grant, pointerSchema.terminology, dataset.patients, 1000);
await store.close();

const random = prng(seed + 99);
const randomPatient = () => patients[Math.floor(random() * patients.length)] as string;
const rows: Row[] = [];

let s0Tps: number | undefined;
if (!soakOnly) {
  log('S0: pgbench on the registry search SQL and pgbench -S');
  // Warm first: S0 is the limit on the data as the HTTP scenarios then find it, not a cold cache.
  await pgbenchScript(databaseUrl, s0Script, Math.min(10, seconds), 8);
  const s0 = await pgbenchScript(databaseUrl, s0Script, seconds, 8);
  s0Tps = s0.tps;
  const s0select = await pgbenchSelectOnly(databaseUrl, seconds, 8, 10);
  rows.push({
    id: 'S0',
    name: 'pgbench: registry search SQL (8 clients)',
    rps: s0.tps,
    p50: s0.latencyMs,
    p99: null,
    errors: s0.failed,
    rssMb: null,
  });
  rows.push({
    id: 'S0-S',
    name: 'pgbench -S (8 clients)',
    rps: s0select.tps,
    p50: s0select.latencyMs,
    p99: null,
    errors: s0select.failed,
    rssMb: null,
  });
}

// The same search on the aged data (issue 15), back to back with S0, and what each layout touches.
let footprint: { grouped: SearchFootprint; aged: SearchFootprint } | undefined;
let s0AgedTps = 0;
if (agedDatabaseUrl) {
  log('S0-aged: pgbench on the registry search SQL, aged data');
  await pgbenchScript(agedDatabaseUrl, s0Script, Math.min(10, seconds), 8);
  const s0aged = await pgbenchScript(agedDatabaseUrl, s0Script, seconds, 8);
  s0AgedTps = s0aged.tps;
  rows.push({
    id: 'S0-aged',
    name: 'pgbench: registry search SQL (8 clients), aged data',
    rps: s0aged.tps,
    p50: s0aged.latencyMs,
    p99: null,
    errors: s0aged.failed,
    rssMb: null,
  });
  footprint = {
    grouped: await searchFootprint(databaseUrl, s0Script, dataset.patients, 200),
    aged: await searchFootprint(agedDatabaseUrl, s0Script, dataset.patients, 200),
  };
}

// R16: the main registry serves its metrics, scraped once the scenarios ran (bench-results/).
const metricsPort = await freePort();
let server = await startRegistry({ NIR_METRICS_PORT: String(metricsPort) });
const consumer = await token(server, 'demo-consumer', 'RWY');
const provider = await token(server, 'demo-provider-a', 'RR8');
const searchRequest = (): BenchRequest => ({
  method: 'GET',
  path: `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS}|${randomPatient()}`,
  headers: headers(consumer, 'RWY'),
});
let created = 0;
const now = new Date();
const createBody = (): DocumentReference => {
  // Never a patient the searches ask for: S2 answers the same pointers however often the
  // dataset is reused (the writes of earlier runs made searches grow, issue 15).
  const patient = benchPatient(seed, writtenPatientIndex(dataset.patients, random()));
  return benchPointer(seed + 7, patient, 1_000 + created++, now, 'RR8');
};
const createRequest = (): BenchRequest => ({
  method: 'POST',
  path: '/producer/FHIR/R4/DocumentReference',
  headers: headers(provider, 'RR8', true),
  body: JSON.stringify(createBody()),
});

async function measured(
  id: string,
  name: string,
  work: () => Promise<LoadResult>,
  target: ServerProcess = server,
  s0Reference: number | undefined = s0Tps,
): Promise<LoadResult> {
  log(`${id}: ${name}`);
  const rss = rssSampler(target.child.pid);
  const cpuBefore = await processTreeCpuSeconds(target.child.pid);
  const result = await work();
  const cpuAfter = await processTreeCpuSeconds(target.child.pid);
  const rssMb = await rss.stop();
  const cpuUsPerRequest =
    cpuBefore === undefined || cpuAfter === undefined || result.requests === 0
      ? null
      : ((cpuAfter - cpuBefore) * 1e6) / result.requests;
  rows.push({
    id,
    name,
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors,
    rssMb,
    cpuUsPerRequest,
    ...(s0Reference === undefined ? {} : { s0: s0Reference }),
  });
  return result;
}

await closedLoop(server.url, 32, Math.min(5, seconds), searchRequest); // warm-up
const s2 = await measured('S2', 'search by NHS number, closed loop, 32 connections', () =>
  closedLoop(server.url, 32, seconds, searchRequest),
);
if (agedDatabaseUrl) {
  // S2 on the aged data, on its own registry, straight after S2 (the main registry idles meanwhile).
  const agedServer = await startRegistry({}, agedDatabaseUrl);
  const agedBearer = await token(agedServer, 'demo-consumer', 'RWY');
  const agedSearch = (): BenchRequest => ({ ...searchRequest(), headers: headers(agedBearer, 'RWY') });
  await closedLoop(agedServer.url, 32, Math.min(5, seconds), agedSearch); // warm-up
  await measured(
    'S2-aged',
    'search by NHS number, closed loop, 32 connections, aged data',
    () => closedLoop(agedServer.url, 32, seconds, agedSearch),
    agedServer,
    s0AgedTps,
  );
  await stopServerProcess(agedServer);
}
if (!soakOnly) {
  await measured('S2-open', 'search by NHS number, open loop, 500 req/s', () =>
    openLoop(server.url, 500, seconds, searchRequest),
  );
  if (bigPatient) {
    await measured('S2b', `paging a ${bigPatient.pointers}-pointer patient (_count=100), 4 clients`, () =>
      pagingWalk(server.url, 4, seconds, () => ({
        method: 'GET',
        path: `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS}|${bigPatient.nhs_number}&_count=100`,
        headers: headers(consumer, 'RWY'),
      })),
    );
  }
  await measured('S3', 'producer create (validation, catalogue, audit), 32 connections', () =>
    closedLoop(server.url, 32, seconds, createRequest),
  );
  rows.push({
    id: 'S4',
    name: `bulk ingest: COPY loader, API validation (${dataset.reused ? 'when the dataset was loaded' : 'this run'})`,
    rps: dataset.pointersPerSecond,
    p50: null,
    p99: null,
    errors: 0,
    rssMb: null,
    unit: 'pointers/s',
  });

  // S7: an NRL-like mix. Updates and deletes act on pointers created for the purpose.
  const own: { id: string; body: DocumentReference }[] = [];
  for (let i = 0; i < Math.ceil(s2.rps * seconds * 0.035); i++) {
    const body = createBody();
    const response = await fetch(`${server.url}/producer/FHIR/R4/DocumentReference`, {
      method: 'POST',
      headers: headers(provider, 'RR8', true),
      body: JSON.stringify(body),
    });
    const id = response.headers.get('location')?.split('/').pop();
    if (response.status !== 201 || !id) throw new Error(`S7 setup create answered ${response.status}`);
    own.push({ id, body });
  }
  let readIds = own.map((o) => o.id);
  const mixed = (): BenchRequest => {
    const draw = random();
    if (draw < 0.7) return searchRequest();
    if (draw < 0.85 && readIds.length > 0) {
      return {
        method: 'GET',
        path: `/consumer/FHIR/R4/DocumentReference/${readIds[Math.floor(random() * readIds.length)]}`,
        headers: headers(consumer, 'RWY'),
      };
    }
    if (draw < 0.9) {
      return { ...searchRequest(), path: `${searchRequest().path}&_summary=count` };
    }
    if (draw < 0.97 || own.length === 0) return createRequest();
    const target = own.pop() as { id: string; body: DocumentReference };
    readIds = readIds.filter((id) => id !== target.id);
    if (draw < 0.985) {
      return {
        method: 'PUT',
        path: `/producer/FHIR/R4/DocumentReference/${target.id}`,
        headers: headers(provider, 'RR8', true),
        body: JSON.stringify({
          ...target.body,
          id: target.id,
          description: `${target.body.description} (amended)`,
        }),
      };
    }
    return {
      method: 'DELETE',
      path: `/producer/FHIR/R4/DocumentReference/${target.id}`,
      headers: headers(provider, 'RR8'),
    };
  };
  await measured('S7', 'NRL-like mix: search 70 %, read 15 %, count 5 %, create 7 %, update/delete 3 %', () =>
    closedLoop(server.url, 32, seconds, mixed),
  );
}

let soak: SoakResult | undefined;
if (soakMinutes > 0) {
  log(
    `soak: S2 for ${soakMinutes} min in windows of ${soakWindowSeconds} s (CPU per search, RSS, audit size)`,
  );
  const watcher = await openStore({ databaseUrl, poolSize: 1, migrate: false });
  try {
    soak = await runSoak({
      url: server.url,
      pid: server.child.pid,
      db: watcher.db,
      minutes: soakMinutes,
      windowSeconds: soakWindowSeconds,
      request: searchRequest,
      log: (w) =>
        log(
          `soak ${w.atMinutes.toFixed(1)} min: ${w.rps.toFixed(0)} req/s, p99 ${w.p99.toFixed(1)} ms, ` +
            `${w.cpuUsPerRequest?.toFixed(0) ?? '–'} µs CPU/search (PostgreSQL ${w.pgCpuUsPerRequest?.toFixed(0) ?? '–'}), ${w.bytesPerResponse.toFixed(0)} B/response, ` +
            `${w.audit.rows} audit rows (${(w.audit.heapMb + w.audit.indexMb).toFixed(0)} MB)`,
        ),
    });
  } finally {
    await watcher.close();
  }
}
const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
await stopServerProcess(server);

// The rate limiter's cost on the consumer search (issue 14): two fresh registries, same
// warm-up, back to back, limiter off then on (quotas never reached, so every check runs and
// nothing is refused).
async function searchPhase(id: string, name: string, env: Record<string, string>): Promise<LoadResult> {
  server = await startRegistry(env);
  const bearer = await token(server, 'demo-consumer', 'RWY');
  const request = (): BenchRequest => ({ ...searchRequest(), headers: headers(bearer, 'RWY') });
  await closedLoop(server.url, 32, Math.min(5, seconds), request); // warm-up
  const result = await measured(id, name, () => closedLoop(server.url, 32, seconds, request));
  await stopServerProcess(server);
  return result;
}
let restart: SoakResult | undefined;
if (soak) {
  // The issue saw the rise after a restart: a fresh registry on the audit the soak left, the
  // same warm-up as S2, then a minute in windows of 10 s (a fresh process costs more per search
  // at first: its first windows are to be compared with the soak's first, not its last).
  server = await startRegistry();
  const bearer = await token(server, 'demo-consumer', 'RWY');
  const request = (): BenchRequest => ({ ...searchRequest(), headers: headers(bearer, 'RWY') });
  await closedLoop(server.url, 32, Math.min(5, seconds), request); // warm-up
  const watcher = await openStore({ databaseUrl, poolSize: 1, migrate: false });
  try {
    const pid = server.child.pid;
    const cpuBefore = await processTreeCpuSeconds(pid);
    const series = await runSoak({
      url: server.url,
      pid,
      db: watcher.db,
      minutes: 1,
      windowSeconds: 10,
      request,
    });
    restart = series;
    const cpuAfter = await processTreeCpuSeconds(pid);
    const requests = series.windows.reduce((n, w) => n + w.requests, 0);
    rows.push({
      id: 'S2-restart',
      name: 'search for 1 min after the soak, registry restarted (the audit as the soak left it)',
      rps: requests / ((series.windows.at(-1)?.atMinutes ?? 1) * 60),
      p50: null,
      p99: Math.max(...series.windows.map((w) => w.p99)),
      errors: series.windows.reduce((n, w) => n + w.errors, 0),
      rssMb: Math.max(...series.windows.map((w) => w.rssMb ?? 0)),
      cpuUsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined ? null : ((cpuAfter - cpuBefore) * 1e6) / requests,
    });
  } finally {
    await watcher.close();
    await stopServerProcess(server);
  }
}

let auditCost: number | undefined;
let limiterCost: number | undefined;
let rollupCost: number | undefined;
if (!soakOnly) {
  server = await startRegistry({ NIR_AUDIT_DISCARD: 'true' });
  const consumerOff = await token(server, 'demo-consumer', 'RWY');
  const searchOff = (): BenchRequest => ({ ...searchRequest(), headers: headers(consumerOff, 'RWY') });
  await closedLoop(server.url, 32, Math.min(5, seconds), searchOff); // warm-up
  const s5off = await measured('S5-off', 'search, closed loop, audit discarded (benchmark only)', () =>
    closedLoop(server.url, 32, seconds, searchOff),
  );
  await stopServerProcess(server);
  auditCost = (1 - s2.rps / s5off.rps) * 100;

  // What a second core buys (issue 15 item 5): the same search on a fresh registry of two
  // worker processes (NIR_WORKERS=2); its CPU per request sums the primary and both workers.
  await searchPhase('S2-w2', 'search by NHS number, closed loop, 32 connections, NIR_WORKERS=2', {
    NIR_WORKERS: '2',
  });
  // Shown beside S2.
  const w2 = rows.splice(rows.length - 1, 1);
  rows.splice(rows.findIndex((row) => row.id === 'S2') + 1, 0, ...w2);
  const limitOff = await searchPhase(
    'S2-nolimit',
    'search, closed loop, rate limiter off (measurement only)',
    {
      NIR_RATE_LIMIT: 'false',
    },
  );
  const limitOn = await searchPhase(
    'S2-limit',
    'search, closed loop, rate limiter on (quotas not reached)',
    {},
  );
  limiterCost = (1 - limitOn.rps / limitOff.rps) * 100;
  // On, off, on again (ABA), so drift on a shared machine shows as a difference between the two "on" runs.
  const rollupOn = await searchPhase('S5-rollup-on', 'search, closed loop, audit with its rollup', {});
  const rollupOff = await searchPhase(
    'S5-rollup-off',
    'search, closed loop, audit without the rollup (benchmark only)',
    {
      NIR_AUDIT_ROLLUP: 'false',
    },
  );
  const rollupOnAgain = await searchPhase(
    'S5-rollup-on2',
    'search, closed loop, audit with its rollup (again)',
    {},
  );
  rollupCost = (1 - (rollupOn.rps + rollupOnAgain.rps) / 2 / rollupOff.rps) * 100;
}

const report: Report & { when: string } & Record<string, unknown> = {
  when: new Date().toISOString(),
  size,
  seconds,
  dataset,
  agedDataset,
  footprint,
  machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version },
  rows,
  s5AuditCostPercent: auditCost,
  s2LimiterCostPercent: limiterCost,
  s5RollupCostPercent: rollupCost,
  soak,
  restart,
};
process.stdout.write(`${formatTable(report)}\n`);
await mkdir(path.join(REPO_ROOT, 'bench-results'), { recursive: true });
const file = path.join(REPO_ROOT, 'bench-results', `${size}-${report.when.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${path.relative(REPO_ROOT, file)}`);
const metricsFile = file.replace(/\.json$/, '-metrics.txt');
await writeFile(metricsFile, metricsText);
log(`wrote ${path.relative(REPO_ROOT, metricsFile)} (the main registry's metrics after S2–S7)`);
const errors = rows.reduce((sum, row) => sum + row.errors, 0);
if (errors > 0) {
  log(`FAILED: ${errors} errors (non-2xx, socket errors, timeouts or failed transactions)`);
  process.exitCode = 1;
}
