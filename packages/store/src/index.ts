export * from './catalogue-repository.ts';
export * from './migrator.ts';
export * from './open-store.ts';
export * from './pointer-repository.ts';
export * from './replay-guard.ts';
export * from './schema.ts';
export * from './signing-key-store.ts';
