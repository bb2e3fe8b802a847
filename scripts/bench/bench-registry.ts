/**
 * The registry as every bench script starts it: a real process (`pnpm start`'s entry) on a
 * bench database, in demo mode, with the heap limits `pnpm start` and the Dockerfile use
 * (`NIR_SERVER_NODE_OPTIONS` replaces them, e.g. to add `--cpu-prof`), a pool of
 * `NIR_DB_POOL_SIZE` (default 4) and quotas far above any scenario, so that the rate limiter
 * still checks every request but never refuses one. `extra` adds or overrides settings.
 */
import { type ServerProcess, startServerProcess } from '../../test/support/server-process.ts';

/** The heap limits `pnpm start` and the Dockerfile run the registry with. */
export const SERVER_NODE_OPTIONS = '--max-semi-space-size=8 --max-old-space-size=128';

/** Starts the registry on `databaseUrl` for a bench; resolves once it answers. */
export function startBenchRegistry(
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<ServerProcess> {
  return startServerProcess({
    NODE_OPTIONS: process.env.NIR_SERVER_NODE_OPTIONS ?? SERVER_NODE_OPTIONS,
    DATABASE_URL: databaseUrl,
    NIR_DEMO_MODE: 'true',
    NIR_ACCESS_TOKEN_TTL: '3600',
    NIR_DB_POOL_SIZE: process.env.NIR_DB_POOL_SIZE ?? '4',
    NIR_RATE_LIMIT_CLIENT: '10000000',
    NIR_RATE_LIMIT_ORGANISATION: '10000000',
    ...extra,
  });
}
