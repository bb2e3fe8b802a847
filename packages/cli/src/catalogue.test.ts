import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_DEMO_DIR } from '@nir/server';
import { openStore, type Store } from '@nir/store';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { osUsername } from './context.ts';
import { captureOutput } from './output.ts';
import { buildProgram } from './program.ts';
import { cliRunner } from './test-support.ts';

let store: Store;
let dir: string;
const nir = cliRunner(() => ({ store }));

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  dir = await mkdtemp(path.join(tmpdir(), 'nir-cli-'));
});

afterAll(async () => {
  await store.close();
});

async function publicJwk(kid: string): Promise<Record<string, unknown>> {
  const { publicKey } = await generateKeyPair('ES384', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
}

async function writeJson(name: string, value: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(value));
  return file;
}

function tableRow(out: string, first: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith(`${first} `));
  return line ? line.split(/\s{2,}/) : [];
}

describe('nir catalogue org', () => {
  it('creates, suspends and lists organisations', async () => {
    const put = await nir('catalogue', 'org', 'put', 'AAA1', '--name', 'Test Trust A');
    expect(put).toMatchObject({ code: 0, err: '' });
    expect(put.out).toContain('Created organisation AAA1 (active, version 1)');

    const suspend = await nir('catalogue', 'org', 'suspend', 'AAA1');
    expect(suspend.code).toBe(0);
    expect(suspend.out).toContain('AAA1 is now suspended (version 2)');

    // A put without --status keeps the status.
    expect((await nir('catalogue', 'org', 'put', 'AAA1', '--name', 'Test Trust A2')).out).toContain(
      'Updated organisation AAA1 (suspended, version 3)',
    );

    const list = await nir('catalogue', 'org', 'list');
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toMatch(/^ODS\s+NAME\s+STATUS\s+VERSION\s+UPDATED$/);
    expect(tableRow(list.out, 'AAA1').slice(0, 4)).toEqual(['AAA1', 'Test Trust A2', 'suspended', '3']);

    const json = await nir('catalogue', 'org', 'list', '--json');
    const orgs = JSON.parse(json.out) as { odsCode: string; status: string }[];
    expect(orgs.find((o) => o.odsCode === 'AAA1')?.status).toBe('suspended');

    expect((await nir('catalogue', 'org', 'activate', 'AAA1')).out).toContain('AAA1 is now active');
    expect((await nir('catalogue', 'org', 'terminate', 'AAA1')).out).toContain('AAA1 is now terminated');
    expect((await nir('catalogue', 'org', 'put', 'AAA1', '--name', 'A', '--status', 'active')).code).toBe(0);
  });

  it('refuses invalid input with the field and exit code 2', async () => {
    const bad = await nir('catalogue', 'org', 'put', 'bad code', '--name', 'X', '--status', 'closed');
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toContain('odsCode: must be 3–9 upper-case letters or digits');
    expect(bad.err).toContain('status: Input should be one of active, suspended, terminated');
    expect(bad.err).not.toMatch(/\n\s+at /);

    const missing = await nir('catalogue', 'org', 'suspend', 'NOPE1');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("Organisation 'NOPE1' is not in the catalogue");
  });

  it('reports a missing required option as a usage error (exit 1)', async () => {
    const result = await nir('catalogue', 'org', 'put', 'AAA2');
    expect(result.code).toBe(1);
    expect(result.err).toContain("required option '--name <name>' not specified");
  });
});

describe('nir catalogue client', () => {
  it('registers a client with a JWKS file, and with a single JWK file', async () => {
    await nir('catalogue', 'org', 'put', 'BBB1', '--name', 'Test Trust B');
    await nir('catalogue', 'org', 'put', 'BBB2', '--name', 'Test Trust B2');
    const jwks = await writeJson('jwks.json', { keys: [await publicJwk('k1'), await publicJwk('k2')] });

    const put = await nir(
      'catalogue',
      'client',
      'put',
      'test-pacs',
      '--name',
      'Test PACS',
      '--jwks',
      jwks,
      '--org',
      'BBB1,BBB2',
      '--roles',
      'producer',
    );
    expect(put).toMatchObject({ code: 0, err: '' });
    expect(put.out).toContain('Created client test-pacs (active, for BBB1, BBB2, 2 key(s), version 1)');

    const single = await writeJson('one.jwk.json', await publicJwk('k3'));
    const admin = await nir(
      'catalogue',
      'client',
      'put',
      'test-admin',
      '--name',
      'Test admin',
      '--jwks',
      single,
      '--org',
      'BBB1',
      '--admin',
      '--disabled',
    );
    expect(admin.code).toBe(0);

    const list = await nir('catalogue', 'client', 'list');
    expect(tableRow(list.out, 'test-pacs')).toEqual([
      'test-pacs',
      'Test PACS',
      'active',
      'BBB1,BBB2',
      'producer',
      'no',
      'no',
      'k1,k2',
      '1',
    ]);
    expect(tableRow(list.out, 'test-admin').slice(0, 8)).toEqual([
      'test-admin',
      'Test admin',
      'disabled',
      'BBB1',
      '-',
      'yes',
      'no',
      'k3',
    ]);
    const stored = await nir('catalogue', 'client', 'list', '--json');
    const clients = JSON.parse(stored.out) as { clientId: string; jwks: { keys: { kid: string }[] } }[];
    expect(clients.find((c) => c.clientId === 'test-pacs')?.jwks.keys.map((k) => k.kid)).toEqual([
      'k1',
      'k2',
    ]);

    const deleted = await nir('catalogue', 'client', 'delete', 'test-admin');
    expect(deleted.out).toContain('Deleted client test-admin');
    expect((await nir('catalogue', 'client', 'delete', 'test-admin')).code).toBe(2);
  });

  it('refuses a private key, and an organisation that is not in the catalogue', async () => {
    const { privateKey } = await generateKeyPair('ES384', { extractable: true });
    const privateFile = await writeJson('private.jwk.json', { ...(await exportJWK(privateKey)), kid: 'p1' });
    const refused = await nir(
      'catalogue',
      'client',
      'put',
      'test-x',
      '--name',
      'X',
      '--jwks',
      privateFile,
      '--org',
      'BBB1',
    );
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('jwks.keys[0]: must be a public RSA or EC key with a kid');

    const jwks = await writeJson('jwks-2.json', { keys: [await publicJwk('k9')] });
    const unknownOrg = await nir(
      'catalogue',
      'client',
      'put',
      'test-y',
      '--name',
      'Y',
      '--jwks',
      jwks,
      '--org',
      'ZZZ9',
    );
    expect(unknownOrg.code).toBe(2);
    expect(unknownOrg.err).toContain('Unknown organisation(s) ZZZ9');

    const noFile = await nir(
      'catalogue',
      'client',
      'put',
      'test-y',
      '--name',
      'Y',
      '--jwks',
      path.join(dir, 'none.json'),
      '--org',
      'BBB1',
    );
    expect(noFile.code).toBe(1);
    expect(noFile.err).toContain('Cannot read the JWKS file');
  });
});

describe('nir catalogue grant', () => {
  it('puts, lists and deletes grants', async () => {
    await nir('catalogue', 'org', 'put', 'CCC1', '--name', 'Test Trust C');
    const put = await nir(
      'catalogue',
      'grant',
      'put',
      'CCC1',
      'producer',
      '--types',
      'https://nicip.nhs.uk|MAULR,http://snomed.info/sct|418062002',
      '--interactions',
      'create,read,search',
      '--access-controls',
      'ALLOW_OVERRIDE_CREATION_DATETIME',
    );
    expect(put).toMatchObject({ code: 0, err: '' });
    expect(put.out).toContain(
      'Created producer grant of CCC1 (2 pointer type(s), create, read, search; version 1)',
    );
    const audit = await nir('catalogue', 'grant', 'put', 'CCC1', 'audit', '--interactions', 'audit-search');
    expect(audit.code).toBe(0);

    const list = await nir('catalogue', 'grant', 'list', '--org', 'CCC1');
    expect(list.out.split('\n')[0]).toMatch(
      /^ODS\s+ROLE\s+POINTER TYPES\s+INTERACTIONS\s+ACCESS CONTROLS\s+VERSION$/,
    );
    expect(list.out.trim().split('\n')).toHaveLength(3);
    expect(list.out).toContain('https://nicip.nhs.uk|MAULR,http://snomed.info/sct|418062002');
    expect(list.out).toContain('ALLOW_OVERRIDE_CREATION_DATETIME');

    const json = JSON.parse((await nir('catalogue', 'grant', 'list', '--org', 'CCC1', '--json')).out) as {
      role: string;
      interactions: string[];
    }[];
    expect(json.map((g) => g.role)).toEqual(['audit', 'producer']);
    expect(json[1]?.interactions).toEqual(['create', 'read', 'search']);

    expect((await nir('catalogue', 'grant', 'delete', 'CCC1', 'audit')).out).toContain(
      'Deleted the audit grant of CCC1',
    );
    expect(JSON.parse((await nir('catalogue', 'grant', 'list', '--org', 'CCC1', '--json')).out)).toHaveLength(
      1,
    );
  });

  it('refuses interactions that do not suit the role (exit 2)', async () => {
    const result = await nir(
      'catalogue',
      'grant',
      'put',
      'CCC1',
      'consumer',
      '--interactions',
      'read,create',
    );
    expect(result.code).toBe(2);
    expect(result.err).toContain("interactions[1]: 'create' is not an interaction of the consumer role");
    const badRole = await nir('catalogue', 'grant', 'delete', 'CCC1', 'owner');
    expect(badRole.code).toBe(2);
    expect(badRole.err).toContain('role: Role must be one of producer, consumer, audit');
  });
});

describe('nir catalogue changes', () => {
  it('shows the history with the CLI actor', async () => {
    const result = await nir('catalogue', 'changes', '--key', 'AAA1');
    expect(result.code).toBe(0);
    const lines = result.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TIME\s+ACTOR\s+ENTITY\s+KEY\s+ACTION$/);
    const actor = `cli:${osUsername()}`;
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) {
      expect(row[2]).toBe(actor);
      expect(row[3]).toBe('organisation');
      expect(row[4]).toBe('AAA1');
    }
    expect(rows.map((r) => r[5])).toEqual(['create', 'update', 'update', 'update', 'update', 'update']);

    const latest = await nir('catalogue', 'changes', '--entity', 'grant', '--limit', '1', '--json');
    const changes = JSON.parse(latest.out) as {
      entityKey: string;
      action: string;
      before: unknown;
      actor: string;
    }[];
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ entityKey: 'CCC1/audit', action: 'delete', actor });
    expect(changes[0]?.before).not.toBeNull();

    expect((await nir('catalogue', 'changes', '--entity', 'pointer')).code).toBe(1);
    expect((await nir('catalogue', 'changes', '--limit', '0')).code).toBe(1);
  });
});

describe('nir catalogue import', () => {
  async function demoShapedFile(): Promise<Record<string, unknown>> {
    const demo = JSON.parse(await readFile(path.join(DEFAULT_DEMO_DIR, 'catalogue.json'), 'utf8')) as {
      clients: { clientId: string }[];
    } & Record<string, unknown>;
    const clients = await Promise.all(
      demo.clients.map(async (client) => ({
        ...client,
        jwks: {
          keys: [
            JSON.parse(
              await readFile(
                path.join(DEFAULT_DEMO_DIR, 'keys', `${client.clientId}.public.jwk.json`),
                'utf8',
              ),
            ) as unknown,
          ],
        },
      })),
    );
    return { ...demo, clients };
  }

  it('validates everything first and writes nothing when an entry is bad', async () => {
    const file = await demoShapedFile();
    const grants = file.grants as Record<string, unknown>[];
    const broken = {
      ...file,
      organisations: [...(file.organisations as unknown[]), { odsCode: 'lower', name: 'Bad' }],
      grants: [...grants, { odsCode: 'RR8', role: 'consumer', interactions: ['delete'] }],
    };
    const result = await nir('catalogue', 'import', await writeJson('broken.json', broken));
    expect(result.code).toBe(2);
    expect(result.err).toContain('organisations[4].odsCode: must be 3–9 upper-case letters or digits');
    expect(result.err).toContain(
      "grants[4].interactions[0]: 'delete' is not an interaction of the consumer role",
    );
    const orgs = JSON.parse((await nir('catalogue', 'org', 'list', '--json')).out) as { odsCode: string }[];
    expect(orgs.map((o) => o.odsCode)).not.toContain('RR8');
  });

  it('loads a demo-shaped catalogue file with inline JWKS', async () => {
    const file = await writeJson('catalogue.json', await demoShapedFile());
    const result = await nir('catalogue', 'import', file);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain(
      '4 organisations (4 new, 0 updated), 5 clients (5 new, 0 updated), 4 grants (4 new, 0 updated)',
    );
    const clients = JSON.parse((await nir('catalogue', 'client', 'list', '--json')).out) as {
      clientId: string;
      organisations: string[];
      admin: boolean;
    }[];
    expect(clients.find((c) => c.clientId === 'demo-admin')).toMatchObject({
      organisations: ['X26'],
      admin: true,
    });
    const grants = JSON.parse((await nir('catalogue', 'grant', 'list', '--org', 'RR8', '--json')).out) as {
      role: string;
    }[];
    expect(grants.map((g) => g.role)).toEqual(['audit', 'producer']);

    // Importing again replaces the same records.
    expect((await nir('catalogue', 'import', file)).out).toContain('4 organisations (0 new, 4 updated)');
  });

  it('refuses a client that acts for an organisation the catalogue does not know', async () => {
    const file = await writeJson('orphan.json', {
      clients: [
        {
          clientId: 'orphan-1',
          name: 'Orphan',
          organisations: ['QQQ9'],
          jwks: { keys: [await publicJwk('o1')] },
        },
      ],
    });
    const result = await nir('catalogue', 'import', file);
    expect(result.code).toBe(2);
    expect(result.err).toContain('clients[0].organisations: unknown organisation QQQ9');
  });
});

describe('buildProgram', () => {
  it('writes its help to the injected output', async () => {
    const output = captureOutput();
    const program = buildProgram({ store, output });
    await expect(program.parseAsync(['--help'], { from: 'user' })).rejects.toMatchObject({ exitCode: 0 });
    expect(output.out).toContain('Usage: nir');
    for (const command of ['token', 'catalogue', 'keys', 'migrate', 'demo'])
      expect(output.out).toContain(command);
  });
});
