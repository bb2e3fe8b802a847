/**
 * Structured logs (pino): one line per request with request id, client, organisation, status
 * and duration. Tokens and assertions never reach the log.
 */

import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import pino, { type Logger } from 'pino';
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
  // An error pino has already serialized (a plain object) may be handed in again.
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

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's logger: every line carries the request id (see {@link requestLogger}). */
    log: Logger;
  }
}

/** What the request line says of the request: never the query string (it may hold NHS numbers). */
interface RequestBinding {
  id: string;
  method: string;
  url: string;
}

/**
 * The per-request logging middleware: `req.log` (a child logger carrying the request id) and
 * one line per request when the response finishes, at `info`, or `error` for a 5xx or a
 * response cut short. Written for the hot path (issue 15, point 3) where pino-http was: the
 * child logger is made only when a handler logs through it, and the line only built when its
 * level is enabled, so that at `warn` a request costs a listener and nothing else.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const binding: RequestBinding = {
      id: safeId(req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
      method: req.method,
      url: (req.url ?? '').split('?')[0] ?? '',
    };
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => {
        child ??= logger.child({ req: binding });
        return child;
      },
      set: (value: Logger) => {
        child = value;
      },
    });
    (req as { id?: unknown }).id = binding.id;
    const line = () => {
      res.off('finish', line);
      res.off('close', line);
      const finished = res.writableFinished;
      const status = res.statusCode;
      const failed = !finished || status >= 500;
      if (!logger.isLevelEnabled(failed ? 'error' : 'info')) return;
      const locals = res.locals ?? {};
      const principal = locals.principal as { clientId?: string; odsCode?: string } | undefined;
      const entry = {
        req: binding,
        res: { statusCode: status },
        responseTime: Math.round(performance.now() - started),
        requestId: locals.requestId,
        correlationId: locals.correlationId,
        clientId: principal?.clientId ?? locals.clientId,
        ods: principal?.odsCode,
        errorCode: (locals.outcome as { issues?: { code: string }[] } | undefined)?.issues?.[0]?.code,
        ...(finished ? {} : { err: { message: 'request aborted' } }),
      };
      if (failed) logger.error(entry, `${binding.method} ${status} failed`);
      else logger.info(entry, `${binding.method} ${status} ${entry.responseTime}ms`);
    };
    res.on('finish', line);
    res.on('close', line);
    next();
  };
}
