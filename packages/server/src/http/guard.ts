/**
 * The choke point every protected request passes (R3, R5, R6, R18): request id → bearer token
 * → organisation header → Controller Catalogue → access decision. Only then does a handler
 * run, with the resolved {@link Principal} on `res.locals.principal`.
 *
 * The catalogue is held in memory with its version ({@link CatalogueCache}); R6 stays strict
 * (a suspension refuses the very next request on every instance) because the version is read
 * from the database on every request before anything is sent: by the guard itself (one
 * single-row read), or, for routes whose spec says `versionInStatement`, by the handler's own
 * data statement beside its rows (no extra round trip), which calls {@link confirmCatalogue}.
 * A request decided on an older version is re-authorised on the new catalogue and redone
 * ({@link redoOnCatalogueChange}); a refusal, or a client error raised before the handler's
 * statement ran, is confirmed against the database's version first.
 */
import {
  ADMIN_SCOPE,
  authoriseRequest,
  type ClientSystem,
  type EndUser,
  endUserFromClaims,
  type Grant,
  type Interaction,
  type IuaClaims,
  isOdsCodeShape,
  type Role,
  refuse,
} from '@nir/core';
import type { CatalogueCache, CatalogueRepository, CatalogueSnapshot } from '@nir/store';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { findAudit } from '../audit/context.ts';
import type { AccessTokenClaims, AccessTokens } from '../auth/access-token.ts';
import { type RateLimiter, throwRefusal } from '../limits/rate-limiter.ts';
import type { TakeReceipt } from '../limits/token-bucket.ts';

/** Who is calling, as proved by the token and allowed by the catalogue. */
export interface Principal {
  clientId: string;
  clientName: string;
  odsCode: string;
  organisationName: string;
  role: Role;
  interaction: Interaction;
  grant: Grant;
  endUser: EndUser;
  scopes: string[];
  tokenId: string;
  requestId: string;
  correlationId: string | undefined;
  /** The catalogue version the decision was made on (R6). */
  catalogueVersion: number;
  /** True once a statement of this request read the same version from the database. */
  catalogueConfirmed: boolean;
  /** Whether the handler's data statement reads the version (else the guard did). */
  versionInStatement: boolean;
}

/** What the guard needs. */
export interface GuardDeps {
  tokens: AccessTokens;
  /** The catalogue as stored, for the admin guard's client read. */
  catalogue: CatalogueRepository;
  /** The catalogue held in memory with its version, for the clinical and audit guards. */
  snapshots: CatalogueCache;
  /** Rate limits per client and organisation (issue 14, point 9); none: no limit. */
  limiter?: RateLimiter | undefined;
}

/** Which role and interaction a route serves, and whether it carries clinical data (R5). */
export interface GuardSpec {
  role: Role;
  interaction: Interaction;
  clinical: boolean;
  /**
   * The handler's data statement reads the catalogue version and passes it to
   * {@link confirmCatalogue} before anything is sent, so the guard need not read it (the hot
   * paths). Default false: the guard reads the version itself.
   */
  versionInStatement?: boolean;
}

/** The header naming the organisation the end user acts for. */
export const ODS_HEADER = 'NHSD-End-User-Organisation-ODS';

function requireRequestId(res: Response): string {
  const requestId = res.locals.requestId as string | undefined;
  if (!requestId) throw refuse('MISSING_OR_INVALID_HEADER', 'The X-Request-Id header is missing or invalid');
  return requestId;
}

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. The
 * scheme is case-insensitive and followed by one or more spaces (RFC 7235 §2.1): `bearer`,
 * `BEARER` and `Bearer` are the same.
 */
export function bearerToken(header: string | undefined): string | undefined {
  return /^bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header ?? '')?.[1];
}

/** Verifies the bearer token; any failure is the same 401 (no detail that helps an attacker). */
export async function authenticate(
  req: Request,
  res: Response,
  tokens: AccessTokens,
): Promise<AccessTokenClaims> {
  const token = bearerToken(req.get('authorization'));
  // Built only when refusing: an Error captures a stack trace, a cost on every request otherwise.
  const invalid = () => refuse('ACCESS_DENIED', 'The access token is missing, invalid or expired');
  if (!token) throw invalid();
  try {
    const claims = await tokens.verify(token);
    res.locals.clientId = claims.clientId;
    return claims;
  } catch (error) {
    req.log?.info({ reason: (error as Error).message }, 'access token refused');
    throw invalid();
  }
}

function readOdsHeader(req: Request): string {
  const ods = req.get(ODS_HEADER);
  if (ods === undefined || ods === '') {
    throw refuse('PRECONDITION_FAILED', `The ${ODS_HEADER} header is required`);
  }
  if (!isOdsCodeShape(ods))
    throw refuse('MISSING_OR_INVALID_HEADER', `The ${ODS_HEADER} header is missing or invalid`);
  return ods;
}

/** The snapshot as new as the database's catalogue version now (one single-row read). */
async function freshSnapshot(snapshots: CatalogueCache): Promise<CatalogueSnapshot> {
  const version = await snapshots.databaseVersion();
  const held = snapshots.current();
  return held.version === version ? held : snapshots.refresh(version);
}

/** The guard for clinical (producer, consumer) and audit endpoints. */
export function guard(deps: GuardDeps, spec: GuardSpec): RequestHandler {
  const versionInStatement = spec.versionInStatement === true;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const requestId = requireRequestId(res);
      const token = await authenticate(req, res, deps.tokens);
      const odsCode = readOdsHeader(req);
      const decide = (snapshot: CatalogueSnapshot): Principal => {
        const context = snapshot.accessContext(token.clientId, odsCode, spec.role);
        // Quotas from the same catalogue; a refused client still counts (it is still load). A
        // request decided again on a newer catalogue gives back what its first decision took.
        const counted = res.locals.rateReceipts as TakeReceipt[] | undefined;
        if (counted) deps.limiter?.undo(counted);
        const limited = deps.limiter?.requestWithReceipts({
          clientId: token.clientId,
          clientPerMinute: context.client?.rateLimitPerMinute,
          odsCode,
          organisationPerMinute: context.organisation?.rateLimitPerMinute,
        });
        res.locals.rateReceipts = limited?.receipts;
        if (limited?.refused) throwRefusal(res, limited.refused);
        const endUser = endUserFromClaims(token.iua);
        const grant = authoriseRequest({
          ...context,
          odsCode,
          role: spec.role,
          interaction: spec.interaction,
          scopes: token.scopes,
          endUser,
          clinical: spec.clinical,
        });
        return {
          clientId: token.clientId,
          clientName: (context.client as ClientSystem).name,
          odsCode,
          organisationName: context.organisation?.name ?? odsCode,
          role: spec.role,
          interaction: spec.interaction,
          grant,
          endUser: endUser as EndUser,
          scopes: token.scopes,
          tokenId: token.jti,
          requestId,
          correlationId: res.locals.correlationId as string | undefined,
          catalogueVersion: snapshot.version,
          catalogueConfirmed: !versionInStatement,
          versionInStatement,
        };
      };
      let principal: Principal;
      if (!versionInStatement) {
        principal = decide(await freshSnapshot(deps.snapshots));
      } else {
        const held = deps.snapshots.current();
        try {
          principal = decide(held);
        } catch (refusal) {
          // A refusal decided on the held catalogue is confirmed on the database's version.
          const fresh = await freshSnapshot(deps.snapshots);
          if (fresh === held) throw refusal;
          // A quota refusal's Retry-After belongs to that refusal only.
          res.removeHeader('Retry-After');
          principal = decide(fresh);
        }
      }
      res.locals.principal = principal;
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The catalogue changed after a request was authorised: it is re-authorised and redone. */
export class CatalogueChanged extends Error {
  readonly version: number;

  constructor(version: number) {
    super(`the catalogue changed to version ${version} after the request was authorised`);
    this.version = version;
  }
}

/**
 * Called by a handler with the catalogue version its data statement read (R6): the same as the
 * decision's, or {@link CatalogueChanged} is thrown before anything is sent.
 */
export function confirmCatalogue(res: Response, version: number): void {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) return;
  if (version !== principal.catalogueVersion) throw new CatalogueChanged(version);
  principal.catalogueConfirmed = true;
}

/** How many times one request is redone on a newer catalogue before it gives up (503). */
const MAX_REDOS = 3;

function statusOf(error: unknown): number {
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : 500;
}

/**
 * The error handler after an API base's routes (R6): a request whose handler found the
 * catalogue changed ({@link CatalogueChanged}), or that is failing with a client error before
 * its statement confirmed the version and the version has since changed, is redone from the
 * start of `router` on the new catalogue: the guard re-authorises it (a suspension now refuses
 * it), the audit forgets what the first attempt gathered, and nothing of the first attempt was
 * sent. Anything else passes on.
 */
export function redoOnCatalogueChange(
  router: RequestHandler,
  snapshots: CatalogueCache,
): ErrorRequestHandler {
  return async (error: unknown, req: Request, res: Response, next: NextFunction) => {
    try {
      const principal = res.locals.principal as Principal | undefined;
      let changed: number | undefined;
      if (error instanceof CatalogueChanged) changed = error.version;
      else if (principal?.versionInStatement && !principal.catalogueConfirmed && statusOf(error) < 500) {
        const version = await snapshots.databaseVersion();
        if (version !== principal.catalogueVersion) changed = version;
      }
      if (changed === undefined || res.headersSent) {
        next(error);
        return;
      }
      const redos = ((res.locals.catalogueRedos as number | undefined) ?? 0) + 1;
      if (redos > MAX_REDOS) {
        next(refuse('SERVICE_UNAVAILABLE', 'The Controller Catalogue is changing; retry the request'));
        return;
      }
      res.locals.catalogueRedos = redos;
      await snapshots.refresh(changed);
      findAudit(res)?.restart();
      res.locals.principal = undefined;
      req.log?.info({ catalogueVersion: changed, redo: redos }, 'catalogue changed: request redone');
      router(req, res, next);
    } catch (failure) {
      next(failure);
    }
  };
}

/** Who is administering the catalogue. */
export interface AdminPrincipal {
  clientId: string;
  /** The actor recorded on every catalogue change (R19). */
  actor: string;
  iua: IuaClaims;
}

/** The guard for the catalogue administration API: its own scope, an active admin client. */
export function adminGuard(deps: GuardDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      requireRequestId(res);
      const token = await authenticate(req, res, deps.tokens);
      const client = await deps.catalogue.getClient(token.clientId);
      if (client?.status !== 'active') {
        throw refuse('ACCESS_DENIED', 'The access token is missing, invalid or expired');
      }
      const refused = deps.limiter?.request({
        clientId: client.clientId,
        clientPerMinute: client.rateLimitPerMinute,
      });
      if (refused) throwRefusal(res, refused);
      if (!client.admin || !token.scopes.includes(ADMIN_SCOPE)) {
        throw refuse('ACCESS DENIED', `The catalogue administration API needs the '${ADMIN_SCOPE}' scope`);
      }
      const user = token.iua.subject_id ? `/user:${token.iua.subject_id}` : '';
      const admin: AdminPrincipal = {
        clientId: client.clientId,
        actor: `client:${client.clientId}${user}`,
        iua: token.iua,
      };
      res.locals.admin = admin;
      next();
    } catch (error) {
      next(error);
    }
  };
}
