/** The bench's table: one row per scenario, each HTTP figure also as a percentage of S0. */
import { formatSoak, type SoakResult } from './soak.ts';

/** One scenario's figures. */
export interface Row {
  id: string;
  name: string;
  rps: number;
  p50: number | null;
  p99: number | null;
  errors: number;
  /** Largest server RSS seen during the scenario. */
  rssMb: number | null;
  /** Server CPU (user + system, the process and its workers) per request during the scenario, in µs. */
  cpuUsPerRequest?: number | null;
  /** S0's transactions per second in the same run (HTTP rows only). */
  s0?: number;
  unit?: string;
}

/** What a run reports. */
export interface Report {
  size: string;
  seconds: number;
  dataset: { pointers: number; patients: number };
  rows: Row[];
  /** Search throughput lost to the durable audit (S2 vs S5-off); absent in a soak-only run. */
  s5AuditCostPercent?: number | undefined;
  /** Throughput lost to the rate limiter on the consumer search (S2-limit vs S2-nolimit), when measured. */
  s2LimiterCostPercent?: number | undefined;
  /** R17: search throughput lost to the service-review rollup (rollup on vs off, back to back). */
  s5RollupCostPercent?: number | undefined;
  /** The soak's series (per window: req/s, p99, CPU per search, RSS, audit size). */
  soak?: SoakResult | undefined;
  /** After the soak: a restarted registry's first minute, in windows of 10 s. */
  restart?: SoakResult | undefined;
  /** What one search touches on the patient-grouped and the aged data (`--aged`). */
  footprint?: { grouped: Footprint; aged: Footprint } | undefined;
}

/** What one search touched, averaged over sampled patients. */
export interface Footprint {
  samples: number;
  rowsPerSearch: number;
  buffersPerSearch: number;
  heapPagesPerPatient: number;
  heapFetchesPerSearch: number;
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

/** The report as a text table. */
export function formatTable(report: Report): string {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS MB',
    'CPU µs/req',
    '% of S0',
    'what',
  ];
  const body = report.rows.map((row) => [
    row.id,
    `${fixed(row.rps, 0)}${row.unit ? ` ${row.unit}` : ''}`,
    fixed(row.p50, 2),
    fixed(row.p99, 2),
    String(row.errors),
    fixed(row.rssMb, 0),
    fixed(row.cpuUsPerRequest, 0),
    row.s0 ? `${((row.rps / row.s0) * 100).toFixed(1)} %` : '',
    row.name,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [
    `NIR bench, ${report.size}: ${report.dataset.pointers.toLocaleString('en-GB')} pointers, ${report.dataset.patients.toLocaleString('en-GB')} patients, ${report.seconds} s per scenario`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ];
  if (report.s5AuditCostPercent !== undefined) {
    out.push(
      `S5 cost of durable audit: ${report.s5AuditCostPercent.toFixed(1)} % of search throughput (S2 vs S5-off)`,
    );
  }
  if (report.s2LimiterCostPercent !== undefined) {
    out.push(
      `rate limiter cost: ${report.s2LimiterCostPercent.toFixed(1)} % of search throughput (S2-limit vs S2-nolimit, two fresh registries back to back)`,
    );
  }
  if (report.s5RollupCostPercent !== undefined) {
    out.push(
      `S5 cost of the service-review rollup: ${report.s5RollupCostPercent.toFixed(1)} % of search throughput (mean of S5-rollup-on and -on2 vs S5-rollup-off, run on-off-on)`,
    );
  }
  if (report.footprint) {
    for (const [layout, f] of Object.entries(report.footprint)) {
      out.push(
        `search footprint, ${layout} data (EXPLAIN ANALYZE BUFFERS, ${f.samples} patients): ${f.rowsPerSearch.toFixed(1)} rows, ${f.buffersPerSearch.toFixed(1)} buffers, ${f.heapFetchesPerSearch.toFixed(1)} index-only heap fetches per search; the patient's rows on ${f.heapPagesPerPatient.toFixed(1)} heap pages`,
      );
    }
  }
  if (report.soak) {
    out.push(formatSoak(report.soak));
  }
  if (report.restart) {
    out.push(`after a restart: ${formatSoak(report.restart)}`);
  }
  return out.join('\n');
}
