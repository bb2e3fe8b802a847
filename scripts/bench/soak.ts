/**
 * The soak (issue 15, item 6): S2 for N minutes in windows, each window reporting req/s, p99,
 * the server's CPU per search, its RSS, the bytes of an average response and the size of the
 * audit trail (rows, heap + indexes of the audit partitions, the rollup tables and their dead
 * rows), so whether the cost per search stays flat as the audit grows is read off one series.
 */
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { type BenchRequest, closedLoop } from './load-generators.ts';
import { processesCpuSeconds, processTreeCpuSeconds } from './process-cpu.ts';

/** The audit trail's size at one moment. */
export interface AuditSize {
  /** Rows inserted into the audit partitions (pg_stat counters: exact for an insert-only table). */
  rows: number;
  /** Heap of the audit partitions, MB. */
  heapMb: number;
  /** Indexes of the audit partitions, MB. */
  indexMb: number;
  /** Rollup tables (audit_rollup, audit_access_rollup) with their indexes, MB. */
  rollupMb: number;
  /** Dead row versions in the rollup tables (hot rows updated by every batch). */
  rollupDeadRows: number;
  /** Index blocks of the audit partitions found in shared buffers, so far (pg_statio). */
  indexBlocksHit: number;
  /** Index blocks of the audit partitions read from outside shared buffers, so far (pg_statio). */
  indexBlocksRead: number;
}

/** One window of the soak. */
export interface SoakWindow {
  /** Minutes since the soak began, at the end of the window. */
  atMinutes: number;
  /** Searches answered in the window. */
  requests: number;
  rps: number;
  p99: number;
  errors: number;
  /** Server CPU (user + system, process tree) per search in the window, µs. */
  cpuUsPerRequest: number | null;
  /**
   * CPU of the registry's PostgreSQL backends per search in the window, µs (the audit INSERT and
   * its rollup run there). Backends that ended during the window are not counted.
   */
  pgCpuUsPerRequest: number | null;
  /** Mean response size, bytes (bigger answers cost more CPU: a drift of the data, not the audit). */
  bytesPerResponse: number;
  rssMb: number | null;
  /**
   * Audit index blocks touched per search in the window (hit + read; the audit INSERT's index
   * maintenance: B-tree depth and the random patient key show here, free of the machine's load).
   */
  auditIndexBlocksPerRequest: number | null;
  /** Of those, blocks read from outside shared buffers per search. */
  auditIndexReadsPerRequest: number | null;
  audit: AuditSize;
}

/** What `soak` measured. */
export interface SoakResult {
  minutes: number;
  windowSeconds: number;
  windows: SoakWindow[];
  firstMb: number;
  lastMb: number;
  growthPercent: number;
}

/** The audit trail's size now (catalogue and statistics reads only: no scan of audit_event). */
export async function auditSize<DB>(db: Kysely<DB>): Promise<AuditSize> {
  const { rows } = await sql<{
    rows: string | null;
    heap: string | null;
    index: string | null;
    rollup: string | null;
    dead: string | null;
    hit: string | null;
    read: string | null;
  }>`
    WITH parts AS (
      SELECT i.inhrelid AS oid FROM pg_inherits i WHERE i.inhparent = 'audit_event'::regclass
    )
    SELECT
      (SELECT sum(s.n_tup_ins - s.n_tup_del) FROM pg_stat_user_tables s JOIN parts p ON p.oid = s.relid) AS rows,
      (SELECT sum(pg_table_size(p.oid)) FROM parts p) AS heap,
      (SELECT sum(pg_indexes_size(p.oid)) FROM parts p) AS index,
      (SELECT sum(pg_total_relation_size(r)) FROM unnest(ARRAY['audit_rollup'::regclass, 'audit_access_rollup'::regclass]) AS r) AS rollup,
      (SELECT sum(n_dead_tup) FROM pg_stat_user_tables WHERE relname IN ('audit_rollup', 'audit_access_rollup')) AS dead,
      (SELECT sum(s.idx_blks_hit) FROM pg_statio_user_tables s JOIN parts p ON p.oid = s.relid) AS hit,
      (SELECT sum(s.idx_blks_read) FROM pg_statio_user_tables s JOIN parts p ON p.oid = s.relid) AS read
  `.execute(db);
  const row = rows[0];
  const mb = (v: string | null | undefined) => Number(v ?? 0) / 1024 / 1024;
  return {
    rows: Number(row?.rows ?? 0),
    heapMb: mb(row?.heap),
    indexMb: mb(row?.index),
    rollupMb: mb(row?.rollup),
    rollupDeadRows: Number(row?.dead ?? 0),
    indexBlocksHit: Number(row?.hit ?? 0),
    indexBlocksRead: Number(row?.read ?? 0),
  };
}

async function rssMb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return null;
  }
}

/**
 * Runs S2 (closed loop, `connections`) against `url` for `minutes`, in windows of
 * `windowSeconds`; `pid` is the registry's (its process tree's CPU is counted).
 */
export async function soak<DB>(options: {
  url: string;
  pid: number | undefined;
  db: Kysely<DB>;
  minutes: number;
  windowSeconds: number;
  connections?: number;
  request: () => BenchRequest;
  log?: (window: SoakWindow) => void;
}): Promise<SoakResult> {
  const windows: SoakWindow[] = [];
  // The registry's backends: every connection to this database but the watcher's own.
  const backends = async () =>
    (
      await sql<{ pid: number }>`
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`.execute(
        options.db,
      )
    ).rows.map((r) => Number(r.pid));
  const count = Math.max(1, Math.round((options.minutes * 60) / options.windowSeconds));
  let elapsed = 0;
  let last = await auditSize(options.db);
  for (let i = 0; i < count; i++) {
    const cpuBefore = await processTreeCpuSeconds(options.pid);
    const pids = await backends();
    const pgBefore = await processesCpuSeconds(pids);
    const result = await closedLoop(
      options.url,
      options.connections ?? 32,
      options.windowSeconds,
      options.request,
    );
    const cpuAfter = await processTreeCpuSeconds(options.pid);
    const pgAfter = await processesCpuSeconds(pids);
    elapsed += result.seconds;
    const window: SoakWindow = {
      atMinutes: elapsed / 60,
      requests: result.requests,
      rps: result.rps,
      p99: result.p99,
      errors: result.errors,
      cpuUsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined || result.requests === 0
          ? null
          : ((cpuAfter - cpuBefore) * 1e6) / result.requests,
      pgCpuUsPerRequest:
        pgBefore === undefined || pgAfter === undefined || result.requests === 0
          ? null
          : ((pgAfter - pgBefore) * 1e6) / result.requests,
      bytesPerResponse: result.requests === 0 ? 0 : (result.bytes ?? 0) / result.requests,
      rssMb: await rssMb(options.pid),
      auditIndexBlocksPerRequest: null,
      auditIndexReadsPerRequest: null,
      audit: await auditSize(options.db),
    };
    if (result.requests > 0) {
      window.auditIndexBlocksPerRequest =
        (window.audit.indexBlocksHit +
          window.audit.indexBlocksRead -
          last.indexBlocksHit -
          last.indexBlocksRead) /
        result.requests;
      window.auditIndexReadsPerRequest =
        (window.audit.indexBlocksRead - last.indexBlocksRead) / result.requests;
    }
    last = window.audit;
    windows.push(window);
    options.log?.(window);
  }
  const rss = windows.map((w) => w.rssMb ?? 0);
  const tenth = Math.max(1, Math.floor(rss.length / 10));
  const firstMb = Math.max(...rss.slice(0, tenth));
  const lastMb = Math.max(...rss.slice(-tenth));
  return {
    minutes: options.minutes,
    windowSeconds: options.windowSeconds,
    windows,
    firstMb,
    lastMb,
    growthPercent: firstMb > 0 ? ((lastMb - firstMb) / firstMb) * 100 : 0,
  };
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

/** The soak series as a text table, one line per window. */
export function formatSoak(result: SoakResult): string {
  const header = [
    'min',
    'req/s',
    'p99 ms',
    'CPU µs/req',
    'PG µs/req',
    'B/resp',
    'RSS MB',
    'audit rows',
    'heap MB',
    'idx MB',
    'idx blk/req',
    'idx rd/req',
    'rollup MB',
    'rollup dead',
  ];
  const body = result.windows.map((w) => [
    fixed(w.atMinutes, 1),
    fixed(w.rps, 0),
    fixed(w.p99, 1),
    fixed(w.cpuUsPerRequest, 0),
    fixed(w.pgCpuUsPerRequest, 0),
    fixed(w.bytesPerResponse, 0),
    fixed(w.rssMb, 0),
    String(w.audit.rows),
    fixed(w.audit.heapMb, 1),
    fixed(w.audit.indexMb, 1),
    fixed(w.auditIndexBlocksPerRequest, 1),
    fixed(w.auditIndexReadsPerRequest, 2),
    fixed(w.audit.rollupMb, 2),
    String(w.audit.rollupDeadRows),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padStart(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    `soak ${result.minutes} min under S2, windows of ${result.windowSeconds} s: RSS ${result.firstMb.toFixed(0)} MB → ${result.lastMb.toFixed(0)} MB (${result.growthPercent.toFixed(1)} %)`,
    line(header),
    ...body.map(line),
  ].join('\n');
}
