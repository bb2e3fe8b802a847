export * from './client-assertion.ts';
export * from './context.ts';
export * from './errors.ts';
export * from './output.ts';
export * from './program.ts';
