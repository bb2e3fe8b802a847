/**
 * `nir conformance`: the supplier conformance kit (R15, `@nir/conformance`).
 *
 * - `plan`: a test plan with its patients drawn for this run (test-range NHS numbers).
 * - `verify`: judges a supplier's system from the registry's audit trail and stored pointers
 *   (database access: run it where the sandbox registry's database is), and signs the report
 *   with the registry's active signing key.
 * - `run`: drives a registry over HTTP as a client of one role with the scripted checks.
 * - `reset`: removes one supplier's sandbox pointers and audit (a sandbox database only).
 * - `verify-report`: checks a report's JWS against the registry's JWKS.
 *
 * Exit codes: 0 every check passed; 3 a check failed; 1 the command could not run.
 */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type ConformanceReport,
  examplePointer,
  INSTALL_ROOT,
  instantiatePlan,
  loadPlan,
  localRegistryFacts,
  RUN_ROLES,
  type RunRole,
  reportJson,
  runConformance,
  signReport,
  verifyClient,
  verifyReportSignature,
  writeReportFiles,
} from '@nir/conformance';
import { NIR_CLIENT_ID_SYSTEM, toAuditEvents } from '@nir/core';
import { readConfig } from '@nir/server';
import { SandboxStore, SigningKeyStore } from '@nir/store';
import { type Command, InvalidArgumentError } from 'commander';
import type { JSONWebKeySet, JWK } from 'jose';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { println } from '../output.ts';
import { registryOrigin } from './token.ts';

/** Exit code when a conformance check failed. */
export const EXIT_CHECKS_FAILED = 3;

function instant(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('must be an ISO 8601 instant');
  return new Date(value).toISOString();
}

function role(value: string): RunRole {
  if (!(RUN_ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${RUN_ROLES.join(', ')}`);
  }
  return value as RunRole;
}

async function readJwk(file: string): Promise<JWK> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (error) {
    throw new CliError(`Cannot read the private JWK ${file}: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
  if (!jwk.kid || !jwk.alg || !jwk.d) throw new CliError(`${file} must be a private JWK with kid and alg`);
  return jwk;
}

function stamp(at: string): string {
  return at.replace(/[:.]/g, '-');
}

function printSummary(
  ctx: CliContext,
  report: ConformanceReport,
  files: Record<string, string | undefined>,
): void {
  for (const check of report.checks) {
    println(ctx.output, `${check.status === 'pass' ? 'PASS' : 'FAIL'}  ${check.id}  ${check.summary}`);
  }
  const { summary } = report;
  println(ctx.output, `${summary.result.toUpperCase()}: ${summary.passed}/${summary.checks} checks passed`);
  for (const [kind, file] of Object.entries(files)) if (file) println(ctx.output, `  ${kind}: ${file}`);
  if (summary.result !== 'pass') throw new CliError('', EXIT_CHECKS_FAILED);
}

/** What `nir conformance verify` is asked. */
export interface VerifyOptions {
  plan: string;
  client: string;
  since?: string | undefined;
  until?: string | undefined;
  outDir: string;
}

/** Judges a client from the database; writes the signed report. */
export async function verifyCommand(ctx: CliContext, options: VerifyOptions): Promise<ConformanceReport> {
  const plan = await loadPlan(options.plan).catch((error: unknown) => {
    throw new CliError((error as Error).message, 1, { cause: error });
  });
  const since = options.since ?? new Date(Date.now() - 24 * 3600_000).toISOString();
  const sandbox = readConfig(ctx.env).sandbox === true;
  const { report, json, jws } = await ctx.stores.withStore(async (store) => {
    const registry = await localRegistryFacts(INSTALL_ROOT, await new SandboxStore(store.db).isMarked());
    const report = await verifyClient({
      db: store.db,
      plan,
      clientId: options.client,
      since,
      until: options.until,
      registry,
    });
    const json = reportJson(report);
    const active = (await new SigningKeyStore(store.db).listPublishable(0)).find((k) => k.retiredAt === null);
    if (!active)
      throw new CliError('The registry has no active signing key to sign the report with (start it once)');
    return { report, json, jws: await signReport(json, active.privateJwk as JWK) };
  });
  if (!sandbox && !report.registry.sandbox) {
    println(ctx.output, 'Note: this database is not a sandbox (NIR_SANDBOX); the report says so.');
  }
  const files = await writeReportFiles(
    options.outDir,
    `${options.client}-${plan.plan}-${stamp(report.generatedAt)}`,
    report,
    json,
    jws,
  );
  printSummary(ctx, report, { ...files });
  return report;
}

/** What `nir conformance run` is asked. */
export interface RunOptions {
  registry?: string | undefined;
  client: string;
  key: string;
  ods: string;
  role: RunRole;
  type?: string | undefined;
  typeOutsideGrant?: string | undefined;
  seedClient?: string | undefined;
  seedKey?: string | undefined;
  seedOds?: string | undefined;
  outDir: string;
}

/** Drives the registry with the role's scripted checks; writes the report. */
export async function runCommand(ctx: CliContext, options: RunOptions): Promise<ConformanceReport> {
  const registry = registryOrigin(options.registry, ctx.env);
  const seeding = [options.seedClient, options.seedKey, options.seedOds].filter(Boolean).length;
  if (seeding !== 0 && seeding !== 3)
    throw new CliError('--seed-client, --seed-key and --seed-ods go together');
  let report: ConformanceReport;
  try {
    report = await runConformance({
      registry,
      role: options.role,
      clientId: options.client,
      privateJwk: await readJwk(options.key),
      ods: options.ods,
      example: await examplePointer(INSTALL_ROOT),
      type: options.type,
      typeOutsideGrant: options.typeOutsideGrant,
      seeder:
        options.seedClient && options.seedKey && options.seedOds
          ? { clientId: options.seedClient, privateJwk: await readJwk(options.seedKey), ods: options.seedOds }
          : undefined,
      fetch: ctx.fetch,
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`The run could not start against ${registry}: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
  const json = reportJson(report);
  const files = await writeReportFiles(
    options.outDir,
    `run-${options.role}-${options.client}-${stamp(report.generatedAt)}`,
    report,
    json,
  );
  printSummary(ctx, report, { ...files });
  return report;
}

/** The reset's own AuditEvent: the operator (CLI user) removed a client's sandbox data. */
function resetEvents(ctx: CliContext, clientId: string): ReturnType<typeof toAuditEvents> {
  let serverUrl = 'urn:nir:cli';
  try {
    serverUrl = readConfig(ctx.env).publicUrl;
  } catch {
    // the configuration is checked when the database opens
  }
  return toAuditEvents({
    recorded: new Date().toISOString(),
    kind: { subtype: 'sandbox-reset', action: 'D' },
    status: 200,
    client: { clientId: ctx.actor, name: 'nir conformance reset (operator)', verified: true },
    serverUrl,
    patients: [],
    pointers: [],
    custodians: [],
    objects: [
      { system: NIR_CLIENT_ID_SYSTEM, value: clientId, description: 'Client whose sandbox data was reset' },
    ],
    description: `Sandbox reset of ${clientId}: its pointers and its AuditEvents removed (R15)`,
  });
}

async function loadJwks(ctx: CliContext, source: string): Promise<JSONWebKeySet> {
  const text = /^https?:\/\//.test(source)
    ? await (await ctx.fetch(source, { signal: AbortSignal.timeout(15_000) })).text()
    : await readFile(source, 'utf8');
  return JSON.parse(text) as JSONWebKeySet;
}

/** Registers `nir conformance ...`. */
export function registerConformanceCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('conformance')
    .description('supplier conformance kit: plans, verify, run, reports');

  group
    .command('plan')
    .description('print a test plan with fresh test patients for this run')
    .requiredOption('--plan <name>', 'producer or consumer')
    .option('--json', 'print the plan instance as JSON')
    .action(async (options: { plan: string; json?: boolean }) => {
      const plan = await loadPlan(options.plan).catch((error: unknown) => {
        throw new CliError((error as Error).message, 1, { cause: error });
      });
      const instance = instantiatePlan(plan, randomInt);
      if (options.json) {
        println(ctx.output, JSON.stringify(instance, null, 2));
        return;
      }
      println(ctx.output, `${plan.title} (plan ${plan.plan} ${plan.version})`);
      for (const [letter, nhs] of Object.entries(instance.patients))
        println(ctx.output, `  patient ${letter}: ${nhs}`);
      println(
        ctx.output,
        `  invalid NHS number (step of the expected refusal): ${instance.invalidNhsNumber}`,
      );
      for (const step of plan.steps)
        println(ctx.output, `${step.id}. ${step.do}  [${step.checks.join(', ')}]`);
      println(ctx.output, `Judged throughout: ${plan.always.join(', ')}`);
    });

  group
    .command('verify')
    .description("judge a supplier's system from the registry's audit trail and stored pointers")
    .requiredOption('--plan <name>', 'producer or consumer')
    .requiredOption('--client <id>', 'the client id of the system under test')
    .option('--since <instant>', 'start of the test session (default: 24 hours ago)', instant)
    .option('--until <instant>', 'end of the test session (default: now)', instant)
    .option('--out-dir <dir>', 'where the reports go', 'conformance-reports')
    .action(async (options: VerifyOptions) => {
      await verifyCommand(ctx, options);
    });

  group
    .command('run')
    .description('drive a registry with the scripted checks of one role (test patients only; cleans up)')
    .option('--registry <url>', 'registry origin (default: NIR_PUBLIC_URL or http://127.0.0.1:8080)')
    .requiredOption('--client <id>', 'client id the kit signs in as')
    .requiredOption('--key <file>', "the client's private JWK")
    .requiredOption('--ods <code>', 'the organisation the kit acts for')
    .requiredOption('--role <role>', RUN_ROLES.join(' | '), role)
    .option('--type <system|code>', 'a pointer type the grant lists (default NICIP MAULR)')
    .option('--type-outside-grant <system|code>', 'consumer: a type outside the grant (default NICIP MAXIB)')
    .option('--seed-client <id>', 'consumer: a producer that publishes the paging patient (then deletes)')
    .option('--seed-key <file>', "consumer: the seeding producer's private JWK")
    .option('--seed-ods <code>', "consumer: the seeding producer's organisation")
    .option('--out-dir <dir>', 'where the reports go', 'conformance-reports')
    .action(async (options: RunOptions) => {
      await runCommand(ctx, options);
    });

  group
    .command('reset')
    .description("remove a supplier's sandbox pointers and audit (refused unless the database is a sandbox)")
    .requiredOption('--client <id>', 'the client id whose sandbox data goes')
    .action(async (options: { client: string }) => {
      const result = await ctx.stores.withStore((store) =>
        new SandboxStore(store.db)
          .reset(options.client, resetEvents(ctx, options.client))
          .catch((error: unknown) => {
            throw new CliError(`Reset refused: ${(error as Error).message}`, 1, { cause: error });
          }),
      );
      println(
        ctx.output,
        `Reset ${options.client}: ${result.pointers} pointers, ${result.historyRows} history rows, ${result.auditEvents} AuditEvents removed`,
      );
    });

  group
    .command('verify-report')
    .description("check a signed report with the registry's JWKS")
    .argument('<report>', 'the report JSON file (its signature is <report>.jws)')
    .option('--jws <file>', 'the JWS file (default: <report>.jws)')
    .option('--jwks <file|url>', "the registry's JWKS (default: <registry>/.well-known/jwks.json)")
    .option('--registry <url>', 'registry origin for the default JWKS')
    .action(async (file: string, options: { jws?: string; jwks?: string; registry?: string }) => {
      const json = await readFile(file, 'utf8');
      const jws = await readFile(options.jws ?? `${file}.jws`, 'utf8');
      const jwks = await loadJwks(
        ctx,
        options.jwks ?? `${registryOrigin(options.registry, ctx.env)}/.well-known/jwks.json`,
      );
      let check: Awaited<ReturnType<typeof verifyReportSignature>>;
      try {
        check = await verifyReportSignature(jws, jwks, json);
      } catch (error) {
        throw new CliError(`The signature does not verify: ${(error as Error).message}`, EXIT_CHECKS_FAILED, {
          cause: error,
        });
      }
      if (!check.matchesFile) {
        throw new CliError(
          `${path.basename(file)} is not the report that was signed (altered)`,
          EXIT_CHECKS_FAILED,
        );
      }
      const report = JSON.parse(json) as ConformanceReport;
      println(
        ctx.output,
        `Signature valid (key ${check.kid}): ${report.client.id}, plan ${report.plan.name} ${report.plan.version}, registry ${report.registry.version}, ${report.summary.result.toUpperCase()} ${report.summary.passed}/${report.summary.checks}`,
      );
    });
}
