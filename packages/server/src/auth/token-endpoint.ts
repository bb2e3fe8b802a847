/**
 * `POST /oauth2/token`: OAuth 2.0 client credentials with a signed-JWT client assertion
 * (SMART Backend Services, NHS England signed JWT; R18). Issues a short-lived registry token
 * carrying only the scopes the client's catalogue grants justify (least privilege).
 *
 * Refusals are RFC 6749 JSON by default, and a registry OperationOutcome when the caller
 * accepts `application/fhir+json`; either way they say no more than `invalid_client` for a
 * failed assertion. The precise reason is logged with the request id.
 */
import { entitledScopes, mediateScopes, parseScope, type Role } from '@nir/core';
import type { CatalogueRepository } from '@nir/store';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { FHIR_JSON } from '../http/respond.ts';
import { type RateLimiter, throwRefusal } from '../limits/rate-limiter.ts';
import type { AccessTokens } from './access-token.ts';
import { type AssertionVerifierDeps, verifyClientAssertion } from './client-assertion.ts';
import { TokenRequestError } from './token-errors.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What the token endpoint needs. */
export interface TokenEndpointDeps extends AssertionVerifierDeps {
  catalogue: CatalogueRepository;
  tokens: AccessTokens;
  bodyLimitBytes: number;
  /** Request quotas and the cap on tokens per client (issue 14, point 9); none: no limit. */
  limiter?: RateLimiter | undefined;
}

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

function sendTokenError(req: Request, res: Response, error: TokenRequestError): void {
  req.log?.info({ oauthError: error.error, reason: error.reason }, 'token request refused');
  noStore(res);
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_client"');
  if (req.accepts(['application/json', 'application/fhir+json']) === 'application/fhir+json') {
    res.locals.outcome = error.toOperationOutcomeError();
    res
      .status(error.status)
      .type(FHIR_JSON)
      .send(JSON.stringify(error.toOperationOutcomeError().toOperationOutcome()));
    return;
  }
  res.status(error.status).json(error.toOAuth());
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (Array.isArray(value)) throw new TokenRequestError('invalid_request', `'${name}' must be sent once`);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function issueToken(body: Record<string, unknown>, deps: TokenEndpointDeps, res: Response) {
  if (field(body, 'grant_type') !== 'client_credentials') {
    throw new TokenRequestError('unsupported_grant_type', "grant_type must be 'client_credentials'");
  }
  if (field(body, 'client_assertion_type') !== JWT_BEARER) {
    throw new TokenRequestError('invalid_request', `client_assertion_type must be '${JWT_BEARER}'`);
  }
  const assertion = field(body, 'client_assertion');
  if (!assertion) throw new TokenRequestError('invalid_request', 'client_assertion is required');
  const requested = parseScope(field(body, 'scope'));

  const { client, iua } = await verifyClientAssertion(assertion, deps);
  // Counted once the assertion verified: nobody can spend another client's quota by naming it.
  if (deps.limiter) {
    const refused =
      deps.limiter.request({ clientId: client.clientId, clientPerMinute: client.rateLimitPerMinute }) ??
      deps.limiter.token(client.clientId, client.tokenLimitPerMinute);
    if (refused) throwRefusal(res, refused);
  }

  // The organisations this token may speak for: the one the end user acts for, or all the client's.
  const userOrg = iua.subject_organization_id;
  if (userOrg !== undefined && !client.organisations.includes(userOrg)) {
    throw new TokenRequestError(
      'unauthorized_client',
      'The client is not registered to act for that organisation',
    );
  }
  const organisations = userOrg !== undefined ? [userOrg] : client.organisations;
  const active: string[] = [];
  const roles = new Set<Role>();
  for (const ods of organisations) {
    const organisation = await deps.catalogue.getOrganisation(ods);
    if (organisation?.status !== 'active') continue;
    if (deps.limiter && ods === userOrg) {
      const refused = deps.limiter.organisation(ods, organisation.rateLimitPerMinute);
      if (refused) throwRefusal(res, refused);
    }
    active.push(ods);
    for (const grant of await deps.catalogue.listGrants({ odsCode: ods })) {
      if (client.roles.includes(grant.role)) roles.add(grant.role);
    }
  }
  if (organisations.length > 0 && active.length === 0) {
    throw new TokenRequestError('unauthorized_client', 'The organisation this client acts for is not active');
  }
  const mediated = mediateScopes(requested, entitledScopes(roles, client.admin));
  if ('refused' in mediated) {
    throw new TokenRequestError('invalid_scope', `Scope '${mediated.refused}' is not granted to this client`);
  }
  if (mediated.granted.length === 0) {
    throw new TokenRequestError('invalid_scope', 'The Controller Catalogue grants this client no scope');
  }
  return {
    access_token: await deps.tokens.issue(client.clientId, mediated.granted, iua),
    token_type: 'bearer',
    expires_in: deps.tokens.ttlSeconds,
    scope: mediated.granted.join(' '),
  };
}

/** The token endpoint's middleware chain. */
export function tokenEndpoint(deps: TokenEndpointDeps): RequestHandler[] {
  const form = express.urlencoded({ extended: false, limit: Math.min(deps.bodyLimitBytes, 65_536) });
  const handler: RequestHandler = async (req, res, next) => {
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new TokenRequestError(
          'invalid_request',
          'Content-Type must be application/x-www-form-urlencoded',
        );
      }
      const response = await issueToken((req.body ?? {}) as Record<string, unknown>, deps, res);
      noStore(res);
      res.status(200).json(response);
    } catch (error) {
      if (error instanceof TokenRequestError) {
        sendTokenError(req, res, error);
        return;
      }
      next(error);
    }
  };
  return [form, handler];
}
