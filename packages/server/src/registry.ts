/**
 * The composition root: opens the database, loads the keys and builds the application from a
 * {@link ServerConfig}. Used by `main.ts` and by the end-to-end tests, so both run the same wiring.
 */
import type { Server } from 'node:http';
import {
  AuditRollupStore,
  CatalogueCache,
  CatalogueRepository,
  type CustodyCheck,
  openStore,
  PointerRepository,
  ReplayGuard,
  ReplicaLagMonitor,
  SandboxStore,
  SigningKeyStore,
  type Store,
} from '@nir/store';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { type ApiModule, createApp, type FhirApi } from './app.ts';
import type { AuditService } from './audit/service.ts';
import { createAuditService, scheduleAuditMaintenance } from './audit/setup.ts';
import { AccessTokens } from './auth/access-token.ts';
import { KeyRing } from './auth/key-ring.ts';
import type { ServerConfig } from './config.ts';
import { DEFAULT_DEMO_DIR, demoKeyThumbprints, seedDemoCatalogue } from './demo.ts';
import { Readiness } from './lifecycle/readiness.ts';
import { RateLimiter } from './limits/rate-limiter.ts';
import { createLogger } from './logging.ts';
import { listenMetrics, type MetricsListener } from './metrics/listener.ts';
import { countRateLimitRefusals } from './metrics/rate-limit-metrics.ts';
import { RegistryMetrics } from './metrics/registry-metrics.ts';
import { loadPublishedProfiles } from './profiles.ts';
import { type ConsumerReads, ReplicaReads } from './replica/replica-reads.ts';
import { serviceReviewModule } from './reports/service-review.ts';
import type { ExportTiming } from './routes/audit/bulk-export.ts';
import { consumerModule } from './routes/consumer/index.ts';
import { DEFAULT_PROFILES_DIR } from './routes/metadata.ts';
import { conformanceModule } from './routes/producer/conformance.ts';
import { producerModule } from './routes/producer/index.ts';
import { checkSandbox } from './sandbox.ts';

/** A running registry's parts. */
export interface Registry {
  app: Express;
  store: Store;
  catalogue: CatalogueRepository;
  pointers: PointerRepository;
  keys: KeyRing;
  tokens: AccessTokens;
  logger: Logger;
  /** The audit trail (R7–R10). */
  audit: AuditService;
  /** Rate limits per client and organisation (issue 14, point 9). */
  limiter: RateLimiter;
  /**
   * Issue 15 item 8: the background reindex of older search facts started by this registry,
   * settled when done or stopped; undefined when the recorded version was current.
   */
  searchFactsReindex: Promise<void> | undefined;
  /** Whether this start seeded the demo catalogue. */
  seededDemo: boolean;
  /** R16: the Prometheus metrics of this process. */
  metrics: RegistryMetrics;
  /** R16: whether this instance should receive traffic (`/_ready`). */
  readiness: Readiness;
  /** Issue 19: the replica's lag monitor, when `DATABASE_REPLICA_URL` is set. */
  replica: ReplicaLagMonitor | undefined;
  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /** R16: starts the separate metrics listener; resolves with its port. */
  listenMetrics(port: number, host: string): Promise<number>;
  /**
   * Drains and stops (SIGTERM, R16): stops being ready, stops accepting connections, lets the
   * requests in flight finish (up to the drain timeout) and their audit batches commit, stops
   * background jobs and closes the database.
   */
  close(): Promise<void>;
}

/** Options beyond the configuration (tests pass an already open store or extra route modules). */
export interface RegistryOptions {
  store?: Store;
  logger?: Logger;
  modules?: Partial<Record<FhirApi, ApiModule[]>>;
  demoDir?: string;
  profilesDir?: string;
  trustProxy?: string;
  /** R9: does an organisation hold pointers for a patient? (default: a query of the `pointer` table). */
  custody?: CustodyCheck;
  /** Bulk export timing of the audit API (tests shorten it). */
  auditExportTiming?: Partial<ExportTiming>;
  /** The metrics to record into (default: new ones for this registry). */
  metrics?: RegistryMetrics;
}

/** Builds a registry from configuration. */
export async function createRegistry(config: ServerConfig, options: RegistryOptions = {}): Promise<Registry> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // The metrics read the store, the catalogue and readiness when scraped (closures: built below).
  let opened: Store | undefined;
  let readiness: Readiness | undefined;
  let replicaMonitor: ReplicaLagMonitor | undefined;
  const metrics =
    options.metrics ??
    new RegistryMetrics({
      poolStats: () => opened?.poolStats(),
      // The store owns the SQL; the server declares no query builder of its own.
      catalogueVersion: async () => (opened ? new CatalogueRepository(opened.db).latestChangeId() : 0),
      ready: async () => (await readiness?.check())?.ready ?? false,
      replicaLagMs: config.replicaUrl ? () => replicaMonitor?.stalenessMs() : undefined,
    });
  const store =
    options.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.poolSize,
      timeouts: config.dbTimeouts,
      onPoolError: (error) => logger.warn({ err: error }, 'idle database connection failed'),
    }));
  opened = store;
  store.observeQueries((ms, failed) =>
    metrics.statementDuration.observe({ outcome: failed ? 'failed' : 'ok' }, ms / 1000),
  );
  const catalogue = new CatalogueRepository(store.db);
  const replayGuard = new ReplayGuard(store.db);
  // A retired key stays published for a token lifetime plus two refresh periods.
  const keys = new KeyRing(new SigningKeyStore(store.db), {
    graceSeconds: config.accessTokenTtlSeconds + 2 * config.keyRefreshSeconds,
  });
  await keys.initialise();
  const tokens = new AccessTokens(keys, config.publicUrl, config.accessTokenTtlSeconds);
  const demoDir = options.demoDir ?? DEFAULT_DEMO_DIR;
  const seededDemo = config.demoMode ? await seedDemoCatalogue(catalogue, demoDir) : false;
  // R6: the catalogue in memory with its version; every request confirms the version (guard.ts).
  const snapshots = await CatalogueCache.open(store.db);
  const audit = await createAuditService({
    store,
    tokens,
    catalogue,
    publicUrl: config.publicUrl,
    logger,
    serverAsid: config.auditAsid,
    batchEvents: config.auditBatchEvents,
    discard: config.auditDiscard,
    custody: options.custody,
    rollup: config.auditRollup,
    onBatch: (batch) => {
      metrics.batches[batch.failed ? 'failed' : 'written']++;
      metrics.batches.records += batch.records;
      metrics.auditBatchRecords.observe(batch.records);
      metrics.auditBatchDuration.observe(
        { outcome: batch.failed ? 'failed' : 'ok' },
        batch.durationMs / 1000,
      );
    },
  });
  readiness = new Readiness({
    ping: () => store.ping(),
    pendingMigrations: () => store.pendingMigrations(),
    keysLoaded: () => {
      try {
        keys.signingKey();
        return true;
      } catch {
        return false;
      }
    },
  });
  const ready = readiness;

  const limiter = new RateLimiter(config.rateLimits, audit.counters);
  countRateLimitRefusals(audit.counters, metrics);

  const profilesDir = options.profilesDir ?? DEFAULT_PROFILES_DIR;
  const published = await loadPublishedProfiles(profilesDir);
  await checkSandbox(new SandboxStore(store.db), config.sandbox === true);
  const pointers = new PointerRepository(store.db);
  // Issue 19: consumer reads on the replica within the staleness bound; readiness ignores it
  // (reads fall back to the primary), the catalogue and the audit never use it.
  let replicaStore: Store | undefined;
  let reads: ConsumerReads | undefined;
  if (config.replicaUrl && store.backend === 'postgres') {
    replicaStore = await openStore({
      databaseUrl: config.replicaUrl,
      poolSize: config.replicaPoolSize,
      timeouts: config.dbTimeouts,
      migrate: false,
      onPoolError: (error) => logger.warn({ err: error }, 'idle replica connection failed'),
    });
    const sampleFailures = { primary: false, replica: false };
    replicaMonitor = new ReplicaLagMonitor(store.db, replicaStore.db, {
      maxLagMs: config.replicaMaxLagMs,
      // Logged when sampling starts failing, not on every sample.
      onError: (side, error) => {
        if (!sampleFailures[side]) logger.warn({ err: error, side }, 'replica lag sample failed');
        sampleFailures[side] = true;
      },
    });
    replicaMonitor.start();
    reads = new ReplicaReads({
      primary: pointers,
      replica: new PointerRepository(replicaStore.db, { groupCommit: false }),
      health: replicaMonitor,
      primaryVersion: () => snapshots.databaseVersion(),
      events: {
        served: () => {
          sampleFailures.replica = false;
          sampleFailures.primary = false;
          metrics.replicaReads.inc();
        },
        fellBack: (reason, error) => {
          metrics.replicaFallbacks.inc({ reason });
          if (error) logger.warn({ err: error }, 'replica read failed: run on the primary');
        },
      },
    });
  }
  const rollups = new AuditRollupStore(store.db);
  const modules: Partial<Record<FhirApi, ApiModule[]>> = {
    ...options.modules,
    producer: [
      producerModule({
        pointers,
        schema: { ...published.pointerSchema, sandbox: config.sandbox === true },
        profiles: published.resources,
        baseUrl: `${config.publicUrl}/producer/FHIR/R4`,
      }),
      ...(options.modules?.producer ?? []),
    ],
    consumer: [
      consumerModule({
        pointers,
        reads,
        terminology: published.pointerSchema.terminology,
        baseUrl: `${config.publicUrl}/consumer/FHIR/R4`,
        searchCap: config.consumerSearchCap,
        maxCount: config.consumerMaxCount,
      }),
      ...(options.modules?.consumer ?? []),
      conformanceModule(published.resources),
    ],
    // R17: an organisation's monthly service review, its own share only; and every canonical a
    // CapabilityStatement names resolves on its own base too (issue 13).
    audit: [
      serviceReviewModule(rollups),
      ...(options.modules?.audit ?? []),
      conformanceModule(published.resources),
    ],
  };

  const app = await createApp({
    logger,
    catalogue,
    snapshots,
    replayGuard,
    keys,
    tokens,
    publicUrl: config.publicUrl,
    profilesDir,
    demoMode: config.demoMode,
    demoThumbprints: await demoKeyThumbprints(demoDir),
    bodyLimitBytes: config.bodyLimitBytes,
    ping: () => store.ping(),
    pressure: () => store.pressure(),
    queueSeconds: config.dbQueueSeconds,
    trustProxy: options.trustProxy ?? config.trustProxy,
    modules,
    audit,
    auditExportTiming: options.auditExportTiming,
    limiter,
    metrics,
    readiness: ready,
    rollups,
    poolStats: () => store.poolStats(),
  });

  // Jobs on shared tables run in one process of a cluster (worker 0; each is also safe when
  // several instances run it: advisory locks, idempotent deletes). Each process refreshes its
  // own keys and flushes its own audit (in memory).
  const sharedJobs = (config.workerIndex ?? 0) === 0;
  // Issue 15 item 8: the search facts. The recorded table version equal to SEARCH_FACTS_VERSION:
  // nothing to do. Lower: serve at once (each search recomputes its own patient's older rows)
  // while one background job walks the table, then records the version.
  const reindexStop = new AbortController();
  let reindexing: Promise<void> | undefined;
  if (sharedJobs && !(await pointers.searchFacts.isCurrent())) {
    const started = performance.now();
    logger.info('search facts: recomputing older rows in the background');
    reindexing = pointers.searchFacts
      .reindex({ signal: reindexStop.signal })
      .then((progress) => {
        if (reindexStop.signal.aborted) return;
        logger.info(
          { ...progress, seconds: Math.round((performance.now() - started) / 100) / 10 },
          'search facts recomputed; version recorded',
        );
      })
      .catch((error: unknown) => logger.error({ err: error }, 'search facts reindex failed'));
  }
  const timers = [
    setInterval(() => {
      keys.refresh().catch((error: unknown) => logger.warn({ err: error }, 'signing key refresh failed'));
    }, config.keyRefreshSeconds * 1000),
  ];
  if (sharedJobs) {
    timers.push(
      setInterval(() => {
        replayGuard.purgeExpired().catch((error: unknown) => logger.warn({ err: error }, 'jti purge failed'));
      }, 60_000),
      scheduleAuditMaintenance(audit, config.auditRetentionMonths),
    );
  }
  for (const timer of timers) timer.unref();

  let server: Server | undefined;
  let metricsListener: MetricsListener | undefined;
  let closing: Promise<void> | undefined;
  const shutdown = async () => {
    ready.drain();
    for (const timer of timers) clearInterval(timer);
    reindexStop.abort();
    if (server) {
      const listening = server;
      // No new connections; idle keep-alive ones close now, busy ones once their response is sent.
      const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
      listening.closeIdleConnections();
      const cut = setTimeout(() => listening.closeAllConnections(), config.drainTimeoutMs);
      await closed;
      clearTimeout(cut);
    }
    // The audit of every response sent is committed before the response leaves; this waits for
    // the events of requests whose client went away.
    await audit.writer.drain();
    // Events of 503s answered while the database was away: a last try, then the retry timer stops.
    await audit.deferred.flush();
    audit.deferred.stop();
    await metricsListener?.close();
    await reindexing;
    replicaMonitor?.stop();
    await replicaStore?.close();
    await store.close();
  };
  return {
    app,
    store,
    catalogue,
    pointers,
    keys,
    tokens,
    logger,
    audit,
    limiter,
    searchFactsReindex: reindexing,
    seededDemo,
    metrics,
    readiness: ready,
    replica: replicaMonitor,
    async listenMetrics(port, host) {
      metricsListener = await listenMetrics(metrics, port, host);
      return metricsListener.port;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const listening = app.listen(port, host, (error?: Error) => {
          if (error) {
            reject(error);
            return;
          }
          const address = listening.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
        server = listening;
      });
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
