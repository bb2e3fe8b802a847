/**
 * Small inline SVG charts for the report and the dashboard: no script, no network, printable.
 * Every value is drawn and also written as text (a title per mark), so a reader, a printer and
 * a test see the same numbers.
 */

/** Escapes text for HTML and SVG. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A whole number with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-GB');
}

const COLOURS = { ok: '#005eb8', failed: '#d5281b', line: '#007f3b', grid: '#d8dde0', text: '#212b32' };

/** One bar of a series chart: a label and stacked values (ok, failed). */
export interface SeriesPoint {
  label: string;
  ok: number;
  failed: number;
}

/** Vertical stacked bars (ok below, failed above), one per point, with a y axis. */
export function stackedBars(
  id: string,
  title: string,
  points: readonly SeriesPoint[],
  width = 720,
  height = 220,
): string {
  const pad = { left: 56, right: 8, top: 24, bottom: 44 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = Math.max(1, ...points.map((p) => p.ok + p.failed));
  const step = innerW / Math.max(1, points.length);
  const barW = Math.max(2, step * 0.7);
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  const labelEvery = Math.ceil(points.length / 16);
  const bars = points
    .map((p, i) => {
      const x = pad.left + i * step + (step - barW) / 2;
      const okTop = y(p.ok);
      const failTop = y(p.ok + p.failed);
      const label =
        i % labelEvery === 0
          ? `<text x="${x + barW / 2}" y="${height - pad.bottom + 14}" font-size="10" text-anchor="middle">${escapeHtml(p.label)}</text>`
          : '';
      return `<g class="bar" data-label="${escapeHtml(p.label)}" data-ok="${p.ok}" data-failed="${p.failed}"><title>${escapeHtml(p.label)}: ${formatCount(p.ok)} ok, ${formatCount(p.failed)} failed</title>
<rect x="${x.toFixed(1)}" y="${okTop.toFixed(1)}" width="${barW.toFixed(1)}" height="${(pad.top + innerH - okTop).toFixed(1)}" fill="${COLOURS.ok}"/>
<rect x="${x.toFixed(1)}" y="${failTop.toFixed(1)}" width="${barW.toFixed(1)}" height="${(okTop - failTop).toFixed(1)}" fill="${COLOURS.failed}"/>${label}</g>`;
    })
    .join('\n');
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(t)}" y2="${y(t)}" stroke="${COLOURS.grid}"/><text x="${pad.left - 6}" y="${y(t) + 4}" font-size="10" text-anchor="end">${formatCount(t)}</text>`,
    )
    .join('');
  return `<svg id="${escapeHtml(id)}" class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="Arial, sans-serif" fill="${COLOURS.text}">
<title>${escapeHtml(title)}</title>${grid}${bars}
<g font-size="11"><rect x="${pad.left}" y="4" width="10" height="10" fill="${COLOURS.ok}"/><text x="${pad.left + 14}" y="13">succeeded</text>
<rect x="${pad.left + 90}" y="4" width="10" height="10" fill="${COLOURS.failed}"/><text x="${pad.left + 104}" y="13">failed</text></g></svg>`;
}

/** Horizontal bars, one per labelled value, the value written at the end of each bar. */
export function horizontalBars(
  id: string,
  title: string,
  items: readonly { label: string; value: number; failed?: number }[],
  width = 720,
): string {
  const rowH = 22;
  const pad = { left: 220, right: 80, top: 8 };
  const height = pad.top * 2 + Math.max(1, items.length) * rowH;
  const innerW = width - pad.left - pad.right;
  const max = Math.max(1, ...items.map((i) => i.value));
  const rows = items
    .map((item, i) => {
      const y = pad.top + i * rowH;
      const w = (item.value / max) * innerW;
      const fw = ((item.failed ?? 0) / max) * innerW;
      return `<g class="hbar" data-label="${escapeHtml(item.label)}" data-value="${item.value}"><title>${escapeHtml(item.label)}: ${formatCount(item.value)}</title>
<text x="${pad.left - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escapeHtml(item.label)}</text>
<rect x="${pad.left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLOURS.ok}"/>${
        fw > 0
          ? `<rect x="${pad.left + w - fw}" y="${y + 3}" width="${fw.toFixed(1)}" height="${rowH - 6}" fill="${COLOURS.failed}"/>`
          : ''
      }
<text x="${(pad.left + w + 6).toFixed(1)}" y="${y + 15}" font-size="12">${formatCount(item.value)}</text></g>`;
    })
    .join('\n');
  const empty =
    items.length === 0 ? `<text x="${pad.left}" y="${pad.top + 15}" font-size="12">none</text>` : '';
  return `<svg id="${escapeHtml(id)}" class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="Arial, sans-serif" fill="${COLOURS.text}">
<title>${escapeHtml(title)}</title>${rows}${empty}</svg>`;
}

/** A line of values over labelled points (e.g. p95 latency by month), dots marked. */
export function lineChart(
  id: string,
  title: string,
  points: readonly { label: string; value: number | undefined }[],
  unit: string,
  width = 720,
  height = 180,
): string {
  const pad = { left: 56, right: 28, top: 12, bottom: 30 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = Math.max(1, ...points.map((p) => p.value ?? 0));
  const step = innerW / Math.max(1, points.length - 1);
  const x = (i: number) => pad.left + i * step;
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  const known = points.map((p, i) => ({ ...p, i })).filter((p) => p.value !== undefined);
  const path = known
    .map((p, n) => `${n === 0 ? 'M' : 'L'}${x(p.i).toFixed(1)},${y(p.value ?? 0).toFixed(1)}`)
    .join(' ');
  const dots = known
    .map(
      (p) =>
        `<circle class="point" data-label="${escapeHtml(p.label)}" data-value="${p.value}" cx="${x(p.i).toFixed(1)}" cy="${y(p.value ?? 0).toFixed(1)}" r="3" fill="${COLOURS.line}"><title>${escapeHtml(p.label)}: ${p.value} ${escapeHtml(unit)}</title></circle>`,
    )
    .join('');
  const labels = points
    .map(
      (p, i) =>
        `<text x="${x(i)}" y="${height - 10}" font-size="10" text-anchor="middle">${escapeHtml(p.label)}</text>`,
    )
    .join('');
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="${COLOURS.grid}"/><text x="${pad.left - 6}" y="${y(max * f) + 4}" font-size="10" text-anchor="end">${Math.round(max * f)} ${escapeHtml(unit)}</text>`,
    )
    .join('');
  return `<svg id="${escapeHtml(id)}" class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="Arial, sans-serif" fill="${COLOURS.text}">
<title>${escapeHtml(title)}</title>${ticks}<path d="${path}" fill="none" stroke="${COLOURS.line}" stroke-width="2"/>${dots}${labels}</svg>`;
}
