/**
 * The report as one self-contained HTML page (no script, no network: inline CSS only), with a
 * summary, each check with its criterion, what was found, the evidence and the hint.
 */
import type { CheckResult } from '../checks/types.ts';
import type { ConformanceReport } from './model.ts';

/** Escapes text for HTML content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": '#39' }[c]};`,
  );
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem;margin:0 0 .25rem}
.meta{color:#555;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #ccd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f2f6}
.result{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:700;color:#fff}
.pass{background:#1e7a3c}.fail{background:#b3261e}
.check{border:1px solid #ccd;border-left-width:.4rem;border-radius:.3rem;padding:.5rem .8rem;margin:.6rem 0}
.check.pass{border-left-color:#1e7a3c;background:#fff}.check.fail{border-left-color:#b3261e;background:#fff7f6}
.check h3{margin:.1rem 0 .3rem;font-size:1.05rem}
.label{font-weight:600}
code{font-size:.85em;word-break:break-all}
.fail-link{color:#b3261e;font-weight:700}.pass-link{color:#1e7a3c}
`;

function checkSection(check: CheckResult): string {
  const rows = check.evidence
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.recorded)}</td><td><code>${escapeHtml(e.requestId ?? '—')}</code></td><td>${e.eventIds
          .map((id) => `<code>${escapeHtml(id)}</code>`)
          .join('<br>')}</td><td>${escapeHtml(e.note)}</td></tr>`,
    )
    .join('');
  const evidence = rows
    ? `<table class="evidence"><thead><tr><th>Time</th><th>Request id</th><th>AuditEvent / version</th><th>What</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p>No requests to show.</p>';
  return `<section class="check ${check.status}" id="${escapeHtml(check.id)}" data-status="${check.status}">
<h3><span class="result ${check.status}">${check.status.toUpperCase()}</span> ${escapeHtml(check.id)} — ${escapeHtml(check.title)}</h3>
<p><span class="label">Criterion:</span> ${escapeHtml(check.criterion)} <span class="label">(${escapeHtml(check.requirement)})</span></p>
<p><span class="label">Found:</span> ${escapeHtml(check.summary)}</p>
${check.status === 'fail' ? `<p class="hint"><span class="label">Hint:</span> ${escapeHtml(check.hint)}</p>` : ''}
${evidence}
</section>`;
}

function stepsSection(report: ConformanceReport): string {
  if (!report.steps?.length) return '';
  const status = new Map(report.checks.map((c) => [c.id, c.status]));
  const rows = report.steps
    .map(
      (step) =>
        `<tr><td>${escapeHtml(step.id)}</td><td>${escapeHtml(step.do)}</td><td>${step.checks
          .map(
            (id) => `<a href="#${escapeHtml(id)}" class="${status.get(id) ?? ''}-link">${escapeHtml(id)}</a>`,
          )
          .join('<br>')}</td></tr>`,
    )
    .join('');
  return `<h2>Plan steps</h2><table class="steps"><thead><tr><th>Step</th><th>What the system does</th><th>Judged by</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Renders `report` as a self-contained HTML page. */
export function toHtml(report: ConformanceReport): string {
  const { summary } = report;
  const profiles = report.registry.profiles
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.resourceType)}</td><td>${escapeHtml(p.id)}</td><td>${escapeHtml(p.version)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>NIR conformance report — ${escapeHtml(report.client.id)} — ${escapeHtml(report.plan.name)}</title>
<style>${STYLE}</style></head>
<body>
<h1>NIR conformance report: ${escapeHtml(report.plan.title)}</h1>
<p class="meta">Client <strong>${escapeHtml(report.client.id)}</strong>${report.client.ods ? ` for ${escapeHtml(report.client.ods)}` : ''} · ${report.kind === 'verify' ? 'observed by the registry' : 'the kit as the client'} · ${escapeHtml(report.period.since)} to ${escapeHtml(report.period.until)}</p>
<p id="result"><span class="result ${summary.result}">${summary.result.toUpperCase()}</span> ${summary.passed} of ${summary.checks} checks passed, ${summary.failed} failed</p>
<table class="facts"><tbody>
<tr><th>Registry</th><td>${escapeHtml(report.registry.url ?? '(database)')} version ${escapeHtml(report.registry.version)}${report.registry.sandbox ? ' (sandbox)' : ''}</td></tr>
<tr><th>Plan</th><td>${escapeHtml(report.plan.name)} version ${escapeHtml(report.plan.version)}</td></tr>
<tr><th>Kit</th><td>${escapeHtml(report.kit.name)} ${escapeHtml(report.kit.version)}</td></tr>
<tr><th>Generated</th><td>${escapeHtml(report.generatedAt)}</td></tr>
</tbody></table>
<details><summary>Profile versions (${report.registry.profiles.length})</summary>
<table><thead><tr><th>Resource</th><th>Id</th><th>Version</th></tr></thead><tbody>${profiles}</tbody></table></details>
${stepsSection(report)}
<h2>Checks</h2>
${report.checks.map(checkSection).join('\n')}
<p class="meta">The JSON of this report is signed by the registry (a JWS, file <code>*.json.jws</code>): verify it with <code>pnpm nir conformance verify-report</code>.</p>
</body></html>
`;
}
