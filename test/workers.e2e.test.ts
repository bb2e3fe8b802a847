/**
 * Issue 15 item 5: several worker processes (`NIR_WORKERS=2`, node:cluster) behind one port,
 * the real process on PostgreSQL. Requests on separate connections are served by both workers;
 * the metrics listener (the primary's) reports the whole group; every worker enforces its share
 * of a rate limit so the two together never exceed the quota; a killed worker is replaced
 * (and logged); SIGTERM to the primary drains every worker and exits 0.
 */
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { clinicalHeaders } from './support/harness.ts';
import { rawRequest } from './support/raw-http.ts';
import {
  demoAccessToken,
  demoAssertion,
  type ServerProcess,
  startServerProcess,
  stopServerProcess,
} from './support/server-process.ts';

const backends = await testBackends();
const postgres = backends.find((b) => b.name === 'postgres');

const SEARCH =
  '/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009';
/** Tokens a minute for one client, for the whole process group (each of 2 workers: 3). */
const TOKEN_LIMIT = 6;

interface LogLine {
  msg?: string;
  worker?: number;
  pid?: number;
  req?: { id?: string; url?: string };
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

async function until(what: string, condition: () => boolean, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The sum of every series of `name` in a Prometheus exposition. */
function total(exposition: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('several workers (NIR_WORKERS=2, PostgreSQL, real process)', () => {
  let running: ServerProcess | undefined;
  let metricsUrl = '';
  let consumer = '';

  /**
   * How many requests each worker logged, of those whose request id starts with `marker` or
   * whose path is `marker` (the log has no query string: it may hold NHS numbers).
   */
  const servedBy = (marker: string): Map<number, number> => {
    const counts = new Map<number, number>();
    for (const line of logLines(running?.output() ?? '')) {
      if (line.worker === undefined || !line.req) continue;
      if (!line.req.id?.startsWith(marker) && line.req.url !== marker) continue;
      counts.set(line.worker, (counts.get(line.worker) ?? 0) + 1);
    }
    return counts;
  };

  beforeAll(async () => {
    if (!postgres) return;
    const database = await postgres.freshDatabaseUrl?.();
    if (!database) throw new Error('no database');
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    running = await startServerProcess((url) => ({
      NIR_PUBLIC_URL: url,
      DATABASE_URL: database.url,
      NIR_DEMO_MODE: 'true',
      NIR_WORKERS: '2',
      NIR_METRICS_PORT: String(metricsPort),
      NIR_TOKEN_LIMIT: String(TOKEN_LIMIT),
      LOG_LEVEL: 'info',
    }));
    expect(running.output()).toContain('2 workers listening');
    consumer = await demoAccessToken(running.url, 'demo-consumer', 'RWY');
  }, 90_000);

  afterAll(async () => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
  });

  it.runIf(postgres)('serves requests on separate connections from both workers, all ready', async () => {
    for (let i = 0; i < 12; i++) {
      const reply = await rawRequest(running?.url ?? '', 'GET', `${SEARCH}&_count=5`, {
        ...clinicalHeaders(consumer, 'RWY', `both-${i}`),
      });
      expect(reply.status).toBe(200);
    }
    for (let i = 0; i < 4; i++)
      expect((await rawRequest(running?.url ?? '', 'GET', '/_ready')).status).toBe(200);
    const served = servedBy('both-');
    expect([...served.keys()].sort()).toEqual([0, 1]);
  });

  it.runIf(postgres)('reports the metrics of the whole group from the primary', async () => {
    const served = servedBy('both-');
    const searches = [...served.values()].reduce((a, b) => a + b, 0);
    const exposition = await (await fetch(metricsUrl)).text();
    // Every search either worker answered, not one worker's share.
    expect(total(exposition, 'nir_http_requests_total', 'base="consumer"')).toBe(searches);
    expect(searches).toBeGreaterThan(Math.max(...served.values()));
    expect(total(exposition, 'nir_workers')).toBe(2);
    expect(total(exposition, 'nir_ready')).toBe(1);
    // Two pools of the default size (4), summed.
    expect(total(exposition, 'nir_db_pool_connections', 'state="total"')).toBeGreaterThan(0);
  });

  it.runIf(postgres)(
    'each worker enforces its share of a rate limit: the group never exceeds the quota',
    async () => {
      const url = running?.url ?? '';
      const statuses: number[] = [];
      for (let i = 0; i < 2 * TOKEN_LIMIT; i++) {
        const assertion = await demoAssertion(url, 'demo-provider-a', 'RR8');
        const reply = await rawRequest(
          url,
          'POST',
          '/oauth2/token',
          { 'content-type': 'application/x-www-form-urlencoded' },
          new URLSearchParams({
            grant_type: 'client_credentials',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          }).toString(),
        );
        statuses.push(reply.status);
      }
      const issued = statuses.filter((s) => s === 200).length;
      expect(issued).toBeLessThanOrEqual(TOKEN_LIMIT);
      expect(issued).toBeGreaterThanOrEqual(TOKEN_LIMIT / 2);
      expect(statuses.filter((s) => s === 429).length).toBe(2 * TOKEN_LIMIT - issued);
      expect([...servedBy('/oauth2/token').keys()].sort()).toEqual([0, 1]);
    },
  );

  it.runIf(postgres)(
    'replaces a worker that dies, and logs it',
    async () => {
      const lines = logLines(running?.output() ?? '');
      const victim = lines.find((line) => line.msg === 'registry listening' && line.worker === 1)?.pid;
      expect(victim).toBeGreaterThan(0);
      process.kill(victim as number, 'SIGKILL');
      await until('the replacement', () =>
        logLines(running?.output() ?? '').some(
          (line) => line.msg === 'registry listening' && line.worker === 1 && line.pid !== victim,
        ),
      );
      expect(running?.output()).toContain('worker died; replacing it');
      for (let i = 0; i < 12; i++) {
        const reply = await rawRequest(running?.url ?? '', 'GET', `${SEARCH}&_count=6`, {
          ...clinicalHeaders(consumer, 'RWY', `after-${i}`),
        });
        expect(reply.status).toBe(200);
      }
      expect([...servedBy('after-').keys()].sort()).toEqual([0, 1]);
      const exposition = await (await fetch(metricsUrl)).text();
      expect(total(exposition, 'nir_worker_restarts_total')).toBe(1);
      expect(total(exposition, 'nir_workers')).toBe(2);
    },
    60_000,
  );

  it.runIf(postgres)(
    'SIGTERM to the primary drains every worker and exits 0',
    async () => {
      if (!running) throw new Error('not running');
      // Searches in flight while the signal arrives: each is answered 200 or refused a connection.
      const inFlight = Array.from({ length: 20 }, (_, i) =>
        rawRequest(running?.url ?? '', 'GET', `${SEARCH}&_count=7`, {
          ...clinicalHeaders(consumer, 'RWY', `term-${i}`),
        }).then(
          (reply) => reply.status,
          () => 0,
        ),
      );
      const code = await stopServerProcess(running);
      expect(code).toBe(0);
      for (const status of await Promise.all(inFlight)) expect([0, 200]).toContain(status);
      const stopping = logLines(running.output()).filter(
        (line) => line.msg === 'stopping' && line.worker !== undefined,
      );
      expect(new Set(stopping.map((line) => line.worker))).toEqual(new Set([0, 1]));
    },
    60_000,
  );
});
