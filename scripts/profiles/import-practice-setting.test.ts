/**
 * The England-PracticeSetting import (issue 13, R19): every member kept with its display, in a
 * stable order; anything that is not a clean SNOMED CT expansion of that value set is refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { practiceSettingValueSet } from './import-practice-setting.ts';

const ENGLAND_URL = 'https://fhir.nhs.uk/England/ValueSet/England-PracticeSetting';
const SNOMED = 'http://snomed.info/sct';

const expansion = (contains: { system: string; code: string; display: string }[]) => ({
  url: ENGLAND_URL,
  expansion: { timestamp: '2026-12-02T00:00:00Z', contains },
});

describe('practiceSettingValueSet', () => {
  it('keeps every member with its display, sorted by display, versioned', () => {
    const vs = practiceSettingValueSet(
      expansion([
        { system: SNOMED, code: '788007007', display: 'General practice service' },
        { system: SNOMED, code: '788002001', display: 'Adult mental health service' },
      ]),
      '9.9.9',
      '2026-12-02',
    );
    expect(vs).toMatchObject({
      url: 'https://fhir.nir.nhs.uk/ValueSet/NIR-PracticeSetting',
      version: '9.9.9',
    });
    expect(vs.compose).toEqual({
      include: [
        {
          system: SNOMED,
          concept: [
            { code: '788002001', display: 'Adult mental health service' },
            { code: '788007007', display: 'General practice service' },
          ],
        },
      ],
    });
  });

  it.each([
    ['another value set', { url: 'https://example.org/ValueSet/x', expansion: { contains: [] } }],
    ['a non-SNOMED member', expansion([{ system: 'http://loinc.org', code: '1', display: 'x' }])],
    ['a member without display', expansion([{ system: SNOMED, code: '1', display: '' }])],
    [
      'a duplicate member',
      expansion([
        { system: SNOMED, code: '1', display: 'a' },
        { system: SNOMED, code: '1', display: 'b' },
      ]),
    ],
  ])('refuses %s', (_name, source) => {
    expect(() => practiceSettingValueSet(source, '1', '2026-12-02')).toThrow();
  });

  it('the published value set is what the import makes of its own concepts (no hand edits)', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../fhir-profiles/ValueSet-NIR-PracticeSetting.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
      date: string;
      compose: { include: { concept: { code: string; display: string }[] }[] };
    };
    const concepts = published.compose.include.flatMap((i) => i.concept);
    const rebuilt = practiceSettingValueSet(
      expansion([...concepts].reverse().map((c) => ({ system: SNOMED, ...c }))),
      published.version,
      published.date,
    );
    expect(rebuilt.compose).toEqual(published.compose);
  });
});
