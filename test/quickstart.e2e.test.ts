/**
 * The quick start, as a user runs it: `node packages/server/src/main.ts` (what `pnpm start`
 * runs) on the embedded database with a data directory, then a restart that keeps the data
 * and the jti memory (R18); and on PostgreSQL, where demo mode is off and demo keys refused.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { describe, expect, it } from 'vitest';
import {
  demoAssertion,
  type ServerProcess,
  startServerProcess,
  stopServerProcess,
  tokenRequest,
} from './support/server-process.ts';

const backends = await testBackends();

describe('quick start on the embedded database', () => {
  it('starts with the demo catalogue, keeps data and used jtis across a restart, and locks its data directory', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'nir-quickstart-'));
    const first = await startServerProcess({ NIR_DATA_DIR: dataDir });
    let second: ServerProcess | undefined;
    try {
      expect(first.output()).toContain('pnpm -s nir token --client demo-consumer');
      const assertion = await demoAssertion(first.url, 'demo-consumer', 'RWY');
      const consumer = await tokenRequest(first.url, assertion);
      expect(consumer.status).toBe(200);
      // The demo data: the consumer finds the two seeded example pointers of 9000000009.
      const search = await fetch(
        `${first.url}/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009`,
        {
          headers: {
            authorization: `Bearer ${((await consumer.json()) as { access_token: string }).access_token}`,
            'x-request-id': 'qs-search',
            'nhsd-end-user-organisation-ods': 'RWY',
          },
        },
      );
      expect(search.status).toBe(200);
      expect(((await search.json()) as { total: number }).total).toBe(2);

      const adminToken = (await (
        await tokenRequest(first.url, await demoAssertion(first.url, 'demo-admin', 'X26'))
      ).json()) as { access_token: string };
      const suspend = await fetch(`${first.url}/admin/organisations/RAE`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${adminToken.access_token}`,
          'x-request-id': 'qs-1',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'DEMO Bradford Teaching Hospitals (provider)', status: 'suspended' }),
      });
      expect(suspend.status).toBe(200);

      // A second process may not open the same embedded database.
      await expect(openStore({ dataDir })).rejects.toThrow(/in use by process/);

      expect(await stopServerProcess(first)).toBe(0);
      second = await startServerProcess({ NIR_DATA_DIR: dataDir });
      // The replayed assertion is refused after the restart: the jti was kept in the database.
      expect((await tokenRequest(second.url, assertion)).status).toBe(401);
      // The administrator's change survived, and the demo seed did not undo it.
      const provider = await tokenRequest(
        second.url,
        await demoAssertion(second.url, 'demo-provider-b', 'RAE'),
      );
      expect(provider.status).toBe(403);
      expect(second.output()).not.toContain('was seeded');
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
      if (second) await stopServerProcess(second);
    }
  }, 120_000);
});

describe('start on PostgreSQL', () => {
  const postgres = backends.find((b) => b.name === 'postgres');
  it.runIf(postgres)(
    'migrates, is not in demo mode, and refuses the demo keys',
    async () => {
      const database = await postgres?.freshDatabaseUrl?.();
      if (!database) throw new Error('no database');
      let running: ServerProcess | undefined;
      try {
        running = await startServerProcess({ DATABASE_URL: database.url });
        const refused = await tokenRequest(
          running.url,
          await demoAssertion(running.url, 'demo-consumer', 'RWY'),
        );
        expect(refused.status).toBe(401);
        expect(running.output()).toContain('Demo mode is off');
        expect(running.output()).toContain('NIR_DEMO_MODE=true');
        expect((await fetch(`${running.url}/_status`)).status).toBe(200);
      } finally {
        if (running) await stopServerProcess(running);
        await database.drop();
      }
    },
    120_000,
  );
});
