import type { Store } from '@nir/store';
import { SandboxStore } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';
import { checkSandbox } from './sandbox.ts';

const [pglite] = await testBackends();

// R15: sandbox and production data never share a database.
describe('checkSandbox at start', () => {
  let fresh: Store;
  let used: Store;
  beforeAll(async () => {
    if (!pglite) throw new Error('no backend');
    [fresh, used] = await Promise.all([pglite.open(), pglite.open()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([fresh?.close(), used?.close()]);
  });

  it('NIR_SANDBOX is off unless set', () => {
    expect(readConfig({}).sandbox).toBe(false);
    expect(readConfig({ NIR_SANDBOX: 'true' }).sandbox).toBe(true);
    expect(() => readConfig({ NIR_SANDBOX: 'maybe' })).toThrow(/NIR_SANDBOX/);
  });

  it('NIR_SANDBOX marks a fresh database; a registry without it then refuses to start there', async () => {
    await checkSandbox(new SandboxStore(fresh.db), false);
    await checkSandbox(new SandboxStore(fresh.db), true);
    await checkSandbox(new SandboxStore(fresh.db), true);
    await expect(checkSandbox(new SandboxStore(fresh.db), false)).rejects.toThrow(
      /start the registry with NIR_SANDBOX=true/,
    );
  });

  it('NIR_SANDBOX on a database that has held pointers refuses to start', async () => {
    await sql`INSERT INTO pointer_history (id, version, nhs_number, custodian, action, recorded_at)
              VALUES ('RR8-x', 1, '9000000009', 'RR8', 'create', now())`.execute(used.db);
    await expect(checkSandbox(new SandboxStore(used.db), true)).rejects.toThrow(/has held pointers/);
  });
});
