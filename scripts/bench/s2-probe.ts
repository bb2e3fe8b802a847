/**
 * A quick look at one scenario while working on the request path (not the bench): starts the
 * registry on an already loaded bench database, warms up, runs the consumer search (S2) closed
 * loop and prints req/s, p50, p99 and the server's CPU per request. Pass NIR_SERVER_NODE_OPTIONS
 * with --cpu-prof to profile it.
 *
 *   node scripts/bench/s2-probe.ts [--seconds 15] [--connections 32] [--database nir_bench_1m]
 *                                  [--path search|count|read]
 *
 * `--path read` reads loaded pointers by id instead (the consumer read, issue 19's two statements).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openStore } from '@nir/store';
import { sql } from 'kysely';
import { clinicalHeaders } from '../../test/support/harness.ts';
import { demoAccessToken, stopServerProcess } from '../../test/support/server-process.ts';
import { startBenchRegistry } from './bench-registry.ts';
import { benchSearches } from './bench-requests.ts';
import { type BenchRequest, closedLoop } from './load-generators.ts';
import { processTreeCpuSeconds } from './process-cpu.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '32' },
    database: { type: 'string', default: 'nir_bench_1m' },
    path: { type: 'string', default: 'search' },
  },
});
const databaseUrl = `postgres://postgres@127.0.0.1:5432/${values.database}`;
const store = await openStore({ databaseUrl, poolSize: 1, migrate: false });
const { rows } = await sql<{
  nhs_number: string;
}>`SELECT nhs_number FROM bench_patient ORDER BY i LIMIT 50000`.execute(store.db);
const patients = rows.map((r) => r.nhs_number);
const ids =
  values.path === 'read'
    ? (await sql<{ id: string }>`SELECT id FROM pointer LIMIT 50000`.execute(store.db)).rows.map((r) => r.id)
    : [];
await store.close();
const server = await startBenchRegistry(
  databaseUrl,
  process.env.NIR_WORKERS ? { NIR_WORKERS: process.env.NIR_WORKERS } : {},
);
const bearer = await demoAccessToken(server.url, 'demo-consumer', 'RWY');
let n = 0;
const request =
  values.path === 'read'
    ? (): BenchRequest => ({
        method: 'GET',
        path: `/consumer/FHIR/R4/DocumentReference/${ids[n++ % ids.length]}`,
        headers: clinicalHeaders(bearer, 'RWY'),
      })
    : benchSearches(bearer, patients, values.path === 'count');
const connections = Number(values.connections);
await closedLoop(server.url, connections, 5, request);
const before = await processTreeCpuSeconds(server.child.pid);
const result = await closedLoop(server.url, connections, Number(values.seconds), request);
const after = await processTreeCpuSeconds(server.child.pid);
// Peak resident set size of the (first) server process, as the kernel counted it.
const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8').catch(() => '');
const peakMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
await stopServerProcess(server);
const cpu = (((after ?? 0) - (before ?? 0)) * 1e6) / result.requests;
process.stdout.write(
  `S2 probe (${values.path}): ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, errors ${result.errors}, server CPU ${cpu.toFixed(0)} µs/request, peak RSS ${peakMb.toFixed(0)} MB\n`,
);
