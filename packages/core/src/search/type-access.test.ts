import { describe, expect, it } from 'vitest';
import { compileTypeAccess, typeAccessAllows } from './type-access.ts';

const MAULR = 'https://nicip.nhs.uk|MAULR';

describe('compileTypeAccess (R3)', () => {
  it('lists the granted types once, sorted', () => {
    expect(
      compileTypeAccess({
        pointerTypes: [MAULR, 'http://snomed.info/sct|418062002', MAULR],
        accessControls: [],
      }),
    ).toEqual({ kind: 'listed', types: ['http://snomed.info/sct|418062002', MAULR] });
  });

  it('ALLOW_ALL_TYPES sees every type', () => {
    const access = compileTypeAccess({ pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] });
    expect(typeAccessAllows(access, 'http://loinc.org|18748-4')).toBe(true);
  });

  it('denies by default and compares system and code (NRL defect 2)', () => {
    const none = compileTypeAccess({ pointerTypes: [], accessControls: [] });
    expect(typeAccessAllows(none, MAULR)).toBe(false);
    const one = compileTypeAccess({ pointerTypes: [MAULR], accessControls: [] });
    expect(typeAccessAllows(one, MAULR)).toBe(true);
    expect(typeAccessAllows(one, 'http://snomed.info/sct|MAULR')).toBe(false);
    expect(typeAccessAllows(one, 'https://nicip.nhs.uk|MAXIB')).toBe(false);
  });
});
