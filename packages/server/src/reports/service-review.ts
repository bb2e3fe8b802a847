/**
 * The service review's routes (R17): an organisation's audit team reads its own share at
 * `GET /audit/FHIR/R4/$service-review?month=YYYY-MM` (guarded and audited like every audit
 * read); the operator reads any organisation's, or the whole registry's, at
 * `GET /admin/service-review?month=YYYY-MM[&ods=XXX]`. Both render from the rollup, never
 * from `audit_event`. HTML by default; `_format=json` gives the KPIs as JSON.
 */
import { refuse } from '@nir/core';
import type { AuditRollupStore } from '@nir/store';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { ApiModule } from '../app.ts';
import { auditOf } from '../audit/context.ts';
import { methodNotAllowed } from '../http/errors.ts';
import type { Principal } from '../http/guard.ts';
import { addMonths, parseMonth, type ServiceReview, serviceReview } from './kpis.ts';
import { renderServiceReview } from './review-html.ts';

/** Reads the rollup for the review of `month` (and the eleven months before, for the trend). */
export async function loadServiceReview(
  rollups: AuditRollupStore,
  month: string,
  ods: string | undefined,
): Promise<ServiceReview> {
  const next = `${addMonths(month, 1)}-01`;
  const [rows, access] = await Promise.all([
    rollups.rows({ from: `${addMonths(month, -11)}-01`, to: next, ods }),
    rollups.access({ from: `${month}-01`, to: next, ods }),
  ]);
  return serviceReview(month, ods, rows, access);
}

function monthParam(req: Request): string {
  const month = parseMonth(req.query.month);
  if (!month) throw refuse('INVALID_PARAMETER', 'month must be a month such as 2026-11', 'month');
  return month;
}

function send(req: Request, res: Response, review: ServiceReview): void {
  res.setHeader('Cache-Control', 'no-store');
  if (req.query._format === 'json') {
    res.status(200).json(review);
    return;
  }
  res.status(200).type('text/html; charset=utf-8').send(renderServiceReview(review));
}

/** `$service-review` on the audit base: the organisation's own share only (R8, R17). */
export function serviceReviewModule(rollups: AuditRollupStore): ApiModule {
  return ({ router, guard }) => {
    router
      .route('/$service-review')
      .get(guard({ role: 'audit', interaction: 'audit-search', clinical: false }), (async (req, res) => {
        auditOf(res).describe({ subtype: 'operation', action: 'R' });
        auditOf(res).note('Monthly service review (R17)');
        const principal = res.locals.principal as Principal;
        send(req, res, await loadServiceReview(rollups, monthParam(req), principal.odsCode));
      }) as RequestHandler)
      .all(methodNotAllowed(['GET']));
  };
}

/** `/admin/service-review`: the operator's view, any organisation's or all of them. */
export function adminServiceReviewRouter(rollups: AuditRollupStore): Router {
  const router = Router();
  router
    .route('/service-review')
    .get(async (req, res) => {
      const ods = typeof req.query.ods === 'string' && req.query.ods !== '' ? req.query.ods : undefined;
      if (ods !== undefined && !/^[A-Z0-9]{3,10}$/.test(ods))
        throw refuse('INVALID_PARAMETER', 'ods must be an ODS code', 'ods');
      send(req, res, await loadServiceReview(rollups, monthParam(req), ods));
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
