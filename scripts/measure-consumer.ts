/**
 * Measures consumer search latency and prints it (asserts nothing; not a test): 100,000
 * pointers over 2,000 patients (50 each), then sequential HTTP searches of random patients
 * through the whole path (token check, catalogue, parameters, the one SQL statement, the
 * audit event committed before the response), on the embedded database, or on PostgreSQL when
 * DATABASE_URL is set (a scratch database: the script writes 100,000 pointers to it).
 *
 *   node scripts/measure-consumer.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nir_bench node scripts/measure-consumer.ts
 */
import { randomUUID } from 'node:crypto';
import { nhsNumberCheckDigit } from '@nir/core';
import { openStore } from '@nir/store';
import { sql } from 'kysely';
import { clinicalHeaders, startTestRegistry } from '../test/support/harness.ts';
import { validPointer } from '../test/support/pointers.ts';

const PATIENTS = Number(process.env.PATIENTS ?? 2_000);
const PER_PATIENT = Number(process.env.PER_PATIENT ?? 50);
const SEARCHES = Number(process.env.SEARCHES ?? 1_000);
/** The templates' patient, outside the measured ones. */
const TEMPLATE_NHS = '9999999999';
const TYPES = ['https://nicip.nhs.uk|MAULR', 'http://snomed.info/sct|418062002'] as const;

/** The `count` first NHS numbers from 900000001x that pass Modulus 11. */
function nhsNumbers(count: number): string[] {
  const numbers: string[] = [];
  for (let base = 900_000_000; numbers.length < count; base += 1) {
    const check = nhsNumberCheckDigit(String(base));
    if (check !== undefined) numbers.push(`${base}${check}`);
  }
  return numbers;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const store = await openStore(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { dataDir: 'memory://' },
);
const registry = await startTestRegistry(store);
try {
  const patients = nhsNumbers(PATIENTS);
  // One real pointer per type through the writer (facts and all), then copies by SQL.
  const templates: string[] = [];
  for (const type of TYPES) {
    const now = new Date();
    const id = `RR8-${randomUUID()}`;
    await registry.registry.pointers.transaction((w) =>
      w.create(
        { pointer: validPointer({ type, nhsNumber: TEMPLATE_NHS }), id, date: now.toISOString(), now },
        { requestId: 'measure', clientId: 'measure' },
      ),
    );
    templates.push(id);
  }
  let started = performance.now();
  const batch = 100;
  for (let from = 0; from < patients.length; from += batch) {
    const slice = patients.slice(from, from + batch);
    await sql`
      INSERT INTO pointer (nhs_number, id, custodian, type, category, master_identifier, version, created_on,
                           updated_on, resource, search_tokens, date_low, date_high, creation_low, creation_high,
                           period_low, period_high, facts_version)
      SELECT n.nhs, t.new_id, t.custodian, t.type, t.category, t.master_identifier, 1,
             now() - (g * interval '1 hour'), now(),
             replace(replace(t.resource::text, t.id, t.new_id), ${TEMPLATE_NHS}, n.nhs)::json,
             t.search_tokens, t.date_low, t.date_high, t.creation_low, t.creation_high, t.period_low,
             t.period_high, t.facts_version
      FROM unnest(${slice}::text[]) AS n(nhs)
      CROSS JOIN generate_series(1, ${PER_PATIENT}) AS g
      CROSS JOIN LATERAL (
        SELECT p.*, 'RR8-' || md5(n.nhs || '-' || g) AS new_id FROM pointer p
        WHERE p.nhs_number = ${TEMPLATE_NHS} AND p.id = (ARRAY[${sql.join(templates)}])[1 + g % 2]
      ) AS t`.execute(store.db);
  }
  await sql`ANALYZE pointer`.execute(store.db);
  const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM pointer`.execute(store.db);
  console.log(
    `seeded ${rows.rows[0]?.n} pointers (${PATIENTS} patients × ${PER_PATIENT}) on ${store.backend} in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const token = await registry.token('demo-consumer');
  const search = async (nhs: string, how: 'GET' | 'POST' | 'count'): Promise<number> => {
    const subject = `https://fhir.nhs.uk/Id/nhs-number|${nhs}`;
    const t0 = performance.now();
    const response =
      how === 'POST'
        ? await registry.fetch('/consumer/FHIR/R4/DocumentReference/_search', {
            method: 'POST',
            headers: { ...clinicalHeaders(token, 'RWY'), 'content-type': 'application/json' },
            body: JSON.stringify({ 'subject:identifier': subject }),
          })
        : await registry.fetch(
            `/consumer/FHIR/R4/DocumentReference?subject:identifier=${subject}${how === 'count' ? '&_summary=count' : ''}`,
            { headers: clinicalHeaders(token, 'RWY') },
          );
    const body = (await response.json()) as { total?: number; entry?: unknown[] };
    if (response.status !== 200 || body.total !== PER_PATIENT) {
      throw new Error(`search answered ${response.status}, total ${body.total}`);
    }
    if (how !== 'count' && body.entry?.length !== PER_PATIENT) throw new Error('short page');
    return performance.now() - t0;
  };
  for (let i = 0; i < 50; i++) await search(patients[i % patients.length] as string, 'GET'); // warm up
  for (const how of ['GET', 'POST', 'count'] as const) {
    const latencies: number[] = [];
    started = performance.now();
    for (let i = 0; i < SEARCHES; i++) {
      latencies.push(await search(patients[Math.floor(Math.random() * patients.length)] as string, how));
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `consumer ${how === 'count' ? 'count (_summary=count)' : `search ${how}`} on ${store.backend}, sequential, ` +
        `${SEARCHES} random patients with ${PER_PATIENT} pointers among ${PATIENTS * PER_PATIENT}: ` +
        `${(SEARCHES / seconds).toFixed(0)} req/s, p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p95 ${percentile(latencies, 95).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
    );
  }
} finally {
  await registry.close();
}
