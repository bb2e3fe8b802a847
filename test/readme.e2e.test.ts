/**
 * The README's shell blocks, run as a newcomer would run them, against a started registry
 * (PostgreSQL with demo mode on, so the demo blocks and "The first admin client" both apply).
 * Every ```sh block runs unless the line before it says `<!-- readme-test: skip (reason) -->`.
 * The README's address (127.0.0.1:8080 / localhost:8080) is replaced by the test registry's,
 * which is also NIR_PUBLIC_URL; each block runs with `sh -e` in a scratch folder that links the
 * repository's files, so the files a block writes (keys, exports) land there.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/harness.ts';
import { shellBlocks, USER_PATH } from './support/readme-blocks.ts';
import { type ServerProcess, startServerProcess, stopServerProcess } from './support/server-process.ts';

const run = promisify(execFile);

const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = shellBlocks(readme);
const backends = await testBackends();
const postgres = backends.find((b) => b.name === 'postgres');

describe('shellBlocks', () => {
  it('finds every sh block of the README, indented ones too, and its skip reason', () => {
    expect(blocks.length).toBeGreaterThan(8);
    expect(blocks.filter((b) => b.skip).every((b) => b.skip && b.skip.length > 5)).toBe(true);
    expect(shellBlocks('x\n  <!-- readme-test: skip (why not) -->\n  ```sh\n  echo a\n  ```\n')).toEqual([
      { line: 3, script: 'echo a', skip: 'why not' },
    ]);
  });

  it('runs no README command that needs a tool a fresh machine lacks (uuidgen, jq)', () => {
    for (const block of blocks) expect(block.script).not.toMatch(/\b(uuidgen|jq)\b/);
  });
});

describe.runIf(postgres)("the README's shell blocks, against a started registry", () => {
  let running: ServerProcess | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let workdir = '';

  beforeAll(async () => {
    database = await postgres?.freshDatabaseUrl?.();
    if (!database) throw new Error('no database');
    const url = database.url;
    running = await startServerProcess({ DATABASE_URL: url, NIR_DEMO_MODE: 'true' });
    workdir = await mkdtemp(path.join(tmpdir(), 'nir-readme-'));
    for (const entry of await readdir(REPO_ROOT)) {
      if (entry === '.git' || entry === '.data') continue;
      await symlink(path.join(REPO_ROOT, entry), path.join(workdir, entry));
    }
  }, 120_000);

  afterAll(async () => {
    if (running) await stopServerProcess(running);
    await database?.drop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  const runnable = blocks.filter((b) => !b.skip);
  it.each(runnable.map((b) => [b.line, b] as const))(
    'README.md line %i runs',
    async (_line, block) => {
      if (!running || !database) throw new Error('not started');
      const script = block.script.replaceAll(/http:\/\/(127\.0\.0\.1|localhost):8080/g, running.url);
      const { stdout, stderr } = await run('sh', ['-e', '-c', script], {
        cwd: workdir,
        env: {
          PATH: USER_PATH,
          HOME: process.env.HOME ?? '/tmp',
          DATABASE_URL: database.url,
          NIR_PUBLIC_URL: running.url,
        },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(
          `README.md line ${block.line} failed: ${error.message}\n${error.stdout}\n${error.stderr}`,
        );
      });
      // curl -s succeeds on any status: an error answer fails the block too.
      expect(stdout, stderr).not.toMatch(
        /"severity"\s*:\s*"(error|fatal)"|"error"\s*:\s*"|^HTTP\/[\d.]+ [45]\d\d/m,
      );
    },
    180_000,
  );
});
