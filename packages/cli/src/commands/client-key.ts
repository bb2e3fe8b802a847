/**
 * `nir client-key`: makes a key pair for a client system, the way a supplier would: the private
 * JWK stays with the client (it signs the client assertions), the public JWKS is registered in
 * the Controller Catalogue (`nir catalogue client put --jwks`, or the admin API). Nothing is
 * stored by the registry; existing files are never overwritten.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLIENT_ASSERTION_ALGS } from '@nir/server';
import type { Command } from 'commander';
import { exportJWK, generateKeyPair } from 'jose';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { println } from '../output.ts';

/** The files `nir client-key` wrote. */
export interface ClientKeyFiles {
  privateFile: string;
  jwksFile: string;
  kid: string;
}

/** Generates a key pair for `clientId`; writes `<clientId>.private.jwk.json` and `<clientId>.jwks.json`. */
export async function generateClientKey(
  ctx: CliContext,
  clientId: string,
  options: { alg: string; dir: string },
): Promise<ClientKeyFiles> {
  if (!(CLIENT_ASSERTION_ALGS as readonly string[]).includes(options.alg)) {
    throw new CliError(`--alg must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
  }
  if (!/^[A-Za-z0-9._-]{3,64}$/.test(clientId)) {
    throw new CliError('The client id must be 3–64 letters, digits, dots, underscores or hyphens');
  }
  const { publicKey, privateKey } = await generateKeyPair(options.alg, {
    extractable: true,
    modulusLength: 3072,
  });
  const kid = `${clientId}-${new Date().toISOString().slice(0, 10)}`;
  const meta = { kid, alg: options.alg, use: 'sig' };
  const privateFile = path.join(options.dir, `${clientId}.private.jwk.json`);
  const jwksFile = path.join(options.dir, `${clientId}.jwks.json`);
  const write = async (file: string, value: unknown) => {
    try {
      await writeFile(file, `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      throw new CliError(`Cannot write ${file}: ${(error as Error).message}`, 1, { cause: error });
    }
  };
  await write(privateFile, { ...(await exportJWK(privateKey)), ...meta });
  await write(jwksFile, { keys: [{ ...(await exportJWK(publicKey)), ...meta }] });
  println(ctx.output, `${privateFile}  private key: keep it with the client, never share it`);
  println(
    ctx.output,
    `${jwksFile}  public JWKS: register it (nir catalogue client put ${clientId} --jwks ${jwksFile})`,
  );
  return { privateFile, jwksFile, kid };
}

/** Adds `nir client-key`. */
export function registerClientKeyCommand(program: Command, ctx: CliContext): void {
  program
    .command('client-key')
    .description('make a key pair for a client system: its private JWK and the public JWKS to register')
    .argument('<clientId>', 'the client id the key is for')
    .option('--alg <alg>', `signing algorithm: ${CLIENT_ASSERTION_ALGS.join(', ')}`, 'ES384')
    .option('--dir <dir>', 'where to write the two files', '.')
    .action(async (clientId: string, options: { alg: string; dir: string }) => {
      await generateClientKey(ctx, clientId, options);
    });
}
