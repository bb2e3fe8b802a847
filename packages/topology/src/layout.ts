/**
 * Where the replicated topology lives: its directory and loopback ports, from the command line
 * or the environment, with defaults that stay clear of the machine's own PostgreSQL (5432) and
 * the registry's default port (8080). Written to `topology.json` in the directory at `up`, so
 * that `down`, `status` and the keeper act on the topology that is actually there.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The replicated topology's shape. */
export interface ReplicatedLayout {
  dir: string;
  /** PostgreSQL node a (first primary) and node b (first standby). */
  nodePorts: [number, number];
  /** Registry instances on 127.0.0.1, and each one's metrics listener (NIR_METRICS_PORT). */
  instancePorts: number[];
  metricsPorts: number[];
  /** HAProxy: the port clients use, and its statistics page. */
  balancerPort: number;
  statsPort: number;
  /** The registry's database on the nodes. */
  database: string;
  /** Synchronous replication (zero acknowledged loss on failover); off only to measure its cost. */
  synchronous: boolean;
  /** NIR_REPLICA_MAX_LAG given to the instances. */
  replicaMaxLag: string;
  /** More environment for every instance (the bench lifts the rate limits with it). */
  instanceEnv?: Record<string, string>;
  /** The keeper's patience (see keeper.ts). */
  graceMs: number;
  failoverMs: number;
}

/** The names of the two nodes, in port order. */
export const NODE_NAMES = ['a', 'b'] as const;

/** The layout from the environment (NIR_TOPOLOGY_*), with its defaults. */
export function replicatedLayout(env: NodeJS.ProcessEnv = process.env): ReplicatedLayout {
  const base = Number(env.NIR_TOPOLOGY_PORT_BASE ?? 5433);
  const http = Number(env.NIR_TOPOLOGY_HTTP_BASE ?? 8090);
  const instances = Number(env.NIR_TOPOLOGY_INSTANCES ?? 2);
  if (!Number.isInteger(instances) || instances < 1 || instances > 8)
    throw new Error(`NIR_TOPOLOGY_INSTANCES must be 1 to 8, got '${env.NIR_TOPOLOGY_INSTANCES}'`);
  return {
    dir: env.NIR_TOPOLOGY_DIR ?? '/tmp/nir-topology',
    nodePorts: [base, base + 1],
    instancePorts: Array.from({ length: instances }, (_, i) => http + 1 + i),
    metricsPorts: Array.from({ length: instances }, (_, i) => http + 101 + i),
    balancerPort: http,
    statsPort: http + 9,
    database: 'nir',
    synchronous: env.NIR_TOPOLOGY_SYNCHRONOUS !== 'false',
    replicaMaxLag: env.NIR_REPLICA_MAX_LAG ?? '2s',
    graceMs: Number(env.NIR_TOPOLOGY_GRACE_MS ?? 2000),
    failoverMs: Number(env.NIR_TOPOLOGY_FAILOVER_MS ?? 1500),
  };
}

/**
 * The registry's primary connection: both nodes, libpq's multi-host form, and only a node that
 * accepts writes will do, so after a failover new connections find the new primary by themselves.
 */
export function primaryUrl(layout: ReplicatedLayout): string {
  const hosts = layout.nodePorts.map((port) => `127.0.0.1:${port}`).join(',');
  return `postgres://postgres@${hosts}/${layout.database}?target_session_attrs=read-write`;
}

/** The registry's replica connection: a standby if one answers, else whichever node does. */
export function replicaUrl(layout: ReplicatedLayout): string {
  const hosts = [...layout.nodePorts]
    .reverse()
    .map((port) => `127.0.0.1:${port}`)
    .join(',');
  return `postgres://postgres@${hosts}/${layout.database}?target_session_attrs=prefer-standby`;
}

/** The file the layout is kept in. */
export function layoutFile(dir: string): string {
  return path.join(dir, 'topology.json');
}

/** Records the layout (and what runs) in its directory. */
export async function saveRecord(record: TopologyRecord): Promise<void> {
  await writeFile(layoutFile(record.layout.dir), `${JSON.stringify(record, null, 2)}\n`);
}

/** Reads the record in `dir`, if a topology was brought up there. */
export async function loadRecord(dir: string): Promise<TopologyRecord | undefined> {
  try {
    return JSON.parse(await readFile(layoutFile(dir), 'utf8')) as TopologyRecord;
  } catch {
    return undefined;
  }
}

/** What `up` started, by pid. */
export interface TopologyRecord {
  layout: ReplicatedLayout;
  pids: { instances: (number | undefined)[]; haproxy?: number; keeper?: number };
}
