/**
 * Rate limits per client system and per organisation, and a cap on access tokens per client
 * (issue 14, point 9). Quotas are a minute's requests from the Controller Catalogue
 * (`rateLimitPerMinute` of a client or an organisation, `tokenLimitPerMinute` of a client),
 * else the registry's defaults (NRL's 30,000 a minute per application).
 *
 * Several instances: each enforces its share, the quota divided by `NIR_RATE_LIMIT_INSTANCES`
 * (the number of instances behind the balancer), with no database round trip. The limit is
 * therefore exact when the balancer spreads a client evenly and approximate otherwise; the
 * README says so.
 *
 * Over quota: 429 TOO_MANY_REQUESTS with `Retry-After`, thrown as an OperationOutcomeError so
 * the error handler answers and the audit middleware records it, like any refusal.
 */
import { type OperationOutcomeError, refuse } from '@nir/core';
import type { Response } from 'express';
import type { RateLimitConfig } from '../config.ts';
import type { ResilienceCounters } from '../resilience/counters.ts';
import { type TakeReceipt, TokenBuckets } from './token-bucket.ts';

/** Who a request counts against, with the catalogue's quotas when it names them. */
export interface RateLimitSubject {
  clientId: string;
  clientPerMinute?: number | undefined;
  odsCode?: string | undefined;
  organisationPerMinute?: number | undefined;
}

/** A 429 refusal that carries its `Retry-After`. */
export interface RateLimitRefusal {
  error: OperationOutcomeError;
  retryAfterSeconds: number;
}

/** The registry's rate limiter (one per process). */
export class RateLimiter {
  readonly #config: RateLimitConfig;
  readonly #counters: ResilienceCounters | undefined;
  readonly #requests: TokenBuckets;
  readonly #tokens: TokenBuckets;
  /** What the last {@link request} took from the client's and the organisation's buckets. */
  #clientReceipt: TakeReceipt | undefined;
  #organisationReceipt: TakeReceipt | undefined;

  constructor(config: RateLimitConfig, counters?: ResilienceCounters, now?: () => number) {
    this.#config = config;
    this.#counters = counters;
    this.#requests = new TokenBuckets(now);
    this.#tokens = new TokenBuckets(now);
  }

  /** This instance's share of a quota. */
  #share(perMinute: number): number {
    return Math.max(1, Math.floor(perMinute / this.#config.instances));
  }

  /** Counts one request; returns the refusal when the client's or the organisation's quota is spent. */
  request(subject: RateLimitSubject): RateLimitRefusal | undefined {
    if (!this.#config.enabled) return undefined;
    const clientWait = this.#requests.take(
      `c:${subject.clientId}`,
      this.#share(subject.clientPerMinute ?? this.#config.clientPerMinute),
    );
    this.#clientReceipt = this.#requests.lastReceipt();
    if (clientWait > 0) {
      this.#counters?.increment('rate-limited-client');
      return refusal(`Client system '${subject.clientId}' is over its request quota`, clientWait);
    }
    if (subject.odsCode === undefined) return undefined;
    const orgWait = this.#requests.take(
      `o:${subject.odsCode}`,
      this.#share(subject.organisationPerMinute ?? this.#config.organisationPerMinute),
    );
    this.#organisationReceipt = this.#requests.lastReceipt();
    if (orgWait > 0) {
      this.#counters?.increment('rate-limited-organisation');
      return refusal(`Organisation '${subject.odsCode}' is over its request quota`, orgWait);
    }
    return undefined;
  }

  /**
   * {@link request}, with what it took, so that a request decided again (on a newer catalogue,
   * with its quotas) can be counted once: {@link undo} the first decision's receipts first.
   */
  requestWithReceipts(subject: RateLimitSubject): {
    refused: RateLimitRefusal | undefined;
    receipts: TakeReceipt[];
  } {
    this.#clientReceipt = undefined;
    this.#organisationReceipt = undefined;
    const refused = this.request(subject);
    const receipts: TakeReceipt[] = [];
    // Undone in reverse order: the organisation's take came after the client's.
    if (this.#organisationReceipt) receipts.push(this.#organisationReceipt);
    if (this.#clientReceipt) receipts.push(this.#clientReceipt);
    return { refused, receipts };
  }

  /** Undoes the takes of an earlier {@link requestWithReceipts}. */
  undo(receipts: TakeReceipt[]): void {
    for (const receipt of receipts) this.#requests.undo(receipt);
  }

  /** Counts one request made for an organisation alone (the token endpoint, which counts its client first). */
  organisation(odsCode: string, perMinute: number | undefined): RateLimitRefusal | undefined {
    if (!this.#config.enabled) return undefined;
    const wait = this.#requests.take(
      `o:${odsCode}`,
      this.#share(perMinute ?? this.#config.organisationPerMinute),
    );
    if (wait === 0) return undefined;
    this.#counters?.increment('rate-limited-organisation');
    return refusal(`Organisation '${odsCode}' is over its request quota`, wait);
  }

  /** Counts one access token issued to `clientId`; returns the refusal when its token cap is spent. */
  token(clientId: string, perMinute: number | undefined): RateLimitRefusal | undefined {
    if (!this.#config.enabled) return undefined;
    const wait = this.#tokens.take(clientId, this.#share(perMinute ?? this.#config.tokensPerMinute));
    if (wait === 0) return undefined;
    this.#counters?.increment('token-cap');
    return refusal(`Client system '${clientId}' asked for more access tokens than its quota allows`, wait);
  }
}

function refusal(diagnostics: string, retryAfterSeconds: number): RateLimitRefusal {
  return {
    error: refuse('TOO_MANY_REQUESTS', `${diagnostics}; retry after ${retryAfterSeconds} s`),
    retryAfterSeconds,
  };
}

/** Sets `Retry-After` on `res` and throws the refusal (for the error handler and the audit). */
export function throwRefusal(res: Response, refused: RateLimitRefusal): never {
  res.setHeader('Retry-After', String(refused.retryAfterSeconds));
  throw refused.error;
}
