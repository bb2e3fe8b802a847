/**
 * The composition root: opens the database, loads the keys and builds the application from a
 * {@link ServerConfig}. Used by `main.ts` and by the end-to-end tests, so both run the same wiring.
 */
import type { Server } from 'node:http';
import {
  CatalogueRepository,
  type CustodyCheck,
  openStore,
  PointerRepository,
  ReplayGuard,
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
import { createLogger } from './logging.ts';
import { loadPublishedProfiles } from './profiles.ts';
import type { ExportTiming } from './routes/audit/bulk-export.ts';
import { consumerModule } from './routes/consumer/index.ts';
import { DEFAULT_PROFILES_DIR } from './routes/metadata.ts';
import { conformanceModule } from './routes/producer/conformance.ts';
import { producerModule } from './routes/producer/index.ts';

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
  /** Whether this start seeded the demo catalogue. */
  seededDemo: boolean;
  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /** Stops listening, stops background jobs and closes the database. */
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
}

/** Builds a registry from configuration. */
export async function createRegistry(config: ServerConfig, options: RegistryOptions = {}): Promise<Registry> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store =
    options.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.poolSize,
      onPoolError: (error) => logger.warn({ err: error }, 'idle database connection failed'),
    }));
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
  });

  const profilesDir = options.profilesDir ?? DEFAULT_PROFILES_DIR;
  const published = await loadPublishedProfiles(profilesDir);
  const pointers = new PointerRepository(store.db);
  const reindexed = await pointers.reindexSearchFacts();
  if (reindexed > 0) logger.info({ pointers: reindexed }, 'search facts recomputed');
  const modules: Partial<Record<FhirApi, ApiModule[]>> = {
    ...options.modules,
    producer: [
      producerModule({
        pointers,
        schema: published.pointerSchema,
        profiles: published.resources,
        baseUrl: `${config.publicUrl}/producer/FHIR/R4`,
      }),
      ...(options.modules?.producer ?? []),
    ],
    consumer: [
      consumerModule({
        pointers,
        terminology: published.pointerSchema.terminology,
        baseUrl: `${config.publicUrl}/consumer/FHIR/R4`,
        searchCap: config.consumerSearchCap,
        maxCount: config.consumerMaxCount,
      }),
      ...(options.modules?.consumer ?? []),
      conformanceModule(published.resources),
    ],
    // Every canonical a CapabilityStatement names resolves on its own base too (issue 13).
    audit: [...(options.modules?.audit ?? []), conformanceModule(published.resources)],
  };

  const app = await createApp({
    logger,
    catalogue,
    replayGuard,
    keys,
    tokens,
    publicUrl: config.publicUrl,
    profilesDir,
    demoMode: config.demoMode,
    demoThumbprints: await demoKeyThumbprints(demoDir),
    bodyLimitBytes: config.bodyLimitBytes,
    ping: () => store.ping(),
    trustProxy: options.trustProxy ?? config.trustProxy,
    modules,
    audit,
    auditExportTiming: options.auditExportTiming,
  });

  const timers = [
    setInterval(() => {
      keys.refresh().catch((error: unknown) => logger.warn({ err: error }, 'signing key refresh failed'));
    }, config.keyRefreshSeconds * 1000),
    setInterval(() => {
      replayGuard.purgeExpired().catch((error: unknown) => logger.warn({ err: error }, 'jti purge failed'));
    }, 60_000),
    scheduleAuditMaintenance(audit, config.auditRetentionMonths),
  ];
  for (const timer of timers) timer.unref();

  let server: Server | undefined;
  return {
    app,
    store,
    catalogue,
    pointers,
    keys,
    tokens,
    logger,
    audit,
    seededDemo,
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
    async close() {
      for (const timer of timers) clearInterval(timer);
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeAllConnections();
      }
      await audit.writer.drain();
      await store.close();
    },
  };
}
