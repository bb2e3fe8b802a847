/**
 * R7 "audit is never lost": the real server process (`packages/server/src/main.ts`) on
 * PostgreSQL takes a burst of requests — pointer writes (audit in the write's transaction),
 * audit searches and refusals (group commit) and token requests — and is killed with SIGKILL
 * in the middle of it. After a restart, every request that received a response has exactly one
 * AuditEvent.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { auditFacts } from '@nir/core';
import { openStore } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { describe, expect, it } from 'vitest';
import { clinicalHeaders } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';
import { demoAccessToken, type ServerProcess, startServerProcess } from './support/server-process.ts';

const backends = await testBackends();
const postgres = backends.find((b) => b.name === 'postgres');

/** The registry process on `databaseUrl`, in demo mode, logging only fatal errors. */
function startServer(databaseUrl: string): Promise<ServerProcess> {
  return startServerProcess((url) => ({
    NIR_PUBLIC_URL: url,
    DATABASE_URL: databaseUrl,
    NIR_DEMO_MODE: 'true',
    NIR_DB_POOL_SIZE: '8',
    LOG_LEVEL: 'fatal',
  }));
}

const token = demoAccessToken;

const NHS_NUMBERS = ['9000000009', '9278693472', '9995001624', '9785146901', '6700028191'];

describe('audit survives a crash (PostgreSQL, real server process)', () => {
  it.runIf(postgres)(
    'R7: after SIGKILL mid-burst, every request that got a response has its AuditEvent',
    async () => {
      const database = await postgres?.freshDatabaseUrl?.();
      if (!database) throw new Error('no database');
      let running: ServerProcess | undefined;
      try {
        running = await startServer(database.url);
        const { url } = running;
        const provider = await token(url, 'demo-provider-a', 'RR8');
        const audit = await token(url, 'demo-audit', 'RR8');
        const since = encodeURIComponent(new Date(Date.now() - 60_000).toISOString());

        /** One request of the burst, by its number: a write, an audit search, a refusal or a token. */
        const request = async (n: number, requestId: string): Promise<Response> => {
          switch (n % 4) {
            case 0:
              return fetch(`${url}/producer/FHIR/R4/DocumentReference`, {
                method: 'POST',
                headers: {
                  ...clinicalHeaders(provider, 'RR8', requestId),
                  'content-type': 'application/fhir+json',
                },
                body: JSON.stringify(validPointer({ nhsNumber: NHS_NUMBERS[n % NHS_NUMBERS.length] })),
              });
            case 1:
              return fetch(`${url}/audit/FHIR/R4/AuditEvent?date=ge${since}&date=lt2100-01-01&_count=5`, {
                headers: clinicalHeaders(audit, 'RR8', requestId),
              });
            case 2:
              return fetch(`${url}/consumer/FHIR/R4/DocumentReference`, {
                headers: clinicalHeaders(`${provider}x`, 'RWY', requestId),
              });
            default:
              return fetch(`${url}/oauth2/token`, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': requestId },
                body: 'grant_type=client_credentials',
              });
          }
        };

        const answered = new Map<string, number>();
        let failed = 0;
        let next = 0;
        const total = 2000;
        const child = running.child;
        let killed = false;
        const worker = async () => {
          while (next < total) {
            const n = next++;
            const requestId = `crash-${n}`;
            try {
              const response = await request(n, requestId);
              await response.arrayBuffer();
              answered.set(requestId, response.status);
              // Kill in the middle of the burst, with requests in flight.
              if (answered.size === 300 && !killed) {
                killed = true;
                child.kill('SIGKILL');
              }
            } catch {
              failed++;
            }
          }
        };
        await Promise.all(Array.from({ length: 32 }, worker));
        await running.exited;
        expect(killed).toBe(true);
        expect(failed).toBeGreaterThan(0);

        // Restart on the same database: the server comes back and the audit is all there.
        running = await startServer(database.url);
        const store = await openStore({ databaseUrl: database.url, migrate: false });
        try {
          const rows = await store.db
            .selectFrom('audit_event')
            .select(['request_id', 'resource'])
            .where('request_id', 'like', 'crash-%')
            .execute();
          const counts = new Map<string, number>();
          for (const row of rows)
            counts.set(row.request_id ?? '', (counts.get(row.request_id ?? '') ?? 0) + 1);
          const missing = [...answered.keys()].filter((id) => !counts.has(id));
          expect(missing, `${missing.length} answered requests without audit`).toEqual([]);
          for (const id of answered.keys()) expect(counts.get(id), id).toBe(1);
          // The recorded outcome is the one the client saw.
          for (const row of rows) {
            const status = answered.get(row.request_id ?? '');
            if (status === undefined) continue;
            expect(auditFacts(row.resource as AuditEvent).outcome, String(row.request_id)).toBe(
              status < 400 ? '0' : '4',
            );
          }
          expect([...answered.values()].some((s) => s === 201)).toBe(true);
          expect([...answered.values()].some((s) => s >= 400)).toBe(true);
        } finally {
          await store.close();
        }
      } finally {
        running?.child.kill('SIGKILL');
        await running?.exited;
        await database.drop();
      }
    },
    120_000,
  );
});
