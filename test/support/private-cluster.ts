/**
 * A private PostgreSQL cluster for fault tests (issue 14): its own data directory in a temp
 * dir and a free port, so a test may stop, restart or freeze it without touching the shared
 * server on 5432. As root, PostgreSQL's tools run as the `postgres` user (initdb refuses
 * root). Freezing sends SIGSTOP to this cluster's own processes, found by the postmaster's
 * pid (its pid file) and its children; nothing is signalled by name.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, ownForPostgres, pgTool, serverToolsAvailable } from '@nir/topology';

const run = promisify(execFile);

/** A cluster this test owns. */
export interface PrivateCluster {
  url: string;
  /** Its port on 127.0.0.1. */
  port: number;
  /** Fast shutdown: sessions are terminated, as in an outage. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: a database that no longer answers. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Stops the cluster and removes its directory. */
  remove(): Promise<void>;
  /**
   * Issue 19: a streaming replica of this cluster on another free port (pg_basebackup -R, with
   * a replication slot of its own), started and hot-standby; removed with its own `remove`.
   */
  replica(): Promise<PrivateCluster>;
  /** Promotes this cluster (a replica) to a primary, waiting until it is. */
  promote(): Promise<void>;
}

/** PostgreSQL's server tools, as @nir/topology runs them (as `postgres` when we are root). */
const tool = (name: string, args: string[]) => pgTool(name, args, 60_000);

/** True when a private cluster can be made here (the server tools, and a user to run them as). */
export function privateClusterAvailable(): boolean {
  return serverToolsAvailable();
}

/**
 * Whether the file's private-cluster tests can run: throws when `NIR_REQUIRE_POSTGRES=1` (CI)
 * and the server tools are missing, so that a CI machine without them fails instead of skipping.
 */
export function requirePrivateCluster(): boolean {
  const available = privateClusterAvailable();
  if (!available && process.env.NIR_REQUIRE_POSTGRES === '1') {
    throw new Error(
      'NIR_REQUIRE_POSTGRES=1 but the PostgreSQL server tools for a private cluster are missing',
    );
  }
  return available;
}

/** Creates and starts a cluster (trust auth, no fsync: it lives for one test file). */
export async function createPrivateCluster(): Promise<PrivateCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nir-fault-'));
  await ownForPostgres(dir);
  const data = path.join(dir, 'data');
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  return startCluster(dir, data);
}

let replicas = 0;

async function startCluster(dir: string, data: string): Promise<PrivateCluster> {
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = async () => {
    await tool('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  };
  const stop = async () => {
    await tool('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  };
  const pids = async (): Promise<number[]> => {
    const postmaster = Number((await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const children = await run('pgrep', ['-P', String(postmaster)]).then(
      (r) => r.stdout.split('\n').filter(Boolean).map(Number),
      () => [] as number[],
    );
    return [postmaster, ...children];
  };
  let frozen: number[] = [];
  const thaw = async () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone already.
      }
    }
    frozen = [];
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async freeze() {
      frozen = await pids();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw,
    async remove() {
      await thaw();
      await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
    async replica() {
      const replicaDir = await mkdtemp(path.join(os.tmpdir(), 'nir-replica-'));
      await ownForPostgres(replicaDir);
      const replicaData = path.join(replicaDir, 'data');
      const slot = `nir_replica_${process.pid}_${++replicas}`;
      // -R writes primary_conninfo and standby.signal; -C -S creates and uses a slot, so the
      // primary keeps the WAL the replica has not received (a paused or stopped replica).
      await tool('pg_basebackup', [
        '-D',
        replicaData,
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-R',
        '-X',
        'stream',
        '-C',
        '-S',
        slot,
        // A fast checkpoint: the default spreads it over minutes.
        '-c',
        'fast',
        '--no-sync',
      ]);
      return startCluster(replicaDir, replicaData);
    },
    async promote() {
      await tool('pg_ctl', ['-D', data, '-w', '-t', '30', 'promote']);
    },
  };
}
