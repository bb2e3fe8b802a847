/**
 * Measures the provider API's costs and prints them (asserts nothing; not a test):
 *   1. validation alone (stages A and B) per pointer, in-process;
 *   2. sequential HTTP creates through the whole path (token check, catalogue, validation,
 *      one transaction with history) on the embedded database, and on PostgreSQL when
 *      DATABASE_URL is set (a scratch database: the script writes pointers to it).
 *
 *   node scripts/measure-producer.ts                       # PGlite in memory
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nir_bench node scripts/measure-producer.ts
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentReference } from '@medplum/fhirtypes';
import { validatePointer } from '@nir/core';
import { loadPublishedProfiles } from '@nir/server';
import { openStore } from '@nir/store';
import { clinicalHeaders, REPO_ROOT, startTestRegistry } from '../test/support/harness.ts';

const VALIDATIONS = 5_000;
const CREATES = Number(process.env.CREATES ?? 1_000);

const example = JSON.parse(
  await readFile(
    path.join(REPO_ROOT, 'fhir-profiles/examples/DocumentReference-example-report.json'),
    'utf8',
  ),
) as DocumentReference;
const { id: _id, meta: _meta, ...pointer } = example;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const { pointerSchema } = await loadPublishedProfiles(path.join(REPO_ROOT, 'fhir-profiles'));
validatePointer(pointerSchema, pointer, 'create');
let started = performance.now();
for (let i = 0; i < VALIDATIONS; i++) validatePointer(pointerSchema, pointer, 'create');
const perValidation = ((performance.now() - started) * 1000) / VALIDATIONS;
console.log(`validation (stages A+B): ${perValidation.toFixed(1)} µs per pointer over ${VALIDATIONS}`);

const store = await openStore(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { dataDir: 'memory://' },
);
const registry = await startTestRegistry(store);
try {
  const token = await registry.token('demo-provider-a');
  const latencies: number[] = [];
  started = performance.now();
  for (let i = 0; i < CREATES; i++) {
    const t0 = performance.now();
    const response = await registry.fetch('/producer/FHIR/R4/DocumentReference', {
      method: 'POST',
      headers: { ...clinicalHeaders(token, 'RR8'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify(pointer),
    });
    await response.arrayBuffer();
    if (response.status !== 201) throw new Error(`create answered ${response.status}`);
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `HTTP create on ${store.backend}, sequential, ${CREATES}: ${(CREATES / seconds).toFixed(0)} req/s, ` +
      `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
  );
} finally {
  await registry.close();
}
