/**
 * `nir catalogue`: the operator's hands on the Controller Catalogue (R3, R6, R19), straight on
 * the database. Every change is validated by @nir/core exactly as the admin API validates it,
 * and recorded in the change history with the actor `cli:<os user>`.
 *
 * This module registers the command group; each subcommand lives in its own module.
 */
import type { Command } from 'commander';
import type { CliContext } from '../../context.ts';
import { registerChangesCommand } from './changes.ts';
import { registerClientCommands } from './clients.ts';
import { registerGrantCommands } from './grants.ts';
import { registerImportCommand } from './import.ts';
import { registerOrganisationCommands } from './organisations.ts';

export { type ChangesOptions, listChanges, readChanges } from './changes.ts';
export { asJwks, type ClientPutOptions, deleteClient, listClients, putClient } from './clients.ts';
export { deleteGrant, type GrantPutOptions, listGrants, putGrant } from './grants.ts';
export { type ImportCount, type ImportReport, importCatalogue } from './import.ts';
export { listOrganisations, putOrganisation, setOrganisationStatus } from './organisations.ts';
export { commaList } from './shared.ts';

/** Adds `nir catalogue ...`. */
export function registerCatalogueCommands(program: Command, ctx: CliContext): void {
  const catalogue = program
    .command('catalogue')
    .description('manage the Controller Catalogue directly on the database (as the operator)');
  registerOrganisationCommands(catalogue, ctx);
  registerClientCommands(catalogue, ctx);
  registerGrantCommands(catalogue, ctx);
  registerChangesCommand(catalogue, ctx);
  registerImportCommand(catalogue, ctx);
}
