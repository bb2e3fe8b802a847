/**
 * Verifies a signed-JWT client assertion (RFC 7523; SMART Backend Services; NHS England's
 * signed-JWT pattern; mhd-balp.md §4.2–4.3). Every failure is the same `invalid_client` to the
 * caller; the precise reason goes only to the log.
 */
import { type ClientSystem, type IuaClaims, readIuaClaims } from '@nir/core';
import type { CatalogueRepository, ReplayGuard } from '@nir/store';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWK,
  jwtVerify,
} from 'jose';
import { TokenRequestError } from './token-errors.ts';

/** Algorithms a client may sign its assertion with: SMART's RS384 and ES384, NHS England's RS512. */
export const CLIENT_ASSERTION_ALGS = ['RS384', 'ES384', 'RS512'] as const;

/** Longest an assertion may live: `exp` at most five minutes ahead. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

const CLOCK_SKEW_SECONDS = 5;

/** What verifying an assertion needs. */
export interface AssertionVerifierDeps {
  catalogue: CatalogueRepository;
  replayGuard: ReplayGuard;
  /** The exact token endpoint URL: the only accepted `aud`. */
  tokenUrl: string;
  demoMode: boolean;
  /** JWK thumbprints of the published demo keys: refused outside demo mode, whoever registers them. */
  demoThumbprints: ReadonlySet<string>;
  now?: () => number;
}

/** A verified assertion: the client and the end-user claims it signed. */
export interface VerifiedAssertion {
  client: ClientSystem;
  iua: IuaClaims;
}

function refuse(reason: string): never {
  throw new TokenRequestError('invalid_client', 'Client authentication failed', reason);
}

/**
 * The one refusal whose reason the caller is told: the demo clients and keys are public, so
 * saying that demo mode is off discloses nothing, and tells someone trying the demo on
 * PostgreSQL what to do.
 */
export const DEMO_MODE_OFF =
  'Client authentication failed: demo clients and demo keys are refused because demo mode is off on this registry ' +
  '(start it with NIR_DEMO_MODE=true to try the demo; never in production)';

function refuseDemo(reason: string): never {
  throw new TokenRequestError('invalid_client', DEMO_MODE_OFF, reason);
}

/** Verifies `assertion`; throws {@link TokenRequestError} (`invalid_client`) on any failure. */
export async function verifyClientAssertion(
  assertion: string,
  deps: AssertionVerifierDeps,
): Promise<VerifiedAssertion> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    refuse('assertion is not a JWS compact JWT');
  }
  if (!(CLIENT_ASSERTION_ALGS as readonly string[]).includes(header.alg ?? '')) {
    refuse(`alg '${String(header.alg)}' not allowed`);
  }
  if (typeof header.kid !== 'string' || header.kid === '') refuse('no kid in header');
  const clientId = unverified.iss;
  if (typeof clientId !== 'string' || clientId === '' || clientId.length > 64) refuse('no iss');

  const client = await deps.catalogue.getClient(clientId);
  if (!client) refuse(`unknown client '${clientId}'`);
  if (client.status !== 'active') refuse(`client '${clientId}' is ${client.status}`);
  if (client.demo && !deps.demoMode) refuseDemo(`demo client '${clientId}' outside demo mode`);

  const now = (deps.now ?? Date.now)();
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks as { keys: JWK[] }), {
      algorithms: [...CLIENT_ASSERTION_ALGS],
      issuer: clientId,
      subject: clientId,
      audience: deps.tokenUrl,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (error) {
    refuse(`assertion rejected: ${(error as Error).message}`);
  }
  const exp = payload.exp as number;
  if (exp - now / 1000 > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    refuse('exp more than five minutes ahead');
  }
  const jti = payload.jti as string;
  if (jti.length === 0 || jti.length > 255) refuse('jti empty or too long');

  const key = client.jwks.keys.find((k) => k.kid === header.kid);
  if (key && !deps.demoMode && deps.demoThumbprints.has(await calculateJwkThumbprint(key as JWK))) {
    refuseDemo('demo key used outside demo mode');
  }
  // Last, so that an invalid assertion never uses up its jti.
  if (!(await deps.replayGuard.claim(clientId, jti, new Date(exp * 1000)))) refuse('jti replayed');

  const extensions = payload.extensions as { ihe_iua?: unknown } | undefined;
  return { client, iua: readIuaClaims(extensions?.ihe_iua) };
}
