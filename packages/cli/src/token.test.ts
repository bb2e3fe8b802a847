import path from 'node:path';
import { createRegistry, DEFAULT_DEMO_DIR, type Registry, readConfig } from '@nir/server';
import { openStore } from '@nir/store';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/free-port.ts';
import { cliRunner } from './test-support.ts';

let registry: Registry;
let origin: string;
const nir = cliRunner(() => ({ env: {} }));

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const store = await openStore({ dataDir: 'memory://' });
  const config = readConfig({ NIR_PUBLIC_URL: origin, LOG_LEVEL: 'silent' });
  registry = await createRegistry({ ...config, demoMode: true, port }, { store });
  await registry.listen(port, '127.0.0.1');
});

afterAll(async () => {
  await registry?.close();
});

describe('nir token', () => {
  it('prints an access token for a demo client', async () => {
    const result = await nir('token', '--client', 'demo-consumer', '--url', origin);
    expect(result).toMatchObject({ code: 0, err: '' });
    const token = result.out.trim();
    expect(token.split('.')).toHaveLength(3);
    const claims = decodeJwt(token);
    expect(claims.sub).toBe('demo-consumer');
    expect(claims.scope).toBe('system/DocumentReference.rs');
    expect(claims.extensions).toMatchObject({ ihe_iua: { subject_organization_id: 'RWY' } });
  });

  it('takes the URL from NIR_PUBLIC_URL, the user claims from flags, and prints JSON', async () => {
    const withEnv = cliRunner(() => ({ env: { NIR_PUBLIC_URL: `${origin}/` } }));
    const result = await withEnv(
      'token',
      '--client',
      'demo-provider-a',
      '--user',
      'u-42',
      '--name',
      'Dr Test',
      '--role',
      'R0260',
      '--purpose',
      'COC',
      '--scope',
      'system/DocumentReference.r',
      '--json',
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(result.out) as { access_token: string; scope: string; token_type: string };
    expect(body).toMatchObject({ scope: 'system/DocumentReference.r', token_type: 'bearer' });
    expect(decodeJwt(body.access_token).extensions).toMatchObject({
      ihe_iua: {
        subject_id: 'u-42',
        subject_name: 'Dr Test',
        subject_organization_id: 'RR8',
        subject_role: [{ code: 'R0260' }],
        purpose_of_use: [{ code: 'COC' }],
      },
    });
  });

  it("exits 1 with the registry's reason on stderr when it refuses", async () => {
    const unknown = await nir(
      'token',
      '--client',
      'unknown-client',
      '--key',
      path.join(DEFAULT_DEMO_DIR, 'keys', 'demo-consumer.private.jwk.json'),
      '--url',
      origin,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.out).toBe('');
    expect(unknown.err).toBe(
      'The registry refused the token (HTTP 401 invalid_client): Client authentication failed\n',
    );

    const wrongOrg = await nir('token', '--client', 'demo-consumer', '--org', 'RR8', '--url', origin);
    expect(wrongOrg.code).toBe(1);
    expect(wrongOrg.err).toBe(
      'The registry refused the token (HTTP 403 unauthorized_client): The client is not registered to act for that organisation\n',
    );
  });

  it('exits 1 when a client has no key file', async () => {
    const result = await nir('token', '--client', 'unknown-client', '--url', origin);
    expect(result.code).toBe(1);
    expect(result.err).toContain('pass --key <private-jwk-file>');
  });

  it('says clearly when the registry is not running', async () => {
    const port = await freePort();
    const result = await nir('token', '--client', 'demo-consumer', '--url', `http://127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`Cannot reach the registry at http://127.0.0.1:${port}`);
    expect(result.err).toContain('Is the registry running? pnpm start');
  });
});
