import { describe, expect, it } from 'vitest';
import { commandPath, leafCommands } from './help-text.ts';
import { buildProgram } from './program.ts';
import { cliRunner } from './test-support.ts';

const nir = cliRunner(() => ({ env: {} }));

/** The help text commander prints for a command, with the text added after it. */
function helpOf(path: string): Promise<string> {
  return nir(...path.split(' '), '--help').then((r) => r.out);
}

describe('nir --help', () => {
  it('prints the version with --version', async () => {
    const result = await nir('--version');
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  const leaves = leafCommands(buildProgram()).map(commandPath);

  it('has commands to check', () => {
    expect(leaves).toEqual(expect.arrayContaining(['token', 'catalogue grant put', 'audit export']));
  });

  it.each(leaves)('%s: shows examples of itself and the environment variables it reads', async (path) => {
    const help = await helpOf(path);
    const examples = help.split('Examples:')[1]?.split('Environment:')[0] ?? '';
    const exampleLines = examples.split('\n').filter((l) => l.trim() !== '');
    expect(exampleLines.length).toBeGreaterThan(0);
    for (const line of exampleLines) expect(line).toContain(`nir ${path}`);
    const env = help.split('Environment:')[1] ?? '';
    if (path === 'token' || path === 'conformance run' || path === 'conformance verify-report')
      expect(env).toContain('NIR_PUBLIC_URL');
    else if (path === 'client-key') expect(env).toContain('NIR_DEBUG');
    else expect(env).toContain('DATABASE_URL');
  });

  it.each(['', ...leaves])('%s: names no requirement codes (R7, R19) in user-facing help', async (path) => {
    const help = path === '' ? (await nir('--help')).out : await helpOf(path);
    expect(help).not.toMatch(/\bR\d{1,2}\b/);
  });
});
