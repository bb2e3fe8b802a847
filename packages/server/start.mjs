// The registry's process entry point (`pnpm start`, the container): checks the Node.js version
// with a clear message, then loads the TypeScript sources (packages/server/src/main.ts).
import { requireSupportedNode } from '@nir/core/node-version';

requireSupportedNode('The National Imaging Registry');
await import('./src/main.ts');
