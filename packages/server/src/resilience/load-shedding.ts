/**
 * Load shedding (issue 14, point 10): when more requests wait for a database connection than
 * the pool can serve in a second, a new request is refused at once with 503 and `Retry-After`
 * instead of joining a queue that only grows. What the pool serves in a second is its size
 * times 1000 over the moving average of how long a request holds a connection; never less
 * than the pool size, so a short burst on an idle registry is not refused.
 */
import type { PoolPressure } from '@nir/store';
import { DatabaseBusyError } from '@nir/store';
import type { NextFunction, Request, Response } from 'express';

/** True when `pressure` says the queue already holds more than a second of work. */
export function overloaded(pressure: PoolPressure | undefined): boolean {
  if (!pressure) return false;
  const perSecond = Math.max(pressure.size, (pressure.size * 1000) / Math.max(pressure.holdMs, 0.1));
  return pressure.waiting > perSecond;
}

/**
 * Middleware that refuses work while the pool is overloaded (the refusal goes through the
 * error handlers as a {@link DatabaseBusyError}, so it is a 503 and is audited).
 */
export function shedLoad(pressure: () => PoolPressure | undefined) {
  return (_req: Request, _res: Response, next: NextFunction): void => {
    next(overloaded(pressure()) ? new DatabaseBusyError() : undefined);
  };
}
