export * from './context.ts';
export * from './guard.ts';
export * from './middleware.ts';
export * from './negotiate.ts';
export * from './retention.ts';
export * from './scopes.ts';
export * from './service.ts';
export * from './setup.ts';
