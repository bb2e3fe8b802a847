/** The report as JUnit XML, for a supplier's CI: one test suite, one test case per check. */
import type { ConformanceReport } from './model.ts';

/** Escapes text for XML content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** Renders `report` as JUnit XML. */
export function toJunitXml(report: ConformanceReport): string {
  const suite = `nir-conformance.${report.kind}.${report.plan.name}`;
  const cases = report.checks.map((check) => {
    const evidence = check.evidence
      .map((e) => `${e.recorded} ${e.requestId ?? '(no request id)'} [${e.eventIds.join(', ')}] ${e.note}`)
      .join('\n');
    const body =
      check.status === 'fail'
        ? `\n    <failure message="${escapeXml(check.summary)}" type="${escapeXml(check.id)}">${escapeXml(
            `Criterion: ${check.criterion}\nHint: ${check.hint}\nEvidence:\n${evidence}`,
          )}</failure>\n    <system-out>${escapeXml(evidence)}</system-out>\n  `
        : `\n    <system-out>${escapeXml(`${check.summary}\n${evidence}`)}</system-out>\n  `;
    return `  <testcase classname="${escapeXml(suite)}" name="${escapeXml(`${check.id}: ${check.title}`)}">${body}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${escapeXml(suite)}" tests="${report.summary.checks}" failures="${report.summary.failed}" errors="0" skipped="0" timestamp="${escapeXml(report.generatedAt)}">`,
    '  <properties>',
    `    <property name="registry.version" value="${escapeXml(report.registry.version)}"/>`,
    `    <property name="plan.version" value="${escapeXml(report.plan.version)}"/>`,
    `    <property name="client" value="${escapeXml(report.client.id)}"/>`,
    ...report.registry.profiles.map(
      (p) => `    <property name="profile.${escapeXml(p.id)}" value="${escapeXml(p.version)}"/>`,
    ),
    '  </properties>',
    ...cases,
    '</testsuite>',
    '',
  ].join('\n');
}
