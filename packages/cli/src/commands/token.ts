/**
 * `nir token`: gets an access token from a running registry the way a supplier system does,
 * by signing a client assertion with the client's private key and posting it to
 * `/oauth2/token`. Defaults suit the demo clients of `demo/`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { IuaClaims } from '@nir/core';
import type { Command } from 'commander';
import type { JWK } from 'jose';
import { createClientAssertion, demoUserClaims } from '../client-assertion.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { println } from '../output.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEFAULT_ORIGIN = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 15_000;

/** What `nir token` is asked for. */
export interface TokenOptions {
  clientId: string;
  /** File of the client's private JWK (default: the demo key of the client). */
  keyFile?: string | undefined;
  /** The registry's origin (default: NIR_PUBLIC_URL, else http://127.0.0.1:8080). */
  url?: string | undefined;
  org?: string | undefined;
  user?: string | undefined;
  name?: string | undefined;
  role?: string | undefined;
  purpose?: string | undefined;
  scope?: string | undefined;
  json?: boolean | undefined;
}

/** The registry origin to call: `--url`, else NIR_PUBLIC_URL, else the local default. */
export function registryOrigin(url: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = (url || env.NIR_PUBLIC_URL || DEFAULT_ORIGIN).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new CliError(`Not a URL: '${raw}' (expected an origin such as ${DEFAULT_ORIGIN})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`The registry URL must be http or https, got '${raw}'`);
  }
  return raw;
}

/** The first organisation a client acts for in the demo catalogue, if it is a demo client. */
export async function demoOrganisationOf(demoDir: string, clientId: string): Promise<string | undefined> {
  let catalogue: unknown;
  try {
    catalogue = JSON.parse(await readFile(path.join(demoDir, 'catalogue.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const clients = (catalogue as { clients?: unknown }).clients;
  if (!Array.isArray(clients)) return undefined;
  for (const client of clients as { clientId?: unknown; organisations?: unknown }[]) {
    if (client.clientId === clientId && Array.isArray(client.organisations)) {
      const first: unknown = client.organisations[0];
      return typeof first === 'string' ? first : undefined;
    }
  }
  return undefined;
}

/** The end user's IUA claims: the demo clinician, with whatever the flags override. */
export function userClaims(options: TokenOptions, org: string | undefined): IuaClaims {
  const { subject_organization_id: demoOrg, ...base } = demoUserClaims(org ?? '', options.purpose ?? 'TREAT');
  const claims: IuaClaims = org ? { ...base, subject_organization_id: demoOrg } : base;
  if (options.user) claims.subject_id = options.user;
  if (options.name) claims.subject_name = options.name;
  if (options.role) {
    const [system, code] = options.role.includes('|')
      ? (options.role.split('|', 2) as [string, string])
      : [base.subject_role?.[0]?.system ?? '', options.role];
    claims.subject_role = [system ? { system, code } : { code }];
  }
  return claims;
}

async function readPrivateKey(file: string, defaulted: boolean): Promise<JWK> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const hint = defaulted ? ' (only demo clients have a default key: pass --key <private-jwk-file>)' : '';
    throw new CliError(`Cannot read the private key ${file}: ${(error as Error).message}${hint}`, 1, {
      cause: error,
    });
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new CliError(`The private key ${file} is not JSON (expected a private JWK)`);
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new CliError(`The private key ${file} is not a JWK`);
  }
  const key = jwk as JWK;
  if (!key.kid || !key.alg) throw new CliError(`The private key ${file} needs "kid" and "alg"`);
  if (!key.d) throw new CliError(`${file} is a public key: the private JWK is needed to sign`);
  return key;
}

function unreachable(origin: string, error: unknown): CliError {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  const reason =
    err.name === 'TimeoutError'
      ? `no answer within ${TIMEOUT_MS / 1000} s`
      : (err.cause?.code ?? err.cause?.message ?? err.message);
  return new CliError(
    `Cannot reach the registry at ${origin} (${reason}). Is the registry running? pnpm start`,
    1,
    {
      cause: error,
    },
  );
}

/** The registry's refusal as one readable line: the OAuth error and the server's reason. */
function refused(status: number, body: unknown, text: string): CliError {
  const { error, error_description: description } = (body ?? {}) as {
    error?: unknown;
    error_description?: unknown;
  };
  if (typeof error !== 'string') {
    return new CliError(
      `The registry refused the token (HTTP ${status}): ${text.slice(0, 500) || 'no body'}`,
    );
  }
  const reason = typeof description === 'string' && description !== '' ? `: ${description}` : '';
  return new CliError(`The registry refused the token (HTTP ${status} ${error})${reason}`);
}

/** Requests a token and prints it (or the whole response with `json`). */
export async function requestToken(ctx: CliContext, options: TokenOptions): Promise<void> {
  const origin = registryOrigin(options.url, ctx.env);
  const tokenUrl = `${origin}/oauth2/token`;
  const keyFile = options.keyFile ?? path.join(ctx.demoDir, 'keys', `${options.clientId}.private.jwk.json`);
  const privateJwk = await readPrivateKey(keyFile, options.keyFile === undefined);
  const org = options.org ?? (await demoOrganisationOf(ctx.demoDir, options.clientId));

  const assertion = await createClientAssertion({
    clientId: options.clientId,
    privateJwk,
    tokenUrl,
    iua: userClaims(options, org),
  });
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
  });
  if (options.scope) form.set('scope', options.scope);

  let response: Response;
  let text: string;
  try {
    response = await ctx.fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    throw unreachable(origin, error);
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) throw refused(response.status, body, text);
  const token = (body as { access_token?: unknown } | undefined)?.access_token;
  if (typeof token !== 'string') {
    throw new CliError(`The registry at ${origin} answered without an access_token: ${text.slice(0, 200)}`);
  }
  println(ctx.output, options.json ? JSON.stringify(body, null, 2) : token);
}

/** Adds `nir token`. */
export function registerTokenCommand(program: Command, ctx: CliContext): void {
  program
    .command('token')
    .description('get an access token from a running registry with a signed client assertion')
    .requiredOption('--client <id>', 'the client id (issuer of the assertion)')
    .option('--key <file>', 'private JWK file (default: demo/keys/<client>.private.jwk.json)')
    .option('--url <origin>', 'registry origin (default: NIR_PUBLIC_URL or http://127.0.0.1:8080)')
    .option('--org <ods>', "the end user's organisation (default: the demo client's first organisation)")
    .option('--user <id>', "the end user's id (IUA subject_id)")
    .option('--name <name>', "the end user's name (IUA subject_name)")
    .option('--role <code>', "the end user's role code, or system|code (IUA subject_role)")
    .option('--purpose <code>', 'purpose of use (ActReason code)', 'TREAT')
    .option('--scope <scope>', 'the scopes to ask for (default: all the client is entitled to)')
    .option('--json', 'print the whole token response as JSON')
    .action(
      async (options: Omit<TokenOptions, 'clientId' | 'keyFile'> & { client: string; key?: string }) => {
        const { client, key, ...rest } = options;
        await requestToken(ctx, { ...rest, clientId: client, keyFile: key });
      },
    );
}
