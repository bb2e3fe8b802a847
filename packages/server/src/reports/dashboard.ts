/**
 * The live operator dashboard `GET /dashboard` (R16, R17), for administrator clients (the admin
 * guard, audited like every admin call): this instance's last hour, minute by minute, from its
 * metrics, and today and yesterday for the whole registry from the rollup. Server-rendered
 * HTML and SVG, refreshing itself every 30 seconds (`<meta http-equiv="refresh">`, no script).
 */
import { emptySketch, mergeSketch, sketchQuantile } from '@nir/core';
import type { AuditRollupStore, PoolStats } from '@nir/store';
import { Router } from 'express';
import type { Readiness } from '../lifecycle/readiness.ts';
import type { RegistryMetrics } from '../metrics/registry-metrics.ts';
import { serviceReview } from './kpis.ts';
import { PAGE_STYLE } from './review-html.ts';
import { escapeHtml, formatCount, horizontalBars, stackedBars } from './svg.ts';

/** What the dashboard reads. */
export interface DashboardDeps {
  rollups: AuditRollupStore;
  metrics: RegistryMetrics;
  readiness: Readiness;
  poolStats: () => PoolStats | undefined;
  /** Seconds between refreshes (default 30). */
  refreshSeconds?: number;
}

function ms(value: number | undefined): string {
  return value === undefined ? '–' : `${value < 10 ? value.toFixed(1) : formatCount(value)} ms`;
}

function kpi(id: string, label: string, value: string): string {
  return `<div class="kpi"><div class="value" data-kpi="${id}">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

/** Renders the dashboard at `now`. */
export async function renderDashboard(deps: DashboardDeps, now: Date = new Date()): Promise<string> {
  const today = now.toISOString().slice(0, 10);
  const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  const tomorrow = new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);
  const [rows, access] = await Promise.all([
    deps.rollups.rows({ from: yesterday, to: tomorrow }),
    deps.rollups.access({ from: yesterday, to: tomorrow }),
  ]);
  const day = (d: string) =>
    serviceReview(
      d.slice(0, 7),
      undefined,
      rows.filter((r) => r.day === d),
      access.filter((a) => a.day === d),
    );
  const todayReview = day(today);
  const yesterdayReview = day(yesterday);
  const hour = deps.metrics.recent.lastHour();
  const hourSketch = hour.reduce((into, m) => mergeSketch(into, m.latency), emptySketch());
  const hourRequests = hour.reduce((n, m) => n + m.requests, 0);
  const hourFailed = hour.reduce((n, m) => n + m.failed, 0);
  const pool = deps.poolStats();
  const ready = (await deps.readiness.check()).ready;
  const refresh = deps.refreshSeconds ?? 30;
  const b = deps.metrics.batches;
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refresh}">
<title>Operations dashboard — National Imaging Registry</title><style>${PAGE_STYLE}
.status-ok { color: #007f3b; } .status-bad { color: #d5281b; }</style></head>
<body>
<h1>Operations dashboard</h1>
<p class="meta">Rendered ${escapeHtml(now.toISOString().slice(0, 19).replace('T', ' '))} UTC · refreshes every ${refresh} s ·
this instance is <strong data-kpi="ready" class="${ready ? 'status-ok' : 'status-bad'}">${ready ? 'ready' : deps.readiness.draining ? 'draining' : 'not ready'}</strong>
· database pool ${pool ? `<span data-kpi="pool">${pool.total - pool.idle}/${pool.total} in use, ${pool.waiting} waiting</span>` : '<span data-kpi="pool">embedded</span>'}
· audit batches ${formatCount(b.written)} written, <span data-kpi="batches-failed">${formatCount(b.failed)}</span> failed</p>
<section id="hour"><h2>The last hour (this instance, per minute)</h2>
<div class="kpis">
${kpi('hour-requests', 'requests', formatCount(hourRequests))}
${kpi('hour-failed', 'failed', formatCount(hourFailed))}
${kpi('hour-error-rate', 'error rate', hourRequests === 0 ? '–' : `${((100 * hourFailed) / hourRequests).toFixed(1)}%`)}
${kpi('hour-p95', '95th percentile latency', ms(sketchQuantile(hourSketch, 0.95)))}
</div>
${stackedBars(
  'chart-hour',
  'Requests per minute, last hour',
  hour.map((m) => ({ label: m.at.slice(11, 16), ok: m.requests - m.failed, failed: m.failed })),
  720,
  200,
)}
</section>
<section id="today"><h2>Today and yesterday (all instances, from the rollup)</h2>
<table id="table-days"><thead><tr><th class="text">day</th><th>requests</th><th>failed</th><th>error rate</th><th>p50</th><th>p95</th><th>p99</th><th>pointers published</th><th>searches</th></tr></thead><tbody>
${[
  [today, todayReview],
  [yesterday, yesterdayReview],
]
  .map(([d, r]) => {
    const review = r as ReturnType<typeof day>;
    return `<tr data-day="${d}"><td class="text">${d}</td><td data-col="events">${formatCount(review.totals.events)}</td><td data-col="failed">${formatCount(review.totals.failed)}</td><td>${(100 * review.totals.errorRate).toFixed(2)}%</td><td>${ms(review.totals.latency.p50)}</td><td>${ms(review.totals.latency.p95)}</td><td>${ms(review.totals.latency.p99)}</td><td>${formatCount(review.pointers.created)}</td><td>${formatCount(review.searches.total)}</td></tr>`;
  })
  .join('\n')}
</tbody></table>
<h2>Today by interaction</h2>
${horizontalBars(
  'chart-today-interactions',
  'Requests today by interaction',
  todayReview.byInteraction.map((g) => ({
    label: `${g.base} ${g.interaction}`,
    value: g.events,
    failed: g.failed,
  })),
)}
<h2>Today by organisation</h2>
${horizontalBars(
  'chart-today-organisations',
  'Requests today by requesting organisation',
  todayReview.byOrganisation.map((o) => ({
    label: o.ods === '-' ? 'unverified' : o.ods,
    value: o.events,
    failed: o.failed,
  })),
)}
<h2>Today's errors by code</h2>
${horizontalBars(
  'chart-today-errors',
  'Failed requests today by error code',
  todayReview.errorsByCode.map((e) => ({ label: e.code, value: e.events, failed: e.events })),
)}
</section>
<p class="meta">Counts from the rollup are AuditEvents (one per patient involved). The metrics are at the metrics listener (NIR_METRICS_PORT), for Prometheus.</p>
</body></html>
`;
}

/** The dashboard's router (mounted behind the admin guard). */
export function dashboardRouter(deps: DashboardDeps): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(200)
      .type('text/html; charset=utf-8')
      .send(await renderDashboard(deps));
  });
  return router;
}
