/**
 * The monthly service review as one self-contained HTML page (R17): inline CSS and SVG, no
 * script, no network, readable on screen and printed (A4). Each figure carries `data-kpi` so
 * what a reader sees can be checked against the data.
 */
import type { Percentiles, ServiceReview } from './kpis.ts';
import { escapeHtml, formatCount, horizontalBars, lineChart, stackedBars } from './svg.ts';

/** The page's shared style (also used by the dashboard). */
export const PAGE_STYLE = `
body { font-family: Arial, Helvetica, sans-serif; color: #212b32; margin: 24px auto; max-width: 760px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 24px 0 8px; border-bottom: 2px solid #005eb8; }
.meta { color: #4c6272; font-size: 13px; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 16px 0; }
.kpi { border: 1px solid #d8dde0; border-left: 4px solid #005eb8; padding: 8px; }
.kpi .value { font-size: 22px; font-weight: bold; } .kpi .label { font-size: 12px; color: #4c6272; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border-bottom: 1px solid #d8dde0; padding: 4px 6px; text-align: right; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
section { break-inside: avoid; page-break-inside: avoid; }
svg.chart { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; } @page { size: A4; margin: 14mm; } h2 { break-after: avoid; } }
`;

function ms(value: number | undefined): string {
  if (value === undefined) return '–';
  return value < 10 ? `${value.toFixed(1)} ms` : `${formatCount(value)} ms`;
}

function kpi(id: string, label: string, value: string): string {
  return `<div class="kpi"><div class="value" data-kpi="${id}">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

function latencyCells(p: Percentiles): string {
  return `<td>${ms(p.p50)}</td><td>${ms(p.p95)}</td><td>${ms(p.p99)}</td>`;
}

/** The review of one month (an organisation's, or the whole registry's) as an HTML document. */
export function renderServiceReview(review: ServiceReview, generatedAt: Date = new Date()): string {
  const who = review.ods ? `organisation ${review.ods}` : 'the whole registry';
  const t = review.totals;
  const interactionRows = review.byInteraction
    .map(
      (g) =>
        `<tr data-row="${escapeHtml(`${g.base} ${g.interaction}`)}"><td class="text">${escapeHtml(g.base)}</td><td class="text">${escapeHtml(g.interaction)}</td><td data-col="events">${formatCount(g.events)}</td><td data-col="failed">${formatCount(g.failed)}</td>${latencyCells(g.latency)}</tr>`,
    )
    .join('\n');
  const orgRows = review.byOrganisation
    .map(
      (o) =>
        `<tr data-org="${escapeHtml(o.ods)}"><td class="text">${escapeHtml(o.ods === '-' ? 'unverified' : o.ods)}</td><td data-col="events">${formatCount(o.events)}</td><td data-col="failed">${formatCount(o.failed)}</td><td>${o.events === 0 ? '–' : `${((100 * o.failed) / o.events).toFixed(1)}%`}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Service review ${escapeHtml(review.month)} — ${escapeHtml(who)} — National Imaging Registry</title>
<style>${PAGE_STYLE}</style></head>
<body>
<header>
<h1>Monthly service review: ${escapeHtml(review.month)}</h1>
<p class="meta">National Imaging Registry · ${escapeHtml(who)} · generated ${escapeHtml(generatedAt.toISOString().slice(0, 16).replace('T', ' '))} UTC from the audit rollup (R17).
All times UTC; latencies are from request arrival to audit commit, read from log-scale buckets (within a factor √2).</p>
</header>
<section id="summary"><div class="kpis">
${kpi('requests', 'requests', formatCount(t.events))}
${kpi('failed', 'failed requests', formatCount(t.failed))}
${kpi('error-rate', 'error rate', `${(100 * t.errorRate).toFixed(2)}%`)}
${kpi('p95', '95th percentile latency', ms(t.latency.p95))}
${kpi('pointers-created', 'pointers published', formatCount(review.pointers.created))}
${kpi('pointers-updated', 'pointers amended', formatCount(review.pointers.updated))}
${kpi('pointers-deleted', 'pointers deleted', formatCount(review.pointers.deleted))}
${kpi('transactions', 'ITI-65 transactions', formatCount(review.pointers.transactions))}
${kpi('searches-found', 'searches that found pointers', formatCount(review.searches.found))}
${kpi('searches-empty', 'searches that found nothing', formatCount(review.searches.empty))}
${kpi('subject-access', 'subject access requests served', formatCount(review.subjectAccessRequests))}
${kpi('tokens-issued', 'access tokens issued', formatCount(review.tokens.issued))}
</div></section>
<section id="daily"><h2>Requests per day</h2>
${stackedBars(
  'chart-daily',
  `Requests per day, ${review.month}`,
  review.daily.map((d) => ({ label: d.day.slice(8), ok: d.events - d.failed, failed: d.failed })),
)}
</section>
<section id="interactions"><h2>Requests by interaction, with latency</h2>
${horizontalBars(
  'chart-interactions',
  'Requests by interaction',
  review.byInteraction.map((g) => ({
    label: `${g.base} ${g.interaction}`,
    value: g.events,
    failed: g.failed,
  })),
)}
<table id="table-interactions"><thead><tr><th class="text">endpoint</th><th class="text">interaction</th><th>requests</th><th>failed</th><th>p50</th><th>p95</th><th>p99</th></tr></thead>
<tbody>${interactionRows}</tbody></table>
</section>
<section id="errors"><h2>Errors by registry code</h2>
${horizontalBars(
  'chart-errors',
  'Failed requests by error code',
  review.errorsByCode.map((e) => ({ label: e.code, value: e.events, failed: e.events })),
)}
</section>
<section id="access"><h2>${review.ods ? `Who accessed ${escapeHtml(review.ods)}'s pointers` : 'Accesses to pointers'}, by organisation</h2>
${horizontalBars(
  'chart-access',
  'Successful accesses to pointers by accessing organisation',
  review.accessedBy.map((a) => ({ label: a.ods === '-' ? 'unverified' : a.ods, value: a.events })),
)}
</section>
<section id="organisations"><h2>Requests by requesting organisation</h2>
<table id="table-organisations"><thead><tr><th class="text">organisation</th><th>requests</th><th>failed</th><th>error rate</th></tr></thead><tbody>${orgRows}</tbody></table>
</section>
<section id="trend"><h2>Trend: the last twelve months</h2>
${stackedBars(
  'chart-trend',
  'Requests per month',
  review.trend.map((m) => ({ label: m.month, ok: m.events - m.failed, failed: m.failed })),
  720,
  200,
)}
${lineChart(
  'chart-trend-p95',
  '95th percentile latency per month',
  review.trend.map((m) => ({
    label: m.month.slice(2),
    value: m.p95 === undefined ? undefined : Math.round(m.p95),
  })),
  'ms',
)}
</section>
<footer class="meta"><p>Counts are AuditEvents (one per patient involved; R7–R10). Accesses count successful events naming a pointer custodian. Tokens refused: ${formatCount(review.tokens.refused)}.</p></footer>
</body></html>
`;
}
