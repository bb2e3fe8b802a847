/**
 * `nir catalogue import`: loads a whole catalogue file (organisations, clients, grants),
 * validated in full before one transaction writes it.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import {
  catalogueFileProblems,
  type IssueSpec,
  isOperationOutcomeError,
  OperationOutcomeError,
  parseClientInput,
  parseGrantInput,
  parseOrganisationInput,
} from '@nir/core';
import type { WriteResult } from '@nir/store';
import type { Command } from 'commander';
import type { CliContext } from '../../context.ts';
import { println } from '../../output.ts';
import { asJwks } from './clients.ts';
import { problem, readJsonFile, withCatalogue } from './shared.ts';

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
  // The file's JSON Schema first (the same schemas as the admin API): every fault, by its field.
  const schemaProblems = catalogueFileProblems(raw);
  if (schemaProblems.some((p) => p.expression === '$')) throw new OperationOutcomeError(schemaProblems);
  const body = raw as Record<string, unknown>;
  const issues: IssueSpec[] = [];
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
  // Then the rules a schema cannot say (unique kids, each grant's interactions of its role),
  // once per field the schema has not named already.
  const named = new Set(schemaProblems.map((p) => String(p.expression)));
  const all = [...schemaProblems, ...issues.filter((p) => !named.has(String(p.expression)))];
  if (all.length > 0) throw new OperationOutcomeError(all);

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

/** Adds `nir catalogue import` to the `catalogue` command. */
export function registerImportCommand(catalogue: Command, ctx: CliContext): void {
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
