import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

// The vitest configuration Stryker runs (stryker.config.mjs): only the test files of the target
// being mutated (NIR_MUTATION_TESTS, comma-separated). Chosen here rather than with Stryker's
// `testFiles`, which activates static mutants (module-level values) too late, so that they all
// "survive" (stryker-js issue 6144).
const files = (process.env.NIR_MUTATION_TESTS ?? '').split(',').filter(Boolean);
if (files.length === 0) throw new Error('NIR_MUTATION_TESTS names no test file');

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: { ...base.test, include: files, reporters: ['default'] },
});
