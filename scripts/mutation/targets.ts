/**
 * What `pnpm test:mutation` mutates (issue 14): the rules that protect data, each with the test
 * files that are meant to guard it. Stryker runs one target at a time, with only those tests, so
 * a survivor says which rule its own tests leave unguarded.
 */
export interface MutationTarget {
  /** A short name for the command line and the report. */
  name: string;
  /** The file to mutate, optionally with a line range (`file.ts:10-20`). */
  mutate: string;
  /** The test files run against each mutant. */
  testFiles: string[];
}

export const MUTATION_TARGETS: readonly MutationTarget[] = [
  {
    name: 'access-policy',
    mutate: 'packages/core/src/access-policy.ts',
    testFiles: ['packages/core/src/access-policy.test.ts'],
  },
  {
    name: 'purpose-of-use',
    mutate: 'packages/core/src/purpose-of-use.ts',
    testFiles: ['packages/core/src/purpose-of-use.test.ts', 'packages/core/src/access-policy.test.ts'],
  },
  {
    name: 'type-access',
    mutate: 'packages/core/src/search/type-access.ts',
    testFiles: ['packages/core/src/search/type-access.test.ts'],
  },
  {
    name: 'nhs-number',
    mutate: 'packages/core/src/nhs-number.ts',
    testFiles: ['packages/core/src/nhs-number.test.ts'],
  },
  {
    name: 'producer-rules',
    mutate: 'packages/core/src/pointer/producer-rules.ts',
    testFiles: ['packages/core/src/pointer/producer-rules.test.ts'],
  },
  {
    // The grant rendered as SQL and the two conditions every search has.
    name: 'grant-sql',
    mutate: 'packages/store/src/search-sql.ts:59-64',
    testFiles: ['packages/store/src/pointer-search.test.ts'],
  },
  {
    name: 'audit-middleware',
    mutate: 'packages/server/src/audit/middleware.ts',
    testFiles: ['packages/server/src/audit/middleware.test.ts'],
  },
];
