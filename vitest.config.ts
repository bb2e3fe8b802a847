import { defineConfig } from 'vitest/config';

// CI asks for a JSON report too, to print a plain "N passed, N failed" closing line.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    // The topology's fault tests run apart (`pnpm test:faults`): they bring up clusters of their own;
    // the Citus tests run in `pnpm test:citus` (vitest.citus.config.ts) against the Citus topology.
    exclude: ['**/node_modules/**', 'test/topology/**', 'test/citus/**'],
    // Each end-to-end file opens its own databases; two workers suit a 2-core machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
