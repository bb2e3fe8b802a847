/**
 * The HTTP application: composes the middleware and routes. Every dependency is passed in;
 * nothing here opens a database or reads the environment.
 */

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CapabilityStatement, DocumentReference } from '@medplum/fhirtypes';
import type {
  AuditRollupStore,
  CatalogueCache,
  CatalogueRepository,
  PoolPressure,
  PoolStats,
} from '@nir/store';
import express, { type Express, type RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import { apiReferenceRouter, buildApiReference, DEMO_TRY_IT } from './api-reference/index.ts';
import { auditedGuard } from './audit/guard.ts';
import { auditTrail } from './audit/middleware.ts';
import { negotiateAuditFormats } from './audit/negotiate.ts';
import { adminScope, fhirScope, tokenScope } from './audit/scopes.ts';
import type { AuditService } from './audit/service.ts';
import type { AccessTokens } from './auth/access-token.ts';
import type { KeyRing } from './auth/key-ring.ts';
import { type TokenEndpointDeps, tokenEndpoint } from './auth/token-endpoint.ts';
import { negotiateFhirJson } from './http/body.ts';
import { conditionalOnlyWithValidators } from './http/conditional.ts';
import { errorHandler, methodNotAllowed, refuseHead, unknownRoute } from './http/errors.ts';
import { adminGuard, type GuardSpec, guard, redoOnCatalogueChange } from './http/guard.ts';
import { requestIds } from './http/request-ids.ts';
import { securityHeaders } from './http/security-headers.ts';
import { wellFormedRequest } from './http/well-formed.ts';
import { type Readiness, readyRoute } from './lifecycle/readiness.ts';
import type { RateLimiter } from './limits/rate-limiter.ts';
import { requestLogger } from './logging.ts';
import type { RegistryMetrics } from './metrics/registry-metrics.ts';
import { requestMetrics } from './metrics/request-metrics.ts';
import { dashboardRouter } from './reports/dashboard.ts';
import { adminServiceReviewRouter } from './reports/service-review.ts';
import { shedLoad, shedThen } from './resilience/load-shedding.ts';
import { databaseUnavailable } from './resilience/unavailable.ts';
import { adminRouter } from './routes/admin.ts';
import type { ExportTiming } from './routes/audit/bulk-export.ts';
import { auditApi } from './routes/audit/index.ts';
import { loadCapabilityStatement, metadataRoute } from './routes/metadata.ts';
import { statusRoute } from './routes/status.ts';
import { jwksRoute, smartConfiguration } from './routes/well-known.ts';

/** The FHIR APIs the registry serves, each under `/<name>/FHIR/R4`. */
export const FHIR_APIS = ['producer', 'consumer', 'audit'] as const;
export type FhirApi = (typeof FHIR_APIS)[number];

/** What an API module gets to mount its routes: the router of its base and the guard factory. */
export interface ApiModuleContext {
  router: Router;
  /** The choke point: authenticate → authorise against the catalogue, for one role and interaction. */
  guard: (spec: GuardSpec) => RequestHandler;
  bodyLimitBytes: number;
}

/** A unit of FHIR API routes (e.g. the DocumentReference interactions of one base). */
export type ApiModule = (context: ApiModuleContext) => void;

/** Everything the application needs. */
export interface AppDeps extends Omit<TokenEndpointDeps, 'tokenUrl'> {
  logger: Logger;
  catalogue: CatalogueRepository;
  /** The catalogue held in memory with its version (R6: see http/guard.ts). */
  snapshots: CatalogueCache;
  keys: KeyRing;
  tokens: AccessTokens;
  publicUrl: string;
  profilesDir: string;
  ping: () => Promise<boolean>;
  /** Express `trust proxy` setting, so the caller's address is right behind a load balancer. */
  trustProxy?: string | undefined;
  /** Route modules per FHIR API. */
  modules?: Partial<Record<FhirApi, ApiModule[]>>;
  /** The audit trail (R7): every FHIR base, the token endpoint and /admin are audited through it. */
  audit: AuditService;
  /** Bulk export timing of the audit API (tests shorten it). */
  auditExportTiming?: Partial<ExportTiming> | undefined;
  /** Rate limits (issue 14, point 9): the guards and the token endpoint count against it. */
  limiter?: RateLimiter | undefined;
  /** The database pool's pressure, for load shedding (issue 14, point 10); none on PGlite. */
  pressure?: (() => PoolPressure | undefined) | undefined;
  /** Load shedding bound: seconds of work the pool queue may hold (default 1). */
  queueSeconds?: number | undefined;
  /** R16: the metrics every response is counted into. */
  metrics?: RegistryMetrics | undefined;
  /** R16: readiness, served at `/_ready`. */
  readiness?: Readiness | undefined;
  /** R17: the service-review rollup (the operator's review and the dashboard read it). */
  rollups?: AuditRollupStore | undefined;
  /** R16: the database pool, for the dashboard. */
  poolStats?: (() => PoolStats | undefined) | undefined;
}

/**
 * The paths of the audited endpoints, as Express mounts them (case-insensitive, a trailing
 * slash allowed): every FHIR base, the token endpoint, `/admin`, `/dashboard`.
 */
const AUDITED_MOUNTS = new RegExp(
  `^/((${FHIR_APIS.join('|')})/FHIR/R4|oauth2/token|admin|dashboard)(/|$)`,
  'i',
);

/** Runs `handler` only for requests outside the audited endpoints (which run it themselves). */
function unlessAudited(handler: RequestHandler): RequestHandler {
  return (req, res, next) => (AUDITED_MOUNTS.test(req.path) ? next() : handler(req, res, next));
}

/** Builds the Express application. */
export async function createApp(deps: AppDeps): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (deps.trustProxy) app.set('trust proxy', deps.trustProxy);
  // Issue 14: a search is never answered 304; nosniff, no-store and HSTS on the responses.
  conditionalOnlyWithValidators(app);
  const tokenUrl = `${deps.publicUrl}/oauth2/token`;
  // Load shedding (issue 14, point 10): after the audit trail, so each refusal is audited, and
  // only where the database is used (the guarded routes, tokens, admin; not metadata).
  const shed = shedLoad(deps.pressure ?? (() => undefined), deps.queueSeconds);

  // Ids first, so that every log line of the request carries them.
  app.use(requestIds);
  if (deps.metrics) app.use(requestMetrics(deps.metrics));
  app.use(requestLogger(deps.logger));
  app.use(securityHeaders(deps.publicUrl));
  // HEAD is 405 everywhere; on the audited endpoints it is refused after their audit middleware.
  app.use(unlessAudited(refuseHead));

  const status = statusRoute(deps.ping);
  const smart = smartConfiguration(deps.publicUrl);
  app
    .route('/_status')
    .get(status)
    .all(methodNotAllowed(['GET']));
  if (deps.readiness) {
    app
      .route('/_ready')
      .get(readyRoute(deps.readiness))
      .all(methodNotAllowed(['GET']));
  }
  app
    .route('/.well-known/smart-configuration')
    .get(smart)
    .all(methodNotAllowed(['GET']));
  app
    .route('/.well-known/jwks.json')
    .get(jwksRoute(deps.keys))
    .all(methodNotAllowed(['GET']));
  app.use('/oauth2/token', auditTrail(deps.audit, tokenScope), wellFormedRequest, shed);
  app
    .route('/oauth2/token')
    .post(...tokenEndpoint({ ...deps, tokenUrl }))
    .all(methodNotAllowed(['POST']));

  const statements: Partial<Record<FhirApi, CapabilityStatement>> = {};
  for (const api of FHIR_APIS) {
    const base = `/${api}/FHIR/R4`;
    const router = Router();
    // Audit first, so that every refusal (406, 401, 403, 400...) is audited too.
    router.use(auditTrail(deps.audit, fhirScope));
    // Bad text (malformed %-encoding, control characters) is refused once, here, audited.
    router.use(refuseHead, wellFormedRequest);
    router.use(api === 'audit' ? negotiateAuditFormats : negotiateFhirJson);
    const statement = await loadCapabilityStatement(
      deps.profilesDir,
      `nir-${api}`,
      `${deps.publicUrl}${base}`,
      tokenUrl,
    );
    statements[api] = statement;
    router
      .route('/metadata')
      .get(metadataRoute(statement))
      .all(methodNotAllowed(['GET']));
    router
      .route('/_status')
      .get(status)
      .all(methodNotAllowed(['GET']));
    router
      .route('/.well-known/smart-configuration')
      .get(smart)
      .all(methodNotAllowed(['GET']));
    const modules = [...(deps.modules?.[api] ?? [])];
    if (api === 'audit')
      modules.unshift(auditApi({ service: deps.audit, exportTiming: deps.auditExportTiming }));
    for (const module of modules) {
      module({
        router,
        guard: (spec) => auditedGuard(spec, shedThen(shed, guard(deps, spec))),
        bodyLimitBytes: deps.bodyLimitBytes,
      });
    }
    // R6: a request decided on a catalogue that has since changed is redone on the new one.
    router.use(redoOnCatalogueChange(router, deps.snapshots));
    app.use(base, router);
  }

  const operator = [
    auditTrail(deps.audit, adminScope),
    refuseHead,
    wellFormedRequest,
    shed,
    adminGuard(deps),
  ];
  // R17: the operator's all-organisation review next to the catalogue administration.
  const operatorReports = deps.rollups ? [adminServiceReviewRouter(deps.rollups)] : [];
  app.use('/admin', ...operator, adminRouter(deps), ...operatorReports);
  // R16/R17: the live operator dashboard, for admin clients only.
  if (deps.rollups && deps.metrics && deps.readiness) {
    const dashboard = { rollups: deps.rollups, metrics: deps.metrics, readiness: deps.readiness };
    app.use(
      '/dashboard',
      ...operator,
      dashboardRouter({ ...dashboard, poolStats: deps.poolStats ?? (() => undefined) }),
    );
  }

  // The API reference (issue 17): generated from the CapabilityStatements above, the catalogue
  // JSON Schemas and the published example pointer; not audited (no data, no identity).
  const example = JSON.parse(
    await readFile(path.join(deps.profilesDir, 'examples', 'DocumentReference-example-report.json'), 'utf8'),
  ) as DocumentReference;
  const reference = buildApiReference({
    publicUrl: deps.publicUrl,
    statements: statements as Record<FhirApi, CapabilityStatement>,
    example,
  });
  app.use('/docs', apiReferenceRouter(deps.publicUrl, reference, DEMO_TRY_IT));
  app.use(unknownRoute);
  // A database that does not answer is a 503 with Retry-After, not a 500 (issue 14, point 8).
  app.use(databaseUnavailable(deps.audit.counters));
  app.use(errorHandler);
  return app;
}
