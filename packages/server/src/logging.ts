/**
 * Structured logs (pino): one line per request with request id, client, organisation, status
 * and duration. Tokens and assertions never reach the log.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { safeId } from './http/request-ids.ts';

/** Creates the process logger. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'nir-registry' },
    redact: { paths: ['req.headers.authorization', 'client_assertion', 'access_token'], remove: true },
  });
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
    },
    customSuccessMessage: (req, res, responseTime) =>
      `${req.method} ${res.statusCode} ${Math.round(responseTime)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${res.statusCode} failed`,
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
  });
}
