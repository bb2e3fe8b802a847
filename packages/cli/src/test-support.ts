/** Test helpers: run `nir` against an injected store and capture what it prints. */
import type { CliDeps } from './context.ts';
import { captureOutput } from './output.ts';
import { runCli } from './program.ts';

/** What one run printed and how it ended. */
export interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Returns a runner of `nir` commands with `deps` (a store, an actor...) injected. */
export function cliRunner(deps: () => CliDeps): (...args: string[]) => Promise<RunResult> {
  return async (...args) => {
    const output = captureOutput();
    const code = await runCli(args, { ...deps(), output });
    return { code, out: output.out, err: output.err };
  };
}
