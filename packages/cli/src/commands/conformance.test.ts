import { isTestRangeNhsNumber } from '@nir/core';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../output.ts';
import { runCli } from '../program.ts';

async function cli(args: string[]) {
  const output = captureOutput();
  const code = await runCli(args, { output, env: {} });
  return { code, out: output.out, err: output.err };
}

describe('nir conformance (R15)', () => {
  it('plan prints the steps with fresh test-range patients', async () => {
    const { code, out } = await cli(['conformance', 'plan', '--plan', 'producer', '--json']);
    expect(code).toBe(0);
    const instance = JSON.parse(out) as { patients: Record<string, string>; plan: { version: string } };
    expect(Object.values(instance.patients).every(isTestRangeNhsNumber)).toBe(true);
    const text = await cli(['conformance', 'plan', '--plan', 'consumer']);
    expect(text.out).toMatch(/^C2\. Search test patient B/m);
    expect(text.out).toMatch(/patient B: 999\d{7}/);
  });

  it('refuses an unknown plan or role with a message (exit 1)', async () => {
    const plan = await cli(['conformance', 'plan', '--plan', 'radiology']);
    expect(plan.code).toBe(1);
    expect(plan.err).toContain("Unknown plan 'radiology'");
    const role = await cli([
      'conformance',
      'run',
      '--client',
      'c',
      '--key',
      'k',
      '--ods',
      'RR8',
      '--role',
      'admin',
    ]);
    expect(role.code).toBe(1);
    expect(role.err).toContain('must be one of producer, consumer, audit');
  });

  it('run says when the registry cannot be reached (exit 1)', async () => {
    const result = await cli([
      ...['conformance', 'run', '--registry', 'http://127.0.0.1:9', '--client', 'demo-provider-a'],
      ...['--key', 'demo/keys/demo-provider-a.private.jwk.json', '--ods', 'RR8', '--role', 'producer'],
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('The run could not start against http://127.0.0.1:9');
  });
});
