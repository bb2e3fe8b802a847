/** `nir catalogue grant ...`: list, create or replace, and withdraw what organisations may do in a role. */
import { type Grant, type GrantInput, parseGrantInput, ROLES, type Role, refuse } from '@nir/core';
import type { Command } from 'commander';
import type { CliContext } from '../../context.ts';
import { type Column, println, printRows } from '../../output.ts';
import { commaList, type JsonFlag, list, withCatalogue, writeVerb } from './shared.ts';

const GRANT_COLUMNS: Column<Grant>[] = [
  { header: 'ODS', value: (g) => g.odsCode },
  { header: 'ROLE', value: (g) => g.role },
  { header: 'POINTER TYPES', value: (g) => list(g.pointerTypes) },
  { header: 'INTERACTIONS', value: (g) => list(g.interactions) },
  { header: 'ACCESS CONTROLS', value: (g) => list(g.accessControls) },
  { header: 'VERSION', value: (g) => String(g.version) },
];

/** Lists the grants, optionally of one organisation. */
export async function listGrants(
  ctx: CliContext,
  options: { org?: string | undefined; json?: boolean | undefined } = {},
): Promise<void> {
  const rows = await withCatalogue(ctx, (catalogue) =>
    catalogue.listGrants(options.org ? { odsCode: options.org } : {}),
  );
  printRows(ctx.output, rows, GRANT_COLUMNS, { json: options.json, empty: 'No grants.' });
}

/** What `grant put` is given. */
export interface GrantPutOptions {
  odsCode: string;
  role: string;
  /** Pointer types as `system|code`. */
  types: string[];
  interactions: string[];
  accessControls: string[];
}

/** Creates or replaces the grant of one organisation in one role. */
export async function putGrant(ctx: CliContext, options: GrantPutOptions): Promise<Grant> {
  const input: GrantInput = parseGrantInput({
    odsCode: options.odsCode,
    role: options.role,
    pointerTypes: options.types,
    interactions: options.interactions,
    accessControls: options.accessControls,
  });
  return withCatalogue(ctx, async (catalogue) => {
    const result = await catalogue.putGrant(input, ctx.actor);
    const { record } = result;
    println(
      ctx.output,
      `${writeVerb(result)} ${record.role} grant of ${record.odsCode} (${record.pointerTypes.length} pointer type(s), ` +
        `${record.interactions.join(', ') || 'no interactions'}; version ${record.version})`,
    );
    return record;
  });
}

function parseRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw refuse('INVALID_PARAMETER', `role: Role must be one of ${ROLES.join(', ')}`, 'role');
  }
  return role as Role;
}

/** Withdraws the grant of one organisation in one role. */
export async function deleteGrant(ctx: CliContext, odsCode: string, role: string): Promise<void> {
  const parsedRole = parseRole(role);
  await withCatalogue(ctx, (catalogue) => catalogue.deleteGrant(odsCode, parsedRole, ctx.actor));
  println(ctx.output, `Deleted the ${parsedRole} grant of ${odsCode}`);
}

/** Adds `nir catalogue grant ...` to the `catalogue` command. */
export function registerGrantCommands(catalogue: Command, ctx: CliContext): void {
  const grant = catalogue.command('grant').description('grants (what an organisation may do in a role)');
  grant
    .command('list')
    .description('list the grants')
    .option('--org <ods>', 'only the grants of this organisation')
    .option('--json', 'print JSON')
    .action((options: JsonFlag & { org?: string }) => listGrants(ctx, options));
  grant
    .command('put')
    .description('create or replace the grant of an organisation in a role')
    .argument('<ods>', 'ODS code')
    .argument('<role>', 'producer, consumer or audit')
    .option('--types <system|code,...>', 'allowed pointer types, comma-separated (default: none)', commaList)
    .requiredOption('--interactions <a,b,...>', 'allowed interactions, comma-separated', commaList)
    .option(
      '--access-controls <flags>',
      'NRL access control flags, comma-separated (default: none)',
      commaList,
    )
    .action(
      async (
        ods: string,
        role: string,
        options: { types?: string[]; interactions: string[]; accessControls?: string[] },
      ) => {
        await putGrant(ctx, {
          odsCode: ods,
          role,
          types: options.types ?? [],
          interactions: options.interactions,
          accessControls: options.accessControls ?? [],
        });
      },
    );
  grant
    .command('delete')
    .description('withdraw the grant of an organisation in a role')
    .argument('<ods>', 'ODS code')
    .argument('<role>', 'producer, consumer or audit')
    .action((ods: string, role: string) => deleteGrant(ctx, ods, role));
}
