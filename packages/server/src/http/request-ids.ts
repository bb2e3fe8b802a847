/**
 * Request and correlation ids (nrl-behaviour.md §1.3): `X-Request-Id` is required on protected
 * endpoints and echoed; `X-Correlation-Id` is optional and echoed when sent. A value that could
 * forge log lines (control characters, over 200 characters) counts as missing.
 */
import type { NextFunction, Request, Response } from 'express';

const SAFE_ID = /^[\x21-\x7e]{1,200}$/;

/** Reads a header value if it is a safe id. */
export function safeId(value: string | undefined): string | undefined {
  return value !== undefined && SAFE_ID.test(value) ? value : undefined;
}

/** Echoes the id headers and records them on `res.locals` for the rest of the request. */
export function requestIds(req: Request, res: Response, next: NextFunction): void {
  const requestId = safeId(req.get('x-request-id'));
  const correlationId = safeId(req.get('x-correlation-id'));
  if (requestId) res.setHeader('X-Request-Id', requestId);
  if (correlationId) res.setHeader('X-Correlation-Id', correlationId);
  res.locals.requestId = requestId;
  res.locals.correlationId = correlationId;
  next();
}
