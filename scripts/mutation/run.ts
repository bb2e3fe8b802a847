/**
 * `pnpm test:mutation [target...]`: runs Stryker over each rule that protects data
 * (scripts/mutation/targets.ts), one target at a time with concurrency 1, and prints each
 * file's mutation score (killed + timed out, over all mutants that a test covers or not) and how
 * long it took. Exits 1 when a target cannot run or scores below the 90 % the issue asks for.
 * Not part of `pnpm test`: see docs/MUTATION.md for the time it takes and the equivalent
 * survivors.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MUTATION_TARGETS, type MutationTarget } from './targets.ts';

const THRESHOLD = 90;
const STRYKER = fileURLToPath(
  new URL('../../node_modules/@stryker-mutator/core/bin/stryker.js', import.meta.url),
);

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}

/** The counts and score of one report, as Stryker computes its "total" score. */
export function scoreOf(report: Report) {
  const mutants = Object.values(report.files).flatMap((f) => f.mutants);
  const count = (status: string) => mutants.filter((m) => m.status === status).length;
  const killed = count('Killed') + count('Timeout');
  const invalid = count('CompileError') + count('RuntimeError') + count('Ignored');
  const valid = mutants.length - invalid;
  return {
    killed,
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    valid,
    score: valid === 0 ? 100 : (100 * killed) / valid,
    survivors: mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage'),
  };
}

function runTarget(target: MutationTarget) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [STRYKER, 'run', 'stryker.config.mjs'], {
    env: { ...process.env, NIR_MUTATION_TARGET: target.name },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) return { target, seconds, error: `stryker exited with ${result.status}` };
  const report = JSON.parse(readFileSync(`test-results/mutation/${target.name}.json`, 'utf8')) as Report;
  return { target, seconds, ...scoreOf(report) };
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !MUTATION_TARGETS.some((t) => t.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown target(s): ${unknown.join(', ')}; known: ${MUTATION_TARGETS.map((t) => t.name).join(', ')}`,
  );
  process.exit(2);
}
const targets =
  wanted.length > 0 ? MUTATION_TARGETS.filter((t) => wanted.includes(t.name)) : MUTATION_TARGETS;
const results = targets.map(runTarget);

console.log('\nMutation score per file (killed + timed out / mutants):');
let failed = false;
for (const r of results) {
  if ('error' in r) {
    failed = true;
    console.log(`  ${r.target.mutate}: ERROR ${r.error} (${r.seconds.toFixed(0)} s)`);
    continue;
  }
  if (r.score < THRESHOLD) failed = true;
  console.log(
    `  ${r.target.mutate}: ${r.score.toFixed(1)} % (${r.killed}/${r.valid} killed, ${r.survived} survived, ${r.noCoverage} not covered) in ${r.seconds.toFixed(0)} s`,
  );
  for (const m of r.survivors)
    console.log(
      `      ${m.status} #${m.id} line ${m.location.start.line}: ${m.mutatorName} -> ${m.replacement ?? ''}`,
    );
}
const total = results.reduce((s, r) => s + r.seconds, 0);
console.log(`Total time: ${total.toFixed(0)} s`);
process.exit(failed ? 1 : 0);
