/**
 * Measures the audit export path at scale: inserts 1,000,000 AuditEvents (SQL generate_series
 * from one realistic BALP/PARS event) into a fresh PostgreSQL database, then exports them
 * through the store's streaming reader (keyset chunks, as the Bulk Data files, the subject
 * access NDJSON and `nir audit export` do) to a temporary NDJSON file. Prints elapsed times,
 * rows per second, bytes and the process's peak RSS; asserts nothing.
 *
 *   node scripts/audit-export-measure.ts                 # 1,000,000 events
 *   EVENTS=200000 CHUNK=500 node scripts/audit-export-measure.ts   # fewer events, smaller chunks
 *
 * PostgreSQL comes from TEST_DATABASE_URL or 127.0.0.1:5432 (a throwaway database).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { INTERACTION_KINDS, toAuditEvents } from '@nir/core';
import { AUDIT_CHUNK_SIZE, AuditStore, openStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const BATCH = 100_000;
const CHUNK = Number(process.env.CHUNK ?? AUDIT_CHUNK_SIZE);

type Compiled = Parameters<Store['db']['executeQuery']>[0];

/** A raw statement with parameters (the script has no direct dependency on Kysely). */
function statement(text: string, parameters: unknown[] = []): Compiled {
  return {
    sql: text,
    parameters,
    query: { kind: 'RawNode', sqlFragments: [text], parameters: [] },
    queryId: { queryId: 'audit-export-measure' },
  } as unknown as Compiled;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

const postgres = (await testBackends()).find((b) => b.name === 'postgres');
const database = await postgres?.freshDatabaseUrl?.();
if (!database) throw new Error('PostgreSQL is needed (TEST_DATABASE_URL or 127.0.0.1:5432)');
const dir = await mkdtemp(path.join(tmpdir(), 'nir-audit-measure-'));
const store = await openStore({ databaseUrl: database.url, poolSize: 2 });
try {
  const audit = new AuditStore(store.db);
  const start = new Date(Date.now() - EVENTS * 1000 - 60_000);
  await audit.ensurePartitions(start, 2);
  const [template] = toAuditEvents({
    recorded: start.toISOString(),
    requestId: 'template',
    correlationId: 'corr-template',
    kind: INTERACTION_KINDS.search,
    status: 200,
    client: { clientId: 'demo-consumer', name: 'DEMO EPR of RWY', verified: true },
    requester: { ods: 'RWY', name: 'DEMO Calderdale and Huddersfield', verified: true },
    user: {
      id: '555000000001',
      name: 'Dr Alex Example',
      role: [{ system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000' }],
      purposeOfUse: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
    },
    tokenId: '6f0c3f3e-3b7e-4c1e-9a55-0d7f6e0c2b11',
    callerIp: '10.20.30.40',
    serverUrl: 'https://nir.example.nhs.uk/consumer/FHIR/R4',
    patients: ['9000000009'],
    pointers: [],
    custodians: ['RR8', 'RAE'],
    query: {
      raw: 'GET /consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009',
      description:
        'GET /consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009',
    },
  });
  const templateJson = JSON.stringify(template);
  console.log(`Event size: ${templateJson.length} bytes of JSON`);

  const insertStarted = performance.now();
  for (let from = 1; from <= EVENTS; from += BATCH) {
    const to = Math.min(EVENTS, from + BATCH - 1);
    await store.db.executeQuery(
      statement(
        `INSERT INTO audit_event (id, recorded, request_id, subtype, ihe_transaction, action, outcome,
           client_id, requester_ods, custodian_ods, patient_nhs, resource)
         SELECT e.id, e.recorded, 'measure-' || e.g, 'search-type', 'ITI-67', 'E', '0', 'demo-consumer',
                CASE WHEN e.g % 2 = 0 THEN 'RWY' ELSE 'RR8' END, ARRAY['RR8', 'RAE'], '9000000009',
                jsonb_set(jsonb_set($1::jsonb, '{id}', to_jsonb(e.id::text)), '{recorded}',
                          to_jsonb(to_char(e.recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
         FROM (SELECT g, gen_random_uuid() AS id, $2::timestamptz + g * interval '1 second' AS recorded
               FROM generate_series($3::int, $4::int) AS g) AS e`,
        [templateJson, start.toISOString(), from, to],
      ),
    );
    process.stdout.write(`\rInserted ${to.toLocaleString('en-GB')} events`);
  }
  await store.db.executeQuery(statement('ANALYZE audit_event'));
  const insertSeconds = (performance.now() - insertStarted) / 1000;
  console.log(`\nInsert (SQL generate_series): ${insertSeconds.toFixed(1)} s`);

  const rssBefore = process.resourceUsage().maxRSS;
  for (const [label, query] of [
    ['organisation share (RR8: requester or custodian)', { visibleTo: 'RR8' }],
    ['operator (every event)', {}],
  ] as const) {
    const file = path.join(dir, 'export.ndjson');
    const out = createWriteStream(file);
    const started = performance.now();
    let rows = 0;
    let sampled = 0;
    for await (const chunk of audit.chunks(query, CHUNK)) {
      rows += chunk.length;
      if (!out.write(chunk.map((row) => `${row.json}\n`).join(''))) await once(out, 'drain');
      if (rows - sampled >= 100_000) {
        sampled = rows;
        process.stdout.write(
          `\r  ${label}: ${rows.toLocaleString('en-GB')} rows, RSS now ${mb(process.memoryUsage().rss / 1024)}, heap ${mb(process.memoryUsage().heapUsed / 1024)}`,
        );
      }
    }
    out.end();
    await once(out, 'finish');
    const seconds = (performance.now() - started) / 1000;
    const bytes = (await stat(file)).size;
    console.log(
      `\nExport, ${label}: ${rows.toLocaleString('en-GB')} events, ${(bytes / 1024 / 1024).toFixed(0)} MB NDJSON in ` +
        `${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString('en-GB')} events/s), chunks of ${CHUNK}`,
    );
    await rm(file);
  }
  const rss = process.resourceUsage().maxRSS;
  console.log(`Peak RSS of the process: ${mb(rss)} (before the exports: ${mb(rssBefore)})`);
} finally {
  await store.close();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
