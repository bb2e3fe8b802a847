/**
 * How failures reach the user: a message on stderr and an exit code, never a stack trace
 * (unless NIR_DEBUG is set).
 *
 * Exit codes: 0 success; 1 failure (refused token, unreachable registry, database trouble,
 * bad command line); 2 the catalogue refused the input (an OperationOutcomeError from @nir/core).
 */
import { isOperationOutcomeError } from '@nir/core';
import { CommanderError } from 'commander';
import { eprintln, type Output } from './output.ts';

/** A failure with a message meant for the user and the exit code to end with. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Exit code of a refused catalogue change (validation, unknown record, conflict). */
export const EXIT_REFUSED = 2;

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Prints `error` for the user and returns the exit code it means. */
export function reportError(error: unknown, output: Output, debug = false): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    return error.exitCode;
  }
  if (isOperationOutcomeError(error)) {
    for (const issue of error.issues) {
      const where = Array.isArray(issue.expression) ? issue.expression.join(', ') : issue.expression;
      const what = issue.diagnostics ?? issue.code;
      // Core's diagnostics usually start with the expression already ("odsCode: ...").
      eprintln(output, where && !what.startsWith(`${where}:`) ? `${where}: ${what}` : what);
    }
    return EXIT_REFUSED;
  }
  if (error instanceof CliError) {
    if (error.message !== '') eprintln(output, error.message);
    if (debug && error.cause instanceof Error && error.cause.stack) eprintln(output, error.cause.stack);
    return error.exitCode;
  }
  eprintln(output, `Error: ${describe(error)}`);
  if (debug && error instanceof Error && error.stack) eprintln(output, error.stack);
  return 1;
}
