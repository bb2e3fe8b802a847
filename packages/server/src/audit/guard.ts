/**
 * Tells the audit context which interaction a route is guarded for, before the guard runs, so
 * that a refusal by the guard is recorded as the interaction it refused.
 */
import type { RequestHandler } from 'express';
import type { GuardSpec } from '../http/guard.ts';
import { findAudit } from './context.ts';

/** Wraps a guard: notes `spec.interaction` on the audit context, then runs the guard. */
export function auditedGuard(spec: GuardSpec, guard: RequestHandler): RequestHandler {
  return (req, res, next) => {
    findAudit(res)?.interaction(spec.interaction);
    return guard(req, res, next);
  };
}
