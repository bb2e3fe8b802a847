/**
 * Issue 14, point 6: a streamed response is whole or visibly broken. Every streamed route —
 * the Bulk Data export file (NDJSON), the subject access request as a Bundle and as NDJSON —
 * is made to fail after its first chunk (the audit store's chunk reader throws, as it does
 * when the database stops mid-download). The client must see a broken transfer, not a clean
 * 200, and the audit must hold the start (outcome 0) and the failure (12 when the database
 * went away, 8 otherwise) with how many events had been sent. On both databases. (R8, R9)
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@nir/core';
import type { AuditJsonRow, AuditQuery, Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToEnd, waitForEvents } from './support/audit-events.ts';
import { clinicalHeaders, startTestRegistry, type TestRegistry } from './support/harness.ts';

const backends = await testBackends();
const PATIENT = '9000000009';
const BASE = '/audit/FHIR/R4';

/** A failure as node-postgres reports a server shutting down (SQLSTATE 57P01). */
function shutdownError(): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
}

describe.each(backends)('streamed responses that fail midway on $name (issue 14, point 6)', (backend) => {
  let t: TestRegistry;
  let store: Store;
  let token: string;
  let failWith: (() => Error) | undefined;
  const range = () =>
    `date=ge${new Date(Date.now() - 3600_000).toISOString()}&date=lt${new Date(Date.now() + 3600_000).toISOString()}`;

  beforeAll(async () => {
    store = await backend.open();
    t = await startTestRegistry(store, {
      registry: {
        custody: async (ods, nhs) => ods === 'RR8' && nhs === PATIENT,
        auditExportTiming: { settleMs: 0 },
      },
    });
    // Fault injection: the chunk reader yields its first chunk (of 2 events), then fails.
    const audit = t.registry.audit.store;
    const chunks = audit.chunks.bind(audit);
    audit.chunks = async function* (query: AuditQuery): AsyncGenerator<AuditJsonRow[]> {
      let n = 0;
      for await (const chunk of chunks(query, 2)) {
        yield chunk;
        if (failWith && ++n >= 1) throw failWith();
      }
    };
    token = await t.token('demo-audit');
    const consumer = await t.token('demo-consumer');
    // Events to stream: consumer searches of the patient (visible to the subject access request)
    // and the audit client's own searches (visible to RR8's export).
    for (let i = 0; i < 5; i++) {
      await t.fetch(
        `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${PATIENT}`,
        {
          headers: clinicalHeaders(consumer, 'RWY'),
        },
      );
      await t.fetch(`${BASE}/AuditEvent?${range()}`, { headers: clinicalHeaders(token, 'RR8') });
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The request's events once the failure is written: [start, failure]. */
  async function startAndFailure(requestId: string): Promise<[AuditEvent, AuditEvent]> {
    const events = await waitForEvents(store, requestId, 2);
    expect(events).toHaveLength(2);
    return events as [AuditEvent, AuditEvent];
  }

  it('a Bulk Data export file cut by the database: the download errors, the audit says 12 with the count sent', async () => {
    failWith = undefined;
    const kickOff = await t.fetch(`${BASE}/$export?_type=AuditEvent`, {
      headers: { ...clinicalHeaders(token, 'RR8'), prefer: 'respond-async' },
    });
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers.get('content-location') ?? '';
    const manifest = (await (await fetch(statusUrl, { headers: clinicalHeaders(token, 'RR8') })).json()) as {
      output: { url: string }[];
    };
    const fileUrl = manifest.output[0]?.url ?? '';
    expect(fileUrl).toMatch(/\$export-file\//);

    failWith = shutdownError;
    const requestId = crypto.randomUUID();
    const response = await fetch(fileUrl, { headers: clinicalHeaders(token, 'RR8', requestId) });
    expect(response.status).toBe(200);
    const { text, error } = await readToEnd(response);
    expect(error).toBeDefined();
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);

    const [start, failure] = await startAndFailure(requestId);
    expect(start.outcome).toBe('0');
    expect(failure.outcome).toBe('12');
    expect(failure.outcomeDesc).toMatch(/^SERVICE_UNAVAILABLE: The response was cut after 2 events/);
    expect(failure.subtype).toEqual(start.subtype);
  });

  it('a subject access request Bundle cut by the database: no closing bracket, the client errors, audit 12', async () => {
    failWith = shutdownError;
    const requestId = crypto.randomUUID();
    const response = await t.fetch(
      `${BASE}/Patient/$audit?patient.identifier=${NHS_NUMBER_SYSTEM}|${PATIENT}&${range()}`,
      { headers: clinicalHeaders(token, 'RR8', requestId) },
    );
    expect(response.status).toBe(200);
    const { text, error } = await readToEnd(response);
    expect(error).toBeDefined();
    expect(text.startsWith('{"resourceType":"Bundle"')).toBe(true);
    expect(text.endsWith(']}')).toBe(false);
    expect(() => JSON.parse(text)).toThrow();
    const [start, failure] = await startAndFailure(requestId);
    expect(start.outcome).toBe('0');
    expect(failure.outcome).toBe('12');
    expect(failure.outcomeDesc).toMatch(/cut after 2 events: the registry database stopped answering/);
  });

  it('a subject access request as NDJSON cut by an unexpected error: the client errors, audit 8', async () => {
    failWith = () => new Error('a bug');
    const requestId = crypto.randomUUID();
    const response = await t.fetch(
      `${BASE}/Patient/$audit?patient.identifier=${PATIENT}&_format=ndjson&${range()}`,
      { headers: clinicalHeaders(token, 'RR8', requestId) },
    );
    expect(response.status).toBe(200);
    const { error } = await readToEnd(response);
    expect(error).toBeDefined();
    const [start, failure] = await startAndFailure(requestId);
    expect(start.outcome).toBe('0');
    expect(failure.outcome).toBe('8');
    expect(failure.outcomeDesc).toMatch(
      /^INTERNAL_SERVER_ERROR: The response was cut after 2 events: an unexpected error/,
    );
    expect(t.registry.audit.counters.snapshot()['stream-aborted']).toBeGreaterThanOrEqual(3);
  });

  it('a stream that completes is still whole and audited once', async () => {
    failWith = undefined;
    const requestId = crypto.randomUUID();
    const response = await t.fetch(`${BASE}/Patient/$audit?patient.identifier=${PATIENT}&${range()}`, {
      headers: clinicalHeaders(token, 'RR8', requestId),
    });
    const { text, error } = await readToEnd(response);
    expect(error).toBeUndefined();
    expect((JSON.parse(text) as { entry: unknown[] }).entry.length).toBeGreaterThanOrEqual(5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await waitForEvents(store, requestId, 1)).toHaveLength(1);
  });
});
