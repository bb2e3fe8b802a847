import { describe, expect, it } from 'vitest';
import { idBelongsTo, isPointerIdShape, newPointerId, odsPrefixOf } from './pointer-id.ts';

describe('pointer ids (nrl-behaviour.md §3.3)', () => {
  it.each([
    ['RR8-0d6e9d5a-3c1b-4d8e-9d2f-0a1b2c3d4e5f', true],
    ['RX898.001-abc', true],
    ['RR8-a_b-c', true],
    ['RR8', false],
    ['-abc', false],
    ['RR8-', false],
    ['RR8-_abc', false],
    ["RR8-1' OR 1=1", false],
    [`RR8-${'a'.repeat(61)}`, false],
  ])('%s has the id shape: %s', (id, expected) => {
    expect(isPointerIdShape(id)).toBe(expected);
  });

  it('compares the ODS prefix exactly, extension included (§2.4)', () => {
    expect(odsPrefixOf('RX898.001-abc')).toBe('RX898.001');
    expect(idBelongsTo('RX898.001-abc', 'RX898')).toBe(false);
    expect(idBelongsTo('RR8-abc', 'RR8')).toBe(true);
    expect(idBelongsTo('RR81-abc', 'RR8')).toBe(false);
  });

  it('assigns <ODS>-<uuid4> ids that have the id shape', () => {
    const id = newPointerId('RR8');
    expect(id).toMatch(/^RR8-[0-9a-f-]{36}$/);
    expect(isPointerIdShape(id)).toBe(true);
  });
});
