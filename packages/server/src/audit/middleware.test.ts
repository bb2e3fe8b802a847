import type { Server } from 'node:http';
import type { AuditEvent } from '@medplum/fhirtypes';
import { auditFacts } from '@nir/core';
import {
  type AuditExecutor,
  type AuditExportJobs,
  type AuditStore,
  type CatalogueRepository,
  GroupCommitWriter,
} from '@nir/store';
import express, { Router } from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessTokens } from '../auth/access-token.ts';
import { errorHandler } from '../http/errors.ts';
import { requestIds } from '../http/request-ids.ts';
import { sendFhir } from '../http/respond.ts';
import { auditOf } from './context.ts';
import { auditTrail } from './middleware.ts';
import { type AuditScope, fhirScope } from './scopes.ts';
import { AuditService } from './service.ts';

/** A fake audit backend: batches are held until released (or failed) by the test. */
function backend(options: { stored?: boolean } = {}) {
  const logs: { msg?: string; requestId?: string }[] = [];
  const batches: AuditEvent[][] = [];
  const within: { events: AuditEvent[]; executor: unknown }[] = [];
  const gates: { release: () => void; fail: (e: Error) => void }[] = [];
  let auto = true;
  const insert = (events: AuditEvent[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(events);
      if (auto) resolve();
      else gates.push({ release: resolve, fail: reject });
    });
  const store = {
    insert: async (events: AuditEvent[], executor: unknown) => {
      within.push({ events, executor });
    },
    exists: async () => options.stored ?? false,
  } as unknown as AuditStore;
  const service = new AuditService({
    store,
    writer: new GroupCommitWriter(insert),
    jobs: {} as unknown as AuditExportJobs,
    custody: async () => false,
    tokens: {
      verify: async () => {
        throw new Error('no token');
      },
    } as unknown as AccessTokens,
    catalogue: { getClient: async () => undefined } as unknown as CatalogueRepository,
    publicUrl: 'http://nir.test',
    logger: pino({ level: 'error' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
  });
  return {
    service,
    logs,
    batches,
    within,
    gates,
    hold: () => {
      auto = false;
    },
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** What a request logger (`req.log`) was told, when a test gives the requests one. */
type RequestLog = { level: 'warn' | 'error'; fields: object; msg: string }[];

async function serve(
  service: AuditService,
  mount: (router: Router) => void,
  scope: AuditScope = fhirScope,
  requestLog?: RequestLog,
): Promise<string> {
  const app = express();
  app.use(requestIds);
  if (requestLog) {
    app.use((req, _res, next) => {
      const log = (level: 'warn' | 'error') => (fields: object, msg: string) =>
        requestLog.push({ level, fields, msg });
      (req as unknown as { log: object }).log = { warn: log('warn'), error: log('error') };
      next();
    });
  }
  const router = Router();
  router.use(auditTrail(service, scope));
  mount(router);
  app.use('/consumer/FHIR/R4', router);
  app.use(errorHandler);
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/consumer/FHIR/R4`;
}

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `ready()` (the request reached the audit writer), however loaded the machine is. */
async function until(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await tick(5);
  }
  await tick(); // and a little longer, so a response that should be held would have arrived
}
const headers = { 'x-request-id': 'req-1' };

describe('audit middleware', () => {
  it('holds the response until its audit is committed', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.get('/thing', (_req, res) => {
        res.setHeader('ETag', 'W/"1"');
        sendFhir(res, 200, { resourceType: 'Basic' });
      }),
    );
    let settled = false;
    const pending = fetch(`${url}/thing`, { headers }).then((r) => {
      settled = true;
      return r;
    });
    await until(() => b.gates.length > 0);
    expect(b.batches).toHaveLength(1);
    expect(settled).toBe(false);
    b.gates[0]?.release();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ resourceType: 'Basic' });
    const facts = auditFacts(b.batches[0]?.[0] as AuditEvent);
    expect(facts).toMatchObject({ requestId: 'req-1', subtype: 'read', action: 'R', outcome: '0' });
  });

  it('replaces the response with a 500 when the audit cannot be written', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.post('/thing', (_req, res) => {
        res.setHeader('Location', 'http://nir.test/x/1');
        res.setHeader('ETag', 'W/"1"');
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        sendFhir(res, 201, { resourceType: 'Basic' });
      }),
    );
    const pending = fetch(`${url}/thing`, { method: 'POST', headers });
    await until(() => b.gates.length > 0);
    b.gates[0]?.fail(new Error('database down: relation audit_event'));
    const response = await pending;
    expect(response.status).toBe(500);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('x-request-id')).toBe('req-1');
    // Issue 14 point 11: the 500 keeps the security headers the response had.
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = JSON.stringify(await response.json());
    expect(body).toContain('INTERNAL_SERVER_ERROR');
    expect(body).not.toContain('audit_event');
  });

  it('issue 14: answers 503 with Retry-After when the database is away, and keeps the 503 event for later', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.get('/thing', (_req, res) => sendFhir(res, 200, { resourceType: 'Basic' })),
    );
    const pending = fetch(`${url}/thing`, { headers });
    await until(() => b.gates.length > 0);
    b.gates[0]?.fail(new Error('Connection terminated unexpectedly'));
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(JSON.stringify(await response.json())).toContain('SERVICE_UNAVAILABLE');
    await until(() => b.service.deferred.size > 0);
    expect(b.service.counters.snapshot()['audit-deferred']).toBe(1);
    b.service.deferred.stop();
  });

  it('records a streamed response before its first byte, and passes the stream through whole', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.get('/stream', async (_req, res) => {
        res.status(200).type('application/fhir+ndjson');
        for (const line of ['{"a":1}\n', '{"a":2}\n', '{"a":3}\n']) {
          if (!res.write(line)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
      }),
    );
    let headersArrived = false;
    const pending = fetch(`${url}/stream`, { headers }).then((r) => {
      headersArrived = true;
      return r;
    });
    await until(() => b.gates.length > 0);
    expect(headersArrived).toBe(false);
    expect(b.batches).toHaveLength(1);
    b.gates[0]?.release();
    const response = await pending;
    expect(await response.text()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(b.batches).toHaveLength(1);
  });

  it('a stream whose audit fails before the first byte becomes a 500', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.get('/stream', async (_req, res) => {
        res.status(200).type('application/fhir+ndjson');
        if (!res.write('{"secret":1}\n')) {
          await new Promise((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
        if (!res.writableEnded) res.end();
      }),
    );
    const pending = fetch(`${url}/stream`, { headers });
    await until(() => b.gates.length > 0);
    b.gates[0]?.fail(new Error('down'));
    const response = await pending;
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('secret');
  });

  it('recordWithin: the write transaction holds the only event of a success', async () => {
    const b = backend();
    const executor = { isTransaction: true } as unknown as AuditExecutor;
    const url = await serve(b.service, (r) =>
      r.post('/write', async (_req, res) => {
        const audit = auditOf(res);
        audit.describe({ subtype: 'create', action: 'C' });
        audit.pointer({ id: 'RR8-1', custodian: 'RR8', nhsNumber: '9000000009', versionAfter: 1 });
        await audit.recordWithin(executor, 201);
        sendFhir(res, 201, { id: 'RR8-1' });
      }),
    );
    expect((await fetch(`${url}/write`, { method: 'POST', headers })).status).toBe(201);
    expect(b.within).toHaveLength(1);
    expect(b.within[0]?.executor).toBe(executor);
    expect(auditFacts(b.within[0]?.events[0] as AuditEvent)).toMatchObject({ action: 'C', outcome: '0' });
    expect(b.batches).toHaveLength(0);
  });

  it('recordWithin then a rollback: the failure is recorded instead, exactly once', async () => {
    const b = backend({ stored: false });
    const url = await serve(b.service, (r) =>
      r.post('/write', async (_req, res) => {
        const audit = auditOf(res);
        audit.describe({ subtype: 'update', action: 'U' });
        audit.pointer({ id: 'RR8-1', custodian: 'RR8', versionBefore: 1, versionAfter: 2 });
        await audit.recordWithin({} as AuditExecutor, 200);
        throw new Error('serialization failure');
      }),
    );
    expect((await fetch(`${url}/write`, { method: 'POST', headers })).status).toBe(500);
    expect(b.batches).toHaveLength(1);
    const event = b.batches[0]?.[0] as AuditEvent;
    expect(auditFacts(event)).toMatchObject({ action: 'U', outcome: '8', custodianOds: ['RR8'] });
    expect(event.outcomeDesc).toMatch(/^INTERNAL_SERVER_ERROR/);
  });

  it('recordWithin committed but the response failed afterwards: no second event', async () => {
    const b = backend({ stored: true });
    const url = await serve(b.service, (r) =>
      r.post('/write', async (_req, res) => {
        await auditOf(res).recordWithin({} as AuditExecutor, 201);
        throw new Error('after commit');
      }),
    );
    expect((await fetch(`${url}/write`, { method: 'POST', headers })).status).toBe(500);
    await tick();
    expect(b.batches).toHaveLength(0);
  });

  it('does not audit discovery and health', async () => {
    const b = backend();
    const url = await serve(b.service, (r) => {
      r.get('/metadata', (_req, res) => sendFhir(res, 200, {}));
      r.get('/_status', (_req, res) => sendFhir(res, 200, 'OK'));
    });
    await fetch(`${url}/metadata`);
    await fetch(`${url}/_status`);
    expect(b.batches).toHaveLength(0);
  });

  it('records a refusal before any route as request-refused, with its error code and the patient asked about', async () => {
    const b = backend();
    const url = await serve(b.service, () => undefined);
    const response = await fetch(
      `${url}/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009`,
      {
        headers: { ...headers, authorization: 'Bearer abc.def.ghi', 'nhsd-end-user-organisation-ods': 'RR8' },
      },
    );
    expect(response.status).toBe(404);
    const event = b.batches[0]?.[0] as AuditEvent;
    expect(auditFacts(event)).toMatchObject({
      subtype: 'request-refused',
      action: 'R',
      outcome: '4',
      patientNhs: '9000000009',
      requesterOds: null,
    });
    expect(event.outcomeDesc).toMatch(/^HTTP_404|^NO_RECORD_FOUND/);
  });

  it('records a request the client abandons before the response', async () => {
    const b = backend();
    let reached: () => void = () => undefined;
    const handled = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const url = await serve(b.service, (r) =>
      r.get('/slow', (_req, _res) => {
        reached();
        // Never answers.
      }),
    );
    const controller = new AbortController();
    const pending = fetch(`${url}/slow`, { headers, signal: controller.signal }).catch(() => 'aborted');
    await handled;
    controller.abort();
    expect(await pending).toBe('aborted');
    for (let i = 0; i < 50 && b.batches.length === 0; i++) await tick(10);
    const event = b.batches[0]?.[0] as AuditEvent;
    expect(auditFacts(event).outcome).toBe('4');
    expect(event.outcomeDesc).toMatch(/^CLIENT_CLOSED_REQUEST/);
  });

  // Killers of mutants that survived `pnpm test:mutation audit-middleware` (docs/MUTATION.md).
  it('hands the audit the body sent whole, as text, whether a string or bytes (none for a stream)', async () => {
    const b = backend();
    const bodies: (string | undefined)[] = [];
    const capturing: AuditScope = {
      ...fhirScope,
      build: (service, input) => {
        bodies.push(input.body);
        return fhirScope.build(service, input);
      },
    };
    const url = await serve(
      b.service,
      (r) => {
        r.get('/text', (_req, res) => res.end('{"as":"text"}'));
        r.get('/bytes', (_req, res) => res.end(Buffer.from('{"as":"bytes"}')));
        r.get('/nothing', (_req, res) => res.end());
      },
      capturing,
    );
    for (const path of ['/text', '/bytes', '/nothing']) {
      const response = await fetch(`${url}${path}`, { headers });
      await response.text();
    }
    expect(bodies).toEqual(['{"as":"text"}', '{"as":"bytes"}', undefined]);
  });

  it('the 500 that replaces an unaudited response keeps X-Request-Id and X-Correlation-Id only, and logs the failure', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.get('/thing', (_req, res) => {
        res.setHeader('X-Other', 'dropped');
        sendFhir(res, 200, { resourceType: 'Basic' });
      }),
    );
    const pending = fetch(`${url}/thing`, { headers: { ...headers, 'x-correlation-id': 'corr-1' } });
    await until(() => b.gates.length > 0);
    b.gates[0]?.fail(new Error('down'));
    const response = await pending;
    expect(response.status).toBe(500);
    expect(response.headers.get('x-request-id')).toBe('req-1');
    expect(response.headers.get('x-correlation-id')).toBe('corr-1');
    expect(response.headers.get('x-other')).toBeNull();
    expect(b.logs).toEqual([expect.objectContaining({ msg: 'audit write failed', requestId: 'req-1' })]);
  });

  it('a response whose headers have left when its audit fails is cut off, never completed', async () => {
    const b = backend();
    b.hold();
    const url = await serve(b.service, (r) =>
      r.get('/flushed', (_req, res) => {
        res.status(200).type('application/fhir+ndjson');
        res.flushHeaders();
        res.end('{"secret":1}\n');
      }),
    );
    const response = await fetch(`${url}/flushed`, { headers });
    expect(response.status).toBe(200);
    await until(() => b.gates.length > 0);
    b.gates[0]?.fail(new Error('down'));
    await expect(response.text()).rejects.toThrow();
  });

  it('a scope without skip audits every request', async () => {
    const b = backend();
    const { skip: _skip, ...everything } = fhirScope;
    const url = await serve(
      b.service,
      (r) => r.get('/metadata', (_req, res) => sendFhir(res, 200, {})),
      everything,
    );
    expect((await fetch(`${url}/metadata`, { headers })).status).toBe(200);
    expect(b.batches).toHaveLength(1);
  });

  it('a response that differs from the committed write is not an audit failure (nothing logged, no event)', async () => {
    const b = backend({ stored: true });
    const url = await serve(b.service, (r) =>
      r.post('/write', async (_req, res) => {
        await auditOf(res).recordWithin({} as AuditExecutor, 201);
        sendFhir(res, 200, { resourceType: 'Basic' });
      }),
    );
    const response = await fetch(`${url}/write`, { method: 'POST', headers });
    expect(response.status).toBe(200);
    await tick();
    expect(b.batches).toHaveLength(0);
    expect(b.logs).toEqual([]);
  });

  it('tells the request logger why: a response that differs from its committed write, an audit that failed', async () => {
    const requestLog: RequestLog = [];
    const b = backend({ stored: true });
    const url = await serve(
      b.service,
      (r) => {
        r.post('/write', async (_req, res) => {
          await auditOf(res).recordWithin({} as AuditExecutor, 201);
          sendFhir(res, 200, { resourceType: 'Basic' });
        });
        r.get('/thing', (_req, res) => sendFhir(res, 200, { resourceType: 'Basic' }));
      },
      fhirScope,
      requestLog,
    );
    expect((await fetch(`${url}/write`, { method: 'POST', headers })).status).toBe(200);
    expect(requestLog).toEqual([
      {
        level: 'warn',
        fields: { status: 200, recordedStatus: 201 },
        msg: 'response differs from the audited write',
      },
    ]);
    b.hold();
    const pending = fetch(`${url}/thing`, { headers });
    await until(() => b.gates.length > 0);
    const failure = new Error('down');
    b.gates[0]?.fail(failure);
    expect((await pending).status).toBe(500);
    expect(requestLog[1]).toEqual({
      level: 'error',
      fields: { err: failure },
      msg: 'audit write failed: the response is refused',
    });
  });
});
