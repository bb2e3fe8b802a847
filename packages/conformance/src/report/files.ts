/** Writes a report's files: JSON, its JWS (when signed), JUnit XML and HTML. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toHtml } from './html.ts';
import { toJunitXml } from './junit.ts';
import type { ConformanceReport } from './model.ts';

/** The report as the exact JSON text that is signed. */
export function reportJson(report: ConformanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The files written. */
export interface ReportFiles {
  json: string;
  jws?: string | undefined;
  junit: string;
  html: string;
}

/**
 * Writes `<base>.json`, `<base>.json.jws` (with `jws`), `<base>.junit.xml` and `<base>.html`
 * into `dir`; `json` must be {@link reportJson} of the report when a JWS signs it.
 */
export async function writeReportFiles(
  dir: string,
  base: string,
  report: ConformanceReport,
  json: string,
  jws?: string,
): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = {
    json: path.join(dir, `${base}.json`),
    junit: path.join(dir, `${base}.junit.xml`),
    html: path.join(dir, `${base}.html`),
    ...(jws ? { jws: path.join(dir, `${base}.json.jws`) } : {}),
  };
  await writeFile(files.json, json);
  if (jws && files.jws) await writeFile(files.jws, `${jws}\n`);
  await writeFile(files.junit, toJunitXml(report));
  await writeFile(files.html, toHtml(report));
  return files;
}
