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

/** How many verified tokens {@link AccessTokens} remembers (the oldest is forgotten first). */
export const VERIFIED_TOKEN_MEMO_SIZE = 10_000;

/** Seconds of clock skew allowed on `exp`. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Issues and verifies the registry's access tokens. */
export class AccessTokens {
  readonly #keys: KeyRing;
  readonly #issuer: string;
  readonly #ttlSeconds: number;
  /**
   * Tokens whose signature, issuer, audience and type were verified, by their exact text, with
   * the key that signed them. A token is still checked on every request: its expiry against the
   * clock and its key against the key ring (a key no longer published fails at once). Only the
   * ECDSA verification, the same for the same bytes, is not repeated: at a thousand requests a
   * second it was a tenth of the server's CPU.
   */
  readonly #verified = new Map<string, { claims: AccessTokenClaims; kid: string }>();

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
    const known = this.#verified.get(token);
    if (known) {
      if (!this.#keys.trusts(known.kid)) {
        this.#verified.delete(token);
      } else if (Date.now() / 1000 - CLOCK_TOLERANCE_SECONDS >= known.claims.expiresAt) {
        this.#verified.delete(token);
        throw new Error('"exp" claim timestamp check failed');
      } else {
        return known.claims;
      }
    }
    const { payload, protectedHeader } = await jwtVerify(token, this.#keys.resolve, {
      algorithms: [REGISTRY_TOKEN_ALG],
      issuer: this.#issuer,
      audience: this.#issuer,
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || clientId !== payload.sub) throw new Error('client_id claim mismatch');
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    const extensions = payload.extensions as { ihe_iua?: unknown } | undefined;
    const claims: AccessTokenClaims = Object.freeze({
      clientId,
      scopes: Object.freeze(scope.split(' ').filter((s) => s.length > 0)) as string[],
      jti: payload.jti as string,
      expiresAt: payload.exp as number,
      iua: readIuaClaims(extensions?.ihe_iua),
    });
    if (this.#verified.size >= VERIFIED_TOKEN_MEMO_SIZE) {
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(token, { claims, kid: protectedHeader.kid ?? '' });
    return claims;
  }
}
