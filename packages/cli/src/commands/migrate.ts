/** `nir migrate`: brings the database schema up to date (opening the store migrates it). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { println } from '../output.ts';

/** Opens the store and reports what its migrations did. */
export async function runMigrate(ctx: CliContext): Promise<{ applied: string[]; alreadyApplied: string[] }> {
  const report = await ctx.stores.withStore(async (store) => ({
    backend: store.backend,
    applied: [...store.migrations.applied],
    alreadyApplied: [...store.migrations.alreadyApplied],
  }));
  if (report.applied.length === 0) {
    println(
      ctx.output,
      `The ${report.backend} database is up to date (${report.alreadyApplied.length} migration(s) already applied).`,
    );
  } else {
    println(ctx.output, `Applied ${report.applied.length} migration(s) to the ${report.backend} database:`);
    for (const name of report.applied) println(ctx.output, `  ${name}`);
    if (report.alreadyApplied.length > 0) {
      println(ctx.output, `(${report.alreadyApplied.length} were already applied)`);
    }
  }
  return report;
}

/** Adds `nir migrate`. */
export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply pending database migrations and print what was applied')
    .action(async () => {
      await runMigrate(ctx);
    });
}
