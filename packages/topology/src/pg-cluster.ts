/**
 * One PostgreSQL cluster of a topology: its own data directory and loopback port, made and run
 * with PostgreSQL's own tools (initdb, pg_basebackup, pg_ctl). A cluster is named by its
 * directory; everything about it (running, role) is read from PostgreSQL itself.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { ownForPostgres, pgTool } from './pg-tools.ts';

/** Server settings written into a cluster's postgresql.conf (name → value). */
export type Settings = Record<string, string | number | boolean>;

/** Renders settings as postgresql.conf lines. */
export function renderSettings(settings: Settings): string {
  return Object.entries(settings)
    .map(
      ([name, value]) =>
        `${name} = ${typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : value}`,
    )
    .join('\n');
}

/** Settings every topology cluster shares: loopback only, small, and durable (fsync on). */
export const BASE_SETTINGS: Settings = {
  listen_addresses: '127.0.0.1',
  shared_buffers: '64MB',
  max_connections: 200,
  // A topology on loopback must stay light on a small machine.
  max_worker_processes: 16,
  log_min_messages: 'warning',
  log_line_prefix: '%m [%p] ',
};

/** A PostgreSQL cluster in `root` (data in `root/data`, socket and log in `root`). */
export class PgCluster {
  readonly name: string;
  readonly root: string;
  readonly port: number;

  constructor(name: string, root: string, port: number) {
    this.name = name;
    this.root = root;
    this.port = port;
  }

  /** The data directory. */
  get dataDir(): string {
    return path.join(this.root, 'data');
  }

  /** The server log. */
  get logFile(): string {
    return path.join(this.root, 'server.log');
  }

  /** A URL for `database` on this cluster, as the `postgres` superuser over loopback. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** True when the data directory exists. */
  get exists(): boolean {
    return existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** Makes a new, empty cluster with `settings` (initdb; trust auth on loopback only). */
  async init(settings: Settings): Promise<void> {
    await this.#makeRoot();
    await pgTool('initdb', ['-D', this.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    await this.#appendSettings(settings);
  }

  /**
   * Makes this cluster a streaming standby of `primary`: a base backup over the replication
   * protocol into a new replication slot (`slot`), with the standby's connection settings
   * written for it (-R). `applicationName` is the name the primary's synchronous_standby_names
   * refers to.
   */
  async cloneFrom(
    primary: PgCluster,
    slot: string,
    applicationName: string,
    settings: Settings,
  ): Promise<void> {
    await this.#makeRoot();
    const conninfo = `host=127.0.0.1 port=${primary.port} user=postgres application_name=${applicationName}`;
    await pgTool('pg_basebackup', [
      '-d',
      conninfo,
      '-D',
      this.dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '-C',
      '-S',
      slot,
    ]);
    await this.#appendSettings(settings);
  }

  /** Starts the cluster and waits until it accepts connections. */
  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.root}`;
    await pgTool('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      this.logFile,
      '-w',
      '-t',
      '120',
      'start',
    ]);
  }

  /** Stops the cluster: `fast` ends sessions and checkpoints; `immediate` is a crash-like stop. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!(await this.running())) return;
    await pgTool('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /**
   * Kills the postmaster and every process it started with SIGKILL: the machine's death as
   * PostgreSQL sees it (no shutdown, no checkpoint, sessions cut mid-statement).
   */
  async crash(): Promise<void> {
    const postmaster = await this.postmasterPid();
    if (postmaster === undefined) return;
    const children = await childPids(postmaster);
    for (const pid of [postmaster, ...children]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (let i = 0; i < 100 && isAlive(postmaster); i++) await sleep(50);
  }

  /** Promotes a standby to primary and waits until it accepts writes. */
  async promote(): Promise<void> {
    await pgTool('pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', 'promote']);
  }

  /** The postmaster's pid while it runs. */
  async postmasterPid(): Promise<number | undefined> {
    try {
      const pid = Number((await readFile(path.join(this.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** True while the postmaster runs. */
  async running(): Promise<boolean> {
    return (await this.postmasterPid()) !== undefined;
  }

  /** Runs one statement on `database` and returns its rows (a connection of its own). */
  async query<Row = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.url(database), connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Row[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** True when the cluster answers and is not in recovery (it accepts writes). */
  async isPrimary(): Promise<boolean> {
    try {
      const [row] = await this.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
      return row?.standby === false;
    } catch {
      return false;
    }
  }

  async #makeRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await ownForPostgres(this.root);
  }

  async #appendSettings(settings: Settings): Promise<void> {
    const lines = `\n# ${this.name}: written by the topology (packages/topology)\n${renderSettings({ ...BASE_SETTINGS, ...settings })}\n`;
    await appendFile(path.join(this.dataDir, 'postgresql.conf'), lines);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function childPids(parent: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8');
    return text.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
