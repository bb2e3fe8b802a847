/**
 * R15: `nir conformance run` passes against a freshly started sandbox registry on both
 * databases, for each role, and leaves nothing behind; the sandbox refuses NHS numbers outside
 * the test range.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureOutput, runCli } from '@nir/cli';
import type { ConformanceReport } from '@nir/conformance';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clinicalHeaders,
  DEMO_DIR,
  errorCode,
  startTestRegistry,
  type TestRegistry,
} from './support/harness.ts';
import { validPointer } from './support/pointers.ts';

const backends = await testBackends();
const key = (client: string) => path.join(DEMO_DIR, 'keys', `${client}.private.jwk.json`);

describe.each(backends)('nir conformance run against a fresh sandbox registry on $name', (backend) => {
  let t: TestRegistry;
  let outDir: string;
  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), { env: { NIR_SANDBOX: 'true' } });
    outDir = await mkdtemp(path.join(tmpdir(), 'nir-conformance-'));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await rm(outDir, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<{ code: number; report: ConformanceReport; out: string }> {
    const output = captureOutput();
    const code = await runCli(['conformance', 'run', '--registry', t.url, '--out-dir', outDir, ...args], {
      output,
      env: {},
    });
    const file = /json: (.+\.json)$/m.exec(output.out)?.[1];
    expect(file, output.out + output.err).toBeTruthy();
    const report = JSON.parse(await readFile(file ?? '', 'utf8')) as ConformanceReport;
    return { code, report, out: output.out + output.err };
  }

  function expectAllPass(result: { code: number; report: ConformanceReport; out: string }, ids: string[]) {
    const failed = result.report.checks.filter((c) => c.status === 'fail');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(result.code, result.out).toBe(0);
    expect(result.report.checks.map((c) => c.id)).toEqual(ids);
    expect(result.report.registry.profiles.map((p) => p.id)).toContain('NIR-DocumentReference');
  }

  it('producer: token, create, read, search, update, supersede, ITI-65, refusals, delete — all pass, nothing left', async () => {
    const result = await run([
      '--client',
      'demo-provider-a',
      '--key',
      key('demo-provider-a'),
      '--ods',
      'RR8',
      '--role',
      'producer',
    ]);
    expectAllPass(result, [
      'RUN-TOKEN',
      'RUN-CREATE',
      'RUN-READ',
      'RUN-SEARCH',
      'RUN-UPDATE',
      'RUN-SUPERSEDE',
      'RUN-ITI-65',
      'RUN-REFUSALS-POINTER',
      'RUN-REFUSALS-HEADERS',
      'RUN-DELETE',
      'RUN-REQUEST-ID-ECHO',
    ]);
    const live = await t.registry.store.db
      .selectFrom('pointer_locator')
      .select('id')
      .where('deleted', '=', false)
      .execute();
    expect(live).toEqual([]);
  });

  it('consumer (seeded by a producer): search, paging, read, refusals — all pass, seed deleted', async () => {
    const result = await run([
      ...['--client', 'demo-consumer', '--key', key('demo-consumer'), '--ods', 'RWY', '--role', 'consumer'],
      ...['--seed-client', 'demo-provider-a', '--seed-key', key('demo-provider-a'), '--seed-ods', 'RR8'],
    ]);
    expectAllPass(result, [
      'RUN-TOKEN',
      'RUN-SEARCH',
      'RUN-PAGING',
      'RUN-READ',
      'RUN-CLEANUP',
      'RUN-REFUSALS-SEARCH',
      'RUN-REFUSALS-HEADERS',
      'RUN-REQUEST-ID-ECHO',
    ]);
  });

  it('audit: search, read, export, refusals — all pass', async () => {
    const result = await run([
      '--client',
      'demo-audit',
      '--key',
      key('demo-audit'),
      '--ods',
      'RR8',
      '--role',
      'audit',
    ]);
    expectAllPass(result, [
      'RUN-TOKEN',
      'RUN-AUDIT-SEARCH',
      'RUN-AUDIT-EXPORT',
      'RUN-REFUSALS-HEADERS',
      'RUN-REQUEST-ID-ECHO',
    ]);
  });

  it('the sandbox refuses a real-range NHS number (422 at subject.identifier.value) and accepts a test one', async () => {
    const headers = {
      ...clinicalHeaders(await t.token('demo-provider-a'), 'RR8'),
      'content-type': 'application/fhir+json',
    };
    for (const nhsNumber of ['9000000009', '9278693472', '6700028191']) {
      const res = await t.fetch('/producer/FHIR/R4/DocumentReference', {
        method: 'POST',
        headers: { ...headers, 'x-request-id': crypto.randomUUID() },
        body: JSON.stringify(validPointer({ nhsNumber })),
      });
      const body = (await res.json()) as { issue?: { expression?: string[] }[] };
      expect(res.status).toBe(422);
      expect(errorCode(body)).toBe('UNPROCESSABLE_ENTITY');
      expect(body.issue?.[0]?.expression).toEqual(['subject.identifier.value']);
    }
    const ok = await t.fetch('/producer/FHIR/R4/DocumentReference', {
      method: 'POST',
      headers: { ...headers, 'x-request-id': crypto.randomUUID() },
      body: JSON.stringify(validPointer({ nhsNumber: '9995001624' })),
    });
    expect(ok.status).toBe(201);
  });

  it('a failing run exits 3 and says which check failed (a client without a producer grant for the type)', async () => {
    const result = await run([
      ...[
        '--client',
        'demo-provider-b',
        '--key',
        key('demo-provider-b'),
        '--ods',
        'RAE',
        '--role',
        'producer',
      ],
      ...['--type', 'https://nicip.nhs.uk|MAXIB'],
    ]);
    expect(result.code).toBe(3);
    const create = result.report.checks.find((c) => c.id === 'RUN-CREATE');
    expect(create?.status).toBe('fail');
    expect(create?.summary).toContain('expected 201, got 403');
    expect(result.out).toMatch(/^FAIL {2}RUN-CREATE/m);
  });
});
