/**
 * A vitest setup file of `scripts/run-tests-alone.ts`: after each test, appends its full name,
 * state and number of assertions (`expect` calls) to the JSON-lines file NIR_ASSERTION_LOG, so
 * that a test that passes without checking anything is seen.
 */
import { appendFileSync } from 'node:fs';
import { afterEach, expect } from 'vitest';

const log = process.env.NIR_ASSERTION_LOG;

interface Named {
  name: string;
  suite?: Named;
  file?: unknown;
}

/** "describe > describe > test", without the file. */
function fullName(task: Named): string {
  const names: string[] = [];
  for (let t: Named | undefined = task; t; t = t.suite) if (t !== t.file) names.unshift(t.name);
  return names.join(' > ');
}

afterEach((context) => {
  if (!log) return;
  const task = context.task as unknown as Named & { file?: { filepath?: string } };
  appendFileSync(
    log,
    `${JSON.stringify({
      file: task.file?.filepath,
      name: fullName(task),
      assertions: expect.getState().assertionCalls,
    })}\n`,
  );
});
