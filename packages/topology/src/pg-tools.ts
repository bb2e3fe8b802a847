/**
 * PostgreSQL's own server tools (initdb, pg_ctl, pg_basebackup), run as the `postgres` user when
 * this process is root (initdb and the postmaster refuse root), from Debian's PostgreSQL 15.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian puts PostgreSQL 15's server tools (`NIR_PG_BIN` overrides). */
export const PG_BIN = process.env.NIR_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** True when the server tools are installed here. */
export function serverToolsAvailable(): boolean {
  return existsSync(path.join(PG_BIN, 'initdb')) && existsSync(path.join(PG_BIN, 'pg_ctl'));
}

/** The `postgres` user's ids when this process is root; undefined otherwise (tools run as us). */
export async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/** Gives `dir` to the user the tools run as (no-op unless root). */
export async function ownForPostgres(dir: string): Promise<void> {
  const ids = await postgresUser();
  if (ids) await chown(dir, ids.uid, ids.gid);
}

/** Runs one server tool; rejects with its output when it fails. */
export async function pgTool(
  name: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  const ids = await postgresUser();
  const bin = path.join(PG_BIN, name);
  try {
    return ids
      ? await run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: timeoutMs })
      : await run(bin, args, { timeout: timeoutMs });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${name} ${args.join(' ')} failed: ${failure.stderr || failure.stdout || failure.message}`,
    );
  }
}
