/** `nir catalogue changes`: reads and prints the catalogue's change history (R19). */
import type { CatalogueChange, CatalogueEntity } from '@nir/core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../../context.ts';
import { type Column, printRows } from '../../output.ts';
import { time, withCatalogue } from './shared.ts';

const ENTITIES: readonly CatalogueEntity[] = ['organisation', 'client', 'grant'];

const CHANGE_COLUMNS: Column<CatalogueChange>[] = [
  { header: 'ID', value: (c) => String(c.changeId) },
  { header: 'TIME', value: (c) => time(c.changedAt) },
  { header: 'ACTOR', value: (c) => c.actor },
  { header: 'ENTITY', value: (c) => c.entity },
  { header: 'KEY', value: (c) => c.entityKey },
  { header: 'ACTION', value: (c) => c.action },
];

const PAGE = 1000;

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** What `changes` is asked for. */
export interface ChangesOptions {
  entity?: CatalogueEntity | undefined;
  key?: string | undefined;
  /** Only the latest `limit` changes. */
  limit?: number | undefined;
  json?: boolean | undefined;
}

/** Reads the change history (R19), oldest first; with `limit`, only the latest changes. */
export async function readChanges(ctx: CliContext, options: ChangesOptions = {}): Promise<CatalogueChange[]> {
  return withCatalogue(ctx, async (catalogue) => {
    const kept: CatalogueChange[] = [];
    let afterId: number | undefined;
    for (;;) {
      const page = await catalogue.listChanges({
        entity: options.entity,
        entityKey: options.key,
        afterId,
        limit: PAGE,
      });
      kept.push(...page);
      if (options.limit !== undefined && kept.length > options.limit)
        kept.splice(0, kept.length - options.limit);
      const last = page.at(-1);
      if (page.length < PAGE || !last) return kept;
      afterId = last.changeId;
    }
  });
}

/** Prints the change history as a table (or JSON with before and after). */
export async function listChanges(ctx: CliContext, options: ChangesOptions = {}): Promise<void> {
  const changes = await readChanges(ctx, options);
  printRows(ctx.output, changes, CHANGE_COLUMNS, { json: options.json, empty: 'No changes.' });
}

/** Adds `nir catalogue changes` to the `catalogue` command. */
export function registerChangesCommand(catalogue: Command, ctx: CliContext): void {
  catalogue
    .command('changes')
    .description('show the change history of the catalogue (who changed what, when), oldest first')
    .addOption(new Option('--entity <entity>', 'only changes of this kind').choices(ENTITIES))
    .option('--key <key>', 'only changes of this record (ODS code, client id, or ODS/role)')
    .option('--limit <n>', 'only the latest n changes', positiveInteger)
    .option('--json', 'print JSON (with before and after)')
    .action((options: ChangesOptions) => listChanges(ctx, options));
}
