/**
 * `pnpm bench:limiter`: the rate limiter's cost on the consumer search (issue 14), alone,
 * without the rest of `pnpm bench`. Loads (or reuses) the bench dataset, then alternates
 * rounds of S2 (consumer search, closed loop, 32 connections) on a fresh registry with the
 * limiter off and on (quotas far above the load: every request is checked, none refused), so
 * neither side always runs first. Prints each round and the medians.
 *
 *   pnpm bench:limiter --size short --seconds 10 --rounds 2
 *
 * The same comparison runs inside `pnpm bench` (S2-limit / S2-nolimit). Figures from a shared
 * machine are noisy: quote them with the machine's load.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { RateLimiter } from '@nir/server';
import { openStore } from '@nir/store';
import { sql } from 'kysely';
import { clinicalHeaders } from '../../test/support/harness.ts';
import { prng } from '../../test/support/prng.ts';
import {
  demoAssertion,
  type ServerProcess,
  stopServerProcess,
  tokenRequest,
} from '../../test/support/server-process.ts';
import { startBenchRegistry } from './bench-registry.ts';
import { loadDataset } from './load.ts';
import { type BenchRequest, closedLoop, type LoadResult } from './load-generators.ts';

const SIZES = { short: 100_000, '1m': 1_000_000, '10m': 10_000_000 } as const;
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'short' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});
const size = values.size as keyof typeof SIZES;
if (!(size in SIZES)) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const seed = Number(values.seed);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/nir_bench_${size}`;
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const log = (message: string) =>
  process.stderr.write(`[limiter ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const dataset = await loadDataset({
  databaseUrl,
  pointers: SIZES[size],
  seed,
  fresh: false,
  progress: false,
});
log(`${dataset.reused ? 'reused' : 'loaded'} ${dataset.pointers} pointers, ${dataset.patients} patients`);
const store = await openStore({ databaseUrl, poolSize: 1, migrate: false });
const patients = (
  await sql<{ nhs_number: string }>`SELECT nhs_number FROM bench_patient ORDER BY i LIMIT 200000`.execute(
    store.db,
  )
).rows.map((r) => r.nhs_number);
await store.close();
const random = prng(seed + 99);

async function phase(limiter: boolean): Promise<LoadResult> {
  const server: ServerProcess = await startBenchRegistry(databaseUrl, { NIR_RATE_LIMIT: String(limiter) });
  try {
    const reply = await tokenRequest(server.url, await demoAssertion(server.url, 'demo-consumer', 'RWY'));
    const bearer = ((await reply.json()) as { access_token: string }).access_token;
    const request = (): BenchRequest => ({
      method: 'GET',
      path: `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS}|${patients[Math.floor(random() * patients.length)]}`,
      headers: clinicalHeaders(bearer, 'RWY'),
    });
    await closedLoop(server.url, 32, Math.min(5, seconds), request); // warm-up
    return await closedLoop(server.url, 32, seconds, request);
  } finally {
    await stopServerProcess(server);
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2
    ? (sorted[Math.floor(mid)] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

// In-process cost of one check (client and organisation buckets), 1,000 clients in 20 organisations.
const micro = new RateLimiter({
  clientPerMinute: 10_000_000,
  organisationPerMinute: 10_000_000,
  tokensPerMinute: 600,
  instances: 1,
  enabled: true,
});
const CHECKS = 2_000_000;
const started = process.hrtime.bigint();
for (let i = 0; i < CHECKS; i++) micro.request({ clientId: `client-${i % 1000}`, odsCode: `ORG${i % 20}` });
const nsPerCheck = Number(process.hrtime.bigint() - started) / CHECKS;
log(`in-process: ${nsPerCheck.toFixed(0)} ns per check (${CHECKS.toLocaleString('en-GB')} checks)`);
const off: LoadResult[] = [];
const on: LoadResult[] = [];
for (let round = 0; round < rounds; round++) {
  // Alternate which side goes first.
  for (const limiter of round % 2 === 0 ? [false, true] : [true, false]) {
    const result = await phase(limiter);
    (limiter ? on : off).push(result);
    log(
      `round ${round + 1}, limiter ${limiter ? 'on ' : 'off'}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, errors ${result.errors}, load average ${loadavg()[0]?.toFixed(1)}`,
    );
  }
}
const offRps = median(off.map((r) => r.rps));
const onRps = median(on.map((r) => r.rps));
process.stdout.write(
  `rate limiter on the consumer search (${size}, ${seconds} s × ${rounds} rounds each, load average ${loadavg()[0]?.toFixed(1)}): ` +
    `off median ${offRps.toFixed(0)} req/s (range ${range(off.map((r) => r.rps))}, p50 ${median(off.map((r) => r.p50)).toFixed(2)} ms), ` +
    `on median ${onRps.toFixed(0)} req/s (range ${range(on.map((r) => r.rps))}, p50 ${median(on.map((r) => r.p50)).toFixed(2)} ms): ` +
    `cost ${((1 - onRps / offRps) * 100).toFixed(1)} %; one check in-process ${nsPerCheck.toFixed(0)} ns\n`,
);
if ([...off, ...on].some((r) => r.errors > 0)) process.exitCode = 1;
