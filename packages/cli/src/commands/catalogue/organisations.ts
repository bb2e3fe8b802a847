/** `nir catalogue org ...`: list, create or replace, and change the status of organisations. */
import {
  type Organisation,
  type OrganisationInput,
  type OrganisationStatus,
  parseOrganisationInput,
} from '@nir/core';
import type { Command } from 'commander';
import type { CliContext } from '../../context.ts';
import { type Column, println, printRows } from '../../output.ts';
import { type JsonFlag, time, withCatalogue, writeVerb } from './shared.ts';

const ORGANISATION_COLUMNS: Column<Organisation>[] = [
  { header: 'ODS', value: (o) => o.odsCode },
  { header: 'NAME', value: (o) => o.name },
  { header: 'STATUS', value: (o) => o.status },
  { header: 'VERSION', value: (o) => String(o.version) },
  { header: 'UPDATED', value: (o) => time(o.updatedAt) },
];

/** Lists the organisations. */
export async function listOrganisations(
  ctx: CliContext,
  options: { json?: boolean | undefined } = {},
): Promise<void> {
  const rows = await withCatalogue(ctx, (catalogue) => catalogue.listOrganisations());
  printRows(ctx.output, rows, ORGANISATION_COLUMNS, { json: options.json, empty: 'No organisations.' });
}

/** Creates or replaces an organisation; an existing one keeps its status unless `status` is given. */
export async function putOrganisation(
  ctx: CliContext,
  input: { odsCode: string; name: string; status?: string | undefined },
): Promise<Organisation> {
  return withCatalogue(ctx, async (catalogue) => {
    const status = input.status ?? (await catalogue.getOrganisation(input.odsCode))?.status;
    const parsed: OrganisationInput = parseOrganisationInput({
      odsCode: input.odsCode,
      name: input.name,
      ...(status === undefined ? {} : { status }),
    });
    const result = await catalogue.putOrganisation(parsed, ctx.actor);
    println(
      ctx.output,
      `${writeVerb(result)} organisation ${result.record.odsCode} (${result.record.status}, version ${result.record.version})`,
    );
    return result.record;
  });
}

/** Suspends, terminates or reactivates an organisation (R6: effective on its next request). */
export async function setOrganisationStatus(
  ctx: CliContext,
  odsCode: string,
  status: OrganisationStatus,
): Promise<Organisation> {
  return withCatalogue(ctx, async (catalogue) => {
    const record = await catalogue.setOrganisationStatus(odsCode, status, ctx.actor);
    println(ctx.output, `Organisation ${record.odsCode} is now ${record.status} (version ${record.version})`);
    return record;
  });
}

/** Adds `nir catalogue org ...` to the `catalogue` command. */
export function registerOrganisationCommands(catalogue: Command, ctx: CliContext): void {
  const org = catalogue.command('org').description('organisations');
  org
    .command('list')
    .description('list the organisations')
    .option('--json', 'print JSON')
    .action((options: JsonFlag) => listOrganisations(ctx, options));
  org
    .command('put')
    .description('create or replace an organisation')
    .argument('<ods>', 'ODS code')
    .requiredOption('--name <name>', 'organisation name')
    .option('--status <status>', 'active, suspended or terminated (default: active, or unchanged)')
    .action(async (ods: string, options: { name: string; status?: string }) => {
      await putOrganisation(ctx, { odsCode: ods, name: options.name, status: options.status });
    });
  const statusCommands: [string, OrganisationStatus, string][] = [
    ['suspend', 'suspended', 'suspend an organisation (every request refused)'],
    ['terminate', 'terminated', 'terminate an organisation (every request refused)'],
    ['activate', 'active', 'reactivate an organisation'],
  ];
  for (const [name, status, description] of statusCommands) {
    org
      .command(name)
      .description(description)
      .argument('<ods>', 'ODS code')
      .action(async (ods: string) => {
        await setOrganisationStatus(ctx, ods, status);
      });
  }
}
