/**
 * The access tokens the registry issues (RFC 9068 JWT profile): signed by the registry,
 * short-lived, naming the client, its scopes and the end user's IUA claims. Every request on
 * a protected endpoint verifies one (R18: every token checked on every request).
 */
import { randomUUID } from 'node:crypto';
import { type IuaClaims, readIuaClaims } from '@nir/core';
import { jwtVerify, SignJWT } from 'jose';
import { type KeyRing, REGISTRY_TOKEN_ALG } from './key-ring.ts';

/** What a verified access token says. */
export interface AccessTokenClaims {
  clientId: string;
  scopes: string[];
  jti: string;
  expiresAt: number;
  iua: IuaClaims;
}

/** Issues and verifies the registry's access tokens. */
export class AccessTokens {
  readonly #keys: KeyRing;
  readonly #issuer: string;
  readonly #ttlSeconds: number;

  /**
   * @param keys - the registry's signing keys
   * @param issuer - the registry's public origin; also the audience of its tokens
   * @param ttlSeconds - token lifetime
   */
  constructor(keys: KeyRing, issuer: string, ttlSeconds: number) {
    this.#keys = keys;
    this.#issuer = issuer;
    this.#ttlSeconds = ttlSeconds;
  }

  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  /** Signs a token for `clientId` with `scopes` and the end user's IUA claims. */
  async issue(clientId: string, scopes: string[], iua: IuaClaims): Promise<string> {
    const { kid, key } = this.#keys.signingKey();
    return new SignJWT({
      client_id: clientId,
      scope: scopes.join(' '),
      extensions: { ihe_iua: iua },
    })
      .setProtectedHeader({ alg: REGISTRY_TOKEN_ALG, kid, typ: 'at+jwt' })
      .setIssuer(this.#issuer)
      .setAudience(this.#issuer)
      .setSubject(clientId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.#ttlSeconds}s`)
      .sign(key);
  }

  /**
   * Verifies signature (registry keys only, ES256 only: `alg: none` and HMAC tokens made with
   * the public key fail here), issuer, audience, type and expiry. Throws on any failure.
   */
  async verify(token: string): Promise<AccessTokenClaims> {
    const { payload } = await jwtVerify(token, this.#keys.resolve, {
      algorithms: [REGISTRY_TOKEN_ALG],
      issuer: this.#issuer,
      audience: this.#issuer,
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      clockTolerance: 5,
    });
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || clientId !== payload.sub) throw new Error('client_id claim mismatch');
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    const extensions = payload.extensions as { ihe_iua?: unknown } | undefined;
    return {
      clientId,
      scopes: scope.split(' ').filter((s) => s.length > 0),
      jti: payload.jti as string,
      expiresAt: payload.exp as number,
      iua: readIuaClaims(extensions?.ihe_iua),
    };
  }
}
