/**
 * Test plans (R15) are data: `conformance/plans/<name>.json`, versioned with the profiles. A
 * plan lists the steps a supplier's system performs against the sandbox and the checks that
 * judge them. `instantiatePlan` draws the plan's test patients afresh for every run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nhsNumberCheckDigit, randomTestRangeNhsNumber } from '@nir/core';
import { CHECK_IDS, type CheckId } from './checks/catalogue.ts';

/** The installation the kit belongs to (the repository root: plans, profiles, examples). */
export const INSTALL_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Where the plans live. */
export const DEFAULT_PLANS_DIR = path.join(INSTALL_ROOT, 'conformance', 'plans');

/** The plans the kit knows. */
export const PLAN_NAMES = ['producer', 'consumer'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

/** One step: what the supplier's system does, and the checks judging it. */
export interface PlanStep {
  id: string;
  do: string;
  checks: CheckId[];
  invalidNhsNumber?: boolean;
  typeOutsideGrant?: boolean;
}

/** A test plan as published. */
export interface Plan {
  plan: PlanName;
  version: string;
  title: string;
  profiles: string;
  requirements: string[];
  patients: string[];
  seed?: { patient: string; pointers: number };
  steps: PlanStep[];
  /** Checks judged over the whole session. */
  always: CheckId[];
  /** The refusal the plan provokes on purpose. */
  expectedRefusal: { interaction: string; status: number; code: string };
}

/** A plan with its patients drawn for one run. */
export interface PlanInstance {
  plan: Plan;
  /** Test-range NHS numbers by the plan's patient letters. */
  patients: Record<string, string>;
  /** A 999 number that fails Modulus 11 (the plan's deliberately invalid pointer). */
  invalidNhsNumber: string;
  /** A pointer type (`system|code`) for the refusal of a type outside the grant. */
  typeOutsideGrant: string;
}

/** Every check a plan names, in order: each step's, then the session-wide ones. */
export function planChecks(plan: Plan): CheckId[] {
  return [...new Set([...plan.steps.flatMap((s) => s.checks), ...plan.always])];
}

/** Throws unless `value` is a well-formed plan naming only checks the kit implements. */
export function parsePlan(value: unknown, source: string): Plan {
  const plan = value as Partial<Plan>;
  const problem = (what: string) => new Error(`${source}: ${what}`);
  if (!plan || typeof plan !== 'object') throw problem('not a JSON object');
  if (!PLAN_NAMES.includes(plan.plan as PlanName))
    throw problem(`plan must be one of ${PLAN_NAMES.join(', ')}`);
  if (typeof plan.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(plan.version)) {
    throw problem('version must be semantic (1.2.3)');
  }
  if (!Array.isArray(plan.steps) || plan.steps.length === 0) throw problem('steps are missing');
  if (!Array.isArray(plan.always)) throw problem('always is missing');
  if (!plan.expectedRefusal) throw problem('expectedRefusal is missing');
  for (const id of [...plan.steps.flatMap((s) => s.checks ?? []), ...plan.always]) {
    if (!CHECK_IDS.includes(id)) throw problem(`unknown check '${id}'`);
  }
  return plan as Plan;
}

/** Reads and checks `<dir>/<name>.json`. */
export async function loadPlan(name: string, dir: string = DEFAULT_PLANS_DIR): Promise<Plan> {
  if (!PLAN_NAMES.includes(name as PlanName)) {
    throw new Error(`Unknown plan '${name}' (plans: ${PLAN_NAMES.join(', ')})`);
  }
  const file = path.join(dir, `${name}.json`);
  return parsePlan(JSON.parse(await readFile(file, 'utf8')), file);
}

/** A 999 number whose last digit is not its check digit. */
function invalidTestNumber(randomInt: (limit: number) => number): string {
  const base = `999${String(randomInt(1_000_000)).padStart(6, '0')}`;
  const check = nhsNumberCheckDigit(base);
  return `${base}${((check ?? 0) + 1) % 10}`;
}

/** Draws the plan's patients (fresh test-range NHS numbers, distinct) for one run. */
export function instantiatePlan(plan: Plan, randomInt: (limit: number) => number): PlanInstance {
  const patients: Record<string, string> = {};
  const used = new Set<string>();
  for (const letter of plan.patients) {
    let nhs = randomTestRangeNhsNumber(randomInt);
    while (used.has(nhs)) nhs = randomTestRangeNhsNumber(randomInt);
    used.add(nhs);
    patients[letter] = nhs;
  }
  return {
    plan,
    patients,
    invalidNhsNumber: invalidTestNumber(randomInt),
    typeOutsideGrant: 'https://nicip.nhs.uk|MAXIB',
  };
}
