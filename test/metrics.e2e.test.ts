/**
 * R16 metrics and readiness over real HTTP: the metrics listener is separate from the public
 * one, every family the operations guide documents is there after traffic, and every label value
 * of every `nir_` series is in its bounded domain (no NHS number, id or free text, whatever the
 * requests carried). `/_ready` says ready, then not while draining.
 */
import { LABEL_DOMAINS } from '@nir/server';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalHeaders, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';

const backends = await testBackends();

/** One series of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): { samples: Sample[]; families: Set<string> } {
  const samples: Sample[] = [];
  const families = new Set<string>();
  for (const line of text.split('\n')) {
    const help = /^# HELP (\S+) /.exec(line);
    if (help?.[1]) families.add(help[1]);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { samples, families };
}

/** The label names of each `nir_` family's series (histogram series add `le`). */
const LABEL_SETS: Record<string, string[]> = {
  nir_http_requests_total: ['base', 'code', 'interaction', 'status'],
  nir_http_request_duration_seconds: ['base', 'interaction'],
  nir_db_statement_duration_seconds: ['outcome'],
  nir_audit_batch_records: [],
  nir_audit_batch_duration_seconds: ['outcome'],
  nir_tokens_total: ['outcome'],
  nir_rate_limit_refusals_total: ['scope'],
  nir_db_pool_connections: ['state'],
  nir_catalogue_version: [],
  nir_ready: [],
  nir_replica_reads_total: [],
  nir_replica_fallbacks_total: ['reason'],
  nir_replica_lag_seconds: [],
};

/** Families served only when a replica is configured (test/replica.e2e.test.ts scrapes them). */
const REPLICA_ONLY = new Set(['nir_replica_lag_seconds']);

function family(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

describe.each(backends)('metrics and readiness on $name', (backend) => {
  let t: TestRegistry;
  let metricsUrl: string;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    const port = await t.registry.listenMetrics(0, '127.0.0.1');
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('R16: after traffic, every documented family is served on the metrics listener with bounded labels only', async () => {
    const consumer = await t.token('demo-consumer');
    const provider = await t.token('demo-provider-a');
    const nhs = '9000000009';
    const secretId = crypto.randomUUID();
    const requestIds: string[] = [];
    const headers = (token: string, ods: string) => {
      const id = crypto.randomUUID();
      requestIds.push(id);
      return clinicalHeaders(token, ods, id);
    };
    const created = await t.fetch('/producer/FHIR/R4/DocumentReference', {
      method: 'POST',
      headers: { ...headers(provider, 'RR8'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify(validPointer({ nhsNumber: nhs })),
    });
    expect(created.status).toBe(201);
    const calls: [string, RequestInit][] = [
      [
        `/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
        { headers: headers(consumer, 'RWY') },
      ],
      [`/consumer/FHIR/R4/DocumentReference/${secretId}`, { headers: headers(consumer, 'RWY') }],
      [
        `/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|12345`,
        { headers: headers(consumer, 'RWY') },
      ],
      [`/consumer/FHIR/R4/Patient/${nhs}?free=some%20text`, { headers: headers(consumer, 'RWY') }],
      [`/producer/FHIR/R4/DocumentReference/${secretId}`, { headers: headers(`${provider}x`, 'RR8') }],
      [`/no/such/${secretId}`, {}],
      ['/_status', {}],
      ['/_ready', {}],
      ['/.well-known/smart-configuration', {}],
    ];
    for (const [path, init] of calls) await (await t.fetch(path, init)).arrayBuffer();
    await (await t.requestToken({ grant_type: 'client_credentials' })).arrayBuffer();

    // Not on the public listener.
    expect((await t.fetch('/metrics')).status).toBe(404);
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const { samples, families } = parseExposition(text);

    for (const name of Object.keys(LABEL_SETS))
      if (!REPLICA_ONLY.has(name)) expect(families, name).toContain(name);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(families, name).toContain(name);

    // Every nir_ series: the documented label names, each value in its domain.
    const nir = samples.filter((s) => s.name.startsWith('nir_'));
    for (const sample of nir) {
      const expected = LABEL_SETS[family(sample.name)];
      expect(expected, sample.name).toBeDefined();
      const names = Object.keys(sample.labels)
        .filter((k) => k !== 'le')
        .sort();
      expect(names, sample.name).toEqual(expected);
      for (const [key, value] of Object.entries(sample.labels)) {
        const domain = LABEL_DOMAINS[key];
        expect(domain, `label ${key}`).toBeDefined();
        expect(domain?.(value), `${sample.name}{${key}="${value}"}`).toBe(true);
      }
    }
    // The label sets actually seen, enumerated: all from the bounded domains above.
    const requestSets = new Set(
      nir.filter((s) => s.name === 'nir_http_requests_total').map((s) => JSON.stringify(s.labels)),
    );
    expect(requestSets.size).toBeGreaterThan(5);
    const bases = new Set(nir.filter((s) => s.name === 'nir_http_requests_total').map((s) => s.labels.base));
    for (const base of ['producer', 'consumer', 'token', 'other', 'health', 'discovery'])
      expect(bases).toContain(base);
    const value = (name: string, labels: Record<string, string>) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((n, s) => n + s.value, 0);
    expect(value('nir_http_requests_total', { base: 'producer', interaction: 'create', status: '201' })).toBe(
      1,
    );
    expect(
      value('nir_http_requests_total', { base: 'consumer', code: 'NO_RECORD_FOUND' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value('nir_tokens_total', { outcome: 'issued' })).toBe(2);
    expect(value('nir_tokens_total', { outcome: 'refused' })).toBe(1);
    expect(value('nir_audit_batch_records_count', {})).toBeGreaterThan(0);
    expect(value('nir_db_statement_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(value('nir_catalogue_version', {})).toBeGreaterThan(0);
    if (backend.name === 'postgres')
      expect(value('nir_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);

    // Nothing a request carried reaches the metrics.
    for (const secret of [nhs, secretId, 'some text', ...requestIds]) expect(text).not.toContain(secret);
  });

  it('R16: /_ready is 200 with its checks while ready, 503 while draining (and nir_ready follows)', async () => {
    const ready = await t.fetch('/_ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { database: true, migrations: true, signingKeys: true, notDraining: true },
    });
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^nir_ready 1$/m);
    t.registry.readiness.drain();
    const draining = await t.fetch('/_ready');
    expect(draining.status).toBe(503);
    const outcome = (await draining.json()) as { issue: { diagnostics: string }[] };
    expect(outcome.issue[0]?.diagnostics).toBe('Not ready: notDraining');
    // Liveness is unchanged: the process and its database still answer.
    expect((await t.fetch('/_status')).status).toBe(200);
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^nir_ready 0$/m);
  });
});
