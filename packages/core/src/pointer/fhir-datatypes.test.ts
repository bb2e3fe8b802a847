/**
 * The registry's datatype checks against Medplum's validator as the reference (issue 6 moved the
 * request path off Medplum's crawl): on thousands of generated bodies that pass the closed
 * model, both find faults at exactly the same places.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IssueSpec } from '../outcomes.ts';
import { datatypeIssues } from './fhir-datatypes.ts';
import { loadFhirDefinitions, medplumDatatypeIssues } from './medplum-datatypes.ts';
import { checkStructure } from './structure.ts';
import { publishedSchema, validPointer } from './test-fixtures.ts';

const schema = publishedSchema();

/** Every primitive leaf of a value: its path as a list of keys and indexes. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leaves(item, [...path, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) =>
      path.length === 0 && key === 'resourceType' ? [] : leaves(item, [...path, key]),
    );
  }
  return [path];
}

function setAt(target: unknown, path: (string | number)[], value: unknown): void {
  let at = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1] as string | number] = value;
}

/**
 * Where the issues are. Medplum names a choice by its definition (`value[x]`), the registry by
 * the property sent (`valueCodeableConcept`, NRL's form); compared as the former.
 */
function locations(issues: IssueSpec[]): Set<string> {
  return new Set(issues.map((i) => String(i.expression ?? '').replace(/\.value[A-Z]\w*/g, '.value[x]')));
}

const TRICKY: unknown[] = [
  'yesterday',
  '2026-02-30',
  '2026-02-29T10:00:00Z',
  '2024-02-29T10:00:00Z',
  '2026-11-20',
  '2026-11',
  '2026',
  '2026-11-20T10:15',
  '2026-11-20T10:15:00',
  '2026-11-20T10:15:00.1234567891Z',
  '2026-13-01T00:00:00Z',
  '2026-11-20T24:00:00Z',
  '2026-11-20T10:15:00+14:00',
  '2026-11-20T10:15:00+15:00',
  ' ',
  '\t',
  'a  b',
  'a b',
  'has space',
  'urn:oid:1.2.3',
  'urn:oid:1.02',
  'urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e',
  'x'.repeat(70),
  'https://example.org/a b',
  'ok',
  'café',
  '0',
  '1',
  -1,
  0,
  1,
  2.5,
  3000000000,
  true,
  'application/pdf',
];

describe('datatype checks agree with Medplum', () => {
  beforeAll(() => loadFhirDefinitions());

  it('on the valid pointer: no faults', () => {
    const body = validPointer() as unknown as Record<string, unknown>;
    expect(datatypeIssues(schema.model, body)).toEqual([]);
    expect(medplumDatatypeIssues(validPointer())).toEqual([]);
  });

  it('the same faulty locations on random mutations of primitive values', () => {
    const base = validPointer();
    const paths = leaves(base);
    let compared = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...paths), fc.constantFrom(...TRICKY)), {
          minLength: 1,
          maxLength: 3,
        }),
        (mutations) => {
          const body = structuredClone(base) as unknown as Record<string, unknown>;
          for (const [path, value] of mutations) setAt(body, path, value);
          if (checkStructure(schema.model, body).length > 0) return; // refused before datatypes
          compared += 1;
          expect(locations(datatypeIssues(schema.model, body))).toEqual(
            locations(medplumDatatypeIssues(body as never)),
          );
        },
      ),
      { numRuns: 3000, seed: 6 },
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('ext-1 as Medplum reads it', () => {
    const body = structuredClone(validPointer()) as unknown as Record<string, unknown>;
    setAt(body, ['content', 0, 'extension', 0], {
      url: 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability',
    });
    const ours = datatypeIssues(schema.model, body);
    expect(locations(ours)).toEqual(locations(medplumDatatypeIssues(body as never)));
    expect(ours[0]?.diagnostics).toContain('ext-1');
  });

  // Medplum 5 does not evaluate per-1; the registry does (FHIR R4 Period), at equal precision.
  it.each([
    [{ start: '2026-11-18T15:05:00Z', end: '2026-11-18T14:30:00Z' }, ['context.period']],
    [{ start: '2026-11-18', end: '2026-11-17' }, ['context.period']],
    [{ start: '2026-11-18', end: '2026-11-18T10:00:00Z' }, []],
    [{ start: '2026-11-18T14:30:00Z', end: '2026-11-18T14:30:00Z' }, []],
    [{ start: '2026-11-18T14:30:00Z' }, []],
  ])('per-1: period %j', (period, expected) => {
    const body = structuredClone(validPointer()) as unknown as Record<string, unknown>;
    setAt(body, ['context', 'period'], period);
    expect([...locations(datatypeIssues(schema.model, body))]).toEqual(expected);
  });
});
