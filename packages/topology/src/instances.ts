/**
 * Registry instances of a topology: the registry's own entry point (what `pnpm start` runs),
 * each on its own loopback port, all with the balancer's URL as their public URL so that a
 * token issued through one instance is accepted by every other (the signing keys are in the
 * shared database).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDetached, waitFor } from './processes.ts';

/** The repository root (packages/topology/src → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** What one instance needs to know. */
export interface InstanceSpec {
  port: number;
  /** The instance's metrics listener (loopback). */
  metricsPort?: number;
  publicUrl: string;
  databaseUrl: string;
  replicaUrl?: string;
  replicaMaxLag?: string;
  /** Instances behind the balancer (the rate limiter shares each quota among them). */
  instances: number;
  /** More environment (e.g. NIR_WORKERS). */
  extra?: Record<string, string>;
}

/** The environment an instance runs with (pure; tested). */
export function instanceEnv(spec: InstanceSpec): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(spec.port),
    ...(spec.metricsPort && { NIR_METRICS_PORT: String(spec.metricsPort) }),
    NIR_PUBLIC_URL: spec.publicUrl,
    DATABASE_URL: spec.databaseUrl,
    ...(spec.replicaUrl && { DATABASE_REPLICA_URL: spec.replicaUrl }),
    ...(spec.replicaMaxLag && { NIR_REPLICA_MAX_LAG: spec.replicaMaxLag }),
    // The demo catalogue and demo client keys (demo/): a loopback topology is a demonstration.
    NIR_DEMO_MODE: 'true',
    NIR_RATE_LIMIT_INSTANCES: String(spec.instances),
    NIR_TRUST_PROXY: 'loopback',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...spec.extra,
  };
}

/** Starts one instance detached (log in `logFile`) and waits until `/_ready` answers 200. */
export async function startInstance(
  spec: InstanceSpec,
  logFile: string,
  timeoutMs = 90_000,
): Promise<number> {
  const pid = spawnDetached(
    process.execPath,
    [
      '--max-semi-space-size=8',
      '--max-old-space-size=160',
      path.join(REPO_ROOT, 'packages/server/start.mjs'),
    ],
    { env: instanceEnv(spec), logFile, cwd: REPO_ROOT },
  );
  await waitFor(
    `the registry instance on port ${spec.port} (log: ${logFile})`,
    () => isReady(spec.port),
    timeoutMs,
  );
  return pid;
}

/** One counter or gauge from an instance's metrics listener (summed over its label sets). */
export async function metricValue(metricsPort: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const [series, value] = line.split(' ');
    if (series === name || (series?.startsWith(`${name}{`) && series.includes(labels))) sum += Number(value);
  }
  return sum;
}

/** True when the instance on `port` answers `/_ready` with 200. */
export async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/_ready`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
