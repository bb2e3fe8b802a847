import { randomInt } from 'node:crypto';
import { isTestRangeNhsNumber, isValidNhsNumber } from '@nir/core';
import { describe, expect, it } from 'vitest';
import { instantiatePlan, loadPlan, PLAN_NAMES, parsePlan, planChecks } from './plan.ts';

describe('test plans are data (R15)', () => {
  it.each(PLAN_NAMES)(
    'the published %s plan loads, versioned, naming only implemented checks',
    async (name) => {
      const plan = await loadPlan(name);
      expect(plan.plan).toBe(name);
      expect(plan.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(plan.requirements).toContain('R15');
      expect(planChecks(plan).length).toBeGreaterThan(5);
      for (const step of plan.steps) expect(step.do.length).toBeGreaterThan(20);
    },
  );

  it('a plan naming a check the kit does not implement is refused', async () => {
    const plan = await loadPlan('producer');
    expect(() => parsePlan({ ...plan, always: ['NO-SUCH-CHECK'] }, 'p.json')).toThrow(
      /unknown check 'NO-SUCH-CHECK'/,
    );
    expect(() => parsePlan({ ...plan, version: '1' }, 'p.json')).toThrow(/version/);
    await expect(loadPlan('../etc/passwd')).rejects.toThrow(/Unknown plan/);
  });

  it('draws fresh, distinct test-range patients on every run and an invalid number for the refusal step', async () => {
    const plan = await loadPlan('producer');
    const one = instantiatePlan(plan, randomInt);
    const two = instantiatePlan(plan, randomInt);
    expect(Object.keys(one.patients)).toEqual(['A', 'B']);
    for (const nhs of Object.values(one.patients)) expect(isTestRangeNhsNumber(nhs)).toBe(true);
    expect(one.patients.A).not.toBe(one.patients.B);
    expect(one.patients.A).not.toBe(two.patients.A);
    expect(one.invalidNhsNumber).toMatch(/^999\d{7}$/);
    expect(isValidNhsNumber(one.invalidNhsNumber)).toBe(false);
  });
});
