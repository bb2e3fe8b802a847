/**
 * Proof by real clients (issue 13): the same end-to-end flow (`flow.ts`) driven by
 * fhir-kit-client and by Medplum's MedplumClient, on both databases. Every resource the
 * registry returns is checked by an independent R4 validator (Medplum's `validateResource` over
 * the full R4 definitions, unknown elements as errors); the counts are written to
 * `test-results/client-validation.json` for the closing note.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startTestRegistry, type TestRegistry } from '../support/harness.ts';
import { fhirKitDriver } from './fhir-kit-driver.ts';
import { runClientFlow } from './flow.ts';
import { medplumDriver } from './medplum-driver.ts';
import { R4Validator } from './r4-validator.ts';

const backends = await testBackends();
const REPORT = path.join(REPO_ROOT, 'test-results', 'client-validation.json');

describe('the independent R4 validator', () => {
  it('finds unknown elements and bad values, also inside Bundle entries', () => {
    const validator = new R4Validator();
    const pointer = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'application/pdf', url: 'https://example.org/r' } }],
    };
    validator.check(pointer, 'valid');
    expect(validator.errors).toEqual([]);
    validator.check({ ...pointer, nirExtra: true }, 'unknown element');
    expect(validator.errors).toHaveLength(1);
    validator.check({ ...pointer, date: 'yesterday' }, 'bad instant');
    expect(validator.errors.length).toBeGreaterThan(1);
    const before = validator.errors.length;
    validator.check(
      { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { ...pointer, nirExtra: 1 } }] },
      'bundle',
    );
    expect(validator.errors.length).toBeGreaterThan(before);
    expect(validator.checked).toBe(4);
  });
});

describe.each(backends)('real FHIR clients on $name', (backend) => {
  let t: TestRegistry;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), { registry: { auditExportTiming: { settleMs: 300 } } });
  });
  afterAll(async () => t?.close());

  it.each([fhirKitDriver, medplumDriver])(
    '$name: token, create, search (GET, POST, next), read, update, delete, ITI-65, audit search, subject access, bulk export; every resource valid R4',
    async (driver) => {
      const validator = new R4Validator();
      await runClientFlow(driver, { url: t.url, assertion: (clientId) => t.assertion(clientId) }, validator);
      await mkdir(path.dirname(REPORT), { recursive: true });
      const report = JSON.parse(await readFile(REPORT, 'utf8').catch(() => '{}')) as Record<string, unknown>;
      report[`${driver.name} on ${backend.name}`] = {
        checked: validator.checked,
        inBundles: validator.inBundles,
        byType: Object.fromEntries(validator.byType),
        errors: validator.errors.length,
      };
      await writeFile(REPORT, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`${driver.name} on ${backend.name}: ${validator.summary()}`);
      expect(validator.errors, JSON.stringify(validator.errors.slice(0, 20), null, 2)).toEqual([]);
      expect(validator.checked).toBeGreaterThan(20);
    },
    120_000,
  );
});
