import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '@nir/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './test-support.ts';

let store: Store;
const nir = cliRunner(() => ({ store, env: { NIR_DEMO_MODE: 'true' } }));

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
});

afterAll(async () => {
  await store.close();
});

describe('nir demo seed', () => {
  it('seeds an empty catalogue once', async () => {
    const first = await nir('demo', 'seed');
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toContain('Seeded the demo catalogue');
    expect(first.out).not.toContain('NIR_DEMO_MODE');
    const clients = await nir('catalogue', 'client', 'list');
    expect(clients.out).toMatch(/demo-consumer\s+DEMO EPR of RWY\s+active\s+RWY\s+consumer\s+no\s+yes/);

    const second = await nir('demo', 'seed');
    expect(second.code).toBe(0);
    expect(second.out).toContain('nothing seeded');
  });
});

describe('nir keys', () => {
  it('rotates the signing key and lists the keys', async () => {
    const empty = await nir('keys', 'list');
    expect(empty.out).toContain('No signing keys');

    const first = await nir('keys', 'rotate');
    const second = await nir('keys', 'rotate');
    expect(first.code).toBe(0);
    const kid1 = first.out.trim();
    const kid2 = second.out.trim();
    expect(kid1).toMatch(/^nir-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    expect(kid2).not.toBe(kid1);

    const list = await nir('keys', 'list');
    const lines = list.out.trim().split('\n');
    expect(lines[0]).toMatch(/^KID\s+ALG\s+CREATED\s+RETIRED$/);
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[0])).toEqual([kid2, kid1]);
    expect(rows[0]?.[3]).toBe('- (active)');
    expect(rows[1]?.[3]).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const json = JSON.parse((await nir('keys', 'list', '--json')).out) as Record<string, unknown>[];
    expect(json).toHaveLength(2);
    expect(json[0]).not.toHaveProperty('privateJwk');
    expect(JSON.stringify(json)).not.toContain('"d"');
  });
});

describe('nir migrate', () => {
  it('reports the migrations', async () => {
    const result = await nir('migrate');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Applied \d+ migration\(s\) to the pglite database:\n {2}0001_/);
  });
});

describe('opening the database', () => {
  it('says cleanly that the embedded database is in use, and suggests the admin API', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'nir-lock-'));
    // A live process (our parent) holds the data directory.
    await writeFile(path.join(dataDir, 'nir.pid'), String(process.ppid));
    const locked = cliRunner(() => ({ env: { NIR_DATA_DIR: dataDir } }));
    const result = await locked('catalogue', 'org', 'list');
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain(`The embedded database at ${dataDir} is in use by process ${process.ppid}`);
    expect(result.err).toContain('admin API');
    expect(result.err).not.toMatch(/\n\s+at /);
  });
});
