// The `nir` command's entry point: checks the Node.js version with a clear message, then loads
// the TypeScript sources (packages/cli/src/main.ts).
import { requireSupportedNode } from '@nir/core/node-version';

requireSupportedNode('nir (the registry command line)');
await import('./src/main.ts');
