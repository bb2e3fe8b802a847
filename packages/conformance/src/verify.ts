/**
 * `verify` (R15): judges a supplier's system from what the registry saw of it — the audit trail
 * and the pointer versions it wrote — against a test plan, check by check.
 */
import type { DatabaseSchema } from '@nir/store';
import type { Kysely } from 'kysely';
import { checkDefinition } from './checks/catalogue.ts';
import type { CheckResult } from './checks/types.ts';
import { type Observation, observeClient } from './observe.ts';
import { type Plan, planChecks } from './plan.ts';
import { type ConformanceReport, KIT_VERSION, type RegistryFacts, summarise } from './report/model.ts';

/** Judges every check of `plan` on `observation`. */
export function judge(plan: Plan, observation: Observation): CheckResult[] {
  return planChecks(plan).map((id) => {
    const check = checkDefinition(id);
    const verdict = check.judge(observation, plan);
    return {
      id: check.id,
      title: check.title,
      requirement: check.requirement,
      criterion: check.criterion,
      status: verdict.pass ? 'pass' : 'fail',
      summary: verdict.summary,
      evidence: verdict.evidence,
      hint: check.hint,
    };
  });
}

/** What `verifyClient` is asked. */
export interface VerifyInput {
  db: Kysely<DatabaseSchema>;
  plan: Plan;
  clientId: string;
  since: string;
  until?: string | undefined;
  registry: RegistryFacts;
  now?: Date | undefined;
}

/** Observes the client over the period and judges it: the report (unsigned). */
export async function verifyClient(input: VerifyInput): Promise<ConformanceReport> {
  const now = input.now ?? new Date();
  const until = input.until ?? now.toISOString();
  const observation = await observeClient(input.db, input.clientId, input.since, until);
  const checks = judge(input.plan, observation);
  return {
    kit: { name: 'nir-conformance', version: KIT_VERSION },
    kind: 'verify',
    registry: input.registry,
    plan: { name: input.plan.plan, version: input.plan.version, title: input.plan.title },
    steps: input.plan.steps.map((s) => ({ id: s.id, do: s.do, checks: s.checks })),
    client: { id: input.clientId },
    period: { since: input.since, until },
    generatedAt: now.toISOString(),
    summary: summarise(checks),
    checks,
  };
}
