/**
 * The kit as a client (R15, R18): a supplier system's HTTP behaviour done right, so the run's
 * checks exercise the published contract — one token per session from a signed client
 * assertion (with the end user's IUA claims), a fresh X-Request-Id per request, the
 * organisation header — and every exchange kept as evidence.
 */
import { randomUUID } from 'node:crypto';
import { ACT_REASON_SYSTEM } from '@nir/core';
import { importJWK, type JWK, SignJWT } from 'jose';
import type { Evidence } from '../checks/types.ts';

/** One request and its answer, as evidence. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  requestId: string | null;
  /** The X-Request-Id the registry echoed. */
  echoed: string | null;
  at: string;
}

/** An answer read once: status, headers and the parsed body (or text). */
export interface KitResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
  exchange: Exchange;
}

/** Who the kit is. */
export interface KitIdentity {
  registry: string;
  clientId: string;
  privateJwk: JWK;
  ods: string;
  scope?: string | undefined;
  fetch?: typeof fetch | undefined;
}

/** Options of one request. */
export interface KitRequest {
  body?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Leave out X-Request-Id (a refusal check). */
  noRequestId?: boolean;
  /** Leave out the bearer token (a refusal check). */
  noToken?: boolean;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TIMEOUT_MS = 20_000;

/** The first issue's registry code of an OperationOutcome. */
export function outcomeCode(body: unknown): string | undefined {
  const outcome = body as { issue?: { details?: { coding?: { code?: string }[] } }[] } | undefined;
  return outcome?.issue?.[0]?.details?.coding?.[0]?.code;
}

/** Evidence from an exchange. */
export function exchangeEvidence(exchange: Exchange, note?: string): Evidence {
  return {
    requestId: exchange.requestId,
    recorded: exchange.at,
    eventIds: [],
    note: `${exchange.method} ${exchange.path} → ${exchange.status}${note ? ` (${note})` : ''}`,
  };
}

/** A signed-in session with the registry. */
export class KitClient {
  readonly identity: KitIdentity;
  readonly exchanges: Exchange[] = [];
  #token: { value: string; expiresAt: number; response: KitResponse } | undefined;
  readonly #fetch: typeof fetch;

  constructor(identity: KitIdentity) {
    this.identity = { ...identity, registry: identity.registry.replace(/\/+$/, '') };
    this.#fetch = identity.fetch ?? globalThis.fetch;
  }

  /** Signs a client assertion with the end user's IUA claims (a direct-care clinician of the ODS). */
  async assertion(): Promise<string> {
    const { privateJwk, clientId, ods } = this.identity;
    if (!privateJwk.alg || !privateJwk.kid) throw new Error('the private JWK needs alg and kid');
    return new SignJWT({
      extensions: {
        ihe_iua: {
          subject_id: 'conformance-kit',
          subject_name: 'NIR conformance kit',
          subject_organization_id: ods,
          subject_role: [
            { system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000' },
          ],
          purpose_of_use: [{ system: ACT_REASON_SYSTEM, code: 'TREAT' }],
        },
      },
    })
      .setProtectedHeader({ alg: privateJwk.alg, kid: privateJwk.kid, typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${this.identity.registry}/oauth2/token`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
      .sign(await importJWK(privateJwk, privateJwk.alg));
  }

  /** The session's token: fetched once and reused until 30 s before it expires. */
  async token(): Promise<{ value: string; response: KitResponse }> {
    if (this.#token && Date.now() < this.#token.expiresAt - 30_000) return this.#token;
    const form: Record<string, string> = {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await this.assertion(),
    };
    if (this.identity.scope) form.scope = this.identity.scope;
    const response = await this.send('POST', '/oauth2/token', { form, noToken: true, noRequestId: true });
    const body = response.body as { access_token?: string; expires_in?: number } | undefined;
    if (response.status !== 200 || !body?.access_token) {
      throw new Error(`token refused: ${response.status} ${response.text.slice(0, 300)}`);
    }
    this.#token = {
      value: body.access_token,
      expiresAt: Date.now() + (body.expires_in ?? 300) * 1000,
      response,
    };
    return this.#token;
  }

  /** Sends one request; `path` is under the registry origin, or an absolute URL of it (a next link). */
  async send(method: string, path: string, request: KitRequest = {}): Promise<KitResponse> {
    const url = path.startsWith('http') ? path : `${this.identity.registry}${path}`;
    const requestId = request.noRequestId ? null : randomUUID();
    const headers: Record<string, string> = {
      accept: 'application/fhir+json',
      'nhsd-end-user-organisation-ods': this.identity.ods,
      ...(requestId ? { 'x-request-id': requestId } : {}),
      ...request.headers,
    };
    if (!request.noToken) headers.authorization = `Bearer ${(await this.token()).value}`;
    let body: string | undefined;
    if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    } else if (request.body !== undefined) {
      headers['content-type'] ??= 'application/fhir+json';
      body = JSON.stringify(request.body);
    }
    const at = new Date().toISOString();
    const response = await this.#fetch(url, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const exchange: Exchange = {
      method,
      path: url.slice(this.identity.registry.length) || url,
      status: response.status,
      requestId,
      echoed: response.headers.get('x-request-id'),
      at,
    };
    this.exchanges.push(exchange);
    return { status: response.status, headers: response.headers, body: parsed, text, exchange };
  }
}
