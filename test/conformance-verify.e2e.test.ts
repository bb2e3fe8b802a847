/**
 * R15: the verifier judges a supplier's system from the registry's audit trail and stored
 * pointers. The reference good client passes every check of each plan; the deliberately faulty
 * one fails exactly the checks its faults break, with evidence. The reports (JSON signed by the
 * registry, JUnit XML, HTML checked in headless Chromium) and the operator's sandbox reset are
 * exercised on both databases.
 */
import { randomInt } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { captureOutput, runCli } from '@nir/cli';
import {
  type ConformanceReport,
  examplePointer,
  INSTALL_ROOT,
  instantiatePlan,
  loadPlan,
  planChecks,
} from '@nir/conformance';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSUMER_FAULTS,
  faultyConsumer,
  faultyProducer,
  goodConsumer,
  goodProducer,
  PRODUCER_FAULTS,
  seedConsumerPlan,
} from './conformance/reference-clients.ts';
import { chromiumAvailable, launchBrowser, saveScreenshot } from './support/browser.ts';
import { REPO_ROOT, startTestRegistry, type TestRegistry } from './support/harness.ts';

const backends = await testBackends();
const example = await examplePointer(INSTALL_ROOT);
const producerPlan = await loadPlan('producer');
const consumerPlan = await loadPlan('consumer');
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe.each(backends)('nir conformance verify on $name', (backend) => {
  let t: TestRegistry;
  let outDir: string;
  const reports: Record<string, { code: number; report: ConformanceReport; out: string; json: string }> = {};

  async function cli(args: string[]) {
    const output = captureOutput();
    const code = await runCli(args, {
      output,
      env: {},
      store: t.registry.store,
      fetch,
      actor: 'cli:test-operator',
    });
    return { code, out: output.out + output.err };
  }

  async function verify(name: string, plan: string, client: string, since: string, until: string) {
    const result = await cli([
      ...['conformance', 'verify', '--plan', plan, '--client', client],
      ...['--since', since, '--until', until, '--out-dir', path.join(outDir, name)],
    ]);
    const file = /json: (.+\.json)$/m.exec(result.out)?.[1] ?? '';
    const json = await readFile(file, 'utf8');
    reports[name] = { ...result, report: JSON.parse(json) as ConformanceReport, json };
    return reports[name];
  }

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), { env: { NIR_SANDBOX: 'true' } });
    outDir = await mkdtemp(path.join(tmpdir(), 'nir-verify-'));
    // Producers: two clients, judged separately over the same period.
    const producers = instantiatePlan(producerPlan, randomInt);
    const p0 = new Date().toISOString();
    await goodProducer(t.url, producers, example);
    await faultyProducer(t.url, instantiatePlan(producerPlan, randomInt), example);
    await tick();
    const p1 = new Date().toISOString();
    await verify('good-producer', 'producer', 'demo-provider-a', p0, p1);
    await verify('faulty-producer', 'producer', 'demo-provider-b', p0, p1);
    // Consumers: one client id, so the two sessions are told apart by their periods.
    const consumers = instantiatePlan(consumerPlan, randomInt);
    await seedConsumerPlan(t.url, consumers, example);
    await tick();
    const c0 = new Date().toISOString();
    await goodConsumer(t.url, consumers);
    await tick();
    const c1 = new Date().toISOString();
    await faultyConsumer(t.url, consumers);
    await tick();
    const c2 = new Date().toISOString();
    await verify('good-consumer', 'consumer', 'demo-consumer', c0, c1);
    await verify('faulty-consumer', 'consumer', 'demo-consumer', c1, c2);
  }, 240_000);

  afterAll(async () => {
    await t?.close();
    // Kept for a person to read, like the screenshots: test-results/conformance/<backend>/.
    if (outDir)
      await cp(outDir, path.join(REPO_ROOT, 'test-results', 'conformance', backend.name), {
        recursive: true,
      });
    await rm(outDir, { recursive: true, force: true });
  });

  const failedIds = (report: ConformanceReport) =>
    report.checks.filter((c) => c.status === 'fail').map((c) => c.id);

  it('the good producer passes every check of the producer plan (exit 0)', () => {
    const { report, code, out } = reports['good-producer'] ?? ({} as never);
    expect(failedIds(report), out).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(planChecks(producerPlan));
    expect(report.summary).toMatchObject({ result: 'pass', failed: 0 });
    expect(code).toBe(0);
  });

  it('the faulty producer fails exactly the checks its faults break, with evidence (exit 3)', () => {
    const { report, code } = reports['faulty-producer'] ?? ({} as never);
    const expected = [...new Set(Object.values(PRODUCER_FAULTS).flat())];
    expect(failedIds(report).sort()).toEqual([...expected].sort());
    expect(code).toBe(3);
    for (const check of report.checks.filter((c) => c.status === 'fail')) {
      if (check.id === 'PRODUCER-SUPERSEDE') continue; // the evidence of a missing step is its absence
      expect(check.evidence.length, check.id).toBeGreaterThan(0);
      expect(check.hint.length).toBeGreaterThan(20);
    }
    const reuse = report.checks.find((c) => c.id === 'REQUEST-ID-UNIQUE');
    expect(reuse?.evidence.map((e) => e.note).sort()).toEqual([
      'request id reused (create)',
      'request id reused (update)',
    ]);
    expect(reuse?.evidence[0]?.eventIds[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.checks.find((c) => c.id === 'NO-DELETE-AND-CREATE')?.evidence).toHaveLength(2);
  });

  it('the good consumer passes every check of the consumer plan', () => {
    const { report, code, out } = reports['good-consumer'] ?? ({} as never);
    expect(failedIds(report), out).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(planChecks(consumerPlan));
    expect(code).toBe(0);
  });

  it('the faulty consumer fails exactly the checks its faults break', () => {
    const { report } = reports['faulty-consumer'] ?? ({} as never);
    const expected = [...new Set(Object.values(CONSUMER_FAULTS).flat())];
    expect(failedIds(report).sort()).toEqual([...expected].sort());
  });

  it('a report names the registry, profile and plan versions and verifies with the registry JWKS; an altered one does not', async () => {
    const { report, json } = reports['good-producer'] ?? ({} as never);
    expect(report.plan).toMatchObject({ name: 'producer', version: producerPlan.version });
    expect(report.registry.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.registry.sandbox).toBe(true);
    expect(report.registry.profiles.find((p) => p.id === 'NIR-DocumentReference')?.version).toMatch(
      /^\d+\.\d+\.\d+$/,
    );
    const file = path.join(
      outDir,
      'good-producer',
      `${report.client.id}-producer-${report.generatedAt.replace(/[:.]/g, '-')}.json`,
    );
    const jwks = `${t.url}/.well-known/jwks.json`;
    const ok = await cli(['conformance', 'verify-report', file, '--jwks', jwks]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain('Signature valid');
    const altered = path.join(outDir, 'altered.json');
    await writeFile(altered, json.replace('"result": "pass"', '"result": "fail"'));
    await writeFile(`${altered}.jws`, await readFile(`${file}.jws`, 'utf8'));
    const refused = await cli(['conformance', 'verify-report', altered, '--jwks', jwks]);
    expect(refused.code).toBe(3);
    expect(refused.out).toContain('altered');
  });

  it('JUnit XML has one test case per check and a failure for each failed check', async () => {
    const { report } = reports['faulty-producer'] ?? ({} as never);
    const dir = path.join(outDir, 'faulty-producer');
    const xml = await readFile(
      path.join(dir, `demo-provider-b-producer-${report.generatedAt.replace(/[:.]/g, '-')}.junit.xml`),
      'utf8',
    );
    expect(xml.match(/<testcase /g)).toHaveLength(report.checks.length);
    expect(xml.match(/<failure /g)).toHaveLength(report.summary.failed);
    expect(xml).toContain(`tests="${report.checks.length}" failures="${report.summary.failed}"`);
  });

  it.runIf(chromiumAvailable() || process.env.CI)(
    'the HTML report renders in headless Chromium with no network, every check and its result',
    async () => {
      const browser = await launchBrowser();
      try {
        for (const name of ['faulty-producer', 'good-consumer']) {
          const { report } = reports[name] ?? ({} as never);
          const file = path.join(
            outDir,
            name,
            `${report.client.id}-${report.plan.name}-${report.generatedAt.replace(/[:.]/g, '-')}.html`,
          );
          const page = await browser.newPage();
          const requested: string[] = [];
          page.on('request', (request) => requested.push(request.url()));
          await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
          expect(requested).toEqual([pathToFileURL(file).href]);
          const sections = await page.$$eval('section.check', (els) =>
            els.map((el) => el.getAttribute('data-status')),
          );
          expect(sections).toEqual(report.checks.map((c) => c.status));
          expect(await page.$eval('#result', (el) => el.textContent)).toContain(
            `${report.summary.passed} of ${report.summary.checks} checks passed`,
          );
          expect(await page.$$eval('.hint', (els) => els.length)).toBe(report.summary.failed);
          await saveScreenshot(page, `conformance-${name}-${backend.name}`);
          await page.close();
        }
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it("the operator's sandbox reset removes one supplier's pointers and audit, and nothing of another", async () => {
    const db = t.registry.store.db;
    const count = async (table: 'audit_event' | 'pointer_history', client: string) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('client_id', '=', client)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count('audit_event', 'demo-provider-a');
    const otherBefore = await count('audit_event', 'demo-provider-b');
    expect(before).toBeGreaterThan(0);
    const reset = await cli(['conformance', 'reset', '--client', 'demo-provider-b']);
    expect(reset.code, reset.out).toBe(0);
    expect(reset.out).toMatch(
      /Reset demo-provider-b: \d+ pointers, \d+ history rows, \d+ AuditEvents removed/,
    );
    expect(await count('audit_event', 'demo-provider-b')).toBe(0);
    expect(await count('pointer_history', 'demo-provider-b')).toBe(0);
    expect(otherBefore).toBeGreaterThan(0);
    expect(await count('audit_event', 'demo-provider-a')).toBe(before);
    // The reset is itself audited, in the same transaction, under the operator's name.
    const resets = await db
      .selectFrom('audit_event')
      .select(['client_id', 'outcome'])
      .where('subtype', '=', 'sandbox-reset')
      .execute();
    expect(resets).toEqual([{ client_id: 'cli:test-operator', outcome: '0' }]);
    // Outside a reset the audit stays immutable, even in the sandbox.
    await expect(
      db.deleteFrom('audit_event').where('client_id', '=', 'demo-provider-a').execute(),
    ).rejects.toThrow(/immutable/);
  });
});
