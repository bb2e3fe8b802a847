import { defineConfig } from 'vitest/config';

// Issue 19: the Citus run (`pnpm test:citus`, scripts/ci/test-citus.sh). With TEST_DATABASE_URL
// at a Citus coordinator, every PostgreSQL test database is a Citus database
// (packages/store/src/test-databases.ts): the Citus-only tests of test/citus, the store's tests
// and the whole end-to-end suite run on it.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['test/citus/**/*.test.ts', 'packages/store/src/**/*.test.ts', 'test/**/*.e2e.test.ts'],
    // PostgreSQL's plan shapes (plain partitions, no Citus custom scan); on Citus the plans are
    // checked by test/citus/hot-query-plans.citus.test.ts instead.
    exclude: ['packages/store/src/hot-query-plans.test.ts', '**/node_modules/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
