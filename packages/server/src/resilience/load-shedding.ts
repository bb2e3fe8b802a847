/**
 * Load shedding (issue 14, point 10): when more requests wait for a database connection than
 * the pool can serve in a second, a new request is refused at once with 503 and `Retry-After`
 * instead of joining a queue that only grows. What the pool serves in a second is its size
 * times 1000 over the moving average of how long a request holds a connection; never less
 * than the pool size, so a short burst on an idle registry is not refused.
 */
import type { PoolPressure } from '@nir/store';
import { DatabaseBusyError } from '@nir/store';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** True when `pressure` says the queue already holds more than `seconds` (default one) of work. */
export function overloaded(pressure: PoolPressure | undefined, seconds = 1): boolean {
  if (!pressure) return false;
  const perSecond = Math.max(pressure.size, (pressure.size * 1000) / Math.max(pressure.holdMs, 0.1));
  return pressure.waiting > perSecond * seconds;
}

/**
 * Middleware that refuses work while the pool is overloaded (the refusal goes through the
 * error handlers as a {@link DatabaseBusyError}, so it is a 503 and is audited).
 */
export function shedLoad(pressure: () => PoolPressure | undefined, seconds = 1) {
  return (_req: Request, _res: Response, next: NextFunction): void => {
    next(overloaded(pressure(), seconds) ? new DatabaseBusyError() : undefined);
  };
}

/** Runs `shed`, then `handler` unless it refused: load shedding in front of a guard. */
export function shedThen(shed: RequestHandler, handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    shed(req, res, (error?: unknown) => {
      if (error !== undefined) next(error);
      else handler(req, res, next);
    });
  };
}
