/**
 * `pnpm start`: runs the registry. With no DATABASE_URL it uses the embedded database and the
 * demo catalogue, so a bare machine has a working registry in one command.
 */
import path from 'node:path';
import { readConfig } from './config.ts';
import { seedDemoPointers } from './demo.ts';
import { createRegistry } from './registry.ts';
import { DEFAULT_PROFILES_DIR } from './routes/metadata.ts';

const config = readConfig();
const registry = await createRegistry(config);
if (registry.seededDemo)
  await seedDemoPointers(registry.pointers, path.join(DEFAULT_PROFILES_DIR, 'examples'));
const port = await registry.listen(config.port, config.host);
// R16: the metrics on their own listener (loopback by default), when a port is configured.
const metricsPort =
  config.metricsPort === undefined
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

if (config.demoMode) {
  process.stdout.write(`
National Imaging Registry running on http://${config.host}:${port} (${registry.store.backend}${
    registry.store.backend === 'pglite' ? ` in ${config.dataDir}` : ''
  }).
DEMO MODE: demo clients and keys from demo/ are accepted. Never use demo mode in production.
${registry.seededDemo ? 'The demo Controller Catalogue and two example pointers (NHS number 9000000009) were seeded.\n' : ''}
Get a token (in another terminal):
  pnpm nir token --client demo-consumer          # consumer of RWY
  pnpm nir token --client demo-provider-a        # provider RR8
Then, for example:
  curl -H "Authorization: Bearer <token>" -H "X-Request-Id: $(uuidgen || echo demo-1)" \\
       -H "NHSD-End-User-Organisation-ODS: RWY" \\
       "${base}/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
Health: ${base}/_status   Discovery: ${base}/.well-known/smart-configuration
`);
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
