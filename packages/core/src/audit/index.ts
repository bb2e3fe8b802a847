export * from './codes.ts';
export * from './facts.ts';
export * from './record.ts';
export * from './rollup.ts';
export * from './to-audit-events.ts';
export * from './uuidv7.ts';
