/** `nir catalogue client ...`: list, create or replace, and remove client systems. */
import { type ClientInput, type ClientSystem, parseClientInput } from '@nir/core';
import type { Command } from 'commander';
import type { CliContext } from '../../context.ts';
import { type Column, println, printRows } from '../../output.ts';
import { commaList, type JsonFlag, list, readJsonFile, withCatalogue, writeVerb, yesNo } from './shared.ts';

const CLIENT_COLUMNS: Column<ClientSystem>[] = [
  { header: 'CLIENT', value: (c) => c.clientId },
  { header: 'NAME', value: (c) => c.name },
  { header: 'STATUS', value: (c) => c.status },
  { header: 'ORGANISATIONS', value: (c) => list(c.organisations) },
  { header: 'ROLES', value: (c) => list(c.roles) },
  { header: 'ADMIN', value: (c) => yesNo(c.admin) },
  { header: 'DEMO', value: (c) => yesNo(c.demo) },
  { header: 'KEYS', value: (c) => list(c.jwks.keys.map((k) => k.kid ?? '?')) },
  { header: 'VERSION', value: (c) => String(c.version) },
];

/** Lists the client systems. */
export async function listClients(
  ctx: CliContext,
  options: { json?: boolean | undefined } = {},
): Promise<void> {
  const rows = await withCatalogue(ctx, (catalogue) => catalogue.listClients());
  printRows(ctx.output, rows, CLIENT_COLUMNS, { json: options.json, empty: 'No clients.' });
}

/** A JWKS as registered: a file's `{ keys: [...] }` as it is, or a single JWK wrapped in one. */
export function asJwks(value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'kty' in value &&
    !('keys' in value)
  ) {
    return { keys: [value] };
  }
  return value;
}

/** What `client put` is given. */
export interface ClientPutOptions {
  clientId: string;
  name: string;
  /** A JWKS JSON file, or a file of one public JWK. */
  jwksFile: string;
  organisations: string[];
  /** The roles it may exercise (producer, consumer, audit): least privilege (R18). */
  roles: string[];
  admin?: boolean | undefined;
  disabled?: boolean | undefined;
}

/** Creates or replaces a client system. */
export async function putClient(ctx: CliContext, options: ClientPutOptions): Promise<ClientSystem> {
  const jwks = asJwks(await readJsonFile(options.jwksFile, 'JWKS file'));
  const input: ClientInput = parseClientInput({
    clientId: options.clientId,
    name: options.name,
    status: options.disabled ? 'disabled' : 'active',
    jwks,
    organisations: options.organisations,
    roles: options.roles,
    admin: options.admin ?? false,
  });
  return withCatalogue(ctx, async (catalogue) => {
    const result = await catalogue.putClient(input, ctx.actor);
    const { record } = result;
    println(
      ctx.output,
      `${writeVerb(result)} client ${record.clientId} (${record.status}, for ${record.organisations.join(', ') || 'no organisation'}, ` +
        `${record.jwks.keys.length} key(s), version ${record.version})`,
    );
    return record;
  });
}

/** Removes a client system. */
export async function deleteClient(ctx: CliContext, clientId: string): Promise<void> {
  await withCatalogue(ctx, (catalogue) => catalogue.deleteClient(clientId, ctx.actor));
  println(ctx.output, `Deleted client ${clientId}`);
}

/** Adds `nir catalogue client ...` to the `catalogue` command. */
export function registerClientCommands(catalogue: Command, ctx: CliContext): void {
  const client = catalogue.command('client').description('client systems');
  client
    .command('list')
    .description('list the client systems')
    .option('--json', 'print JSON')
    .action((options: JsonFlag) => listClients(ctx, options));
  client
    .command('put')
    .description('create or replace a client system')
    .argument('<clientId>', 'client id')
    .requiredOption('--name <name>', 'client name')
    .requiredOption('--jwks <file>', 'its public keys: a JWKS JSON file or a single public JWK')
    .requiredOption('--org <ods,...>', 'the organisations it acts for', commaList)
    .option('--roles <role,...>', 'the roles it may exercise: producer, consumer, audit', commaList, [])
    .option('--admin', 'may ask for the catalogue administration scope')
    .option('--disabled', 'register it disabled')
    .action(
      async (
        clientId: string,
        options: {
          name: string;
          jwks: string;
          org: string[];
          roles: string[];
          admin?: boolean;
          disabled?: boolean;
        },
      ) => {
        await putClient(ctx, {
          clientId,
          name: options.name,
          jwksFile: options.jwks,
          organisations: options.org,
          roles: options.roles,
          admin: options.admin,
          disabled: options.disabled,
        });
      },
    );
  client
    .command('delete')
    .description('remove a client system')
    .argument('<clientId>', 'client id')
    .action((clientId: string) => deleteClient(ctx, clientId));
}
