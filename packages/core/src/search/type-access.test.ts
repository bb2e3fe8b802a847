import fc from 'fast-check';
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

  const typeArb = fc
    .tuple(
      fc.constantFrom('https://nicip.nhs.uk', 'http://snomed.info/sct', 'http://loinc.org', ''),
      fc.string({ minLength: 1, maxLength: 8 }),
    )
    .map(([system, code]) => `${system}|${code}`);

  it('R3: a listed grant sees exactly its listed types, whatever their order or repeats', () => {
    fc.assert(
      fc.property(fc.array(typeArb, { maxLength: 6 }), typeArb, (listed, other) => {
        const access = compileTypeAccess({ pointerTypes: listed, accessControls: [] });
        for (const type of listed) expect(typeAccessAllows(access, type)).toBe(true);
        // Which types must be refused (issue 14): any type the grant does not list.
        expect(typeAccessAllows(access, other)).toBe(listed.includes(other));
      }),
      { numRuns: 300 },
    );
  });

  it('R3: other access controls never widen a grant; only ALLOW_ALL_TYPES does', () => {
    fc.assert(
      fc.property(
        fc.array(typeArb, { maxLength: 4 }),
        fc.subarray([
          'ALLOW_OVERRIDE_CREATION_DATETIME',
          'ALLOW_SUPERSEDE_WITH_DELETE_FAILURE',
          'ALLOW_ALL_TYPES',
          'ALLOW_ALL_TYPES ',
          'allow_all_types',
        ]),
        typeArb,
        (listed, controls, type) => {
          const access = compileTypeAccess({ pointerTypes: listed, accessControls: controls as never[] });
          const expected = controls.includes('ALLOW_ALL_TYPES') || listed.includes(type);
          expect(typeAccessAllows(access, type)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
