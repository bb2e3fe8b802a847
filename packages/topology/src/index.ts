/** The topology's building blocks, for the fault tests and the bench (issue 19). */
export * from './citus.ts';
export * from './haproxy.ts';
export * from './instances.ts';
export * from './keeper.ts';
export * from './layout.ts';
export * from './pg-cluster.ts';
export * from './pg-tools.ts';
export * from './processes.ts';
export * from './replicated.ts';
