import { defineConfig } from 'vitest/config';

// `pnpm test:faults` (issue 19): the fault tests over a whole replicated topology, one file at a
// time (each brings up its own PostgreSQL clusters, instances and HAProxy on free ports).
export default defineConfig({
  test: {
    include: ['test/topology/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
