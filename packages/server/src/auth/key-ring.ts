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
  readonly #options: KeyRingOptions;
  #keys = new Map<string, LoadedKey>();
  #active: LoadedKey | undefined;
  /** The reload in flight, and when it started. */
  #current: { done: Promise<void>; startedAt: number } | undefined;
  /** The one reload queued behind it, shared by every request that arrived after it started. */
  #queued: Promise<void> | undefined;

  constructor(store: SigningKeyStore, options: KeyRingOptions) {
    this.#store = store;
    this.#options = options;
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
    if (!this.#current) {
      const done = this.#reload().finally(() => {
        this.#current = undefined;
      });
      this.#current = { done, startedAt: Date.now() };
    }
    return this.#current.done;
  }

  /**
   * Resolves once a reload that started at or after `since` has finished. At most one reload
   * runs and one waits at any time, however many unknown kids arrive: junk kids cost at most
   * one query in flight, and a kid rotated in by another instance is never refused.
   */
  #refreshSince(since: number): Promise<void> {
    const current = this.#current;
    if (current && current.startedAt >= since) return current.done;
    if (!current) return this.refresh();
    this.#queued ??= current.done
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.refresh();
      });
    return this.#queued;
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
  }

  /** True while tokens signed with `kid` verify (the key is published: active or in its grace period). */
  trusts(kid: string): boolean {
    return this.#keys.has(kid);
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
   * The verification key for a token header (a jose key resolver). An unknown kid waits for a
   * reload that started after it arrived, so a key rotated in by another instance verifies here
   * at once.
   */
  readonly resolve = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const kid = header.kid ?? '';
    let key = this.#keys.get(kid);
    if (!key) {
      await this.#refreshSince(Date.now());
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
