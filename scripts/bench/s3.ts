/**
 * `node scripts/bench/s3.ts`: the bench's S3 (producer create, closed loop) alone, for A/B runs
 * of the write path on a loaded machine: req/s, p50, p99, server CPU per request, and from
 * PostgreSQL the commits and rows inserted per create. Uses the dataset `pnpm bench` loaded
 * into BENCH_DATABASE_URL (default nir_bench_short). Options: --seconds (10), --connections
 * (32), --runs (1).
 */
import { parseArgs } from 'node:util';
import { openStore } from '@nir/store';
import { sql } from 'kysely';
import { demoAccessToken, stopServerProcess } from '../../test/support/server-process.ts';
import { startBenchRegistry } from './bench-registry.ts';
import { benchCreates } from './bench-requests.ts';
import { closedLoop } from './load-generators.ts';
import { processTreeCpuSeconds } from './process-cpu.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    runs: { type: 'string', default: '1' },
  },
});
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nir_bench_short';
const store = await openStore({ databaseUrl, poolSize: 1, migrate: false });
const patients = Number(
  (await sql<{ n: string }>`SELECT count(*) AS n FROM bench_patient`.execute(store.db)).rows[0]?.n,
);
const dbStats = async () =>
  (
    await sql<{ xact_commit: string; tup_inserted: string }>`
      SELECT xact_commit, tup_inserted FROM pg_stat_database WHERE datname = current_database()`.execute(
      store.db,
    )
  ).rows[0] as { xact_commit: string; tup_inserted: string };

const server = await startBenchRegistry(databaseUrl);
const provider = await demoAccessToken(server.url, 'demo-provider-a', 'RR8');
const request = benchCreates(provider, patients);
await closedLoop(server.url, Number(values.connections), 3, request); // warm-up
for (let run = 0; run < Number(values.runs); run++) {
  const before = await dbStats();
  const cpuBefore = await processTreeCpuSeconds(server.child.pid);
  const result = await closedLoop(server.url, Number(values.connections), Number(values.seconds), request);
  const cpuAfter = await processTreeCpuSeconds(server.child.pid);
  // pg_stat_database is updated when a backend reports (at most every second or at idle).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await dbStats();
  const per = (a: string, b: string) => ((Number(a) - Number(b)) / result.requests).toFixed(2);
  process.stdout.write(
    `S3 ${result.rps.toFixed(0)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  ` +
      `CPU ${cpuAfter !== undefined && cpuBefore !== undefined ? (((cpuAfter - cpuBefore) * 1e6) / result.requests).toFixed(0) : '?'} µs/req  ` +
      `commits/req ${per(after.xact_commit, before.xact_commit)}  rows inserted/req ${per(after.tup_inserted, before.tup_inserted)}\n`,
  );
}
await stopServerProcess(server);
await store.close();
