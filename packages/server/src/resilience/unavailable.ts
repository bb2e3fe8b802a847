/**
 * A database that does not answer is "try again later", not a fault (issue 14, point 8): any
 * error {@link isDatabaseUnavailable} recognises (a refused or dropped connection, a connect,
 * statement, lock or read timeout, load shedding) becomes 503 SERVICE_UNAVAILABLE with
 * `Retry-After`, whose AuditEvent outcome is 12 (major failure), never a 500.
 */
import { type OperationOutcomeError, refuse } from '@nir/core';
import { DatabaseBusyError, isDatabaseUnavailable } from '@nir/store';
import type { NextFunction, Request, Response } from 'express';
import { sendOutcome } from '../http/respond.ts';
import type { ResilienceCounters } from './counters.ts';

/** Seconds a client is told to wait after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** The refusal of a request the database could not serve now. */
export function serviceUnavailable(error?: unknown): OperationOutcomeError {
  return refuse(
    'SERVICE_UNAVAILABLE',
    error instanceof DatabaseBusyError
      ? 'The registry is busy: too many requests are waiting for the database. Retry later.'
      : 'The registry database is not answering. Retry later.',
  );
}

/** Sends the 503 with `Retry-After`. */
export function sendUnavailable(res: Response, error?: unknown): void {
  res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  sendOutcome(res, serviceUnavailable(error));
}

/** Express error middleware, before the general error handler: database absence → 503. */
export function databaseUnavailable(counters: ResilienceCounters) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (!isDatabaseUnavailable(error) || res.headersSent) {
      next(error);
      return;
    }
    counters.increment(error instanceof DatabaseBusyError ? 'load-shed' : 'database-unavailable');
    req.log?.warn({ err: error }, 'database unavailable: 503');
    sendUnavailable(res, error);
  };
}
