/**
 * The server's configuration, read once from the environment (every variable is listed in the
 * README). Nothing else reads `process.env`.
 */

/** Everything the server needs to know about its deployment. */
export interface ServerConfig {
  port: number;
  host: string;
  /** The externally visible origin, e.g. `https://nir.example.nhs.uk`; token `aud` and `iss` derive from it. */
  publicUrl: string;
  /** PostgreSQL URL; when absent the embedded PGlite database is used. */
  databaseUrl: string | undefined;
  /** PGlite data directory (embedded database only). */
  dataDir: string;
  poolSize: number;
  /**
   * Issue 19: a streaming replica's PostgreSQL URL (`DATABASE_REPLICA_URL`) for consumer
   * searches, counts and reads; undefined: everything runs on the primary.
   */
  replicaUrl: string | undefined;
  /** Connections of the replica pool (`NIR_REPLICA_POOL_SIZE`, default `NIR_DB_POOL_SIZE`). */
  replicaPoolSize: number;
  /**
   * The staleness bound (`NIR_REPLICA_MAX_LAG`), milliseconds: a replica measured further
   * behind than this is not used, so nothing served from it is older.
   */
  replicaMaxLagMs: number;
  /** Demo mode: seeds the demo catalogue and accepts the demo keys. Never on in production. */
  demoMode: boolean;
  logLevel: string;
  /** Lifetime of the access tokens the registry issues, in seconds (SMART: at most 300). */
  accessTokenTtlSeconds: number;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Seconds between reloads of the signing keys from the database (rotation by another instance). */
  keyRefreshSeconds: number;
  /** Express `trust proxy` (e.g. `loopback`, `10.0.0.0/8`) so the caller's address survives a load balancer. */
  trustProxy: string | undefined;
  /** Months of audit kept (R7); whole month partitions older than this are dropped. */
  auditRetentionMonths: number;
  /** The registry's ASID, named as observer of every AuditEvent (NHS PARS), when it has one. */
  auditAsid: string | undefined;
  /** Largest number of AuditEvents one group-commit INSERT takes. */
  auditBatchEvents: number;
  /**
   * Benchmarks only (S5 of `pnpm bench`): read events are built but not written, to measure
   * what the durable audit costs. Refused outside demo mode: a real registry audits every
   * access (R7).
   */
  auditDiscard: boolean;
  /** The most pointers one consumer search Bundle holds when the client sends no `_count`. */
  consumerSearchCap: number;
  /** The largest page size a consumer's `_count` gets. */
  consumerMaxCount: number;
  /**
   * Conformance sandbox (R15): only NHS test-range numbers are written, and the database is
   * marked as a sandbox (its suppliers' data and audit can be reset by the operator).
   */
  sandbox?: boolean;
  /** Load shedding (issue 14, point 10): seconds of work the connection queue may hold before 503s. */
  dbQueueSeconds: number;
  /** Bounded waits on PostgreSQL (issue 14, point 8), milliseconds. */
  dbTimeouts: { connectMs: number; statementMs: number; lockMs: number; readMs: number };
  /** Rate limits (issue 14, point 9): defaults where the catalogue names none, and this instance's share. */
  rateLimits: RateLimitConfig;
  /** R16: port of the separate Prometheus metrics listener; undefined: no metrics listener. */
  metricsPort: number | undefined;
  /** R16: address of the metrics listener (loopback by default: the metrics are never public). */
  metricsHost: string;
  /** R16: on SIGTERM, the most milliseconds in-flight requests get to finish before their connections are cut. */
  drainTimeoutMs: number;
  /**
   * R17: maintain the service-review rollup as audit events are written. Benchmarks only may
   * turn it off (to measure its cost); refused outside demo mode.
   */
  auditRollup: boolean;
  /**
   * Issue 15: worker processes serving the port (`NIR_WORKERS`, node:cluster). 1 (the default)
   * runs today's single process with no cluster primary.
   */
  workers: number;
  /**
   * Which worker this process is (0 to workers − 1), set by the cluster primary in the
   * environment of the workers it forks (`NIR_WORKER_INDEX`, not an operator setting); undefined
   * in a single process. Worker 0 runs the jobs on shared tables (audit maintenance, replay
   * purge, search-facts reindex); a replacement keeps the index of the worker it replaces.
   */
  workerIndex: number | undefined;
}

/** Rate limit settings read from the environment; the Controller Catalogue overrides per client and organisation. */
export interface RateLimitConfig {
  /** Requests a minute a client system may make when its catalogue entry names no limit (NRL: 30,000). */
  clientPerMinute: number;
  /** Requests a minute made for one organisation when its catalogue entry names no limit. */
  organisationPerMinute: number;
  /** Access tokens a minute one client may obtain when its catalogue entry names no limit. */
  tokensPerMinute: number;
  /**
   * Processes sharing the limits: each enforces 1/instances of every limit. It is
   * `NIR_RATE_LIMIT_INSTANCES` (instances behind the balancer) times `NIR_WORKERS` (processes
   * of each instance), since every worker counts in its own memory.
   */
  instances: number;
  /** Off only for measurement (`pnpm bench` S2 with and without the limiter). */
  enabled: boolean;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

function flag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new Error(`${name} must be true or false, got '${raw}'`);
}

function asid(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,20}$/.test(raw)) throw new Error(`NIR_AUDIT_ASID must be an ASID (digits), got '${raw}'`);
  return raw;
}

function dbTimeouts(env: NodeJS.ProcessEnv): ServerConfig['dbTimeouts'] {
  const statementMs = integer(
    'NIR_DB_STATEMENT_TIMEOUT_MS',
    env.NIR_DB_STATEMENT_TIMEOUT_MS,
    5000,
    100,
    600_000,
  );
  return {
    connectMs: integer('NIR_DB_CONNECT_TIMEOUT_MS', env.NIR_DB_CONNECT_TIMEOUT_MS, 3000, 100, 600_000),
    statementMs,
    lockMs: integer('NIR_DB_LOCK_TIMEOUT_MS', env.NIR_DB_LOCK_TIMEOUT_MS, 3000, 100, 600_000),
    // A little longer than the server's own limit, so a statement timeout is reported by the server.
    readMs: statementMs + 2000,
  };
}

/**
 * A duration in milliseconds: `250`, `250ms` or `2s` (a bare number is milliseconds, like the
 * `_MS` settings).
 */
export function durationMs(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)(ms|s)?$/.exec(raw.trim());
  const value = match ? Number(match[1]) * (match[2] === 's' ? 1000 : 1) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(
      `${name} must be a duration from ${min} ms to ${max / 1000} s (e.g. 500ms, 2s), got '${raw}'`,
    );
  }
  return value;
}

/** Reads the configuration from `env`; throws a clear error for a malformed value. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = integer('PORT', env.PORT, 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const databaseUrl = env.DATABASE_URL || undefined;
  const publicUrl = (
    env.NIR_PUBLIC_URL || `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
  ).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#\s]+$/.test(publicUrl)) {
    throw new Error(
      `NIR_PUBLIC_URL must be an origin such as https://nir.example.nhs.uk, got '${publicUrl}'`,
    );
  }
  const demoMode = flag('NIR_DEMO_MODE', env.NIR_DEMO_MODE, databaseUrl === undefined);
  const auditDiscard = flag('NIR_AUDIT_DISCARD', env.NIR_AUDIT_DISCARD, false);
  if (auditDiscard && !demoMode) {
    throw new Error(
      'NIR_AUDIT_DISCARD is for benchmarks of a demo registry only: every access is audited (R7)',
    );
  }
  const auditRollup = flag('NIR_AUDIT_ROLLUP', env.NIR_AUDIT_ROLLUP, true);
  if (!auditRollup && !demoMode) {
    throw new Error(
      'NIR_AUDIT_ROLLUP=false is for benchmarks of a demo registry only: the service review needs it (R17)',
    );
  }
  const workers = integer('NIR_WORKERS', env.NIR_WORKERS, 1, 1, 64);
  if (workers > 1 && databaseUrl === undefined) {
    throw new Error(
      'NIR_WORKERS above 1 needs DATABASE_URL (PostgreSQL): the embedded database belongs to one process',
    );
  }
  const replicaUrl = env.DATABASE_REPLICA_URL || undefined;
  if (replicaUrl !== undefined && databaseUrl === undefined) {
    throw new Error('DATABASE_REPLICA_URL needs DATABASE_URL: a replica is of a PostgreSQL primary');
  }
  const poolSize = integer('NIR_DB_POOL_SIZE', env.NIR_DB_POOL_SIZE, 4, 1, 100);
  const workerIndex =
    env.NIR_WORKER_INDEX === undefined || env.NIR_WORKER_INDEX === ''
      ? undefined
      : integer('NIR_WORKER_INDEX', env.NIR_WORKER_INDEX, 0, 0, workers - 1);
  return {
    port,
    host,
    publicUrl,
    databaseUrl,
    dataDir: env.NIR_DATA_DIR || '.data/pglite',
    poolSize,
    replicaUrl,
    replicaPoolSize: integer('NIR_REPLICA_POOL_SIZE', env.NIR_REPLICA_POOL_SIZE, poolSize, 1, 100),
    replicaMaxLagMs: durationMs('NIR_REPLICA_MAX_LAG', env.NIR_REPLICA_MAX_LAG, 1000, 1, 600_000),
    // The embedded quick start is a demo; a real PostgreSQL deployment is not, unless asked.
    demoMode,
    logLevel: env.LOG_LEVEL || 'info',
    accessTokenTtlSeconds: integer('NIR_ACCESS_TOKEN_TTL', env.NIR_ACCESS_TOKEN_TTL, 300, 30, 3600),
    bodyLimitBytes: integer('NIR_BODY_LIMIT_BYTES', env.NIR_BODY_LIMIT_BYTES, 1_048_576, 1024, 104_857_600),
    keyRefreshSeconds: integer('NIR_KEY_REFRESH_SECONDS', env.NIR_KEY_REFRESH_SECONDS, 60, 1, 3600),
    trustProxy: env.NIR_TRUST_PROXY || undefined,
    // NRL keeps its audit six years: 72 whole months at least (partitions go a month at a time).
    auditRetentionMonths: integer('NIR_AUDIT_RETENTION_MONTHS', env.NIR_AUDIT_RETENTION_MONTHS, 72, 1, 1200),
    auditAsid: asid(env.NIR_AUDIT_ASID),
    auditBatchEvents: integer('NIR_AUDIT_BATCH_EVENTS', env.NIR_AUDIT_BATCH_EVENTS, 1000, 1, 5000),
    auditDiscard,
    consumerSearchCap: integer('NIR_CONSUMER_SEARCH_CAP', env.NIR_CONSUMER_SEARCH_CAP, 1000, 1, 10_000),
    consumerMaxCount: integer('NIR_CONSUMER_MAX_COUNT', env.NIR_CONSUMER_MAX_COUNT, 100, 1, 1000),
    sandbox: flag('NIR_SANDBOX', env.NIR_SANDBOX, false),
    dbTimeouts: dbTimeouts(env),
    dbQueueSeconds: integer('NIR_DB_QUEUE_SECONDS', env.NIR_DB_QUEUE_SECONDS, 1, 1, 600),
    rateLimits: {
      clientPerMinute: integer('NIR_RATE_LIMIT_CLIENT', env.NIR_RATE_LIMIT_CLIENT, 30_000, 1, 10_000_000),
      organisationPerMinute: integer(
        'NIR_RATE_LIMIT_ORGANISATION',
        env.NIR_RATE_LIMIT_ORGANISATION,
        30_000,
        1,
        10_000_000,
      ),
      tokensPerMinute: integer('NIR_TOKEN_LIMIT', env.NIR_TOKEN_LIMIT, 600, 1, 1_000_000),
      instances: integer('NIR_RATE_LIMIT_INSTANCES', env.NIR_RATE_LIMIT_INSTANCES, 1, 1, 1000) * workers,
      enabled: flag('NIR_RATE_LIMIT', env.NIR_RATE_LIMIT, true),
    },
    metricsPort:
      env.NIR_METRICS_PORT === undefined || env.NIR_METRICS_PORT === ''
        ? undefined
        : integer('NIR_METRICS_PORT', env.NIR_METRICS_PORT, 0, 0, 65535),
    metricsHost: env.NIR_METRICS_HOST || '127.0.0.1',
    drainTimeoutMs: integer('NIR_DRAIN_TIMEOUT_MS', env.NIR_DRAIN_TIMEOUT_MS, 25_000, 0, 600_000),
    auditRollup,
    workers,
    workerIndex,
  };
}
