/**
 * The cost of durable audit (R7): search throughput and latency of the same registry, in the
 * same run, with the audit trail writing to the database (group commit, every response waits
 * for its event to commit) and with the writes skipped (events still built, nothing stored).
 * Phases alternate off/on to cancel drift. Prints requests/s, p50/p95 latency and the group
 * commit batch sizes; asserts nothing. The load runs in the same process as the server (one
 * machine), so absolute figures are low; the difference between the phases is the point.
 *
 *   node scripts/audit-throughput-measure.ts                  # PostgreSQL (throwaway database)
 *   BACKEND=pglite node scripts/audit-throughput-measure.ts
 *   SECONDS_PER_PHASE=10 CONCURRENCY=32 node scripts/audit-throughput-measure.ts
 */
import { GroupCommitWriter, openStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { clinicalHeaders, startTestRegistry } from '../test/support/harness.ts';
import { validPointer } from '../test/support/pointers.ts';

const SECONDS = Number(process.env.SECONDS_PER_PHASE ?? 8);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const BACKEND = process.env.BACKEND ?? 'postgres';

let store: Store;
let drop = async () => undefined as unknown;
if (BACKEND === 'pglite') {
  store = await openStore({ dataDir: 'memory://' });
} else {
  const database = await (await testBackends()).find((b) => b.name === 'postgres')?.freshDatabaseUrl?.();
  if (!database) throw new Error('PostgreSQL is needed (TEST_DATABASE_URL or 127.0.0.1:5432)');
  store = await openStore({ databaseUrl: database.url, poolSize: 8 });
  drop = database.drop;
}
const t = await startTestRegistry(store);
try {
  const token = await t.token('demo-provider-a');
  for (let i = 0; i < 5; i++) {
    const created = await t.fetch('/producer/FHIR/R4/DocumentReference', {
      method: 'POST',
      headers: { ...clinicalHeaders(token, 'RR8'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify(validPointer({ nhsNumber: '9000000009' })),
    });
    if (created.status !== 201)
      throw new Error(`seed pointer refused: ${created.status} ${await created.text()}`);
  }
  const path =
    '/producer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009';
  const durable = t.registry.audit.writer;
  const skipped = new GroupCommitWriter(async () => undefined);

  async function phase(label: string, writer: GroupCommitWriter) {
    Object.assign(t.registry.audit, { writer });
    const latencies: number[] = [];
    const end = performance.now() + SECONDS * 1000;
    let errors = 0;
    const worker = async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const response = await t.fetch(path, { headers: clinicalHeaders(token, 'RR8') });
        await response.arrayBuffer();
        if (response.status !== 200) errors++;
        latencies.push(performance.now() - started);
      }
    };
    const before = writer.stats();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    const after = writer.stats();
    const batches = after.batches - before.batches;
    const records = after.records - before.records;
    return {
      label,
      rps: latencies.length / SECONDS,
      p50: at(0.5),
      p95: at(0.95),
      errors,
      batches,
      perBatch: batches > 0 ? records / batches : 0,
    };
  }

  await phase('warm-up', durable);
  const results = [];
  for (let round = 0; round < 2; round++) {
    results.push(await phase('audit off (events built, not written)', skipped));
    results.push(await phase('audit on (durable, group commit)', durable));
  }
  console.log(
    `${BACKEND}, ${CONCURRENCY} concurrent clients, ${SECONDS} s per phase, producer search (1 patient, 5 pointers)`,
  );
  for (const r of results) {
    console.log(
      `${r.label.padEnd(40)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms` +
        (r.batches > 0 && r.label.startsWith('audit on')
          ? `  ${r.batches} inserts, ${r.perBatch.toFixed(1)} events per insert`
          : '') +
        (r.errors > 0 ? `  ${r.errors} errors` : ''),
    );
  }
  console.log('Group commit batch sizes (records per insert, whole run):', durable.stats().histogram);
} finally {
  await t.close();
  await drop();
}
