import { describe, expect, it } from 'vitest';
import { arrayLiteral, copyField, copyLine, escapeCopy } from './copy-text.ts';

describe('COPY text encoding of the bulk loader', () => {
  it('escapes the characters COPY treats specially', () => {
    expect(escapeCopy('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
  });
  it('quotes array elements, escaping quotes and backslashes', () => {
    expect(arrayLiteral([])).toBe('{}');
    expect(arrayLiteral(['status|x|current', 'a"b', 'c\\d', ' '])).toBe(
      '{"status|x|current","a\\"b","c\\\\d"," "}',
    );
    // The array literal is then escaped once more for COPY itself.
    expect(copyField(['c\\d'])).toBe('{"c\\\\\\\\d"}');
  });
  it('writes NULL, dates, numbers and booleans as PostgreSQL reads them', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(undefined)).toBe('\\N');
    expect(copyField(new Date('2026-01-02T03:04:05.006Z'))).toBe('2026-01-02T03:04:05.006Z');
    expect(copyField(3)).toBe('3');
    expect(copyField(false)).toBe('false');
  });
  it('writes a row in column order, one line', () => {
    expect(copyLine({ b: 'x\ty', a: 1, c: null }, ['a', 'b', 'c'])).toBe('1\tx\\ty\t\\N\n');
  });
});
