/**
 * `nir keys`: the registry's access-token signing keys. A rotation makes a fresh key active
 * and retires the old one, which stays published while tokens it signed can still be in use;
 * running servers pick the new key up on their next refresh (NIR_KEY_REFRESH_SECONDS).
 */
import { KeyRing } from '@nir/server';
import { SigningKeyStore, type StoredSigningKey } from '@nir/store';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { type Column, println, printRows } from '../output.ts';

/** Long enough to list every key ever stored (about a century). */

/** Rotates the signing key; returns the new kid. */
export async function rotateKeys(ctx: CliContext): Promise<string> {
  const kid = await ctx.stores.withStore((store) =>
    // graceSeconds only decides which keys the ring loads; a rotation does not depend on it.
    new KeyRing(new SigningKeyStore(store.db), { graceSeconds: 600 }).rotate(),
  );
  println(ctx.output, kid);
  return kid;
}

/** A signing key as listed: everything but the private half. */
export type ListedKey = Omit<StoredSigningKey, 'privateJwk'>;

const KEY_COLUMNS: Column<ListedKey>[] = [
  { header: 'KID', value: (k) => k.kid },
  { header: 'ALG', value: (k) => k.alg },
  { header: 'CREATED', value: (k) => k.createdAt },
  { header: 'RETIRED', value: (k) => k.retiredAt ?? '- (active)' },
];

/** Lists every stored signing key, newest first (never the private halves). */
export async function listKeys(
  ctx: CliContext,
  options: { json?: boolean | undefined } = {},
): Promise<ListedKey[]> {
  const stored = await ctx.stores.withStore((store) => new SigningKeyStore(store.db).listAll());
  const keys = stored.map(({ privateJwk: _private, ...key }): ListedKey => key);
  printRows(ctx.output, keys, KEY_COLUMNS, {
    json: options.json,
    empty: 'No signing keys (the server creates one on its first start).',
  });
  return keys;
}

/** Adds `nir keys ...`. */
export function registerKeysCommands(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description("the registry's access-token signing keys");
  keys
    .command('rotate')
    .description('make a fresh signing key active and retire the current one; prints the new kid')
    .action(async () => {
      await rotateKeys(ctx);
    });
  keys
    .command('list')
    .description('list the signing keys: kid, alg, created, retired')
    .option('--json', 'print JSON (public keys only)')
    .action(async (options: { json?: boolean }) => {
      await listKeys(ctx, options);
    });
}
