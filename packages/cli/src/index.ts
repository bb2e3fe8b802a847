export * from './client-assertion.ts';
