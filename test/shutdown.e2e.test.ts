/**
 * R16 graceful shutdown: the real server process (`packages/server/src/main.ts`) on PostgreSQL
 * takes a burst of pointer writes (audit in the write's transaction) and searches (audit by group
 * commit), and is sent SIGTERM in the middle of it. It stops being ready, finishes what it has in
 * flight, commits the audit batches and exits 0; nothing is lost: every 2xx response has its
 * data and its AuditEvent.
 */
import { openStore } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { describe, expect, it } from 'vitest';
import { clinicalHeaders } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';
import { demoAccessToken, type ServerProcess, startServerProcess } from './support/server-process.ts';

const backends = await testBackends();
const postgres = backends.find((b) => b.name === 'postgres');

const token = demoAccessToken;

const NHS_NUMBERS = ['9000000009', '9278693472', '9995001624', '9785146901', '6700028191'];

describe('graceful shutdown (PostgreSQL, real server process)', () => {
  it.runIf(postgres)(
    'R16: SIGTERM during a burst loses nothing — every 2xx has its data and its AuditEvent, and the process exits 0',
    async () => {
      const database = await postgres?.freshDatabaseUrl?.();
      if (!database) throw new Error('no database');
      let running: ServerProcess | undefined;
      try {
        running = await startServerProcess((url) => ({
          NIR_PUBLIC_URL: url,
          DATABASE_URL: database.url,
          NIR_DEMO_MODE: 'true',
          NIR_DB_POOL_SIZE: '8',
          LOG_LEVEL: 'fatal',
        }));
        const { url, child } = running;
        expect((await fetch(`${url}/_ready`)).status).toBe(200);
        const provider = await token(url, 'demo-provider-a', 'RR8');
        const consumer = await token(url, 'demo-consumer', 'RWY');

        const request = (n: number, requestId: string): Promise<Response> =>
          n % 2 === 0
            ? fetch(`${url}/producer/FHIR/R4/DocumentReference`, {
                method: 'POST',
                headers: {
                  ...clinicalHeaders(provider, 'RR8', requestId),
                  'content-type': 'application/fhir+json',
                },
                body: JSON.stringify(validPointer({ nhsNumber: NHS_NUMBERS[n % NHS_NUMBERS.length] })),
              })
            : fetch(
                `${url}/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS_NUMBERS[n % NHS_NUMBERS.length]}`,
                { headers: clinicalHeaders(consumer, 'RWY', requestId) },
              );

        const answered = new Map<string, { status: number; location: string | null; afterTerm: boolean }>();
        let refused = 0;
        let next = 0;
        let terminatedAt: number | undefined;
        const total = 3000;
        const worker = async () => {
          while (next < total && child.exitCode === null) {
            const n = next++;
            const requestId = `term-${n}`;
            try {
              const response = await request(n, requestId);
              await response.arrayBuffer();
              answered.set(requestId, {
                status: response.status,
                location: response.headers.get('location'),
                afterTerm: terminatedAt !== undefined,
              });
              if (answered.size === 200 && terminatedAt === undefined) {
                terminatedAt = Date.now();
                child.kill('SIGTERM');
              }
            } catch {
              refused++;
            }
          }
        };
        await Promise.all(Array.from({ length: 24 }, worker));
        const code = await running.exited;
        expect(terminatedAt).toBeDefined();
        expect(code, running.output()).toBe(0);
        const ok = [...answered.entries()].filter(([, a]) => a.status >= 200 && a.status < 300);
        // Requests already in flight when SIGTERM arrived were answered, not dropped.
        expect(ok.filter(([, a]) => a.afterTerm).length).toBeGreaterThan(0);
        expect(ok.length).toBeGreaterThan(200);
        expect(refused + answered.size).toBeGreaterThan(200);

        const store = await openStore({ databaseUrl: database.url, migrate: false });
        try {
          const audited = new Set(
            (
              await store.db
                .selectFrom('audit_event')
                .select('request_id')
                .where('request_id', 'like', 'term-%')
                .execute()
            ).map((r) => r.request_id),
          );
          const missing = ok.filter(([id]) => !audited.has(id)).map(([id]) => id);
          expect(missing, `${missing.length} 2xx responses without their AuditEvent`).toEqual([]);
          const created = ok
            .filter(([, a]) => a.status === 201)
            .map(([, a]) => a.location?.split('/').pop() ?? '');
          expect(created.length).toBeGreaterThan(50);
          const stored = new Set(
            (
              await store.db.selectFrom('pointer_locator').select('id').where('id', 'in', created).execute()
            ).map((r) => r.id),
          );
          expect(created.filter((id) => !stored.has(id))).toEqual([]);
        } finally {
          await store.close();
        }
      } finally {
        if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
        await running?.exited;
        await database.drop();
      }
    },
    120_000,
  );
});
