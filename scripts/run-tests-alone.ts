/**
 * `pnpm test:alone <test file...>`: runs every test of the given files on its own
 * (`vitest run <file> -t "<full name>"`) and reports each test that, alone, fails, does not run,
 * checks nothing (no `expect` call) or checks less than it does in the run of its whole file:
 * the marks of a test that leans on an earlier test's state (issue 14). Exits 1 when a test
 * fails, does not run or checks nothing alone; "checks less" is reported for a reader to judge
 * (a property test's random inputs, or a loop over what an earlier test made). Slow: one vitest
 * start per test; not part of `pnpm test`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const CONFIG = path.join(ROOT, 'scripts/tests-alone/vitest.config.ts');

interface Logged {
  file: string;
  name: string;
  assertions: number;
}

function vitest(args: string[], log?: string) {
  return spawnSync(process.execPath, [VITEST, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...(log ? { NIR_ASSERTION_LOG: log } : {}) },
  });
}

function readLog(log: string): Logged[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Logged);
}

/** The full names ("suite > test") of a file's tests, as `vitest list` gives them. */
function testNames(file: string): string[] {
  const listed = vitest(['list', file, '--json']);
  const start = listed.stdout.indexOf('[');
  if (listed.status !== 0 || start < 0) throw new Error(`vitest list ${file} failed:\n${listed.stderr}`);
  return (JSON.parse(listed.stdout.slice(start)) as { name: string }[]).map((t) => t.name);
}

/** A `-t` pattern for exactly one full name (vitest joins the names with spaces). */
function namePattern(name: string): string {
  return `${name.replaceAll(' > ', ' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: pnpm test:alone <test file...>');
  process.exit(2);
}
const work = mkdtempSync(path.join(tmpdir(), 'nir-tests-alone-'));
let bad = 0;
let total = 0;
const started = performance.now();
try {
  for (const file of files) {
    const names = testNames(file);
    const fileLog = path.join(work, 'file.jsonl');
    vitest(['run', '--config', CONFIG, file], fileLog);
    const inFile = new Map(readLog(fileLog).map((l) => [l.name, l.assertions]));
    console.log(`${file}: ${names.length} tests`);
    for (const [i, name] of names.entries()) {
      total++;
      const log = path.join(work, `alone-${i}.jsonl`);
      const run = vitest(['run', '--config', CONFIG, file, '-t', namePattern(name)], log);
      const ran = readLog(log).filter((l) => l.name === name);
      const assertions = ran[0]?.assertions ?? 0;
      const together = inFile.get(name);
      let verdict = 'ok';
      if (ran.length !== 1) verdict = 'DID NOT RUN';
      else if (run.status !== 0) verdict = 'FAILS ALONE';
      else if (assertions === 0) verdict = 'CHECKS NOTHING';
      else if (together !== undefined && assertions < together) verdict = 'checks less';
      if (verdict !== 'ok' && verdict !== 'checks less') bad++;
      console.log(
        `  ${verdict.padEnd(14)} ${assertions} assertions alone, ${together ?? '?'} in the file: ${name}`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const seconds = ((performance.now() - started) / 1000).toFixed(0);
console.log(`${total} tests run alone in ${seconds} s; ${bad} fail, do not run or check nothing alone`);
process.exit(bad > 0 ? 1 : 0);
