/**
 * Issue 19, "What the registry does with it": consumer reads on a streaming replica within the
 * staleness bound, R6 strict whatever the replica has replayed, searches that fall back to the
 * primary when the replica stops, and a multi-host DATABASE_URL that finds the new primary by
 * itself after a failover. Runs on a private primary and a streaming replica made by
 * pg_basebackup with a replication slot (test/support/private-cluster.ts), never the shared
 * server.
 */
import { NHS_NUMBER_SYSTEM } from '@nir/core';
import { LABEL_DOMAINS } from '@nir/server';
import { HostLocator, openStore, parseMultiHostUrl } from '@nir/store';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirCall } from './support/fhir-call.ts';
import { startTestRegistry, type TestRegistry } from './support/harness.ts';
import { freshNhsNumber, type PointerType, validPointer } from './support/pointers.ts';
import {
  createPrivateCluster,
  type PrivateCluster,
  requirePrivateCluster,
} from './support/private-cluster.ts';

const available = requirePrivateCluster();

const TIMEOUTS = { connectMs: 1000, statementMs: 2000, lockMs: 1000, readMs: 2500 };
/** The short bound of the registry that must stop using a paused replica. */
const SMALL_LAG_MS = 300;

const nirUrl = (cluster: PrivateCluster) => cluster.url.replace(/\/postgres$/, '/nir');

async function sqlOn(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One sample of a counter in a registry's scrape (0 when absent). */
async function counter(t: TestRegistry, series: string): Promise<number> {
  const text = await t.registry.metrics.scrape();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe.runIf(available)('Consumer reads on a streaming replica (issue 19)', () => {
  let primary: PrivateCluster;
  let replica: PrivateCluster;
  /** A registry that accepts a minute of lag: it keeps reading a paused replica. */
  let patient: TestRegistry;
  /** A registry with a bound of SMALL_LAG_MS. */
  let strict: TestRegistry;
  /** Each registry's own tokens (the audience is the registry's URL). */
  const tokens = new Map<TestRegistry, { provider: string; consumer: string }>();
  const tokensOf = (t: TestRegistry) => tokens.get(t) as { provider: string; consumer: string };
  async function issueTokens(t: TestRegistry): Promise<void> {
    tokens.set(t, { provider: await t.token('demo-provider-a'), consumer: await t.token('demo-consumer') });
  }

  async function create(t: TestRegistry, nhsNumber: string, type?: PointerType): Promise<number> {
    const reply = await fhirCall(
      t,
      'POST',
      '/producer/FHIR/R4/DocumentReference',
      { token: tokensOf(t).provider, ods: 'RR8' },
      validPointer({ custodian: 'RR8', nhsNumber, ...(type && { type }) }),
    );
    return reply.status;
  }

  async function search(t: TestRegistry, nhsNumber: string, summary = '') {
    return fhirCall(
      t,
      'GET',
      `/consumer/FHIR/R4/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${nhsNumber}${summary}`,
      { token: tokensOf(t).consumer, ods: 'RWY' },
    );
  }

  const replayPaused = async (paused: boolean) => {
    await sqlOn(nirUrl(replica), paused ? 'SELECT pg_wal_replay_pause()' : 'SELECT pg_wal_replay_resume()');
  };
  const replicaUsable = (t: TestRegistry) =>
    until('the replica in use', () => t.registry.replica?.unusable() === undefined);
  /** A new patient with one pointer, created on the primary and replayed on the replica. */
  const replayedPatient = async (): Promise<string> => {
    const nhsNumber = freshNhsNumber();
    expect(await create(patient, nhsNumber)).toBe(201);
    await replicaUsable(patient);
    await until('the pointer replayed', async () => (await search(patient, nhsNumber)).body.total === 1);
    return nhsNumber;
  };

  beforeAll(async () => {
    primary = await createPrivateCluster();
    await sqlOn(primary.url, 'CREATE DATABASE nir');
    replica = await primary.replica();
    const env = (maxLag: string) => ({
      DATABASE_URL: nirUrl(primary),
      DATABASE_REPLICA_URL: nirUrl(replica),
      NIR_REPLICA_MAX_LAG: maxLag,
      NIR_DB_CONNECT_TIMEOUT_MS: '1000',
      // The replica pool's client read timeout is this plus 2 s (a frozen replica).
      NIR_DB_STATEMENT_TIMEOUT_MS: '2000',
    });
    patient = await startTestRegistry(
      await openStore({ databaseUrl: nirUrl(primary), poolSize: 3, timeouts: TIMEOUTS }),
      { env: env('60s') },
    );
    strict = await startTestRegistry(
      await openStore({ databaseUrl: nirUrl(primary), poolSize: 3, timeouts: TIMEOUTS }),
      { env: env(String(SMALL_LAG_MS)) },
    );
    await issueTokens(patient);
    await issueTokens(strict);
  }, 120_000);

  afterAll(async () => {
    await patient?.close().catch(() => undefined);
    await strict?.close().catch(() => undefined);
    await replica?.remove();
    await primary?.remove();
  }, 60_000);

  it('a search, a count and a read are served by the replica: with replay paused, a new pointer is not there yet', async () => {
    const nhsNumber = await replayedPatient();
    await replayPaused(true);
    try {
      const before = await counter(patient, 'nir_replica_reads_total');
      expect(await create(patient, nhsNumber)).toBe(201);
      // The primary holds two; the replica, paused, one: the registry that accepts a minute of
      // lag answers from the replica.
      const seen = await search(patient, nhsNumber);
      expect(seen.status).toBe(200);
      expect(seen.body.total).toBe(1);
      const count = await search(patient, nhsNumber, '&_summary=count');
      expect(count.body.total).toBe(1);
      const id = seen.body.entry?.[0]?.resource?.id as string;
      const read = await fhirCall(patient, 'GET', `/consumer/FHIR/R4/DocumentReference/${id}`, {
        token: tokensOf(patient).consumer,
        ods: 'RWY',
      });
      expect(read.status).toBe(200);
      expect(await counter(patient, 'nir_replica_reads_total')).toBe(before + 3);
      // The bound of the strict registry passes: its searches run on the primary, which has both.
      const fellBack = await counter(strict, 'nir_replica_fallbacks_total{reason="lag"}');
      await until(
        'the strict registry to stop using the paused replica',
        () => strict.registry.replica?.unusable() === 'lag',
      );
      const fresh = await search(strict, nhsNumber);
      expect(fresh.status).toBe(200);
      expect(fresh.body.total).toBe(2);
      expect(await counter(strict, 'nir_replica_fallbacks_total{reason="lag"}')).toBe(fellBack + 1);
      const scrape = await strict.registry.metrics.scrape();
      expect(Number(scrape.match(/^nir_replica_lag_seconds (\S+)$/m)?.[1])).toBeGreaterThan(
        SMALL_LAG_MS / 1000,
      );
      // Every replica series carries only bounded labels (R16, the metrics test's domains).
      const series = [...scrape.matchAll(/^nir_replica_\w+\{([^}]*)\}/gm)].map((m) => m[1] as string);
      expect(series.length).toBeGreaterThan(0);
      for (const labels of series) {
        for (const [, key, value] of labels.matchAll(/(\w+)="([^"]*)"/g)) {
          expect(LABEL_DOMAINS[key as string]?.(value as string), `${key}=${value}`).toBe(true);
        }
      }
    } finally {
      await replayPaused(false);
    }
    // Replay resumed: the strict registry reads the replica again, which now has both.
    await replicaUsable(strict);
    expect((await search(strict, nhsNumber)).body.total).toBe(2);
  });

  it('R6 strict with replay paused: a suspension committed on the primary refuses the next search', async () => {
    const nhsNumber = await replayedPatient();
    await replayPaused(true);
    try {
      const behind = await counter(patient, 'nir_replica_fallbacks_total{reason="catalogue"}');
      await patient.registry.catalogue.setOrganisationStatus('RWY', 'suspended', 'test');
      // The replica has not replayed the suspension and is within the minute's bound.
      expect(patient.registry.replica?.unusable()).toBeUndefined();
      const refused = await search(patient, nhsNumber);
      expect(refused.status).toBe(403);
      expect(await counter(patient, 'nir_replica_fallbacks_total{reason="catalogue"}')).toBe(behind + 1);
      await patient.registry.catalogue.setOrganisationStatus('RWY', 'active', 'test');
      expect((await search(patient, nhsNumber)).status).toBe(200);
    } finally {
      await replayPaused(false);
    }
  });

  it('R6 strict with replay paused: a grant narrowed on the primary narrows the next search', async () => {
    const nhsNumber = freshNhsNumber();
    expect(await create(patient, nhsNumber, 'https://nicip.nhs.uk|MAULR')).toBe(201);
    expect(await create(patient, nhsNumber, 'http://snomed.info/sct|418062002')).toBe(201);
    await replicaUsable(patient);
    await until('both pointers replayed', async () => (await search(patient, nhsNumber)).body.total === 2);
    const grant = await patient.registry.catalogue.getGrant('RWY', 'consumer');
    if (!grant) throw new Error('demo grant missing');
    await replayPaused(true);
    try {
      await patient.registry.catalogue.putGrant(
        { ...grant, pointerTypes: ['https://nicip.nhs.uk|MAULR'] },
        'test',
      );
      const narrowed = await search(patient, nhsNumber);
      expect(narrowed.status).toBe(200);
      expect(narrowed.body.total).toBe(1);
      const codes = (narrowed.body.entry ?? []).map(
        (e) => (e.resource as { type?: { coding?: { code?: string }[] } }).type?.coding?.[0]?.code,
      );
      expect(codes).toEqual(['MAULR']);
    } finally {
      await patient.registry.catalogue.putGrant(grant, 'test');
      await replayPaused(false);
    }
  });

  it('the replica stopped: searches succeed from the primary, no error; /_ready stays 200; the replica is used again once back', async () => {
    const nhsNumber = freshNhsNumber();
    expect(await create(patient, nhsNumber)).toBe(201);
    await replicaUsable(patient);
    await replica.stop();
    try {
      for (let i = 0; i < 10; i++) {
        const seen = await search(patient, nhsNumber);
        expect(seen.status, JSON.stringify(seen.body)).toBe(200);
        expect(seen.body.total).toBe(1);
      }
      const failed = await counter(patient, 'nir_replica_fallbacks_total{reason="failed"}');
      const unmeasured = await counter(patient, 'nir_replica_fallbacks_total{reason="unmeasured"}');
      expect(failed + unmeasured).toBeGreaterThanOrEqual(10);
      expect((await patient.fetch('/_ready')).status).toBe(200);
    } finally {
      await replica.start();
    }
    await replicaUsable(patient);
    const before = await counter(patient, 'nir_replica_reads_total');
    expect((await search(patient, nhsNumber)).body.total).toBe(1);
    expect(await counter(patient, 'nir_replica_reads_total')).toBe(before + 1);
  });

  it('the replica frozen (SIGSTOP): searches still succeed, the slowest within the replica read timeout', async () => {
    const nhsNumber = await replayedPatient();
    await replica.freeze();
    try {
      const started = performance.now();
      const seen = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 300));
          const begun = performance.now();
          const reply = await search(patient, nhsNumber);
          return { status: reply.status, total: reply.body.total, ms: performance.now() - begun };
        }),
      );
      for (const s of seen) expect(s, JSON.stringify(seen)).toMatchObject({ status: 200, total: 1 });
      // Read timeout 4 s (statement 2 s + 2 s), then the primary: never an error, never a hang.
      expect(Math.max(...seen.map((s) => s.ms))).toBeLessThan(6000);
      expect(performance.now() - started).toBeLessThan(9000);
      // Past the bound, the monitor keeps reads off the frozen replica.
      expect(patient.registry.replica?.unusable()).not.toBeUndefined();
    } finally {
      await replica.thaw();
    }
    await replicaUsable(patient);
  });

  it('target_session_attrs against a real primary and standby, in either order', async () => {
    const pick = async (hosts: PrivateCluster[], target: string) => {
      const list = hosts.map((c) => `127.0.0.1:${c.port}`).join(',');
      const url = parseMultiHostUrl(`postgres://postgres@${list}/nir?target_session_attrs=${target}`);
      if (!url) throw new Error('not parsed');
      return (await new HostLocator(url, 1000).pick()).port;
    };
    for (const order of [
      [primary, replica],
      [replica, primary],
    ]) {
      expect(await pick(order, 'read-write')).toBe(primary.port);
      expect(await pick(order, 'primary')).toBe(primary.port);
      expect(await pick(order, 'read-only')).toBe(replica.port);
      expect(await pick(order, 'standby')).toBe(replica.port);
      expect(await pick(order, 'prefer-standby')).toBe(replica.port);
      expect(await pick(order, 'any')).toBe(order[0]?.port);
    }
    expect(await pick([primary], 'prefer-standby')).toBe(primary.port);
  });

  it('a primary turned read-only under open connections: writes are a prompt 503 (25006 or no read-write host), then succeed once it is writable again', async () => {
    const multi = `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${replica.port}/nir?target_session_attrs=read-write`;
    const demoted = await startTestRegistry(
      await openStore({ databaseUrl: multi, poolSize: 2, timeouts: TIMEOUTS }),
      { env: { DATABASE_URL: multi, NIR_DB_CONNECT_TIMEOUT_MS: '1000' } },
    );
    const readOnly = (on: boolean) =>
      sqlOn(nirUrl(primary), `ALTER SYSTEM SET default_transaction_read_only = ${on ? 'on' : 'off'}`).then(
        () => sqlOn(nirUrl(primary), 'SELECT pg_reload_conf()'),
      );
    try {
      await issueTokens(demoted);
      const nhsNumber = freshNhsNumber();
      expect(await create(demoted, nhsNumber)).toBe(201);
      await readOnly(true);
      try {
        await until('writes refused', async () => {
          const status = await create(demoted, nhsNumber);
          expect([201, 503]).toContain(status);
          return status === 503;
        });
        expect(await create(demoted, nhsNumber)).toBe(503);
      } finally {
        await readOnly(false);
      }
      await until('writes accepted again', async () => (await create(demoted, nhsNumber)) === 201, 10_000);
    } finally {
      await demoted.close();
    }
  });

  it('a multi-host DATABASE_URL: after the primary stops and the replica is promoted, writes succeed again by themselves', async () => {
    const multi = `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${replica.port}/nir?target_session_attrs=read-write`;
    const failover = await startTestRegistry(
      await openStore({ databaseUrl: multi, poolSize: 2, timeouts: TIMEOUTS }),
      { env: { DATABASE_URL: multi, NIR_DB_CONNECT_TIMEOUT_MS: '1000' } },
    );
    try {
      await issueTokens(failover);
      const nhsNumber = freshNhsNumber();
      expect(await create(failover, nhsNumber)).toBe(201);
      await primary.stop();
      // No read-write host: a prompt 503, never a 500.
      expect(await create(failover, nhsNumber)).toBe(503);
      await replica.promote();
      const promoted = Date.now();
      let status = 0;
      await until(
        'a write to succeed on the promoted replica',
        async () => {
          status = await create(failover, nhsNumber);
          expect([201, 503]).toContain(status);
          return status === 201;
        },
        15_000,
      );
      expect(Date.now() - promoted).toBeLessThan(15_000);
      // The registry's write went to the new primary, which is no longer in recovery.
      const { rows } = await sqlOn(nirUrl(replica), 'SELECT pg_is_in_recovery() AS standby');
      expect(rows[0]?.standby).toBe(false);
      expect((await search(failover, nhsNumber)).body.total).toBe(2);
    } finally {
      await failover.close();
    }
  });
});
