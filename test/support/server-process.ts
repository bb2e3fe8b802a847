/**
 * The registry as a real process (`packages/server/src/main.ts`, what `pnpm start` runs), for
 * tests of start-up, restarts and crashes. Resolves once `/_status` answers 200 (and, with
 * `NIR_WORKERS` above 1, once the primary says every worker listens).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createClientAssertion, demoUserClaims } from '@nir/cli';
import { freePort } from './free-port.ts';
import { demoPrivateKey, REPO_ROOT } from './harness.ts';

/** A running registry process. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Settles with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Everything it printed so far. */
  output: () => string;
}

/**
 * Starts the registry on a free loopback port. `env` is the process environment beyond PATH,
 * PORT and LOG_LEVEL (warn); give a function to use the chosen base URL in it.
 */
export async function startServerProcess(
  env: Record<string, string> | ((url: string) => Record<string, string>),
): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const extra = typeof env === 'function' ? env(url) : env;
  const child = spawn(process.execPath, ['packages/server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const workers = Number(extra.NIR_WORKERS ?? '1');
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${output}`);
    try {
      // Several workers: worker 0 answers first; the primary says when every worker listens.
      const all = workers <= 1 || output.includes(`${workers} workers listening`);
      if (all && (await fetch(`${url}/_status`)).status === 200)
        return { child, url, exited, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start: ${output}`);
}

/** Stops a registry process with SIGTERM; resolves with its exit code. */
export async function stopServerProcess(running: ServerProcess): Promise<number | null> {
  running.child.kill('SIGTERM');
  return running.exited;
}

/** Posts a client-credentials token request with `assertion` to the registry at `url`. */
export async function tokenRequest(url: string, assertion: string): Promise<Response> {
  return fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }).toString(),
  });
}

/** A demo client's signed assertion for the registry at `url`, with a demo user of `ods`. */
export async function demoAssertion(url: string, clientId: string, ods: string): Promise<string> {
  return createClientAssertion({
    clientId,
    privateJwk: await demoPrivateKey(clientId),
    tokenUrl: `${url}/oauth2/token`,
    iua: demoUserClaims(ods),
  });
}

/** A demo client's access token from a running registry (its assertion signed with the demo key). */
export async function demoAccessToken(url: string, clientId: string, ods: string): Promise<string> {
  const response = await tokenRequest(url, await demoAssertion(url, clientId, ods));
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token)
    throw new Error(`token for ${clientId}: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
