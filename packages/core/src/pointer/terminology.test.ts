/**
 * The pointer terminology (R2, R13, R19): read from the published ValueSets and ConceptMaps,
 * refused when a publication cannot be enforced.
 */
import type { ConceptMap, Resource, ValueSet } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildTerminology, ConceptSet, NIR_TERMINOLOGY_URLS, TerminologyError } from './terminology.ts';
import { publishedResources } from './test-fixtures.ts';

const SNOMED = 'http://snomed.info/sct';
const NICIP = 'https://nicip.nhs.uk';
const MIME = 'urn:ietf:bcp:13';
const NRL_FORMAT = 'https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode';
const IHE_FORMAT = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode';
const URLS = NIR_TERMINOLOGY_URLS;

function valueSet(url: string, include: NonNullable<ValueSet['compose']>['include']): ValueSet {
  return { resourceType: 'ValueSet', status: 'draft', url, compose: { include } };
}

function conceptMap(url: string, group: ConceptMap['group']): ConceptMap {
  return { resourceType: 'ConceptMap', status: 'draft', url, group };
}

/** A small, consistent publication: two types, two categories, one content type. */
function miniResources(): Resource[] {
  return [
    valueSet(URLS.pointerType, [
      { system: NICIP, concept: [{ code: 'MAULR', display: 'MRA Upper Limb Rt' }] },
      { system: SNOMED, concept: [{ code: '77477000', display: 'Computed tomography' }] },
    ]),
    valueSet(URLS.pointerCategory, [
      {
        system: SNOMED,
        concept: [
          { code: '721981007', display: 'Diagnostic studies report' },
          { code: '103693007', display: 'Diagnostic procedure' },
        ],
      },
    ]),
    valueSet(URLS.practiceSetting, [
      { system: SNOMED, concept: [{ code: '310125001', display: 'Radiology service' }] },
    ]),
    valueSet(URLS.formatCode, [
      {
        system: NRL_FORMAT,
        concept: [{ code: 'urn:nhs-ic:unstructured', display: 'Unstructured Document' }],
      },
    ]),
    valueSet(URLS.contentType, [{ system: MIME, concept: [{ code: 'application/pdf' }] }]),
    conceptMap(URLS.typeCategory, [
      {
        source: NICIP,
        target: SNOMED,
        element: [
          {
            code: 'MAULR',
            target: [{ code: '721981007', display: 'Diagnostic studies report', equivalence: 'specializes' }],
          },
        ],
      },
      {
        source: SNOMED,
        target: SNOMED,
        element: [
          {
            code: '77477000',
            target: [{ code: '103693007', display: 'Diagnostic procedure', equivalence: 'specializes' }],
          },
        ],
      },
    ]),
    conceptMap(URLS.contentTypeFormat, [
      {
        source: MIME,
        target: NRL_FORMAT,
        element: [
          {
            code: 'application/pdf',
            target: [
              { code: 'urn:nhs-ic:unstructured', display: 'Unstructured Document', equivalence: 'relatedto' },
            ],
          },
        ],
      },
    ]),
  ];
}

function find<T extends Resource>(resources: Resource[], url: string): T {
  const found = resources.find((r) => (r as { url?: string }).url === url);
  if (!found) throw new Error(`test: ${url} not in the fixture`);
  return found as T;
}

function typeCategoryGroups(resources: Resource[]): NonNullable<ConceptMap['group']> {
  return find<ConceptMap>(resources, URLS.typeCategory).group ?? [];
}

/** The §3.1 NRL types with their category; the NIR must keep every one (NRL pointers stay valid). */
const NRL_TYPES: [string, string, string, string][] = [
  [SNOMED, '736253002', 'Mental health crisis plan', '734163000'],
  [SNOMED, '887701000000100', 'Emergency health care plan', '734163000'],
  [SNOMED, '861421000000109', 'End of life care coordination summary', '734163000'],
  [
    SNOMED,
    '1382601000000107',
    'ReSPECT (Recommended Summary Plan for Emergency Care and Treatment) form',
    '734163000',
  ],
  [SNOMED, '325691000000100', 'Contingency plan', '734163000'],
  [SNOMED, '736373009', 'End of life care plan', '734163000'],
  [SNOMED, '16521000000101', 'Lloyd George record folder', '734163000'],
  [SNOMED, '736366004', 'Advance care plan', '734163000'],
  [SNOMED, '735324008', 'Treatment escalation plan', '734163000'],
  [SNOMED, '2181441000000107', 'Personalised Care and Support Plan', '734163000'],
  [
    SNOMED,
    '1363501000000100',
    'Royal College of Physicians NEWS2 (National Early Warning Score 2) chart',
    '1102421000000108',
  ],
  [SNOMED, '824321000000109', 'Summary record', '823651000000106'],
  [SNOMED, '749001000000101', 'Appointment', '419891008'],
  [SNOMED, '887181000000106', 'Clinical summary', '716931000000107'],
  [NICIP, 'MAULR', 'MRA Upper Limb Rt', '721981007'],
  [NICIP, 'MAXIB', 'MRI Axilla Both', '103693007'],
];

describe('terminology from the published files (fhir-profiles/)', () => {
  const terminology = buildTerminology(publishedResources());

  it('builds, with SNOMED CT and NICIP types', () => {
    expect(terminology.pointerTypes.systems).toEqual([SNOMED, NICIP]);
    expect(terminology.pointerTypes.all().length).toBeGreaterThanOrEqual(NRL_TYPES.length);
    expect(terminology.categories.systems).toEqual([SNOMED]);
  });

  it.each(NRL_TYPES)('keeps the NRL type %s|%s "%s" in category %s', (system, code, display, category) => {
    expect(terminology.pointerTypes.get(system, code)).toEqual({ system, code, display });
    expect(terminology.categoryOfType(system, code)?.code).toBe(category);
  });

  it('every published type has exactly one category, a member of the category set with its display', () => {
    const mapped = new Map<string, number>();
    for (const group of typeCategoryGroups(publishedResources())) {
      for (const element of group.element ?? []) {
        const key = `${group.source}|${element.code}`;
        mapped.set(key, (mapped.get(key) ?? 0) + (element.target?.length ?? 0));
      }
    }
    for (const type of terminology.pointerTypes.all()) {
      expect(mapped.get(`${type.system}|${type.code}`), `${type.system}|${type.code}`).toBe(1);
      const category = terminology.categoryOfType(type.system, type.code);
      expect(category, type.code).toBeDefined();
      expect(terminology.categories.get(category?.system, category?.code), type.code).toEqual(category);
    }
  });

  it("formatsForContentType('application/pdf') includes urn:nhs-ic:unstructured (and the IHE PDF format)", () => {
    const formats = terminology.formatsForContentType('application/pdf');
    expect(formats).toContainEqual({
      system: NRL_FORMAT,
      code: 'urn:nhs-ic:unstructured',
      display: 'Unstructured Document',
    });
    expect(formats).toContainEqual({
      system: IHE_FORMAT,
      code: 'urn:ihe:rad:PDF',
      display: 'Radiology XDS-I PDF',
    });
    expect(formats.map((f) => f.code)).not.toContain('urn:nhs-ic:structured');
  });

  it('keeps NRL’s content type → format rules (V10)', () => {
    expect(terminology.formatsForContentType('text/html').map((f) => f.code)).toEqual([
      'urn:nhs-ic:record-contact',
    ]);
    for (const json of ['application/json', 'application/fhir+json', 'application/json+fhir']) {
      expect(terminology.formatsForContentType(json).map((f) => f.code)).toContain('urn:nhs-ic:structured');
    }
    expect(terminology.formatsForContentType('application/msword')).toEqual([]);
  });

  it('every format a content type maps to is in the format value set, with its display', () => {
    for (const contentType of terminology.contentTypes.all()) {
      const formats = terminology.formatsForContentType(contentType.code);
      expect(formats.length, contentType.code).toBeGreaterThan(0);
      for (const format of formats) {
        expect(terminology.formats.get(format.system, format.code), format.code).toEqual(format);
      }
    }
  });

  it('holds the imaging practice settings of §3.2 with their fixed displays', () => {
    for (const [code, display] of [
      ['708175003', 'Diagnostic imaging service'],
      ['310125001', 'Radiology service'],
      ['310127009', 'Magnetic resonance imaging service'],
      ['310128004', 'Computerized tomography service'],
      ['310169008', 'Ultrasonography service'],
      ['708174004', 'Interventional radiology service'],
    ] as const) {
      expect(terminology.practiceSettings.get(SNOMED, code)?.display).toBe(display);
    }
  });

  it('holds the whole of England-PracticeSetting as NRL enforces it (issue 13): 466 services, displays fixed', () => {
    expect(terminology.practiceSettings.all()).toHaveLength(466);
    expect(terminology.practiceSettings.systems).toEqual([SNOMED]);
    // The ordinary pointers: an imaging study requested from these services.
    expect(terminology.practiceSettings.get(SNOMED, '788007007')?.display).toBe('General practice service');
    expect(terminology.practiceSettings.get(SNOMED, '788002001')?.display).toBe(
      'Adult mental health service',
    );
    expect(terminology.practiceSettings.get(SNOMED, '2471000175109')?.display).toBe(
      'Employee health service',
    );
  });
});

describe('buildTerminology on small in-memory publications', () => {
  it('builds a consistent publication', () => {
    const terminology = buildTerminology(miniResources());
    expect(terminology.categoryOfType(NICIP, 'MAULR')).toEqual({
      system: SNOMED,
      code: '721981007',
      display: 'Diagnostic studies report',
    });
    expect(terminology.categoryOfType(SNOMED, 'MAULR')).toBeUndefined();
    // A concept published without a display (a MIME type) is displayed as its code.
    expect(terminology.contentTypes.getCode('application/pdf')).toEqual({
      system: MIME,
      code: 'application/pdf',
      display: 'application/pdf',
    });
  });

  it('refuses a ValueSet with a filter (it cannot be enforced)', () => {
    const resources = miniResources();
    find<ValueSet>(resources, URLS.pointerType).compose?.include.push({
      system: SNOMED,
      filter: [{ property: 'concept', op: 'is-a', value: '363679005' }],
    });
    expect(() => buildTerminology(resources)).toThrow(TerminologyError);
    expect(() => buildTerminology(resources)).toThrow(
      `${URLS.pointerType}: only explicit concept lists can be enforced`,
    );
  });

  it.each([
    ['includes another ValueSet', { valueSet: ['https://example.org/ValueSet/x'] }],
    ['has an include without system', { concept: [{ code: 'x', display: 'X' }] }],
  ])('refuses a ValueSet that %s', (_name, include) => {
    const resources = miniResources();
    find<ValueSet>(resources, URLS.pointerCategory).compose?.include.push(include);
    expect(() => buildTerminology(resources)).toThrow(
      `${URLS.pointerCategory}: only explicit concept lists can be enforced`,
    );
  });

  it('refuses a type without a category', () => {
    const resources = miniResources();
    const [, snomedGroup] = typeCategoryGroups(resources);
    if (snomedGroup) snomedGroup.element = [];
    expect(() => buildTerminology(resources)).toThrow(TerminologyError);
    expect(() => buildTerminology(resources)).toThrow(
      `pointer type ${SNOMED}|77477000 needs exactly one category`,
    );
  });

  it('refuses a type with two categories', () => {
    const resources = miniResources();
    const [nicipGroup] = typeCategoryGroups(resources);
    nicipGroup?.element?.[0]?.target?.push({
      code: '103693007',
      display: 'Diagnostic procedure',
      equivalence: 'specializes',
    });
    expect(() => buildTerminology(resources)).toThrow(
      `pointer type ${NICIP}|MAULR needs exactly one category`,
    );
  });

  it('refuses a type mapped to a category outside the category set', () => {
    const resources = miniResources();
    const [nicipGroup] = typeCategoryGroups(resources);
    const target = nicipGroup?.element?.[0]?.target?.[0];
    if (target) target.code = '4201000179104';
    expect(() => buildTerminology(resources)).toThrow(
      'pointer type MAULR maps to unknown category 4201000179104',
    );
  });

  it('refuses a map target without display', () => {
    const resources = miniResources();
    const target = find<ConceptMap>(resources, URLS.contentTypeFormat).group?.[0]?.element?.[0]?.target?.[0];
    if (target) delete target.display;
    expect(() => buildTerminology(resources)).toThrow(
      `${URLS.contentTypeFormat}: ${MIME}|application/pdf has a target without system, code or display`,
    );
  });

  it.each(Object.values(URLS))('refuses a publication without %s', (url) => {
    const resources = miniResources().filter((r) => (r as { url?: string }).url !== url);
    expect(() => buildTerminology(resources)).toThrow(TerminologyError);
    expect(() => buildTerminology(resources)).toThrow(`${url} is missing`);
  });
});

describe('ConceptSet', () => {
  const set = new ConceptSet([
    { system: SNOMED, code: '1', display: 'One' },
    { system: NICIP, code: 'A', display: 'Ay' },
  ]);

  it('finds a concept by system and code only', () => {
    expect(set.get(SNOMED, '1')?.display).toBe('One');
    expect(set.get(NICIP, '1')).toBeUndefined();
    expect(set.get(undefined, '1')).toBeUndefined();
    expect(set.get(SNOMED, undefined)).toBeUndefined();
  });

  it('finds a code in any system with getCode, and lists systems in published order', () => {
    expect(set.getCode('A')).toEqual({ system: NICIP, code: 'A', display: 'Ay' });
    expect(set.getCode('B')).toBeUndefined();
    expect(set.systems).toEqual([SNOMED, NICIP]);
    expect(set.all()).toHaveLength(2);
  });
});
