/**
 * `@nir/conformance`: the supplier conformance kit (R15). Plans as data, the verifier that
 * judges a supplier's system from the registry's audit trail, the scripted run that drives a
 * registry as a client, and the reports (JSON, JUnit XML, HTML, JWS signature).
 */
export * from './checks/catalogue.ts';
export type { CheckDefinition, CheckResult, Evidence } from './checks/types.ts';
export * from './observe.ts';
export * from './plan.ts';
export * from './report/files.ts';
export * from './report/html.ts';
export * from './report/junit.ts';
export * from './report/model.ts';
export * from './report/sign.ts';
export * from './run/client.ts';
export * from './run/pointer.ts';
export * from './run/run.ts';
export * from './verify.ts';
