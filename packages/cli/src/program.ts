/**
 * The `nir` program: every command group wired onto one commander program. `buildProgram`
 * takes injected dependencies so tests run commands against their own store and capture the
 * output; `runCli` turns any failure into a message and an exit code.
 */
import { Command } from 'commander';
import rootPackage from '../../../package.json' with { type: 'json' };
import { registerAuditCommands } from './commands/audit.ts';
import { registerCatalogueCommands } from './commands/catalogue/index.ts';
import { registerClientKeyCommand } from './commands/client-key.ts';
import { registerConformanceCommands } from './commands/conformance.ts';
import { registerDemoCommands } from './commands/demo.ts';
import { registerKeysCommands } from './commands/keys.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerTokenCommand } from './commands/token.ts';
import { type CliDeps, createContext } from './context.ts';
import { reportError } from './errors.ts';
import { addHelpTexts } from './help-text.ts';
import { processOutput } from './output.ts';

/** Builds the `nir` program. Its commands throw on failure; {@link runCli} reports them. */
export function buildProgram(deps: CliDeps = {}): Command {
  const ctx = createContext(deps);
  // Set before any subcommand is added: subcommands inherit these settings when created.
  const program = new Command('nir')
    .description('National Imaging Registry: tokens, Controller Catalogue, signing keys, database')
    .configureOutput({
      writeOut: (text) => ctx.output.stdout(text),
      writeErr: (text) => ctx.output.stderr(text),
    })
    .exitOverride()
    .version(rootPackage.version, '-V, --version', 'print the registry version')
    .showHelpAfterError('(add --help for usage)');
  registerTokenCommand(program, ctx);
  registerCatalogueCommands(program, ctx);
  registerKeysCommands(program, ctx);
  registerMigrateCommand(program, ctx);
  registerDemoCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerReportCommand(program, ctx);
  registerConformanceCommands(program, ctx);
  registerClientKeyCommand(program, ctx);
  addHelpTexts(program);
  return program;
}

/** Runs `nir` with `args` (without `node` and the script); resolves with the exit code. */
export async function runCli(args: readonly string[], deps: CliDeps = {}): Promise<number> {
  const output = deps.output ?? processOutput;
  const env = deps.env ?? process.env;
  try {
    await buildProgram({ ...deps, output, env }).parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error, output, Boolean(env.NIR_DEBUG));
  }
}
