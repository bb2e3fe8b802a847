/**
 * Measures how long the registry takes to start: from spawning `packages/server/src/main.ts`
 * (what `pnpm start` runs) to the first 200 from `/_status`. Prints the figures; asserts nothing.
 *
 *   node scripts/measure-start.ts            # embedded database: first start, then restarts
 *   DATABASE_URL=postgres://... node scripts/measure-start.ts
 *
 * A first start on the embedded database creates the data directory, applies the migrations,
 * makes a signing key and seeds the demo catalogue; a restart only opens it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const RESTARTS = 3;

async function timeStart(env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['packages/server/src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/_status`)).status === 200)
          return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

const rows: [string, number][] = [];
if (process.env.DATABASE_URL) {
  for (let i = 0; i < RESTARTS + 1; i++) {
    rows.push([`postgres start ${i + 1}`, await timeStart({ DATABASE_URL: process.env.DATABASE_URL })]);
  }
} else {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'nir-start-'));
  try {
    rows.push(['embedded first start (migrate, key, demo seed)', await timeStart({ NIR_DATA_DIR: dataDir })]);
    for (let i = 0; i < RESTARTS; i++) {
      rows.push([`embedded restart ${i + 1}`, await timeStart({ NIR_DATA_DIR: dataDir })]);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
console.log(`node ${process.version}`);
for (const [label, ms] of rows)
  console.log(`${label.padEnd(48)} ${Math.round(ms).toString().padStart(6)} ms`);
