import { describe, expect, it } from 'vitest';
import { benchNhsNumber, WRITTEN_PATIENTS, writtenPatientIndex } from './generate.ts';

describe('the patients the bench writes for', () => {
  it('are never patients the searches ask for, whatever the draw', () => {
    const loaded = 27_226;
    const searched = new Set(Array.from({ length: loaded }, (_, i) => benchNhsNumber(i)));
    for (const draw of [0, 1e-9, 0.5, 1 - 1e-12]) {
      const index = writtenPatientIndex(loaded, draw);
      expect(index).toBeGreaterThanOrEqual(loaded);
      expect(index).toBeLessThan(loaded + 100 + WRITTEN_PATIENTS);
      expect(searched.has(benchNhsNumber(index))).toBe(false);
    }
    // The first ones above the loaded population, where NHS numbers could be shared.
    for (let index = writtenPatientIndex(loaded, 0); index < writtenPatientIndex(loaded, 0) + 50; index++) {
      expect(searched.has(benchNhsNumber(index))).toBe(false);
    }
  });
});
