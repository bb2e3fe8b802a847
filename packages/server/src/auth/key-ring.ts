/**
 * The registry's access-token signing keys, cached from the database. Signs with the active
 * key; verifies with any published key (active, or retired within the grace period), so a
 * rotation on any instance needs no downtime: old tokens verify until they expire.
 */
import { randomUUID } from 'node:crypto';
import type { SigningKeyStore } from '@nir/store';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';

/** The algorithm of the registry's own tokens. */
export const REGISTRY_TOKEN_ALG = 'ES256';

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  verifyKey: CryptoKey;
  signKey?: CryptoKey;
  active: boolean;
}

/** Options of a key ring. */
export interface KeyRingOptions {
  /** How long a retired key stays published (token lifetime plus refresh slack), in seconds. */
  graceSeconds: number;
  /** Minimum milliseconds between database reloads triggered by an unknown kid (bounds the cost of junk kids). */
  minRefreshMs?: number;
}

/** Creates a new ES256 key pair as JWKs, ready for {@link SigningKeyStore.activate}. */
export async function generateSigningKey(): Promise<{
  kid: string;
  alg: string;
  publicJwk: JWK;
  privateJwk: JWK;
}> {
  const { publicKey, privateKey } = await generateKeyPair(REGISTRY_TOKEN_ALG, { extractable: true });
  const kid = `nir-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: REGISTRY_TOKEN_ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: REGISTRY_TOKEN_ALG };
  return { kid, alg: REGISTRY_TOKEN_ALG, publicJwk, privateJwk };
}

/** Cached signing and verification keys. */
export class KeyRing {
  readonly #store: SigningKeyStore;
  readonly #options: Required<KeyRingOptions>;
  #keys = new Map<string, LoadedKey>();
  #active: LoadedKey | undefined;
  #lastRefresh = 0;
  #refreshing: Promise<void> | undefined;

  constructor(store: SigningKeyStore, options: KeyRingOptions) {
    this.#store = store;
    this.#options = { minRefreshMs: 100, ...options };
  }

  /** Creates a first key when none is active (safe when several instances start together), then loads. */
  async initialise(): Promise<void> {
    await this.#store.activate(await generateSigningKey(), { onlyIfNone: true });
    await this.refresh();
  }

  /** Makes a fresh key active and retires the current one. */
  async rotate(): Promise<string> {
    const key = await generateSigningKey();
    await this.#store.activate(key);
    await this.refresh();
    return key.kid;
  }

  /** Reloads the published keys from the database; concurrent callers share one reload. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#reload().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #reload(): Promise<void> {
    const stored = await this.#store.listPublishable(this.#options.graceSeconds);
    const next = new Map<string, LoadedKey>();
    let active: LoadedKey | undefined;
    for (const key of stored) {
      const cached = this.#keys.get(key.kid);
      const loaded: LoadedKey = cached ?? {
        kid: key.kid,
        publicJwk: key.publicJwk as JWK,
        verifyKey: (await importJWK(key.publicJwk as JWK, key.alg)) as CryptoKey,
        active: false,
      };
      loaded.active = key.retiredAt === null;
      if (loaded.active && !loaded.signKey) {
        loaded.signKey = (await importJWK(key.privateJwk as JWK, key.alg)) as CryptoKey;
      }
      if (loaded.active) active = loaded;
      next.set(key.kid, loaded);
    }
    this.#keys = next;
    if (active) this.#active = active;
    this.#lastRefresh = Date.now();
  }

  /** The key new tokens are signed with. */
  signingKey(): { kid: string; key: CryptoKey } {
    const active = this.#active;
    if (!active?.signKey) throw new Error('The key ring has no active signing key; call initialise() first');
    return { kid: active.kid, key: active.signKey };
  }

  /** The public JWKS served at `/.well-known/jwks.json`. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.#keys.values()].map((k) => k.publicJwk) };
  }

  /**
   * The verification key for a token header (a jose key resolver). An unknown kid triggers one
   * rate-limited reload, so a key rotated in by another instance verifies here at once.
   */
  readonly resolve = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const kid = header.kid ?? '';
    let key = this.#keys.get(kid);
    if (!key && Date.now() - this.#lastRefresh >= this.#options.minRefreshMs) {
      await this.refresh();
      key = this.#keys.get(kid);
    }
    if (!key) throw new UnknownKeyError();
    return key.verifyKey;
  };
}

/** A token named a key the registry does not publish. */
export class UnknownKeyError extends Error {
  constructor() {
    super('unknown signing key');
    this.name = 'UnknownKeyError';
  }
}
