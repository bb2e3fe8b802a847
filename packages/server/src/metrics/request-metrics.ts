/**
 * Counts and times every response (R16): endpoint, guarded interaction, status and registry
 * error code, all bounded (see `LABEL_DOMAINS`). Mounted right after the request ids, so the
 * time covers the whole request, audit commit included.
 */
import { isOperationOutcomeError } from '@nir/core';
import type { RequestHandler } from 'express';
import { findAudit } from '../audit/context.ts';
import { codeLabel, type MetricBase, type RegistryMetrics } from './registry-metrics.ts';

const BASES: [RegExp, MetricBase][] = [
  [/^\/producer\//, 'producer'],
  [/^\/consumer\//, 'consumer'],
  [/^\/audit\//, 'audit'],
  [/^\/oauth2\/token\/?$/, 'token'],
  [/^\/admin(\/|$)/, 'admin'],
  [/^\/dashboard(\/|$)/, 'dashboard'],
  [/^\/_(status|ready)$/, 'health'],
  [/^\/\.well-known\//, 'discovery'],
];

/** The endpoint label of a request path. */
export function metricBase(path: string): MetricBase {
  for (const [pattern, base] of BASES) if (pattern.test(path)) return base;
  return 'other';
}

/** The middleware that records each response into `metrics`. */
export function requestMetrics(metrics: RegistryMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    // The start of the request for the audit event's period as well (R17 latencies).
    res.locals.startedAt = new Date();
    const base = metricBase(req.path);
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const status = res.writableFinished ? res.statusCode : 499;
      const interaction = base === 'token' ? 'none' : (findAudit(res)?.guardedInteraction() ?? 'none');
      const outcome: unknown = res.locals.outcome;
      const code = isOperationOutcomeError(outcome) ? codeLabel(outcome.issues[0]?.code) : '';
      metrics.requests.inc({ base, interaction, status: String(status), code });
      const elapsed = performance.now() - started;
      metrics.requestDuration.observe({ base, interaction }, elapsed / 1000);
      if (base !== 'health' && base !== 'dashboard') metrics.recent.record(status, elapsed);
      if (base === 'token') metrics.tokens.inc({ outcome: status === 200 ? 'issued' : 'refused' });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
