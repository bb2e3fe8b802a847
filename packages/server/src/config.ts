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
  return {
    port,
    host,
    publicUrl,
    databaseUrl,
    dataDir: env.NIR_DATA_DIR || '.data/pglite',
    poolSize: integer('NIR_DB_POOL_SIZE', env.NIR_DB_POOL_SIZE, 4, 1, 100),
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
    metricsPort:
      env.NIR_METRICS_PORT === undefined || env.NIR_METRICS_PORT === ''
        ? undefined
        : integer('NIR_METRICS_PORT', env.NIR_METRICS_PORT, 0, 0, 65535),
    metricsHost: env.NIR_METRICS_HOST || '127.0.0.1',
    drainTimeoutMs: integer('NIR_DRAIN_TIMEOUT_MS', env.NIR_DRAIN_TIMEOUT_MS, 25_000, 0, 600_000),
    auditRollup,
  };
}
