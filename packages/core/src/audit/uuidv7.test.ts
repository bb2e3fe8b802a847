import { describe, expect, it } from 'vitest';
import { isUuidV7, uuidv7, uuidv7Time } from './uuidv7.ts';

describe('uuidv7', () => {
  it('encodes the millisecond time, the version and the variant', () => {
    const ms = Date.parse('2026-11-28T10:15:30.123Z');
    const id = uuidv7(ms, new Uint8Array(10).fill(0xff));
    expect(isUuidV7(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
    expect(uuidv7Time(id)).toBe(ms);
  });

  it("gives RFC 9562's own example (appendix A.6)", () => {
    const random = Uint8Array.from([0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]);
    expect(uuidv7(0x017f22e279b0, random)).toBe('017f22e2-79b0-7cc3-98c4-dc0c0c07398f');
  });

  it('draws fresh randomness across refills of its pool', () => {
    const ids = new Set(Array.from({ length: 2_000 }, () => uuidv7(42)));
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(isUuidV7(id)).toBe(true);
  });

  it('sorts with time', () => {
    const a = uuidv7(1_000);
    const b = uuidv7(1_001);
    expect(a < b).toBe(true);
  });

  it('is random within one millisecond', () => {
    expect(uuidv7(5)).not.toBe(uuidv7(5));
  });

  it('refuses times out of range and too few random bytes', () => {
    expect(() => uuidv7(-1)).toThrow(RangeError);
    expect(() => uuidv7(2 ** 48)).toThrow(RangeError);
    expect(() => uuidv7(1, new Uint8Array(4))).toThrow(RangeError);
  });

  it('uuidv7Time is undefined for other UUIDs', () => {
    expect(uuidv7Time('6f0c3f3e-3b7e-4c1e-9a55-0d7f6e0c2b11')).toBeUndefined();
    expect(uuidv7Time('not-a-uuid')).toBeUndefined();
  });
});
