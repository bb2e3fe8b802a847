/**
 * End-to-end harness: a real registry listening on a loopback port, over a real database
 * (each backend from `testBackends()`), driven with real HTTP (fetch).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClientAssertion, demoUserClaims } from '@nir/cli';
import type { IuaClaims } from '@nir/core';
import {
  type ApiModule,
  createRegistry,
  type FhirApi,
  type Registry,
  type RegistryOptions,
  readConfig,
} from '@nir/server';
import type { Store } from '@nir/store';
import type { JWK } from 'jose';
import pino, { type Logger } from 'pino';
import { freePort } from './free-port.ts';

export { freePort };

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEMO_DIR = path.join(REPO_ROOT, 'demo');

/** Reads a demo client's private key. */
export async function demoPrivateKey(clientId: string): Promise<JWK> {
  return JSON.parse(
    await readFile(path.join(DEMO_DIR, 'keys', `${clientId}.private.jwk.json`), 'utf8'),
  ) as JWK;
}

/** The demo organisation each demo client acts for. */
export const DEMO_ORG: Record<string, string> = {
  'demo-provider-a': 'RR8',
  'demo-provider-b': 'RAE',
  'demo-consumer': 'RWY',
  'demo-audit': 'RR8',
  'demo-admin': 'X26',
};

/** A running test registry. */
export interface TestRegistry {
  url: string;
  tokenUrl: string;
  registry: Registry;
  /** Posts a token request form; returns the raw response. */
  requestToken(form: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** Gets an access token for a demo client (throws unless 200). */
  token(clientId: string, options?: { iua?: IuaClaims; scope?: string }): Promise<string>;
  /** Makes an assertion for a demo client. */
  assertion(
    clientId: string,
    options?: { iua?: IuaClaims; lifetimeSeconds?: number; jti?: string },
  ): Promise<string>;
  /** Fetches a path of the registry. */
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Options of a test registry. */
export interface TestRegistryOptions {
  demoMode?: boolean;
  modules?: Partial<Record<FhirApi, ApiModule[]>>;
  env?: Record<string, string>;
  /** Registry options the audit tests set (custody port, bulk export timing). */
  registry?: Pick<RegistryOptions, 'custody' | 'auditExportTiming'>;
  /** The registry's logger (tests that read the log); silent by default. */
  logger?: Logger;
}

/** Starts a registry over `store` (closed with the registry). */
export async function startTestRegistry(
  store: Store,
  options: TestRegistryOptions = {},
): Promise<TestRegistry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = readConfig({
    NIR_PUBLIC_URL: url,
    NIR_DEMO_MODE: String(options.demoMode ?? true),
    PORT: String(port),
    // Tests fire deliberate bursts (e.g. 102 writes at once) on a shared 2-core machine, where
    // a second of queued work is easily reached; shedding's own rule is tested in
    // packages/server/src/resilience/load-shedding.test.ts.
    NIR_DB_QUEUE_SECONDS: '30',
    ...options.env,
  });
  const registry = await createRegistry(config, {
    store,
    logger: options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.modules ? { modules: options.modules } : {}),
    ...options.registry,
  });
  await registry.listen(port, '127.0.0.1');
  const tokenUrl = `${url}/oauth2/token`;
  const assertion: TestRegistry['assertion'] = async (clientId, opts = {}) =>
    createClientAssertion({
      clientId,
      privateJwk: await demoPrivateKey(clientId),
      tokenUrl,
      iua: opts.iua ?? demoUserClaims(DEMO_ORG[clientId] ?? 'RR8'),
      ...(opts.lifetimeSeconds !== undefined ? { lifetimeSeconds: opts.lifetimeSeconds } : {}),
      ...(opts.jti !== undefined ? { jti: opts.jti } : {}),
    });
  const requestToken: TestRegistry['requestToken'] = (form, headers = {}) =>
    fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  return {
    url,
    tokenUrl,
    registry,
    requestToken,
    assertion,
    async token(clientId, opts = {}) {
      const response = await requestToken({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(clientId, opts.iua ? { iua: opts.iua } : {}),
        ...(opts.scope ? { scope: opts.scope } : {}),
      });
      const body = (await response.json()) as { access_token?: string };
      if (response.status !== 200 || !body.access_token) {
        throw new Error(`token for ${clientId} refused: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    fetch: (pathname, init) => fetch(`${url}${pathname}`, init),
    close: () => registry.close(),
  };
}

/** The headers of a clinical request. */
export function clinicalHeaders(
  token: string,
  ods: string,
  requestId: string = crypto.randomUUID(),
): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'x-request-id': requestId,
    'nhsd-end-user-organisation-ods': ods,
  };
}

/** The first issue's registry code of an OperationOutcome body. */
export function errorCode(body: unknown): string | undefined {
  const outcome = body as { issue?: { details?: { coding?: { code?: string }[] } }[] };
  return outcome.issue?.[0]?.details?.coding?.[0]?.code;
}
