import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MINIMUM_NODE, unsupportedNodeMessage } from '@nir/core/node-version';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the Node.js version check (start.mjs, nir.mjs)', () => {
  it('explains an older Node.js instead of failing on the TypeScript sources', () => {
    const message = unsupportedNodeMessage('The National Imaging Registry', '20.20.2');
    expect(message).toContain('needs Node.js 24 or newer; this is Node.js 20.20.2');
    expect(message).toContain('pnpm start');
    expect(unsupportedNodeMessage('nir', '23.11.0')).toBeDefined();
  });

  it('accepts the minimum and newer', () => {
    expect(unsupportedNodeMessage('x', `${MINIMUM_NODE[0]}.${MINIMUM_NODE[1]}.0`)).toBeUndefined();
    expect(unsupportedNodeMessage('x', '24.21.0')).toBeUndefined();
    expect(unsupportedNodeMessage('x', '25.0.0')).toBeUndefined();
    expect(unsupportedNodeMessage('x', process.versions.node)).toBeUndefined();
  });

  it('lets nir.mjs run on this Node.js', async () => {
    const nir = fileURLToPath(new URL('../../cli/nir.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, [nir, '--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
