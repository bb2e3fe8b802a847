// Stryker's configuration for one mutation target (scripts/mutation/targets.ts). Run it through
// `pnpm test:mutation [name...]`, which sets NIR_MUTATION_TARGET and runs the targets one at a
// time: one process, one file, only that file's own tests, so a run takes minutes on a shared
// 2-core machine.
import { MUTATION_TARGETS } from './scripts/mutation/targets.ts';

const target = MUTATION_TARGETS.find((t) => t.name === process.env.NIR_MUTATION_TARGET);
if (!target) throw new Error(`NIR_MUTATION_TARGET must name one of: ${MUTATION_TARGETS.map((t) => t.name).join(', ')}`);

// Only the target's own test files run (scripts/mutation/vitest.config.ts reads this).
process.env.NIR_MUTATION_TESTS = target.testFiles.join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'scripts/mutation/vitest.config.ts', related: false, pool: 'forks' },
  mutate: [target.mutate],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 5_000,
  reporters: ['json', 'clear-text', 'progress-append-only'],
  jsonReporter: { fileName: `test-results/mutation/${target.name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: `.stryker-tmp/${target.name}`,
  cleanTempDir: true,
  thresholds: { high: 90, low: 80, break: null },
};
