/**
 * `pnpm bench:topology`: the bench's S2 (consumer search) and S3 (producer create) on the
 * topologies of issue 19, closed loop, each on its own clusters on free loopback ports:
 * - replicated: S2 through HAProxy over two instances with the search on the standby (the share
 *   the standby served is read from the instances' nir_replica_reads_total), and S3 through
 *   HAProxy with synchronous replication on and then off (synchronous_commit = local on the
 *   primary): the latency cost of zero acknowledged loss;
 * - `--citus`: S2 and S3 on one instance whose DATABASE_URL is the Citus coordinator.
 * The dataset is the bench's own (`--pointers`, default 100 000), loaded with its loader.
 * Every cluster, instance and load generator shares this machine's cores: the figures compare
 * shapes on one machine; they are not a capacity plan (docs/SCALING.md).
 *
 *   node scripts/bench/topology.ts [--citus] [--pointers 100000] [--seconds 10] [--connections 32]
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DocumentReference } from '@medplum/fhirtypes';
import {
  citusUrl,
  downCitus,
  downReplicated,
  metricValue,
  type ReplicatedLayout,
  replicatedNodes,
  upCitus,
  upReplicated,
} from '@nir/topology';
import pg from 'pg';
import { clinicalHeaders, freePort, REPO_ROOT } from '../../test/support/harness.ts';
import { prng } from '../../test/support/prng.ts';
import { demoAccessToken, stopServerProcess } from '../../test/support/server-process.ts';
import { startBenchRegistry } from './bench-registry.ts';
import { benchPatient, benchPointer } from './generate.ts';
import { loadDataset } from './load.ts';
import { type BenchRequest, closedLoop, type LoadResult, openLoop } from './load-generators.ts';

const { values } = parseArgs({
  options: {
    citus: { type: 'boolean', default: false },
    pointers: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const pointers = Number(values.pointers);

/** Bench settings for every instance: quotas far above any scenario, long-lived tokens. */
const BENCH_ENV = {
  NIR_ACCESS_TOKEN_TTL: '3600',
  NIR_RATE_LIMIT_CLIENT: '10000000',
  NIR_RATE_LIMIT_ORGANISATION: '10000000',
};

async function patientsOf(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ nhs_number: string }>(
      'SELECT nhs_number FROM bench_patient ORDER BY i LIMIT 50000',
    );
    return rows.map((r) => r.nhs_number);
  } finally {
    await client.end();
  }
}

function searches(bearer: string, patients: string[]): () => BenchRequest {
  let i = 0;
  return () => ({
    method: 'GET',
    path: `/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${patients[i++ % patients.length]}`,
    headers: clinicalHeaders(bearer, 'RWY'),
  });
}

function creates(bearer: string, patients: number): () => BenchRequest {
  const random = prng(Date.now() % 100_000);
  const now = new Date();
  let created = 0;
  return () => ({
    method: 'POST',
    path: '/producer/FHIR/R4/DocumentReference',
    headers: { ...clinicalHeaders(bearer, 'RR8'), 'content-type': 'application/fhir+json' },
    body: JSON.stringify(
      benchPointer(
        8,
        benchPatient(1, Math.floor(random() * patients)),
        5_000_000 + Math.floor(random() * 1e9) + created++,
        now,
        'RR8',
      ) as DocumentReference,
    ),
  });
}

interface Row {
  scenario: string;
  result: LoadResult;
  note?: string;
}

function line(row: Row): string {
  const r = row.result;
  return `${row.scenario.padEnd(34)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  errors ${r.errors}${row.note ? `  ${row.note}` : ''}`;
}

async function run(
  url: string,
  next: () => BenchRequest,
  afterWarmUp?: () => Promise<void>,
): Promise<LoadResult> {
  await closedLoop(url, connections, 3, next);
  await afterWarmUp?.();
  return closedLoop(url, connections, seconds, next);
}

async function replicated(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nir-bench-topology-'));
  const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const layout: ReplicatedLayout = {
    dir,
    nodePorts: [ports[0] as number, ports[1] as number],
    instancePorts: [ports[2] as number, ports[3] as number],
    metricsPorts: [ports[4] as number, ports[5] as number],
    balancerPort: ports[6] as number,
    statsPort: ports[7] as number,
    database: 'nir',
    synchronous: true,
    replicaMaxLag: process.env.NIR_REPLICA_MAX_LAG ?? '2s',
    instanceEnv: BENCH_ENV,
    graceMs: 2000,
    failoverMs: 1500,
  };
  const rows: Row[] = [];
  try {
    await upReplicated(layout, (l) => process.stderr.write(`topology: ${l}\n`));
    const [primary] = replicatedNodes(layout);
    const directUrl = primary.url(layout.database);
    const dataset = await loadDataset({ databaseUrl: directUrl, pointers, seed: 1, fresh: true });
    process.stderr.write(`loaded ${dataset.pointers} pointers into the primary (replicated synchronously)\n`);
    const url = `http://127.0.0.1:${layout.balancerPort}`;
    const patients = await patientsOf(directUrl);
    const consumer = await demoAccessToken(url, 'demo-consumer', 'RWY');
    const provider = await demoAccessToken(url, 'demo-provider-a', 'RR8');
    const served = () =>
      Promise.all(layout.metricsPorts.map((p) => metricValue(p, 'nir_replica_reads_total')));
    let before = 0;
    const s2 = await run(url, searches(consumer, patients), async () => {
      before = (await served()).reduce((a, b) => a + b, 0);
    });
    const onStandby = (await served()).reduce((a, b) => a + b, 0) - before;
    rows.push({
      scenario: 'S2 via HAProxy, search on standby',
      result: s2,
      note: `standby served ${onStandby} searches in the run (autocannon counted ${s2.requests} answered)`,
    });
    rows.push({
      scenario: 'S3 via HAProxy, synchronous',
      result: await run(url, creates(provider, patients.length)),
    });
    // The latency a commit pays for the standby's flush, without queueing: a paced create.
    rows.push({
      scenario: 'S3 open loop 50/s, synchronous',
      result: await openLoop(url, 50, seconds, creates(provider, patients.length)),
    });
    await primary.query("ALTER SYSTEM SET synchronous_commit = 'local'");
    await primary.query('SELECT pg_reload_conf()');
    rows.push({
      scenario: 'S3 via HAProxy, asynchronous',
      result: await run(url, creates(provider, patients.length)),
      note: 'synchronous_commit = local: a failover may lose these',
    });
    rows.push({
      scenario: 'S3 open loop 50/s, asynchronous',
      result: await openLoop(url, 50, seconds, creates(provider, patients.length)),
    });
    await primary.query('ALTER SYSTEM RESET synchronous_commit');
    await primary.query('SELECT pg_reload_conf()');
  } finally {
    await downReplicated(dir, true);
  }
  return rows;
}

async function citus(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nir-bench-citus-'));
  const ports = await Promise.all(Array.from({ length: 3 }, () => freePort()));
  const layout = {
    dir,
    coordinatorPort: ports[0] as number,
    workerPorts: [ports[1] as number, ports[2] as number],
    instancePort: 0,
    database: 'nir',
  };
  const rows: Row[] = [];
  try {
    await upCitus(layout, { instance: false }, (l) => process.stderr.write(`topology: ${l}\n`));
    const databaseUrl = citusUrl(layout);
    const dataset = await loadDataset({ databaseUrl, pointers, seed: 1, fresh: true });
    process.stderr.write(`loaded ${dataset.pointers} pointers through the coordinator\n`);
    const patients = await patientsOf(databaseUrl);
    const server = await startBenchRegistry(databaseUrl);
    try {
      const consumer = await demoAccessToken(server.url, 'demo-consumer', 'RWY');
      const provider = await demoAccessToken(server.url, 'demo-provider-a', 'RR8');
      rows.push({
        scenario: 'S2 on Citus (coordinator + 2 workers)',
        result: await run(server.url, searches(consumer, patients)),
      });
      rows.push({
        scenario: 'S3 on Citus (coordinator + 2 workers)',
        result: await run(server.url, creates(provider, patients.length)),
      });
    } finally {
      await stopServerProcess(server);
    }
  } finally {
    await downCitus(dir, true);
  }
  return rows;
}

const rows = values.citus ? await citus() : await replicated();
process.stdout.write(
  `\n${values.citus ? 'Citus' : 'Replicated'} topology, ${pointers} pointers, ${connections} connections, ${seconds} s per scenario\n`,
);
for (const row of rows) process.stdout.write(`${line(row)}\n`);
const out = path.join(REPO_ROOT, 'bench-results', 'topology');
await mkdir(out, { recursive: true });
const file = path.join(
  out,
  `${values.citus ? 'citus' : 'replicated'}-${new Date().toISOString().replaceAll(':', '-')}.json`,
);
await writeFile(file, `${JSON.stringify({ pointers, connections, seconds, rows }, null, 2)}\n`);
process.stdout.write(`written to ${path.relative(REPO_ROOT, file)}\n`);
