/**
 * `pnpm start`: runs the registry. With no DATABASE_URL it uses the embedded database and the
 * demo catalogue, so a bare machine has a working registry in one command. With `NIR_WORKERS`
 * above 1 this process becomes the cluster primary (`lifecycle/cluster.ts`) and forks workers
 * that run this file too, each serving the shared port.
 */
import cluster from 'node:cluster';
import path from 'node:path';
import { readConfig, type ServerConfig } from './config.ts';
import { seedDemoPointers } from './demo.ts';
import { reportMetricsToPrimary, runPrimary } from './lifecycle/cluster.ts';
import { createLogger } from './logging.ts';
import { createRegistry } from './registry.ts';
import { DEFAULT_PROFILES_DIR } from './routes/metadata.ts';

const config = readConfig();
if (config.workers > 1 && cluster.isPrimary) {
  await runPrimary(config, createLogger(config.logLevel).child({ role: 'primary' }));
} else {
  await serve(config);
}

async function serve(config: ServerConfig): Promise<void> {
  const worker = cluster.isWorker;
  const registry = await createRegistry(
    config,
    worker
      ? { logger: createLogger(config.logLevel).child({ worker: config.workerIndex, pid: process.pid }) }
      : {},
  );
  if (registry.seededDemo)
    await seedDemoPointers(registry.pointers, path.join(DEFAULT_PROFILES_DIR, 'examples'));
  const port = await registry.listen(config.port, config.host);
  // R16: the metrics on their own listener (loopback by default), when a port is configured; in a
  // cluster the primary serves them, aggregated over every worker.
  if (worker) reportMetricsToPrimary(registry.metrics);
  const metricsPort =
    config.metricsPort === undefined || worker
      ? undefined
      : await registry.listenMetrics(config.metricsPort, config.metricsHost);
  const base = config.publicUrl;

  registry.logger.info(
    {
      port,
      host: config.host,
      database: registry.store.backend,
      migrationsApplied: registry.store.migrations.applied,
      demoMode: config.demoMode,
      metricsPort,
    },
    'registry listening',
  );

  // In a cluster only the first worker prints the banner.
  if (config.demoMode && (config.workerIndex ?? 0) === 0) {
    process.stdout.write(`
National Imaging Registry running on http://${config.host}:${port} (${registry.store.backend}${
      registry.store.backend === 'pglite' ? ` in ${config.dataDir}` : ''
    }).
DEMO MODE: demo clients and keys from demo/ are accepted. Never use demo mode in production.
${registry.seededDemo ? 'The demo Controller Catalogue and two example pointers (NHS number 9000000009) were seeded.\n' : ''}
Try it (in another terminal; the commands work as printed):
  TOKEN=$(pnpm -s nir token --client demo-consumer --url ${base})   # consumer of RWY
  curl -s -H "Authorization: Bearer $TOKEN" -H "X-Request-Id: req-$(date +%s)" \\
       -H "NHSD-End-User-Organisation-ODS: RWY" \\
       "${base}/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
  pnpm -s nir token --client demo-provider-a --url ${base}          # provider RR8
API reference: ${base}/docs
Health: ${base}/_status   Discovery: ${base}/.well-known/smart-configuration
`);
  }

  if (!config.demoMode && (config.workerIndex ?? 0) === 0) {
    process.stdout.write(
      `National Imaging Registry running on ${base} (${registry.store.backend}). Demo mode is off: ` +
        'to try the demo clients on this database, start with NIR_DEMO_MODE=true (never in production).\n',
    );
  }

  let stopping = false;
  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    registry.logger.info({ signal }, 'stopping');
    await registry.close();
    process.exit(0);
  }
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // A worker whose primary is gone (killed outright) drains and exits rather than linger.
  if (worker) process.on('disconnect', () => void stop('primary gone'));
}
