/**
 * The choke point every protected request passes (R3, R5, R6, R18): request id → bearer token
 * → organisation header → Controller Catalogue → access decision. Only then does a handler
 * run, with the resolved {@link Principal} on `res.locals.principal`. Nothing is cached: the
 * catalogue is read on every request, so a suspension refuses the very next request on every
 * instance.
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
import type { CatalogueRepository } from '@nir/store';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccessTokenClaims, AccessTokens } from '../auth/access-token.ts';
import { type RateLimiter, throwRefusal } from '../limits/rate-limiter.ts';

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
}

/** What the guard needs. */
export interface GuardDeps {
  tokens: AccessTokens;
  catalogue: CatalogueRepository;
  /** Rate limits per client and organisation (issue 14, point 9); none: no limit. */
  limiter?: RateLimiter | undefined;
}

/** Which role and interaction a route serves, and whether it carries clinical data (R5). */
export interface GuardSpec {
  role: Role;
  interaction: Interaction;
  clinical: boolean;
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

/** The guard for clinical (producer, consumer) and audit endpoints. */
export function guard(deps: GuardDeps, spec: GuardSpec): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const requestId = requireRequestId(res);
      const token = await authenticate(req, res, deps.tokens);
      const odsCode = readOdsHeader(req);
      const context = await deps.catalogue.loadAccessContext(token.clientId, odsCode, spec.role);
      // Quotas from the same catalogue read; a refused client still counts (it is still load).
      const refused = deps.limiter?.request({
        clientId: token.clientId,
        clientPerMinute: context.client?.rateLimitPerMinute,
        odsCode,
        organisationPerMinute: context.organisation?.rateLimitPerMinute,
      });
      if (refused) throwRefusal(res, refused);
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
      const principal: Principal = {
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
      };
      res.locals.principal = principal;
      next();
    } catch (error) {
      next(error);
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
