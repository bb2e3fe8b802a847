import { describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';

describe('readConfig defaults', () => {
  it('listens on 127.0.0.1:8080 and derives the public URL from them', () => {
    const config = readConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe('.data/pglite');
    expect(config.poolSize).toBe(4);
    expect(config.logLevel).toBe('info');
    expect(config.accessTokenTtlSeconds).toBe(300);
    expect(config.bodyLimitBytes).toBe(1_048_576);
    expect(config.keyRefreshSeconds).toBe(60);
    expect(config.trustProxy).toBeUndefined();
  });

  it('treats empty variables as unset', () => {
    const config = readConfig({
      PORT: '',
      HOST: '',
      DATABASE_URL: '',
      NIR_PUBLIC_URL: '',
      NIR_DEMO_MODE: '',
    });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.demoMode).toBe(true);
  });

  it('is in demo mode on the embedded database and not on PostgreSQL', () => {
    expect(readConfig({}).demoMode).toBe(true);
    const onPostgres = readConfig({ DATABASE_URL: 'postgres://nir@db.internal:5432/nir' });
    expect(onPostgres.databaseUrl).toBe('postgres://nir@db.internal:5432/nir');
    expect(onPostgres.demoMode).toBe(false);
  });

  it.each([
    ['false', {}, false],
    ['0', {}, false],
    ['off', {}, false],
    ['NO', {}, false],
    ['true', { DATABASE_URL: 'postgres://nir@db.internal/nir' }, true],
    ['1', { DATABASE_URL: 'postgres://nir@db.internal/nir' }, true],
    ['On', { DATABASE_URL: 'postgres://nir@db.internal/nir' }, true],
    ['yes', { DATABASE_URL: 'postgres://nir@db.internal/nir' }, true],
  ])('NIR_DEMO_MODE=%s overrides the database default', (value, env, expected) => {
    expect(readConfig({ ...env, NIR_DEMO_MODE: value }).demoMode).toBe(expected);
  });
});

describe('readConfig public URL', () => {
  it('derives from HOST and PORT', () => {
    expect(readConfig({ HOST: 'localhost', PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
  });

  it('uses 127.0.0.1 when listening on every interface', () => {
    const config = readConfig({ HOST: '0.0.0.0', PORT: '8443' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.publicUrl).toBe('http://127.0.0.1:8443');
  });

  it('takes NIR_PUBLIC_URL as given, without trailing slashes', () => {
    expect(readConfig({ NIR_PUBLIC_URL: 'https://nir.example.nhs.uk' }).publicUrl).toBe(
      'https://nir.example.nhs.uk',
    );
    expect(readConfig({ NIR_PUBLIC_URL: 'https://nir.example.nhs.uk/' }).publicUrl).toBe(
      'https://nir.example.nhs.uk',
    );
    expect(readConfig({ NIR_PUBLIC_URL: 'http://10.0.0.5:8080///', PORT: '1' }).publicUrl).toBe(
      'http://10.0.0.5:8080',
    );
  });
});

describe('readConfig refuses malformed values with a clear error', () => {
  it.each(['abc', '80.5', '-1', '65536', '8080abc'])('PORT=%s', (value) => {
    expect(() => readConfig({ PORT: value })).toThrow(
      new Error(`PORT must be an integer from 0 to 65535, got '${value}'`),
    );
  });

  it.each(['nir.example.nhs.uk', 'ftp://nir.example.nhs.uk', 'https://nir.example.nhs.uk/fhir', 'https://'])(
    'NIR_PUBLIC_URL=%s',
    (value) => {
      expect(() => readConfig({ NIR_PUBLIC_URL: value })).toThrow(
        /^NIR_PUBLIC_URL must be an origin such as/,
      );
      expect(() => readConfig({ NIR_PUBLIC_URL: value })).toThrow(value);
    },
  );

  // Not origins either: the token URL (`${publicUrl}/oauth2/token`) and the token audience
  // would be built on a query string or fragment.
  it.each(['https://nir.example.nhs.uk?x=1', 'https://nir.example.nhs.uk#top'])(
    'NIR_PUBLIC_URL=%s (query or fragment is not an origin)',
    (value) => {
      expect(() => readConfig({ NIR_PUBLIC_URL: value })).toThrow(
        /^NIR_PUBLIC_URL must be an origin such as/,
      );
    },
  );

  it.each(['maybe', 'enabled', '2'])('NIR_DEMO_MODE=%s', (value) => {
    expect(() => readConfig({ NIR_DEMO_MODE: value })).toThrow(
      new Error(`NIR_DEMO_MODE must be true or false, got '${value}'`),
    );
  });

  it.each([
    ['NIR_DB_POOL_SIZE', '0'],
    ['NIR_ACCESS_TOKEN_TTL', '29'],
    ['NIR_ACCESS_TOKEN_TTL', '3601'],
    ['NIR_BODY_LIMIT_BYTES', '100'],
    ['NIR_KEY_REFRESH_SECONDS', 'soon'],
  ])('%s=%s', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(
      new RegExp(`^${name} must be an integer .*'${value}'`),
    );
  });
});

describe('readConfig audit', () => {
  it('keeps 72 months of audit by default (NRL keeps six years), no ASID, batches of 1000', () => {
    const config = readConfig({});
    expect(config.auditRetentionMonths).toBe(72);
    expect(config.auditAsid).toBeUndefined();
    expect(config.auditBatchEvents).toBe(1000);
  });

  it('writes every audit event unless a demo registry is benchmarked with NIR_AUDIT_DISCARD (R7)', () => {
    expect(readConfig({}).auditDiscard).toBe(false);
    expect(readConfig({ NIR_DEMO_MODE: 'true', NIR_AUDIT_DISCARD: 'true' }).auditDiscard).toBe(true);
    expect(() => readConfig({ DATABASE_URL: 'postgres://db/nir', NIR_AUDIT_DISCARD: 'true' })).toThrow(
      /NIR_AUDIT_DISCARD is for benchmarks of a demo registry only/,
    );
  });

  it('reads NIR_AUDIT_RETENTION_MONTHS, NIR_AUDIT_ASID and NIR_AUDIT_BATCH_EVENTS', () => {
    const config = readConfig({
      NIR_AUDIT_RETENTION_MONTHS: '120',
      NIR_AUDIT_ASID: '200000001234',
      NIR_AUDIT_BATCH_EVENTS: '250',
    });
    expect(config.auditRetentionMonths).toBe(120);
    expect(config.auditAsid).toBe('200000001234');
    expect(config.auditBatchEvents).toBe(250);
  });

  it.each([
    ['NIR_AUDIT_RETENTION_MONTHS', '0'],
    ['NIR_AUDIT_RETENTION_MONTHS', 'six years'],
    ['NIR_AUDIT_ASID', 'RR8'],
    ['NIR_AUDIT_BATCH_EVENTS', '0'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(name);
  });

  it('issue 14: bounded database waits and rate limits, with NRL defaults', () => {
    const defaults = readConfig({});
    expect(defaults.dbTimeouts).toEqual({ connectMs: 3000, statementMs: 5000, lockMs: 3000, readMs: 7000 });
    expect(defaults.dbQueueSeconds).toBe(1);
    expect(defaults.rateLimits).toEqual({
      clientPerMinute: 30_000,
      organisationPerMinute: 30_000,
      tokensPerMinute: 600,
      instances: 1,
      enabled: true,
    });
    const set = readConfig({
      NIR_DB_STATEMENT_TIMEOUT_MS: '1000',
      NIR_RATE_LIMIT_INSTANCES: '3',
      NIR_TOKEN_LIMIT: '60',
      NIR_RATE_LIMIT: 'false',
    });
    expect(set.dbTimeouts.readMs).toBe(3000);
    expect(set.rateLimits).toMatchObject({ instances: 3, tokensPerMinute: 60, enabled: false });
    expect(() => readConfig({ NIR_RATE_LIMIT_CLIENT: '0' })).toThrow(/NIR_RATE_LIMIT_CLIENT/);
    expect(() => readConfig({ NIR_DB_LOCK_TIMEOUT_MS: 'soon' })).toThrow(/NIR_DB_LOCK_TIMEOUT_MS/);
  });
});

describe('readConfig workers (issue 15)', () => {
  it('runs one process by default, with no worker index', () => {
    const config = readConfig({});
    expect(config.workers).toBe(1);
    expect(config.workerIndex).toBeUndefined();
  });

  it('gives every worker its share of the rate limits: instances × workers', () => {
    const config = readConfig({
      DATABASE_URL: 'postgres://nir@db.internal/nir',
      NIR_WORKERS: '2',
      NIR_RATE_LIMIT_INSTANCES: '3',
    });
    expect(config.workers).toBe(2);
    expect(config.rateLimits.instances).toBe(6);
    expect(
      readConfig({ DATABASE_URL: 'postgres://nir@db.internal/nir', NIR_WORKERS: '4' }).rateLimits.instances,
    ).toBe(4);
  });

  it('reads the worker index the primary sets, within the workers', () => {
    const env = { DATABASE_URL: 'postgres://nir@db.internal/nir', NIR_WORKERS: '2' };
    expect(readConfig({ ...env, NIR_WORKER_INDEX: '1' }).workerIndex).toBe(1);
    expect(() => readConfig({ ...env, NIR_WORKER_INDEX: '2' })).toThrow(/NIR_WORKER_INDEX/);
  });

  it('refuses several workers on the embedded database, and a malformed count', () => {
    expect(() => readConfig({ NIR_WORKERS: '2' })).toThrow(/NIR_WORKERS above 1 needs DATABASE_URL/);
    expect(() => readConfig({ NIR_WORKERS: '0' })).toThrow(/NIR_WORKERS/);
    expect(() => readConfig({ NIR_WORKERS: 'two' })).toThrow(/NIR_WORKERS/);
  });
});

describe('readConfig replica (issue 19)', () => {
  const primary = {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5433,127.0.0.1:5434/nir?target_session_attrs=read-write',
  };

  it('has no replica by default; its pool follows NIR_DB_POOL_SIZE; the bound is one second', () => {
    const config = readConfig({ ...primary, NIR_DB_POOL_SIZE: '6' });
    expect(config.replicaUrl).toBeUndefined();
    expect(config.replicaPoolSize).toBe(6);
    expect(config.replicaMaxLagMs).toBe(1000);
  });

  it('reads DATABASE_REPLICA_URL, NIR_REPLICA_POOL_SIZE and NIR_REPLICA_MAX_LAG (ms by default, or s)', () => {
    const config = readConfig({
      ...primary,
      DATABASE_REPLICA_URL: 'postgres://postgres@127.0.0.1:5434/nir',
      NIR_REPLICA_POOL_SIZE: '2',
      NIR_REPLICA_MAX_LAG: '250',
    });
    expect(config.replicaUrl).toBe('postgres://postgres@127.0.0.1:5434/nir');
    expect(config.replicaPoolSize).toBe(2);
    expect(config.replicaMaxLagMs).toBe(250);
    expect(readConfig({ NIR_REPLICA_MAX_LAG: '250ms' }).replicaMaxLagMs).toBe(250);
    expect(readConfig({ NIR_REPLICA_MAX_LAG: '2s' }).replicaMaxLagMs).toBe(2000);
  });

  it.each(['0', '-1', 'soon', '1.5s', '11m', '601s'])('refuses NIR_REPLICA_MAX_LAG=%s', (value) => {
    expect(() => readConfig({ NIR_REPLICA_MAX_LAG: value })).toThrow(
      new RegExp(`^NIR_REPLICA_MAX_LAG must be a duration from 1 ms to 600 s .*'${value}'`),
    );
  });

  it('refuses a replica without a PostgreSQL primary, and a malformed pool size', () => {
    expect(() => readConfig({ DATABASE_REPLICA_URL: 'postgres://h/nir' })).toThrow(
      /DATABASE_REPLICA_URL needs DATABASE_URL/,
    );
    expect(() => readConfig({ ...primary, NIR_REPLICA_POOL_SIZE: '0' })).toThrow(
      /^NIR_REPLICA_POOL_SIZE must be an integer from 1 to 100, got '0'/,
    );
  });
});
