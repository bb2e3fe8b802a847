import { describe, expect, it } from 'vitest';
import { isPrintableText, printableText } from './printable-text.ts';

describe('printable text (FHIR string rules)', () => {
  it.each([
    ['plain', true],
    ['tab\tline\nreturn\r', true],
    ['nul\u0000', false],
    ['escape\u001b', false],
    ['lone \ud800 surrogate', false],
    ['emoji 😀', true],
  ])('%j printable: %s', (text, expected) => {
    expect(isPrintableText(text)).toBe(expected);
  });

  it('replaces what is not printable, keeps the rest', () => {
    expect(printableText('a\u0000b\ud800c\td')).toBe('a\uFFFDb\uFFFDc\td');
  });
});
