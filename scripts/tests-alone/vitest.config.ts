import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

// The project's vitest configuration plus the assertion counter of scripts/run-tests-alone.ts.
export default mergeConfig(base, {
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: { setupFiles: [fileURLToPath(new URL('./count-assertions.ts', import.meta.url))] },
});
