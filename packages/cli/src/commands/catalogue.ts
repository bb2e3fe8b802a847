/**
 * `nir catalogue`: the operator's hands on the Controller Catalogue (R3, R6, R19), straight on
 * the database. Every change is validated by @nir/core exactly as the admin API validates it,
 * and recorded in the change history with the actor `cli:<os user>`.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type CatalogueChange,
  type CatalogueEntity,
  type ClientInput,
  type ClientSystem,
  type Grant,
  type GrantInput,
  type IssueSpec,
  isOperationOutcomeError,
  OperationOutcomeError,
  type Organisation,
  type OrganisationInput,
  type OrganisationStatus,
  parseClientInput,
  parseGrantInput,
  parseOrganisationInput,
  ROLES,
  type Role,
  refuse,
} from '@nir/core';
import { CatalogueRepository, type WriteResult } from '@nir/store';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { type Column, println, printRows } from '../output.ts';

const ENTITIES: readonly CatalogueEntity[] = ['organisation', 'client', 'grant'];

/** Splits a comma-separated option value (`A,B, C`) into its items. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read the ${what} ${file}: ${(error as Error).message}`, 1, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`The ${what} ${file} is not valid JSON: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
}

function writeVerb(result: WriteResult<unknown>): string {
  return result.created ? 'Created' : 'Updated';
}

function time(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function list(values: readonly string[]): string {
  return values.length === 0 ? '-' : values.join(',');
}

/** Runs `work` on the catalogue of the context's database. */
function withCatalogue<T>(ctx: CliContext, work: (catalogue: CatalogueRepository) => Promise<T>): Promise<T> {
  return ctx.stores.withStore((store) => work(new CatalogueRepository(store.db)));
}

// ---------------------------------------------------------------- organisations

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

// ---------------------------------------------------------------- clients

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

// ---------------------------------------------------------------- grants

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

// ---------------------------------------------------------------- change history

const CHANGE_COLUMNS: Column<CatalogueChange>[] = [
  { header: 'ID', value: (c) => String(c.changeId) },
  { header: 'TIME', value: (c) => time(c.changedAt) },
  { header: 'ACTOR', value: (c) => c.actor },
  { header: 'ENTITY', value: (c) => c.entity },
  { header: 'KEY', value: (c) => c.entityKey },
  { header: 'ACTION', value: (c) => c.action },
];

const PAGE = 1000;

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

// ---------------------------------------------------------------- import

/** How many records of one kind an import created and updated. */
export interface ImportCount {
  created: number;
  updated: number;
}

/** What an import did. */
export interface ImportReport {
  organisations: ImportCount;
  clients: ImportCount;
  grants: ImportCount;
}

function prefixIssues(error: OperationOutcomeError, prefix: string): IssueSpec[] {
  return error.issues.map((issue) => {
    const expressions =
      issue.expression === undefined
        ? []
        : Array.isArray(issue.expression)
          ? issue.expression
          : [issue.expression];
    const first = expressions[0];
    let diagnostics = issue.diagnostics;
    if (diagnostics !== undefined && first !== undefined && diagnostics.startsWith(`${first}:`)) {
      diagnostics = `${prefix}.${diagnostics}`;
    }
    const prefixed = expressions.map((e) => `${prefix}.${e}`);
    return {
      ...issue,
      expression: prefixed.length === 0 ? prefix : prefixed.length === 1 ? (prefixed[0] ?? prefix) : prefixed,
      ...(diagnostics === undefined ? {} : { diagnostics }),
    };
  });
}

function problem(expression: string, diagnostics: string): IssueSpec {
  return { code: 'MESSAGE_NOT_WELL_FORMED', expression, diagnostics: `${expression}: ${diagnostics}` };
}

function section(file: Record<string, unknown>, key: string, issues: IssueSpec[]): unknown[] {
  const value = file[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.push(problem(key, 'must be a list'));
    return [];
  }
  return value;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * A client entry as the catalogue wants it: the demo file's informational `alg` is dropped, and
 * a client without inline `jwks` takes `keys/<clientId>.public.jwk.json` next to the file.
 */
async function clientEntry(raw: unknown, baseDir: string): Promise<unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const { alg, ...entry } = raw as Record<string, unknown>;
  const withoutAlg = typeof alg === 'string' ? entry : (raw as Record<string, unknown>);
  if (
    withoutAlg.jwks === undefined &&
    typeof withoutAlg.clientId === 'string' &&
    /^[\w.-]+$/.test(withoutAlg.clientId)
  ) {
    const keyFile = path.join(baseDir, 'keys', `${withoutAlg.clientId}.public.jwk.json`);
    if (await exists(keyFile)) {
      return { ...withoutAlg, jwks: asJwks(await readJsonFile(keyFile, 'public key file')) };
    }
  }
  return withoutAlg;
}

function parseEach<T>(entries: unknown[], key: string, parse: (raw: unknown) => T, issues: IssueSpec[]): T[] {
  const parsed: T[] = [];
  entries.forEach((entry, i) => {
    try {
      parsed.push(parse(entry));
    } catch (error) {
      if (!isOperationOutcomeError(error)) throw error;
      issues.push(...prefixIssues(error, `${key}[${i}]`));
    }
  });
  return parsed;
}

function count(results: WriteResult<unknown>[]): ImportCount {
  const created = results.filter((r) => r.created).length;
  return { created, updated: results.length - created };
}

/**
 * Loads a catalogue file shaped like demo/catalogue.json (`organisations`, `clients` with
 * `jwks` inline, `grants`). Everything is validated, references included, before anything is
 * written; records are then created or replaced (organisations first, then clients, then grants).
 */
export async function importCatalogue(ctx: CliContext, file: string): Promise<ImportReport> {
  const raw = await readJsonFile(file, 'catalogue file');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new OperationOutcomeError(problem('$', 'a catalogue file is a JSON object'));
  }
  const body = raw as Record<string, unknown>;
  const issues: IssueSpec[] = [];
  for (const key of Object.keys(body)) {
    if (!['organisations', 'clients', 'grants'].includes(key) && !key.startsWith('_')) {
      issues.push(problem(key, 'unknown section (expected organisations, clients, grants)'));
    }
  }
  const baseDir = path.dirname(path.resolve(file));
  const organisations = parseEach(
    section(body, 'organisations', issues),
    'organisations',
    parseOrganisationInput,
    issues,
  );
  const clientEntries = await Promise.all(
    section(body, 'clients', issues).map((c) => clientEntry(c, baseDir)),
  );
  const clients = parseEach(clientEntries, 'clients', parseClientInput, issues);
  const grants = parseEach(section(body, 'grants', issues), 'grants', parseGrantInput, issues);
  if (issues.length > 0) throw new OperationOutcomeError(issues);

  return withCatalogue(ctx, async (catalogue) => {
    const known = new Set([
      ...organisations.map((o) => o.odsCode),
      ...(await catalogue.listOrganisations()).map((o) => o.odsCode),
    ]);
    const missing: IssueSpec[] = [];
    clients.forEach((client, i) => {
      for (const ods of client.organisations) {
        if (!known.has(ods))
          missing.push(problem(`clients[${i}].organisations`, `unknown organisation ${ods}`));
      }
    });
    grants.forEach((grant, i) => {
      if (!known.has(grant.odsCode))
        missing.push(problem(`grants[${i}].odsCode`, `unknown organisation ${grant.odsCode}`));
    });
    if (missing.length > 0) throw new OperationOutcomeError(missing);

    // One transaction: a failure part-way leaves the catalogue as it was.
    const report: ImportReport = await catalogue.transaction(async (tx) => ({
      organisations: count(await sequentially(organisations, (o) => tx.putOrganisation(o, ctx.actor))),
      clients: count(await sequentially(clients, (c) => tx.putClient(c, ctx.actor))),
      grants: count(await sequentially(grants, (g) => tx.putGrant(g, ctx.actor))),
    }));
    const line = (name: string, c: ImportCount) =>
      `${c.created + c.updated} ${name} (${c.created} new, ${c.updated} updated)`;
    println(
      ctx.output,
      `Imported ${file}: ${line('organisations', report.organisations)}, ${line('clients', report.clients)}, ${line('grants', report.grants)}`,
    );
    return report;
  });
}

async function sequentially<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await work(item));
  return results;
}

// ---------------------------------------------------------------- commander wiring

type JsonFlag = { json?: boolean };

/** Adds `nir catalogue ...`. */
export function registerCatalogueCommands(program: Command, ctx: CliContext): void {
  const catalogue = program
    .command('catalogue')
    .description('manage the Controller Catalogue directly on the database (as the operator)');

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

  catalogue
    .command('changes')
    .description('show the change history of the catalogue (R19), oldest first')
    .addOption(new Option('--entity <entity>', 'only changes of this kind').choices(ENTITIES))
    .option('--key <key>', 'only changes of this record (ODS code, client id, or ODS/role)')
    .option('--limit <n>', 'only the latest n changes', positiveInteger)
    .option('--json', 'print JSON (with before and after)')
    .action((options: ChangesOptions) => listChanges(ctx, options));

  catalogue
    .command('import')
    .description(
      'load a catalogue file shaped like demo/catalogue.json (client keys as jwks inline, or in keys/<clientId>.public.jwk.json beside the file)',
    )
    .argument('<file>', 'catalogue JSON file')
    .action(async (file: string) => {
      await importCatalogue(ctx, file);
    });
}
