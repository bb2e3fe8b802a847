/**
 * `pnpm start` as a user runs it: the commands its banner prints work as printed on a port other
 * than 8080, and SIGTERM or SIGINT sent to the process `pnpm start` began (pnpm itself) stops the
 * registry, so the port and the embedded database's lock are free for the next start.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { openStore } from '@nir/store';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { REPO_ROOT } from './support/harness.ts';
import { USER_PATH } from './support/readme-blocks.ts';

const run = promisify(execFile);

const USER_ENV = { PATH: USER_PATH, HOME: process.env.HOME ?? '/tmp' };
const dataDirs: string[] = [];

afterAll(async () => {
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Started {
  pnpm: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** `pnpm start` with its own port and data directory; resolves once the banner is printed. */
async function pnpmStart(dataDir: string): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const pnpm = spawn('pnpm', ['start'], {
    cwd: REPO_ROOT,
    env: { ...USER_ENV, PORT: String(port), LOG_LEVEL: 'warn', NIR_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  pnpm.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  pnpm.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => pnpm.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Health:')) {
    if (pnpm.exitCode !== null || Date.now() > deadline) {
      pnpm.kill('SIGKILL');
      throw new Error(`pnpm start did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { pnpm, url, output: () => output, exited };
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/_status`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

describe('pnpm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints commands that work as printed, and %s to pnpm stops the registry',
    async (signal) => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'nir-start-'));
      dataDirs.push(dataDir);
      const started = await pnpmStart(dataDir);
      try {
        const banner = started.output();
        // The banner's "try it" lines, run by sh exactly as printed (a token, then a search).
        const tryIt = banner.split('Try it')[1]?.split('\n').slice(1, 5).join('\n') ?? '';
        expect(tryIt).toContain(`--url ${started.url}`);
        const { stdout } = await run('sh', ['-c', `set -e\n${tryIt.split('\n').slice(0, 4).join('\n')}`], {
          cwd: REPO_ROOT,
          env: USER_ENV,
        });
        const bundle = JSON.parse(stdout) as { resourceType: string; total: number };
        expect(bundle).toMatchObject({ resourceType: 'Bundle', total: 2 });
      } finally {
        started.pnpm.kill(signal);
      }
      const code = await Promise.race([started.exited, sleep(20_000).then(() => 'still running')]);
      if (code === 'still running') started.pnpm.kill('SIGKILL');
      expect(code).toBe(0);
      // Nothing is left behind: the port is closed and the data directory's lock is free.
      expect(await answers(started.url)).toBe(false);
      const store = await openStore({ dataDir });
      await store.close();
    },
    120_000,
  );
});
