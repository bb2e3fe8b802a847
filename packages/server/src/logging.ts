/**
 * Structured logs (pino): one line per request with request id, client, organisation, status
 * and duration. Tokens and assertions never reach the log.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { safeId } from './http/request-ids.ts';

/** Properties an error may carry that hold what a client sent. */
const REQUEST_CONTENT = ['body', 'rawBody', 'query', 'params', 'headers'];

/** body-parser's error types: `entity.parse.failed`, `parameters.too.many`… */
const BODY_PARSER_TYPE = /^[a-z]+(\.[a-z]+)+$/;

/**
 * pino's `err` serializer without anything a client sent (issue 14 point 5: no request body in
 * the log, ever). body-parser attaches the raw body to its errors (`body`), and a parse error's
 * message and stack quote it (JSON.parse's excerpt): for those, only the type and status are
 * kept. Every other error keeps its message and stack, minus the properties above.
 */
export function safeErrorSerializer(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const source = err as Record<string, unknown>;
  // pino-http hands its serializer an error pino has already serialized (a plain object).
  const serialized: Record<string, unknown> =
    err instanceof Error
      ? { ...(pino.stdSerializers.err(err) as unknown as Record<string, unknown>) }
      : { ...source };
  for (const key of REQUEST_CONTENT) delete serialized[key];
  if ('body' in source || (typeof source.type === 'string' && BODY_PARSER_TYPE.test(source.type))) {
    return {
      type: serialized.type,
      errorType: source.type,
      status: source.status ?? source.statusCode,
      code: source.code,
      message: '(not logged: it may quote the request body)',
    };
  }
  return serialized;
}

/**
 * Creates the process logger. `destination` (tests) receives the JSON lines instead of stdout.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'nir-registry' },
    redact: { paths: ['req.headers.authorization', 'client_assertion', 'access_token'], remove: true },
    serializers: { err: safeErrorSerializer },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The per-request logging middleware. */
export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) =>
      safeId(req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
    customProps: (_req: IncomingMessage, res: ServerResponse) => {
      const locals = (res as ServerResponse & { locals?: Record<string, unknown> }).locals ?? {};
      const principal = locals.principal as { clientId?: string; odsCode?: string } | undefined;
      return {
        requestId: locals.requestId,
        correlationId: locals.correlationId,
        clientId: principal?.clientId ?? locals.clientId,
        ods: principal?.odsCode,
        errorCode: (locals.outcome as { issues?: { code: string }[] } | undefined)?.issues?.[0]?.code,
      };
    },
    serializers: {
      // The query string may hold NHS numbers: never logged. `id` is X-Request-Id, or a generated one.
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url.split('?')[0],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: safeErrorSerializer,
    },
    customSuccessMessage: (req, res, responseTime) =>
      `${req.method} ${res.statusCode} ${Math.round(responseTime)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${res.statusCode} failed`,
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
  });
}
