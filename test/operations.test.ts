/**
 * R16: the alert rules in docs/prometheus are valid Prometheus rules that fire when they should
 * (`promtool check rules` and `promtool test rules`, when Debian's prometheus package is
 * installed; otherwise a structural check), and every metric they and the operations guide name
 * is one the registry exports, every exported `nir_` metric documented.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RegistryMetrics } from '@nir/server';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/harness.ts';

const run = promisify(execFile);
const DIR = path.join(REPO_ROOT, 'docs', 'prometheus');
const RULES = path.join(DIR, 'nir-alerts.rules.yml');
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

describe('R16 operations guide and alert rules', () => {
  it('the rules are valid and their unit tests pass (promtool), or at least well formed', async () => {
    const text = await readFile(RULES, 'utf8');
    const alerts = [...text.matchAll(/- alert: (\w+)\n((?: {8}.*\n|\s*\n)*)/g)];
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const [, name, body] of alerts) {
      expect(body, name).toMatch(/expr: /);
      expect(body, name).toMatch(/severity: (critical|warning)/);
      expect(body, name).toMatch(/summary: /);
      expect(body, name).toContain(`runbook: "docs/OPERATIONS.md#${name?.toLowerCase()}"`);
    }
    if (PROMTOOL) {
      const check = await run(PROMTOOL, ['check', 'rules', RULES]);
      expect(check.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
      const tested = await run(PROMTOOL, ['test', 'rules', 'nir-alerts.test.yml'], { cwd: DIR });
      expect(tested.stdout).toContain('SUCCESS');
    }
  });

  it('every metric the rules use is exported, and every exported nir_ metric is documented', async () => {
    const exported = new Set((await new RegistryMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const rules = await readFile(RULES, 'utf8');
    const guide = await readFile(path.join(REPO_ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
    const used = new Set(
      [...rules.matchAll(/\b((?:nir|nodejs|process)_[a-z0-9_]+)/g)].map((m) =>
        (m[1] as string).replace(/_(bucket|count|sum)$/, ''),
      ),
    );
    for (const name of used) expect(exported, name).toContain(name);
    for (const name of exported) if (name.startsWith('nir_')) expect(guide, name).toContain(`\`${name}\``);
    for (const [, name] of rules.matchAll(/- alert: (\w+)/g)) expect(guide).toContain(`### ${name}`);
  });
});
