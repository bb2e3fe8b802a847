/** `nir demo seed`: puts the demo catalogue (demo/) into an empty catalogue. */
import { readConfig, seedDemoCatalogue } from '@nir/server';
import { CatalogueRepository } from '@nir/store';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { println } from '../output.ts';

/** Seeds the demo catalogue unless the catalogue has organisations; returns whether it did. */
export async function seedDemo(ctx: CliContext): Promise<boolean> {
  const seeded = await ctx.stores.withStore((store) =>
    seedDemoCatalogue(new CatalogueRepository(store.db), ctx.demoDir),
  );
  if (!seeded) {
    println(ctx.output, 'The catalogue already has organisations: nothing seeded.');
    return false;
  }
  println(ctx.output, `Seeded the demo catalogue from ${ctx.demoDir}.`);
  let demoMode = false;
  try {
    demoMode = readConfig(ctx.env).demoMode;
  } catch {
    // A malformed unrelated setting must not hide the result; the server will say what is wrong.
  }
  if (!demoMode) {
    println(
      ctx.output,
      'Note: demo clients and keys are refused unless the server runs with NIR_DEMO_MODE=true.',
    );
  }
  return true;
}

/** Adds `nir demo ...`. */
export function registerDemoCommands(program: Command, ctx: CliContext): void {
  const demo = program.command('demo').description('the demo quick start');
  demo
    .command('seed')
    .description('seed the demo catalogue into an empty catalogue')
    .action(async () => {
      await seedDemo(ctx);
    });
}
