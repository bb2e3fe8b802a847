/**
 * The HTTP application: composes the middleware and routes. Every dependency is passed in;
 * nothing here opens a database or reads the environment.
 */
import type { AuditRollupStore, CatalogueRepository, PoolStats } from '@nir/store';
import express, { type Express, type RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import { auditedGuard } from './audit/guard.ts';
import { auditTrail } from './audit/middleware.ts';
import { negotiateAuditFormats } from './audit/negotiate.ts';
import { adminScope, fhirScope, tokenScope } from './audit/scopes.ts';
import type { AuditService } from './audit/service.ts';
import type { AccessTokens } from './auth/access-token.ts';
import type { KeyRing } from './auth/key-ring.ts';
import { type TokenEndpointDeps, tokenEndpoint } from './auth/token-endpoint.ts';
import { negotiateFhirJson } from './http/body.ts';
import { errorHandler, methodNotAllowed, refuseHead, unknownRoute } from './http/errors.ts';
import { adminGuard, type GuardSpec, guard } from './http/guard.ts';
import { requestIds } from './http/request-ids.ts';
import { type Readiness, readyRoute } from './lifecycle/readiness.ts';
import { requestLogger } from './logging.ts';
import type { RegistryMetrics } from './metrics/registry-metrics.ts';
import { requestMetrics } from './metrics/request-metrics.ts';
import { dashboardRouter } from './reports/dashboard.ts';
import { adminServiceReviewRouter } from './reports/service-review.ts';
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
  /** R16: the metrics every response is counted into. */
  metrics?: RegistryMetrics | undefined;
  /** R16: readiness, served at `/_ready`. */
  readiness?: Readiness | undefined;
  /** R17: the service-review rollup (the operator's review and the dashboard read it). */
  rollups?: AuditRollupStore | undefined;
  /** R16: the database pool, for the dashboard. */
  poolStats?: (() => PoolStats | undefined) | undefined;
}

/** Builds the Express application. */
export async function createApp(deps: AppDeps): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (deps.trustProxy) app.set('trust proxy', deps.trustProxy);
  const tokenUrl = `${deps.publicUrl}/oauth2/token`;

  // Ids first, so that every log line of the request carries them.
  app.use(requestIds);
  if (deps.metrics) app.use(requestMetrics(deps.metrics));
  app.use(requestLogger(deps.logger));
  app.use(refuseHead);

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
  app.use('/oauth2/token', auditTrail(deps.audit, tokenScope));
  app
    .route('/oauth2/token')
    .post(...tokenEndpoint({ ...deps, tokenUrl }))
    .all(methodNotAllowed(['POST']));

  for (const api of FHIR_APIS) {
    const base = `/${api}/FHIR/R4`;
    const router = Router();
    // Audit first, so that every refusal (406, 401, 403, 400...) is audited too.
    router.use(auditTrail(deps.audit, fhirScope));
    router.use(api === 'audit' ? negotiateAuditFormats : negotiateFhirJson);
    const statement = await loadCapabilityStatement(
      deps.profilesDir,
      `nir-${api}`,
      `${deps.publicUrl}${base}`,
      tokenUrl,
    );
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
        guard: (spec) => auditedGuard(spec, guard(deps, spec)),
        bodyLimitBytes: deps.bodyLimitBytes,
      });
    }
    app.use(base, router);
  }

  const operator = [auditTrail(deps.audit, adminScope), adminGuard(deps)];
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
  app.use(unknownRoute);
  app.use(errorHandler);
  return app;
}
