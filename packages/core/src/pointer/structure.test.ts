/**
 * Stage A (nrl-behaviour.md §4.2): the published profile's closed content model (R1, R13) and
 * the FHIR datatypes (Medplum). Every fault is its own 400 `MESSAGE_NOT_WELL_FORMED` issue,
 * "Request body could not be parsed (<loc>: <msg>)", expression `<loc>`.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type IssueSpec, OperationOutcomeError } from '../outcomes.ts';
import { checkStructure, parseIssue } from './structure.ts';
import {
  deletePath,
  EXAMPLE_FILES,
  examplePointer,
  getPath,
  publishedSchema,
  setPath,
  validPointer,
} from './test-fixtures.ts';
import { type PointerSchema, parsePointer } from './validate-pointer.ts';

let schema: PointerSchema;

beforeAll(() => {
  schema = publishedSchema();
});

function issue(loc: string, message: string): IssueSpec {
  return {
    code: 'MESSAGE_NOT_WELL_FORMED',
    diagnostics: `Request body could not be parsed (${loc}: ${message})`,
    expression: loc,
  };
}

function structureOf(mutate: (pointer: DocumentReference) => void): IssueSpec[] {
  const pointer = validPointer();
  mutate(pointer);
  return checkStructure(schema.model, pointer);
}

/** The refusal parsePointer throws (fails the test when it accepts the body). */
function parseRefusal(body: unknown): OperationOutcomeError {
  try {
    parsePointer(schema, body);
  } catch (error) {
    if (error instanceof OperationOutcomeError) return error;
    throw error;
  }
  throw new Error('expected parsePointer to refuse the body');
}

const ID_PATTERN = '^(?=.{1,64}$)[A-Za-z0-9.]+-[A-Za-z0-9]+[A-Za-z0-9_-]*$';

describe('stage A: structure (nrl-behaviour.md §4.2)', () => {
  it.each(EXAMPLE_FILES)('the published example %s is well formed', (file) => {
    const pointer = examplePointer(file);
    expect(checkStructure(schema.model, pointer)).toEqual([]);
    expect(parsePointer(schema, pointer)).toBe(pointer);
  });

  it('parseIssue renders NRL’s parse diagnostic with the location as expression', () => {
    expect(parseIssue('content[0].format', 'Field required')).toEqual(
      issue('content[0].format', 'Field required'),
    );
  });

  it("{} names NRL's required three: resourceType, status and content, each 'Field required'", () => {
    const issues = checkStructure(schema.model, {});
    for (const field of ['resourceType', 'status', 'content']) {
      expect(issues).toContainEqual(issue(field, 'Field required'));
    }
    // The V1 fields are left to stage B, so that NRL's 422 answers them.
    for (const field of ['id', 'custodian', 'type', 'subject', 'category', 'author']) {
      expect(issues.map((i) => i.expression)).not.toContain(field);
    }
    expect(parseRefusal({}).issues).toEqual(issues);
    expect(parseRefusal({}).status).toBe(400);
  });

  // Regression (a bug this suite found, now fixed; structure.ts REQUIRED_IN_STAGE_B lacks 'context' and 'context.practiceSetting'): the
  // profile's min 1 on context makes `{}` give a fourth issue, "(context: Field required)", and a
  // pointer without context a 400 where NRL answers V12 (422, context.practiceSetting.coding).
  it('{} gives exactly the three issues NRL gives', () => {
    expect(checkStructure(schema.model, {})).toEqual([
      issue('resourceType', 'Field required'),
      issue('status', 'Field required'),
      issue('content', 'Field required'),
    ]);
  });

  it.each([
    ['an array', []],
    ['a string', 'DocumentReference'],
    ['null', null],
  ])('a body that is %s is one issue at DocumentReference', (_name, body) => {
    expect(checkStructure(schema.model, body)).toEqual([
      issue('DocumentReference', 'Input should be a valid dictionary or object'),
    ]);
  });

  it("a wrong resourceType is one issue: Input should be 'DocumentReference'", () => {
    const issues = structureOf((p) => setPath(p, 'resourceType', 'Patient'));
    expect(issues).toEqual([issue('resourceType', "Input should be 'DocumentReference'")]);
  });

  it.each(['superseded', 'entered-in-error', 'Current'])(
    "status '%s' is refused: String should match pattern '^current$'",
    (status) => {
      expect(structureOf((p) => setPath(p, 'status', status))).toEqual([
        issue('status', "String should match pattern '^current$'"),
      ]);
    },
  );

  it.each([
    ['content[0].extra_field', 'x'],
    ['subject.display', 'Jane Smith'],
    ['contained', [{ resourceType: 'Patient', id: 'p' }]],
    ['text', { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' }],
    ['content[0].attachment.data', 'JVBERi0xLjQK'],
    ['extension', [{ url: 'https://example.org/ext', valueString: 'x' }]],
    ['subject.reference', 'Patient/123'],
    ['context.sourcePatientInfo', { reference: 'Patient/123' }],
    ['patient', { birthDate: '1970-01-01' }],
    ['authenticator', { identifier: { system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: 'C1234567' } }],
    ['context.encounter', [{ identifier: { value: 'E1' } }]],
    ['subject.identifier.extension', [{ url: 'https://example.org/ext', valueString: 'x' }]],
    ['type.coding[0].extension', [{ url: 'https://example.org/ext', valueString: 'x' }]],
    ['meta.tag', [{ code: 'x' }]],
  ])('R1: %s is refused at any depth: Extra inputs are not permitted', (path, value) => {
    expect(structureOf((p) => setPath(p, path, value))).toEqual([
      issue(path, 'Extra inputs are not permitted'),
    ]);
  });

  // Issue 13: what the R4 datatypes Reference, Identifier, Coding, CodeableConcept, Attachment and
  // Period allow is accepted, unless the profile removes it on purpose (the cases above).
  it.each([
    // NRL's own supersede target (nrl-behaviour.md, NRL's producer examples).
    [
      'relatesTo',
      [{ code: 'replaces', target: { type: 'DocumentReference', identifier: { value: 'RR8-1' } } }],
    ],
    [
      'relatesTo',
      [
        {
          code: 'transforms',
          target: {
            reference: 'DocumentReference/RR8-1',
            display: 'The earlier report',
            identifier: { system: 'https://fhir.nir.nhs.uk/Id/pointer', value: 'RR8-1' },
          },
        },
      ],
    ],
    ['author[0].identifier.period', { start: '2026-01-01' }],
    ['author[0].identifier.use', 'official'],
    ['author[0].identifier.assigner', { display: 'NHS England' }],
    ['author[0].type', 'Organization'],
    ['author[0].display', 'Example NHS Trust'],
    ['author[0].reference', 'https://directory.example.nhs.uk/Organization/RR8'],
    ['custodian.type', 'Organization'],
    ['custodian.display', 'Example NHS Trust'],
    ['subject.type', 'Patient'],
    ['subject.identifier.use', 'official'],
    ['subject.identifier.id', 'nhs'],
    [
      'masterIdentifier.type',
      {
        coding: [
          { system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDIdentifierType', code: 'uniqueId' },
        ],
      },
    ],
    ['type.text', 'MRA Upper Limb Rt'],
    ['type.coding[0].version', 'http://snomed.info/sct/83821000000107/version/20261001'],
    ['type.coding[0].userSelected', true],
    ['category[0].text', 'Diagnostic studies report'],
    ['context.practiceSetting.text', 'Radiology'],
    ['context.period.id', 'p1'],
    ['content[0].format.version', '1'],
    ['content[0].attachment.id', 'a1'],
    ['context.related[0].type', 'ServiceRequest'],
    ['context.related[0].display', 'Accession number'],
    ['language', 'en-GB'],
  ])('issue 13: %s, which R4 allows, is accepted', (path, value) => {
    expect(structureOf((p) => setPath(p, path, value))).toEqual([]);
  });

  it("R4's Identifier.assigner is accepted, but not an assigner's own assigner (the nesting stops)", () => {
    const assigner = { identifier: { value: 'X', assigner: { display: 'nested' } } };
    expect(structureOf((p) => setPath(p, 'author[0].identifier.assigner', assigner))).toEqual([
      issue('author[0].identifier.assigner.identifier.assigner', 'Extra inputs are not permitted'),
    ]);
  });

  it('reports every fault, one issue each', () => {
    const issues = structureOf((p) => {
      setPath(p, 'content[0].attachment.data', 'JVBERi0xLjQK');
      setPath(p, 'subject.display', 'Jane Smith');
      setPath(p, 'status', 'superseded');
    });
    expect(issues).toHaveLength(3);
    expect(issues).toEqual(
      expect.arrayContaining([
        issue('content[0].attachment.data', 'Extra inputs are not permitted'),
        issue('subject.display', 'Extra inputs are not permitted'),
        issue('status', "String should match pattern '^current$'"),
      ]),
    );
  });

  it('empty string, array and object: one issue listing their paths, expression DocumentReference', () => {
    const issues = structureOf((p) => {
      setPath(p, 'masterIdentifier', {});
      setPath(p, 'content[0].attachment.contentType', '');
      setPath(p, 'content[0].extension', []);
    });
    expect(issues).toEqual([
      {
        code: 'MESSAGE_NOT_WELL_FORMED',
        diagnostics:
          'Request body could not be parsed (DocumentReference: Value error, The following fields are empty: masterIdentifier, content[0].attachment.contentType, content[0].extension)',
        expression: 'DocumentReference',
      },
    ]);
  });

  it.each(['author', 'content'])('an empty %s list is an empty field, not a missing one', (field) => {
    expect(structureOf((p) => setPath(p, field, []))).toEqual([
      {
        code: 'MESSAGE_NOT_WELL_FORMED',
        diagnostics: `Request body could not be parsed (DocumentReference: Value error, The following fields are empty: ${field})`,
        expression: 'DocumentReference',
      },
    ]);
  });

  it.each(['RR8', 'RR8_3f2b8c1e', 'RR8-', '-3f2b8c1e', "RR8-1' OR 1=1", `RR8-${'a'.repeat(61)}`])(
    'id %j does not match the pointer id pattern',
    (id) => {
      expect(structureOf((p) => setPath(p, 'id', id))).toEqual([
        issue('id', `String should match pattern '${ID_PATTERN}'`),
      ]);
    },
  );

  it.each(['2026-11-20', '2026-11-20T10:15:00', 'yesterday', '20/11/2026 10:15'])(
    'date %j is not a full instant with timezone',
    (date) => {
      expect(structureOf((p) => setPath(p, 'date', date))).toEqual([
        issue('date', 'Input should be a valid datetime with a timezone'),
      ]);
    },
  );

  it.each(['2026-11-20T10:15:00Z', '2026-11-20T10:15:00.123+01:00'])('date %j is accepted', (date) => {
    expect(structureOf((p) => setPath(p, 'date', date))).toEqual([]);
  });

  it("docStatus outside its set is refused; 'entered-in-error' is accepted", () => {
    expect(structureOf((p) => setPath(p, 'docStatus', 'withdrawn'))).toEqual([
      issue('docStatus', "Input should be 'preliminary', 'final', 'amended', 'entered-in-error'"),
    ]);
    expect(structureOf((p) => setPath(p, 'docStatus', 'entered-in-error'))).toEqual([]);
  });

  it.each([
    ['author', (p: DocumentReference) => getPath(p, 'author[0]')],
    ['content', (p: DocumentReference) => getPath(p, 'content[0]')],
    ['category', (p: DocumentReference) => getPath(p, 'category[0]')],
    ['type.coding', (p: DocumentReference) => getPath(p, 'type.coding[0]')],
  ])('%s given as an object where a list is expected: Input should be a valid list', (path, item) => {
    expect(structureOf((p) => setPath(p, path, item(p)))).toEqual([
      issue(path, 'Input should be a valid list'),
    ]);
  });

  it('an object where a string is expected, and a string where an object is expected', () => {
    expect(structureOf((p) => setPath(p, 'description', { text: 'x' }))).toEqual([
      issue('description', 'Input should be a valid string'),
    ]);
    expect(structureOf((p) => setPath(p, 'custodian', 'RR8'))).toEqual([
      issue('custodian', 'Input should be a valid dictionary or object'),
    ]);
  });

  it('null is refused: Input should not be null', () => {
    expect(structureOf((p) => setPath(p, 'description', null))).toEqual([
      issue('description', 'Input should not be null'),
    ]);
  });

  it('a JSON string where the profile wants an unsignedInt', () => {
    expect(structureOf((p) => setPath(p, 'content[0].attachment.size', '1024'))).toEqual([
      issue('content[0].attachment.size', 'Input should be a valid unsignedInt'),
    ]);
  });

  it.each([
    ['type.coding[0].code', ' MAULR'],
    ['category[0].coding[0].system', 'http://snomed.info/sct '],
    ['custodian.identifier.value', 'RR8 '],
    ['content[0].attachment.contentType', '\tapplication/pdf'],
  ])('%s %j has leading or trailing whitespace', (path, value) => {
    expect(structureOf((p) => setPath(p, path, value))).toEqual([
      issue(path, 'String should not have leading or trailing whitespace'),
    ]);
  });

  it.each([
    ['content[0].format', 'content[0].format'],
    ['content[0].attachment', 'content[0].attachment'],
    ['content[0].attachment.url', 'content[0].attachment.url'],
    ['relatesTo code', 'relatesTo[0].code'],
  ])('a required member (%s) missing: Field required at its path', (_name, loc) => {
    const issues = structureOf((p) => {
      if (loc === 'relatesTo[0].code')
        setPath(p, 'relatesTo', [{ target: { identifier: { value: 'RR8-x' } } }]);
      else deletePath(p, loc);
    });
    expect(issues).toEqual([issue(loc, 'Field required')]);
  });

  it.each([
    ['custodian', (p: DocumentReference) => deletePath(p, 'custodian')],
    ['subject.identifier.system', (p: DocumentReference) => setPath(p, 'subject.identifier.system', 'urn:x')],
    [
      'author[0].identifier.system',
      (p: DocumentReference) => setPath(p, 'author[0].identifier.system', 'urn:x'),
    ],
    ['id', (p: DocumentReference) => deletePath(p, 'id')],
  ])('%s: left to stage B, as NRL answers it there (V1, V3, V8)', (_name, mutate) => {
    expect(structureOf(mutate)).toEqual([]);
  });

  it('a datatype fault found by Medplum: content[0].attachment.creation "yesterday"', () => {
    const pointer = validPointer();
    setPath(pointer, 'content[0].attachment.creation', 'yesterday');
    expect(checkStructure(schema.model, pointer)).toEqual([]);
    const refusal = parseRefusal(pointer);
    expect(refusal.status).toBe(400);
    expect(refusal.issues).toHaveLength(1);
    expect(refusal.issues[0]).toMatchObject({
      code: 'MESSAGE_NOT_WELL_FORMED',
      expression: 'content[0].attachment.creation',
    });
    expect(refusal.issues[0]?.diagnostics).toMatch(
      /^Request body could not be parsed \(content\[0\]\.attachment\.creation: .+\)$/,
    );
  });

  it('parsePointer reports structural faults before datatypes (all of them, 400)', () => {
    const pointer = validPointer();
    setPath(pointer, 'contained', []);
    setPath(pointer, 'text', { status: 'generated' });
    const refusal = parseRefusal(pointer);
    expect(refusal.status).toBe(ERROR_CODES.MESSAGE_NOT_WELL_FORMED.status);
    expect(refusal.issues).toEqual([
      issue('contained', 'Extra inputs are not permitted'),
      issue('text', 'Extra inputs are not permitted'),
    ]);
    expect(refusal.toOperationOutcome().issue?.map((i) => [i.code, i.expression])).toEqual([
      ['invalid', ['contained']],
      ['invalid', ['text']],
    ]);
  });

  it('every stage A issue has code MESSAGE_NOT_WELL_FORMED and an expression', () => {
    const bodies: unknown[] = [
      {},
      [],
      { resourceType: 'Patient' },
      { ...validPointer(), status: 'superseded', contained: [], id: 'bad', date: 'today', description: '' },
      { ...validPointer(), author: {}, content: [{ extra_field: 1, attachment: { data: 'x' } }] },
    ];
    const issues = bodies.flatMap((body) => checkStructure(schema.model, body));
    expect(issues.length).toBeGreaterThan(10);
    for (const found of issues) {
      expect(found.code).toBe('MESSAGE_NOT_WELL_FORMED');
      expect(typeof found.expression).toBe('string');
      expect(found.expression).not.toBe('');
      expect(found.diagnostics).toMatch(/^Request body could not be parsed \(.+: .+\)$/s);
    }
  });
});
