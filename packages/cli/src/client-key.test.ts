import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseClientInput } from '@nir/core';
import { CompactSign, compactVerify, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './test-support.ts';

const nir = cliRunner(() => ({ env: {} }));
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'nir-client-key-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('nir client-key', () => {
  it('writes a private JWK and a public JWKS the catalogue accepts, which verify each other', async () => {
    const result = await nir('client-key', 'my-admin', '--dir', dir);
    expect(result).toMatchObject({ code: 0, err: '' });
    const jwks = JSON.parse(await readFile(path.join(dir, 'my-admin.jwks.json'), 'utf8'));
    const privateJwk = JSON.parse(await readFile(path.join(dir, 'my-admin.private.jwk.json'), 'utf8'));
    expect(privateJwk).toMatchObject({ kty: 'EC', alg: 'ES384', d: expect.any(String) });
    expect(jwks.keys[0].d).toBeUndefined();
    expect(() => parseClientInput({ clientId: 'my-admin', name: 'Admin', jwks, admin: true })).not.toThrow();
    const jws = await new CompactSign(new TextEncoder().encode('x'))
      .setProtectedHeader({ alg: 'ES384' })
      .sign(await importJWK(privateJwk, 'ES384'));
    await expect(compactVerify(jws, await importJWK(jwks.keys[0], 'ES384'))).resolves.toBeDefined();
  });

  it('never overwrites a key file, and refuses an algorithm the registry does not accept', async () => {
    expect((await nir('client-key', 'my-admin', '--dir', dir)).code).toBe(1);
    const wrong = await nir('client-key', 'other', '--alg', 'HS256', '--dir', dir);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('--alg must be one of RS384, ES384, RS512');
  });
});
