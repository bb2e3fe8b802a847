/**
 * The registry's Prometheus metrics (R16), with `prom-client`. One {@link RegistryMetrics} per
 * process, passed explicitly to what records into it. Every label has a bounded set of values
 * (see `LABEL_DOMAINS`, which the tests hold every scrape to): endpoints, interactions, HTTP
 * statuses and registry error codes, never NHS numbers, ids or free text.
 */
import { ERROR_CODES, INTERACTIONS } from '@nir/core';
import type { PoolStats } from '@nir/store';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { REPLICA_FALLBACK_REASONS } from '../replica/replica-reads.ts';
import { RecentActivity } from './recent-activity.ts';

/** Endpoints a request can reach (the first path segment, bounded). */
export const METRIC_BASES = [
  'producer',
  'consumer',
  'audit',
  'token',
  'admin',
  'dashboard',
  'health',
  'discovery',
  'other',
] as const;
export type MetricBase = (typeof METRIC_BASES)[number];

/** The values each label may take; a scrape carrying anything else is a bug (tested). */
export const LABEL_DOMAINS: Record<string, (value: string) => boolean> = {
  base: (v) => (METRIC_BASES as readonly string[]).includes(v),
  interaction: (v) => v === 'none' || (INTERACTIONS as readonly string[]).includes(v),
  status: (v) => /^[1-5]\d\d$/.test(v),
  code: (v) => v === '' || v === 'OTHER' || Object.hasOwn(ERROR_CODES, v),
  outcome: (v) => ['issued', 'refused', 'ok', 'failed'].includes(v),
  state: (v) => ['total', 'idle', 'waiting'].includes(v),
  scope: (v) => /^[a-z][a-z_-]{0,31}$/.test(v),
  reason: (v) => (REPLICA_FALLBACK_REASONS as readonly string[]).includes(v),
  le: (v) => /^(\+Inf|\d+(\.\d+)?(e[-+]?\d+)?)$/.test(v),
};

/** A registry error code as a label: a known code, else `OTHER`. */
export function codeLabel(code: string | undefined): string {
  if (!code) return '';
  return Object.hasOwn(ERROR_CODES, code) ? code : 'OTHER';
}

/** What the metrics read when scraped. */
export interface MetricSources {
  poolStats?: () => PoolStats | undefined;
  /** The Controller Catalogue's version (its latest change). */
  catalogueVersion?: () => Promise<number>;
  /** Whether the instance is ready for traffic (checked when scraped). */
  ready?: () => Promise<boolean>;
  /**
   * Issue 19: the replica's measured staleness in milliseconds, undefined when unknown; absent
   * when no replica is configured (no lag gauge then).
   */
  replicaLagMs?: (() => number | undefined) | undefined;
}

/** Every metric the registry exports. */
export class RegistryMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'base' | 'interaction' | 'status' | 'code'>;
  readonly requestDuration: Histogram<'base' | 'interaction'>;
  readonly statementDuration: Histogram<'outcome'>;
  readonly auditBatchRecords: Histogram;
  readonly auditBatchDuration: Histogram<'outcome'>;
  readonly tokens: Counter<'outcome'>;
  /**
   * Requests refused by a rate limit, by limit scope (`client`, `organisation`, `token`),
   * counted from the limiter's events by `countRateLimitRefusals`.
   */
  readonly rateLimitRefusals: Counter<'scope'>;
  /** Issue 19: consumer reads the replica served. */
  readonly replicaReads: Counter;
  /** Issue 19: consumer reads that could have gone to the replica and ran on the primary, by reason. */
  readonly replicaFallbacks: Counter<'reason'>;
  /** This instance's last hour, minute by minute (the dashboard). */
  readonly recent = new RecentActivity();
  /** Group-commit batches written and failed since start (the dashboard). */
  readonly batches = { written: 0, failed: 0, records: 0 };

  constructor(sources: MetricSources = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'nir_http_requests_total',
      help: 'Requests answered, by endpoint, guarded interaction, HTTP status and registry error code',
      labelNames: ['base', 'interaction', 'status', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'nir_http_request_duration_seconds',
      help: 'Time from the request arriving to the response finishing, by endpoint and interaction',
      labelNames: ['base', 'interaction'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.statementDuration = new Histogram({
      name: 'nir_db_statement_duration_seconds',
      help: 'Database statement latency (every statement the registry runs), by outcome',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.auditBatchRecords = new Histogram({
      name: 'nir_audit_batch_records',
      help: 'Requests whose audit one group-commit INSERT wrote',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.auditBatchDuration = new Histogram({
      name: 'nir_audit_batch_duration_seconds',
      help: 'Time to write one group-commit batch of AuditEvents (and its rollup), by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.tokens = new Counter({
      name: 'nir_tokens_total',
      help: 'Access token requests, issued or refused',
      labelNames: ['outcome'],
      registers,
    });
    this.rateLimitRefusals = new Counter({
      name: 'nir_rate_limit_refusals_total',
      help: 'Requests refused by a rate limit, by limit scope',
      labelNames: ['scope'],
      registers,
    });
    this.replicaReads = new Counter({
      name: 'nir_replica_reads_total',
      help: 'Consumer searches, counts and reads served by the replica (issue 19)',
      registers,
    });
    this.replicaFallbacks = new Counter({
      name: 'nir_replica_fallbacks_total',
      help: 'Consumer reads run on the primary instead of the replica, by reason: lag (over NIR_REPLICA_MAX_LAG), unmeasured (replica unreachable, not a standby, or recently failed), failed (the replica statement failed and was run again), catalogue (the replica had not replayed the newest catalogue change), reindex (search facts being recomputed)',
      labelNames: ['reason'],
      registers,
    });
    const { poolStats, catalogueVersion, ready, replicaLagMs } = sources;
    if (replicaLagMs) {
      new Gauge({
        name: 'nir_replica_lag_seconds',
        help: 'How far behind the primary the replica may be, measured in time (+Inf when unknown: unreachable or not yet measured)',
        registers,
        // Several workers (NIR_WORKERS): the worst any of them measures.
        aggregator: 'max',
        collect() {
          const ms = replicaLagMs();
          this.set(ms === undefined ? Number.POSITIVE_INFINITY : ms / 1000);
        },
      });
    }
    new Gauge({
      name: 'nir_db_pool_connections',
      help: 'PostgreSQL pool connections: total, idle, and callers waiting for one',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = poolStats?.();
        if (!stats) return;
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    new Gauge({
      name: 'nir_catalogue_version',
      help: 'The Controller Catalogue version this instance reads (its latest change number)',
      registers,
      // Several workers (NIR_WORKERS): the oldest version any of them reads.
      aggregator: 'min',
      async collect() {
        if (catalogueVersion) this.set(await catalogueVersion().catch(() => -1));
      },
    });
    new Gauge({
      name: 'nir_ready',
      help: '1 while this instance should receive traffic (see /_ready), 0 while starting or draining',
      registers,
      // Several workers (NIR_WORKERS): 1 only while every worker is ready.
      aggregator: 'min',
      async collect() {
        this.set((await ready?.().catch(() => false)) ? 1 : 0);
      },
    });
  }

  /** The content type of {@link scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
