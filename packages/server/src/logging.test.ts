import { Writable } from 'node:stream';
import express, { type RequestHandler } from 'express';
import pino from 'pino';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { requestIds } from './http/request-ids.ts';
import { requestLogger, safeErrorSerializer } from './logging.ts';

/** A pino logger whose lines are kept in `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line.length > 0),
      );
      callback();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

function appWith(handler: RequestHandler) {
  const { lines, logger } = capturingLogger();
  const app = express();
  app.use(requestLogger(logger));
  app.use(requestIds);
  app.get('/thing', handler);
  return { app, lines };
}

const SECRET_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.secret-bearer-token.signature';
const SECRET_QUERY = 'secret-query-value-42';

/** Waits for the request's log line (written when the response finishes), then a little more for extras. */
async function logged(lines: string[]): Promise<Record<string, unknown>[]> {
  await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0), { timeout: 2000 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('requestLogger', () => {
  it('writes one line per request with ids, client, organisation, status and duration, and no secrets', async () => {
    const { app, lines } = appWith((_req, res) => {
      res.locals.principal = { clientId: 'c1', odsCode: 'RR8' };
      res.status(200).json({ ok: true });
    });

    const response = await request(app)
      .get(`/thing?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009&token=${SECRET_QUERY}`)
      .set('X-Request-Id', 'abc')
      .set('X-Correlation-Id', 'corr-1')
      .set('Authorization', `Bearer ${SECRET_TOKEN}`);
    expect(response.status).toBe(200);

    const entries = await logged(lines);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry).toMatchObject({
      level: 30,
      requestId: 'abc',
      correlationId: 'corr-1',
      clientId: 'c1',
      ods: 'RR8',
      req: { method: 'GET', url: '/thing' },
      res: { statusCode: 200 },
    });
    expect(typeof entry?.responseTime).toBe('number');
    expect(entry?.msg).toMatch(/^GET 200 \d+ms$/);

    const line = lines[0] ?? '';
    expect(line.toLowerCase()).not.toContain('authorization');
    expect(line).not.toContain(SECRET_TOKEN);
    expect(line).not.toContain('Bearer');
    expect(line).not.toContain(SECRET_QUERY);
    expect(line).not.toContain('9000000009');
    expect(line).not.toContain('?');
  });

  it('does not take an unsafe X-Request-Id as the request id', async () => {
    const { app, lines } = appWith((_req, res) => {
      res.status(204).end();
    });
    await request(app).get('/thing').set('X-Request-Id', 'forged id');
    const entries = await logged(lines);
    expect(entries).toHaveLength(1);
    expect(entries[0]).not.toHaveProperty('requestId');
    expect(entries[0]).not.toHaveProperty('clientId');
    expect(entries[0]?.res).toEqual({ statusCode: 204 });
    expect(lines.join('')).not.toContain('forged');
  });

  // The module promises one line per request *with request id*; genReqId makes one up when the
  // caller sent none (the token endpoint and /_status do not require X-Request-Id), so that the
  // request line and the lines logged through req.log (e.g. 'token request refused') correlate.
  it('logs a generated request id when the caller sent none', async () => {
    const { app, lines } = appWith((req, res) => {
      req.log.info('handler line');
      res.status(204).end();
    });
    await request(app).get('/thing');
    await vi.waitFor(() => expect(lines.length).toBe(2), { timeout: 2000 });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ids = entries.map((entry) => {
      const req = entry.req as { id?: unknown } | undefined;
      return entry.reqId ?? entry.requestId ?? req?.id;
    });
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  // The token endpoint logs its refusal reason through req.log and promises it is 'logged with
  // the request id' (token-endpoint.ts), so a handler's req.log line must carry the X-Request-Id.
  it('puts the request id on lines a handler logs through req.log', async () => {
    const { app, lines } = appWith((req, res) => {
      req.log.info({ reason: 'jti replayed' }, 'token request refused');
      res.status(401).end();
    });
    await request(app).get('/thing').set('X-Request-Id', 'abc');
    await vi.waitFor(() => expect(lines.length).toBe(2), { timeout: 2000 });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const refusal = entries.find((entry) => entry.msg === 'token request refused');
    expect(refusal).toMatchObject({ reason: 'jti replayed' });
    const req = refusal?.req as { id?: unknown } | undefined;
    expect(refusal?.requestId ?? refusal?.reqId ?? req?.id).toBe('abc');
  });

  it('logs the client of a token request and the error code of a refusal', async () => {
    const { app, lines } = appWith((_req, res) => {
      res.locals.clientId = 'token-client';
      res.locals.outcome = { issues: [{ code: 'ACCESS_DENIED' }] };
      res.status(401).json({ error: 'invalid_client' });
    });
    await request(app).get('/thing').set('X-Request-Id', 'r-401');
    const entries = await logged(lines);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      level: 30,
      requestId: 'r-401',
      clientId: 'token-client',
      errorCode: 'ACCESS_DENIED',
      res: { statusCode: 401 },
    });
  });

  it('logs a server failure at error level', async () => {
    const { app, lines } = appWith((_req, res) => {
      res.status(503).end();
    });
    await request(app).get('/thing').set('X-Request-Id', 'r-503');
    const entries = await logged(lines);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 50, requestId: 'r-503', msg: 'GET 503 failed' });
  });
});

describe('safeErrorSerializer (issue 14 point 5: no request body in the log, ever)', () => {
  const body = 'client_assertion=eyJ.secret.sig&nhs=9434765919';

  it("drops body-parser's raw body and the message that may quote it", () => {
    const error = Object.assign(new SyntaxError(`Unexpected token in JSON at ${body}`), {
      body,
      type: 'entity.parse.failed',
      status: 400,
    });
    const serialized = JSON.stringify(safeErrorSerializer(error));
    expect(serialized).not.toContain('9434765919');
    expect(serialized).not.toContain('eyJ.secret');
    expect(serialized).toContain('entity.parse.failed');
  });

  it('does the same to an error pino has already serialized', () => {
    const serialized = JSON.stringify(
      safeErrorSerializer({ type: 'Error', message: body, stack: body, body }),
    );
    expect(serialized).not.toContain('9434765919');
  });

  it('keeps the message and stack of other errors, minus request content', () => {
    const error = Object.assign(new Error('connection refused'), { query: { nhs: '9434765919' } });
    const serialized = safeErrorSerializer(error) as { message: string; stack: string; query?: unknown };
    expect(serialized.message).toBe('connection refused');
    expect(serialized.stack).toContain('connection refused');
    expect(serialized.query).toBeUndefined();
  });
});
