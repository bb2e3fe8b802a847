/**
 * HAProxy (Debian's package) in front of the registry instances: round robin, each instance
 * health-checked on `/_ready` (which turns 503 while it drains or cannot reach its database),
 * a refused connection retried on another instance (safe: the request was never sent), and
 * nothing else retried (a POST that reached an instance may have been written).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnDetached } from './processes.ts';

/** Where Debian installs HAProxy. */
export const HAPROXY_BIN = process.env.NIR_HAPROXY_BIN ?? '/usr/sbin/haproxy';

/** True when HAProxy is installed. */
export function haproxyAvailable(): boolean {
  return existsSync(HAPROXY_BIN);
}

/** What the balancer fronts. */
export interface BalancerSpec {
  /** The port clients use. */
  port: number;
  /** HAProxy's own statistics page (CSV at `/;csv`), on loopback. */
  statsPort: number;
  /** The registry instances' ports on 127.0.0.1. */
  instancePorts: number[];
}

/** HAProxy's configuration for `spec` (pure; tested). */
export function haproxyConfig(spec: BalancerSpec): string {
  const servers = spec.instancePorts.map((port, i) => `  server nir${i + 1} 127.0.0.1:${port} check`);
  return [
    'global',
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 10s',
    // A connection refused or reset before the request was sent goes to another instance.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure',
    '',
    'frontend registry',
    `  bind 127.0.0.1:${spec.port}`,
    '  default_backend instances',
    '',
    'backend instances',
    '  balance roundrobin',
    '  option httpchk GET /_ready',
    '  http-check expect status 200',
    // Checked every 500 ms; out after 2 failures, back after 2 successes; sessions to a server
    // marked down are cut so that clients do not wait on a dead instance.
    '  default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2 on-marked-down shutdown-sessions',
    ...servers,
    '',
    'listen stats',
    `  bind 127.0.0.1:${spec.statsPort}`,
    '  stats enable',
    '  stats uri /',
    '',
  ].join('\n');
}

/** Writes the configuration into `dir` and starts HAProxy; returns its pid. */
export async function startHaproxy(dir: string, spec: BalancerSpec): Promise<number> {
  const config = path.join(dir, 'haproxy.cfg');
  await writeFile(config, haproxyConfig(spec));
  // -db: stay in the foreground of its own (detached) process, so its pid is the one we stop.
  return spawnDetached(HAPROXY_BIN, ['-db', '-f', config], {
    env: {},
    logFile: path.join(dir, 'haproxy.log'),
  });
}

/** One backend server's state from HAProxy's statistics CSV. */
export interface ServerState {
  name: string;
  status: string;
}

/** Reads the instances' states (UP, DOWN, …) from HAProxy's statistics page. */
export async function balancerStates(statsPort: number): Promise<ServerState[]> {
  const response = await fetch(`http://127.0.0.1:${statsPort}/;csv`);
  const lines = (await response.text()).split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const proxy = header.indexOf('pxname');
  const name = header.indexOf('svname');
  const status = header.indexOf('status');
  return lines
    .slice(1)
    .map((line) => line.split(','))
    .filter((cells) => cells[proxy] === 'instances' && !['FRONTEND', 'BACKEND'].includes(cells[name] ?? ''))
    .map((cells) => ({ name: cells[name] ?? '', status: cells[status] ?? '' }));
}
