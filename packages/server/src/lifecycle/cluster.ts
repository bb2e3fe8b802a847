/**
 * Several processes on one port (issue 15 item 5, `NIR_WORKERS` above 1), with node:cluster.
 *
 * The primary serves no request and opens no database: it forks the workers, shares the
 * listening port with them (the kernel connections go to the workers in turn), serves the
 * metrics listener with every worker's metrics aggregated, replaces a worker that dies and, on
 * SIGTERM or SIGINT, has every worker drain (each runs its own graceful shutdown, R16) before it
 * exits 0.
 *
 * Worker 0 starts first and alone: it applies the migrations, seeds the demo catalogue and
 * creates the first signing key, so the others find them done; then the rest start together.
 * Worker 0 also runs the jobs on shared tables (see `registry.ts`); a replacement keeps the
 * index of the worker it replaces, so they keep running.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { ServerConfig } from '../config.ts';
import { listenMetrics, type MetricsListener } from '../metrics/listener.ts';
import type { RegistryMetrics } from '../metrics/registry-metrics.ts';

/** A worker that lived less than this before dying is restarted after a growing pause. */
const QUICK_DEATH_MS = 10_000;
/** The longest pause before a worker that keeps dying young is restarted. */
const MAX_RESTART_DELAY_MS = 30_000;

interface Slot {
  index: number;
  worker?: Worker;
  startedAt: number;
  /** Quick deaths in a row (the restart pause doubles with each). */
  quickDeaths: number;
}

/**
 * In a worker: answers the primary's requests for this process's metrics (prom-client's
 * cluster protocol), so the primary's listener reports the whole process group.
 */
export function reportMetricsToPrimary(metrics: RegistryMetrics): void {
  // The constructor installs the worker's side of the protocol (a `message` listener).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
}

/** Waits until `worker` listens (true) or exits first (false). */
function listening(worker: Worker): Promise<boolean> {
  return new Promise((resolve) => {
    const onListening = () => {
      worker.off('exit', onExit);
      resolve(true);
    };
    const onExit = () => {
      worker.off('listening', onListening);
      resolve(false);
    };
    worker.once('listening', onListening);
    worker.once('exit', onExit);
  });
}

/**
 * Runs the cluster primary for `config.workers` workers; resolves once every worker listens.
 * Exits the process with 1 when a worker cannot start at all (a bad configuration, no database),
 * and with 0 after a clean drain on SIGTERM or SIGINT.
 */
export async function runPrimary(config: ServerConfig, logger: Logger): Promise<void> {
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index,
    startedAt: 0,
    quickDeaths: 0,
  }));
  let stopping = false;
  let failed = false;

  const own = new Registry();
  const restarts = new Counter({
    name: 'nir_worker_restarts_total',
    help: 'Worker processes that died and were replaced by the cluster primary (NIR_WORKERS)',
    registers: [own],
  });
  new Gauge({
    name: 'nir_workers',
    help: 'Worker processes alive under the cluster primary (NIR_WORKERS)',
    registers: [own],
    collect() {
      this.set(slots.filter((slot) => slot.worker?.isConnected()).length);
    },
  });

  const fork = (slot: Slot): Worker => {
    const worker = cluster.fork({ NIR_WORKER_INDEX: String(slot.index) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    worker.on('exit', (code, signal) => {
      if (slot.worker === worker) slot.worker = undefined;
      if (stopping) return;
      const lived = Date.now() - slot.startedAt;
      slot.quickDeaths = lived < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
      const delayMs =
        slot.quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (slot.quickDeaths - 1));
      restarts.inc();
      logger.error(
        { worker: slot.index, pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delayMs },
        'worker died; replacing it',
      );
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delayMs).unref();
    });
    return worker;
  };

  const [first, ...others] = slots;
  const start = async (slots: Slot[]) => {
    const outcomes = await Promise.all(slots.map((slot) => listening(fork(slot))));
    return outcomes.every(Boolean);
  };

  let metricsListener: MetricsListener | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: every worker drains');
    const alive = slots.flatMap((slot) =>
      slot.worker && slot.worker.process.exitCode === null ? [slot.worker] : [],
    );
    const codes = await Promise.all(
      alive.map(
        (worker) =>
          new Promise<number | null>((resolve) => {
            if (worker.process.exitCode !== null) {
              resolve(worker.process.exitCode);
              return;
            }
            worker.once('exit', (code) => resolve(code));
            // A worker's own drain is bounded by the drain timeout; this bounds a stuck one.
            setTimeout(() => worker.process.kill('SIGKILL'), config.drainTimeoutMs + 15_000).unref();
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await metricsListener?.close();
    const clean = !failed && codes.every((code) => code === 0);
    logger.info({ workers: codes.length, clean }, 'stopped');
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  // Worker 0 alone first (migrations, demo seed, first key), then the others together.
  if (!first || !(await start([first])) || !(await start(others))) {
    failed = true;
    logger.fatal('a worker could not start; stopping');
    await stop('start-up failure');
    return;
  }

  if (config.metricsPort !== undefined) {
    const aggregator = new AggregatorRegistry();
    metricsListener = await listenMetrics(
      {
        contentType: aggregator.contentType,
        async scrape() {
          return `${await aggregator.clusterMetrics()}\n${await own.metrics()}`;
        },
      },
      config.metricsPort,
      config.metricsHost,
    );
  }
  logger.info(
    { workers: config.workers, port: config.port, metricsPort: metricsListener?.port },
    'workers listening',
  );
  // Said whatever the log level: scripts wait for it (every worker serves from here on).
  process.stdout.write(`${config.workers} workers listening on ${config.publicUrl}\n`);
}
