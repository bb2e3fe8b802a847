/**
 * The Citus topology (issue 19): a coordinator and two workers, each its own PostgreSQL 15
 * cluster on loopback with Citus 13.2.2 preloaded (built from ../shared/vendor by
 * ../shared/tools/build-citus.sh; Debian has no package), the database `nir` made a Citus
 * database on each and the workers registered, and one registry instance on the coordinator
 * through DATABASE_URL alone: the migrator distributes the tables when it sees the extension.
 * The `postgres` database is made a Citus database too, so that tests can create Citus
 * databases from it and find the workers in its pg_dist_node.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isReady, startInstance } from './instances.ts';
import { PgCluster, type Settings } from './pg-cluster.ts';
import { PG_BIN } from './pg-tools.ts';
import { isAlive, stopProcess } from './processes.ts';

/** The Citus topology's shape. */
export interface CitusLayout {
  dir: string;
  coordinatorPort: number;
  workerPorts: number[];
  /** The registry instance on the coordinator (0: none). */
  instancePort: number;
  database: string;
}

/** The layout from the environment (NIR_CITUS_*), with its defaults. */
export function citusLayout(env: NodeJS.ProcessEnv = process.env): CitusLayout {
  const base = Number(env.NIR_CITUS_PORT_BASE ?? 5440);
  const workers = Number(env.NIR_CITUS_WORKERS ?? 2);
  return {
    dir: env.NIR_CITUS_DIR ?? '/tmp/nir-topology-citus',
    coordinatorPort: base,
    workerPorts: Array.from({ length: workers }, (_, i) => base + 1 + i),
    instancePort: Number(env.NIR_CITUS_HTTP_PORT ?? 8088),
    database: 'nir',
  };
}

/** Settings of every Citus node: the extension preloaded; logical WAL for online shard moves. */
export const CITUS_SETTINGS: Settings = {
  shared_preload_libraries: 'citus',
  wal_level: 'logical',
  max_replication_slots: 20,
  max_wal_senders: 20,
  max_connections: 300,
  // Each Citus database runs a maintenance worker; the test run makes many databases at once.
  max_worker_processes: 64,
};

/** True when the Citus extension is installed in this PostgreSQL. */
export function citusInstalled(): boolean {
  const lib = path.join(PG_BIN, '..', 'lib', 'citus.so');
  return existsSync(lib);
}

/** The coordinator and the workers of `layout`. */
export function citusNodes(layout: CitusLayout): { coordinator: PgCluster; workers: PgCluster[] } {
  return {
    coordinator: new PgCluster(
      'citus_coordinator',
      path.join(layout.dir, 'coordinator'),
      layout.coordinatorPort,
    ),
    workers: layout.workerPorts.map(
      (port, i) => new PgCluster(`citus_worker_${i + 1}`, path.join(layout.dir, `worker-${i + 1}`), port),
    ),
  };
}

/** The registry's connection to the Citus topology: the coordinator. */
export function citusUrl(layout: CitusLayout, database = layout.database): string {
  return `postgres://postgres@127.0.0.1:${layout.coordinatorPort}/${database}`;
}

interface CitusRecord {
  layout: CitusLayout;
  instancePid?: number;
}

const recordFile = (dir: string) => path.join(dir, 'citus.json');

async function loadCitusRecord(dir: string): Promise<CitusRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordFile(dir), 'utf8')) as CitusRecord;
  } catch {
    return undefined;
  }
}

/** Makes (first run) or starts a node with Citus, and the Citus databases on it. */
async function prepareNode(node: PgCluster, databases: string[]): Promise<void> {
  if (!node.exists) {
    await node.init(CITUS_SETTINGS);
    await node.start();
    for (const database of databases.filter((d) => d !== 'postgres'))
      await node.query(`CREATE DATABASE ${database}`);
    for (const database of databases) await node.query('CREATE EXTENSION IF NOT EXISTS citus', [], database);
  } else if (!(await node.running())) {
    await node.start();
  }
}

/** Registers `worker` with the coordinator in every Citus database. */
export async function registerWorker(
  coordinator: PgCluster,
  worker: PgCluster,
  databases: string[],
): Promise<void> {
  for (const database of databases) {
    await coordinator.query('SELECT citus_add_node($1, $2)', ['127.0.0.1', worker.port], database);
  }
}

/**
 * Brings the Citus topology up; with `instance`, also a registry instance on the coordinator.
 * Resolves with the coordinator's URL for the registry's database.
 */
export async function upCitus(
  layout: CitusLayout,
  options: { instance: boolean },
  say: (line: string) => void = () => undefined,
): Promise<string> {
  if (!citusInstalled()) {
    throw new Error('Citus is not installed: run `bash ../shared/tools/build-citus.sh` (as root) first');
  }
  const existing = await loadCitusRecord(layout.dir);
  const effective = existing?.layout ?? layout;
  await mkdir(effective.dir, { recursive: true });
  // The nodes run as the postgres user, who must reach their directories inside it.
  await chmod(effective.dir, 0o755);
  const { coordinator, workers } = citusNodes(effective);
  const databases = ['postgres', effective.database];
  const fresh = !coordinator.exists;
  say(`Citus coordinator on ${coordinator.port}, workers on ${workers.map((w) => w.port).join(', ')}`);
  await Promise.all([coordinator, ...workers].map((node) => prepareNode(node, databases)));
  if (fresh) {
    for (const database of databases) {
      await coordinator.query(
        'SELECT citus_set_coordinator_host($1, $2)',
        ['127.0.0.1', coordinator.port],
        database,
      );
    }
    for (const worker of workers) await registerWorker(coordinator, worker, databases);
  }
  const record: CitusRecord = { layout: effective };
  if (options.instance && effective.instancePort > 0) {
    say(`registry instance on http://127.0.0.1:${effective.instancePort} (DATABASE_URL = the coordinator)`);
    record.instancePid = await startInstance(
      {
        port: effective.instancePort,
        publicUrl: `http://127.0.0.1:${effective.instancePort}`,
        databaseUrl: citusUrl(effective),
        instances: 1,
      },
      path.join(effective.dir, 'instance.log'),
    );
  }
  await writeFile(recordFile(effective.dir), `${JSON.stringify(record, null, 2)}\n`);
  return citusUrl(effective);
}

/**
 * Adds a worker to a running Citus topology (the next port), registered in every Citus
 * database. Shards stay where they are until the rebalancer moves them.
 */
export async function addCitusWorker(
  dir: string,
  say: (line: string) => void = () => undefined,
): Promise<PgCluster> {
  const record = await loadCitusRecord(dir);
  if (!record) throw new Error(`no Citus topology in ${dir}`);
  const { layout } = record;
  const port = Math.max(layout.coordinatorPort, ...layout.workerPorts) + 1;
  const worker = new PgCluster(
    `citus_worker_${layout.workerPorts.length + 1}`,
    path.join(layout.dir, `worker-${layout.workerPorts.length + 1}`),
    port,
  );
  say(`worker ${layout.workerPorts.length + 1} on port ${port}`);
  const databases = await citusDatabases(citusNodes(layout).coordinator);
  await prepareNode(worker, databases);
  await registerWorker(citusNodes(layout).coordinator, worker, databases);
  layout.workerPorts.push(port);
  await writeFile(recordFile(dir), `${JSON.stringify(record, null, 2)}\n`);
  return worker;
}

/** The coordinator's databases that have the Citus extension. */
async function citusDatabases(coordinator: PgCluster): Promise<string[]> {
  const names = await coordinator.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname',
  );
  const found: string[] = [];
  for (const { datname } of names) {
    const rows = await coordinator.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'", [], datname);
    if (rows.length > 0) found.push(datname);
  }
  return found;
}

/** Stops the instance and every node; `remove` also deletes the directory. */
export async function downCitus(
  dir: string,
  remove: boolean,
  say: (line: string) => void = () => undefined,
): Promise<void> {
  const record = await loadCitusRecord(dir);
  if (record) {
    await stopProcess(record.instancePid, 'SIGTERM', 40_000);
    const { coordinator, workers } = citusNodes(record.layout);
    for (const node of [coordinator, ...workers]) {
      if (await node.running()) {
        say(`${node.name}: stopping`);
        await node.stop('fast');
      }
    }
    await writeFile(recordFile(dir), `${JSON.stringify({ layout: record.layout }, null, 2)}\n`);
  }
  if (remove) {
    say(`removing ${dir}`);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Citus topology's state: nodes running, workers registered, shards per worker. */
export async function statusCitus(dir: string): Promise<Record<string, unknown> | undefined> {
  const record = await loadCitusRecord(dir);
  if (!record) return undefined;
  const { coordinator, workers } = citusNodes(record.layout);
  const running = await Promise.all(
    [coordinator, ...workers].map(async (n) => [n.name, n.port, await n.running()]),
  );
  let placements: unknown[] = [];
  if (await coordinator.running()) {
    placements = await coordinator
      .query(
        `SELECT nodename || ':' || nodeport AS worker, count(*)::int AS shards
         FROM pg_dist_placement JOIN pg_dist_node USING (groupid) GROUP BY 1 ORDER BY 1`,
        [],
        record.layout.database,
      )
      .catch(() => []);
  }
  return {
    dir,
    nodes: running.map(([name, port, up]) => ({ name, port, running: up })),
    shardsPerWorker: placements,
    instance: record.instancePid
      ? {
          port: record.layout.instancePort,
          pid: record.instancePid,
          alive: isAlive(record.instancePid),
          ready: await isReady(record.layout.instancePort),
        }
      : undefined,
    coordinatorUrl: citusUrl(record.layout),
  };
}
