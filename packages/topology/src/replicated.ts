/**
 * The replicated topology (issue 19): PostgreSQL node a (primary) and node b (streaming standby
 * from a base backup into a replication slot, synchronous), the keeper watching them, registry
 * instances using both (writes on whichever node is primary, consumer reads on the standby)
 * and HAProxy in front. Brought up, down and described by `pnpm topology`; the fault tests
 * drive the same functions.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { balancerStates, startHaproxy } from './haproxy.ts';
import { type InstanceSpec, isReady, startInstance } from './instances.ts';
import { type KeeperState, SYNC_NAMES } from './keeper.ts';
import {
  loadRecord,
  NODE_NAMES,
  primaryUrl,
  type ReplicatedLayout,
  replicaUrl,
  saveRecord,
  type TopologyRecord,
} from './layout.ts';
import { PgCluster, type Settings } from './pg-cluster.ts';
import { isAlive, spawnDetached, stopProcess, waitFor } from './processes.ts';

/** Settings of both nodes (either may be primary): WAL for streaming, synchronous commit. */
export const REPLICATION_SETTINGS: Settings = {
  wal_level: 'replica',
  max_wal_senders: 10,
  max_replication_slots: 10,
  hot_standby: 'on',
  hot_standby_feedback: 'on',
  // pg_rewind can bring a failed primary back as a standby.
  wal_log_hints: 'on',
  synchronous_commit: 'on',
  // Consumer reads on the standby may hold replay back for at most this long.
  max_standby_streaming_delay: '2s',
  wal_keep_size: '256MB',
};

/** The two nodes of `layout`, in port order. */
export function replicatedNodes(layout: ReplicatedLayout): [PgCluster, PgCluster] {
  const [a, b] = NODE_NAMES.map(
    (name, i) => new PgCluster(`nir_${name}`, path.join(layout.dir, name), layout.nodePorts[i] as number),
  );
  return [a as PgCluster, b as PgCluster];
}

/** Progress lines for the person running the command. */
export type Say = (line: string) => void;

/**
 * Brings the topology up: creates the clusters on the first run (or starts the existing ones as
 * they are, roles included), then the keeper, the instances and HAProxy. Resolves once the
 * balancer answers `/_ready`.
 */
/** The settings instance `i` of `layout` runs with. */
export function replicatedInstanceSpec(layout: ReplicatedLayout, i: number): InstanceSpec {
  return {
    port: layout.instancePorts[i] as number,
    metricsPort: layout.metricsPorts[i],
    publicUrl: `http://127.0.0.1:${layout.balancerPort}`,
    databaseUrl: primaryUrl(layout),
    replicaUrl: replicaUrl(layout),
    replicaMaxLag: layout.replicaMaxLag,
    instances: layout.instancePorts.length,
    ...(layout.instanceEnv && { extra: layout.instanceEnv }),
  };
}

export async function upReplicated(
  layout: ReplicatedLayout,
  say: Say = () => undefined,
): Promise<TopologyRecord> {
  const existing = await loadRecord(layout.dir);
  if (existing?.pids.instances.some((pid) => isAlive(pid))) {
    throw new Error(`a topology is already up in ${layout.dir}: \`pnpm topology down\` first`);
  }
  const effective = existing?.layout ?? layout;
  await mkdir(effective.dir, { recursive: true });
  // The nodes run as the postgres user, who must reach their directories inside it.
  await chmod(effective.dir, 0o755);
  const [a, b] = replicatedNodes(effective);
  if (!a.exists) {
    say(`node a: initdb on port ${a.port}`);
    await a.init(REPLICATION_SETTINGS);
    await a.start();
    await a.query(`CREATE DATABASE ${effective.database}`);
    say(`node b: pg_basebackup from a into slot nir_b, port ${b.port}`);
    await b.cloneFrom(a, 'nir_b', 'nir_b', {});
    await b.start();
    await waitFor('node b to stream from node a', async () => {
      const rows = await a.query(
        "SELECT 1 FROM pg_stat_replication WHERE application_name = 'nir_b' AND state = 'streaming'",
      );
      return rows.length === 1;
    });
    if (effective.synchronous) {
      await a.query(`ALTER SYSTEM SET synchronous_standby_names = '${SYNC_NAMES}'`);
      await a.query('SELECT pg_reload_conf()');
      say(`synchronous replication on: synchronous_standby_names = '${SYNC_NAMES}'`);
    }
  } else {
    for (const node of [a, b]) {
      if (node.exists && !(await node.running())) {
        say(`${node.name}: starting on port ${node.port}`);
        await node.start();
      }
    }
  }
  const record: TopologyRecord = { layout: effective, pids: { instances: [] } };
  record.pids.keeper = spawnDetached(
    process.execPath,
    [fileURLToPath(new URL('./keeper-main.ts', import.meta.url)), effective.dir],
    { env: { PATH: process.env.PATH ?? '' }, logFile: path.join(effective.dir, 'keeper.log') },
  );
  await saveRecord(record);
  const publicUrl = `http://127.0.0.1:${effective.balancerPort}`;
  const logOf = (i: number) => path.join(effective.dir, `instance-${i + 1}.log`);
  // The first instance migrates and seeds the demo catalogue; the others start beside it after.
  say(`registry instances on ports ${effective.instancePorts.join(', ')}`);
  record.pids.instances.push(await startInstance(replicatedInstanceSpec(effective, 0), logOf(0)));
  await saveRecord(record);
  const rest = effective.instancePorts
    .slice(1)
    .map((_, i) => startInstance(replicatedInstanceSpec(effective, i + 1), logOf(i + 1)));
  record.pids.instances.push(...(await Promise.all(rest)));
  await saveRecord(record);
  say(`HAProxy on ${publicUrl} (statistics on http://127.0.0.1:${effective.statsPort}/)`);
  record.pids.haproxy = await startHaproxy(effective.dir, {
    port: effective.balancerPort,
    statsPort: effective.statsPort,
    instancePorts: effective.instancePorts,
  });
  await saveRecord(record);
  await waitFor('HAProxy to route to a ready instance', () => isReady(effective.balancerPort), 30_000);
  return record;
}

/** Stops everything `up` started (instances drain first); `remove` also deletes the directory. */
export async function downReplicated(
  dir: string,
  remove: boolean,
  say: Say = () => undefined,
): Promise<void> {
  const record = await loadRecord(dir);
  if (record) {
    say('stopping HAProxy, the registry instances (draining) and the keeper');
    await stopProcess(record.pids.haproxy);
    await Promise.all(record.pids.instances.map((pid) => stopProcess(pid, 'SIGTERM', 40_000)));
    await stopProcess(record.pids.keeper);
    for (const node of replicatedNodes(record.layout)) {
      if (await node.running()) {
        say(`${node.name}: stopping`);
        await node.stop('fast');
      }
    }
    await saveRecord({ ...record, pids: { instances: [] } });
  }
  if (remove) {
    say(`removing ${dir}`);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One node as `status` reports it. */
export interface NodeStatus {
  name: string;
  port: number;
  running: boolean;
  role: 'primary' | 'standby' | 'down';
  /** Primaries: the standbys streaming from it, with their sync state and replay lag. */
  standbys?: { name: string; syncState: string; replayLag: string | null }[];
  synchronousStandbyNames?: string;
}

/** What is up, as PostgreSQL, the instances, HAProxy and the keeper say. */
export interface ReplicatedStatus {
  dir: string;
  nodes: NodeStatus[];
  instances: { port: number; pid: number | undefined; ready: boolean }[];
  balancer: { port: number; servers: { name: string; status: string }[] } | undefined;
  keeper: (KeeperState & { pid: number | undefined }) | undefined;
}

/** Reads the topology's state in `dir`. */
export async function statusReplicated(dir: string): Promise<ReplicatedStatus | undefined> {
  const record = await loadRecord(dir);
  if (!record) return undefined;
  const { layout } = record;
  const nodes: NodeStatus[] = [];
  for (const node of replicatedNodes(layout)) {
    const running = await node.running();
    if (!running) {
      nodes.push({ name: node.name, port: node.port, running, role: 'down' });
      continue;
    }
    const primary = await node.isPrimary();
    const status: NodeStatus = {
      name: node.name,
      port: node.port,
      running,
      role: primary ? 'primary' : 'standby',
    };
    if (primary) {
      status.standbys = (
        await node.query<{ name: string; sync_state: string; replay_lag: string | null }>(
          'SELECT application_name AS name, sync_state, replay_lag::text FROM pg_stat_replication ORDER BY 1',
        )
      ).map((r) => ({ name: r.name, syncState: r.sync_state, replayLag: r.replay_lag }));
      status.synchronousStandbyNames = (
        await node.query<{ value: string }>("SELECT current_setting('synchronous_standby_names') AS value")
      )[0]?.value;
    }
    nodes.push(status);
  }
  const instances = await Promise.all(
    layout.instancePorts.map(async (port, i) => ({
      port,
      pid: record.pids.instances[i],
      ready: await isReady(port),
    })),
  );
  const balancer = isAlive(record.pids.haproxy)
    ? { port: layout.balancerPort, servers: await balancerStates(layout.statsPort).catch(() => []) }
    : undefined;
  const keeper = isAlive(record.pids.keeper)
    ? { ...(await readKeeperState(dir)), pid: record.pids.keeper }
    : undefined;
  return { dir, nodes, instances, balancer, keeper: keeper as ReplicatedStatus['keeper'] };
}

/** The keeper's last written state (keeper.json). */
export async function readKeeperState(dir: string): Promise<KeeperState | undefined> {
  try {
    return (JSON.parse(await readFile(path.join(dir, 'keeper.json'), 'utf8')) as { state: KeeperState })
      .state;
  } catch {
    return undefined;
  }
}
