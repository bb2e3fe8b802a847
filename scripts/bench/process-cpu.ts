/**
 * The CPU time a process and its descendants have used, read from /proc (Linux): what the
 * bench divides by a scenario's requests to report the server's CPU per request. Descendants
 * count so that a registry running several workers (`NIR_WORKERS`) is measured whole.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux build that matters). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in ticks. */
  ticks: number;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(line.slice(0, line.indexOf(' ')));
  // Fields after the name, from field 3 (state): ppid is field 4, utime 14, stime 15.
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]);
  if (!Number.isFinite(pid) || !Number.isFinite(ppid) || !Number.isFinite(ticks)) return undefined;
  return { pid, ppid, ticks };
}

async function allStats(): Promise<ProcStat[]> {
  const stats: ProcStat[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parsed = parseProcStat(await readFile(`/proc/${entry}/stat`, 'utf8'));
      if (parsed) stats.push(parsed);
    } catch {
      // the process ended while we looked
    }
  }
  return stats;
}

/** CPU seconds used so far by `pid` and every live descendant of it; undefined off Linux. */
export async function processTreeCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  const stats = await allStats();
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const root = stats.find((s) => s.pid === pid);
  if (!root) return undefined;
  let ticks = 0;
  const queue = [root];
  for (let next = queue.pop(); next; next = queue.pop()) {
    ticks += next.ticks;
    queue.push(...(children.get(next.pid) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by each of `pids` (no descendants), summed; processes that ended are
 * not counted. The soak reads the registry's PostgreSQL backends with it: the audit INSERT's
 * cost lands there, not in the registry's process.
 */
export async function processesCpuSeconds(pids: readonly number[]): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  let ticks = 0;
  for (const pid of pids) {
    try {
      ticks += parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'))?.ticks ?? 0;
    } catch {
      // the backend ended
    }
  }
  return ticks / TICKS_PER_SECOND;
}
