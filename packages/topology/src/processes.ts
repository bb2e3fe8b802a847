/**
 * Long-running processes of a topology (registry instances, HAProxy, the keeper): started
 * detached with their output in a log file, so that `pnpm topology up` can return, and stopped
 * by the pid it recorded.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';

/** Starts `command` detached, its stdout and stderr appended to `logFile`; returns its pid. */
export function spawnDetached(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string },
): number {
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return child.pid;
}

/** True while process `pid` exists. */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to `pid` and waits up to `timeoutMs` for it to end; SIGKILL after that. */
export async function stopProcess(
  pid: number | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid as number, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(pid)) process.kill(pid as number, 'SIGKILL');
}

/** Polls `check` every 100 ms until it is true or `timeoutMs` passes (then throws `what`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
