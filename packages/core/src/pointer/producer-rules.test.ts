/**
 * Stage C (nrl-behaviour.md §4.4, §2.2–2.4): who may write what, with NRL's codes, statuses,
 * diagnostics and expressions (R3, R4, R11, R12).
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { AccessControl, Grant } from '../catalogue.ts';
import { ERROR_CODES, type ErrorCode, type IssueSpec, OperationOutcomeError } from '../outcomes.ts';
import {
  categoryOf,
  checkCustodian,
  checkImmutableFields,
  checkOwnership,
  checkPathMatchesBody,
  checkSupersedeTarget,
  checkSupersedeTargetOwner,
  checkTypePermitted,
  checkUpsertId,
  custodianOf,
  masterIdentifierOf,
  nhsNumberOf,
  type StoredFacts,
  supersedeTargets,
  typeOf,
} from './producer-rules.ts';
import { deletePath, setPath, validPointer } from './test-fixtures.ts';

const MAULR = 'https://nicip.nhs.uk|MAULR';
const OWNER = 'RR8';

function grant(pointerTypes: string[], accessControls: AccessControl[] = []): Grant {
  return {
    grantId: 'grant-1',
    odsCode: OWNER,
    role: 'producer',
    pointerTypes,
    interactions: ['create', 'upsert', 'update', 'delete', 'read', 'search'],
    accessControls,
    version: 1,
    updatedAt: '2026-11-20T10:00:00.000Z',
  };
}

/** The refusal `work` throws (fails the test when it does not throw one). */
function refusalOf(work: () => unknown): OperationOutcomeError {
  try {
    work();
  } catch (error) {
    if (error instanceof OperationOutcomeError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the rule passed');
}

function expectRefusal(work: () => unknown, code: ErrorCode, diagnostics: string, expression?: string): void {
  const refusal = refusalOf(work);
  const expected: IssueSpec = { code, diagnostics };
  if (expression !== undefined) expected.expression = expression;
  expect(refusal.issues).toEqual([expected]);
  expect(refusal.status).toBe(ERROR_CODES[code].status);
}

function stored(overrides: Partial<StoredFacts> = {}): StoredFacts {
  return { id: 'RR8-old', nhsNumber: '9000000009', custodian: OWNER, type: MAULR, ...overrides };
}

function superseding(...targets: string[]): DocumentReference {
  const pointer = validPointer();
  setPath(
    pointer,
    'relatesTo',
    targets.map((value) => ({ code: 'replaces', target: { identifier: { value } } })),
  );
  return pointer;
}

describe('stage C producer rules (nrl-behaviour.md §4.4)', () => {
  it('reads the facts of a validated pointer', () => {
    const pointer = validPointer();
    expect(nhsNumberOf(pointer)).toBe('9000000009');
    expect(custodianOf(pointer)).toBe('RR8');
    expect(typeOf(pointer)).toBe(MAULR);
    expect(categoryOf(pointer)).toBe('http://snomed.info/sct|721981007');
    expect(masterIdentifierOf(pointer)).toBe('urn:ietf:rfc:3986|urn:oid:1.2.826.0.1.3680043.8.498.2');
    deletePath(pointer, 'masterIdentifier');
    expect(masterIdentifierOf(pointer)).toBeUndefined();
  });

  describe('checkCustodian (R4)', () => {
    it('passes when the custodian is the caller', () => {
      expect(() => checkCustodian(validPointer(), OWNER)).not.toThrow();
    });

    it.each(['RA7', 'RR8.001', 'rr8'])('refuses a caller %s that is not the custodian: 422', (caller) => {
      expectRefusal(
        () => checkCustodian(validPointer(), caller),
        'UNPROCESSABLE_ENTITY',
        'The custodian of the provided DocumentReference does not match the expected ODS code for this organisation',
        'custodian.identifier.value',
      );
    });
  });

  describe('checkTypePermitted (R3, R4)', () => {
    it('passes a type in the grant', () => {
      expect(() => checkTypePermitted(validPointer(), grant([MAULR]))).not.toThrow();
    });

    it.each([
      ['not in the grant', [] as string[]],
      ['granted in another system only (system and code compared)', ['http://snomed.info/sct|MAULR']],
      ['granted by code only', ['MAULR']],
    ])('refuses a type %s: 403 AUTHOR_CREDENTIALS_ERROR', (_name, types) => {
      expectRefusal(
        () => checkTypePermitted(validPointer(), grant(types)),
        'AUTHOR_CREDENTIALS_ERROR',
        'The type of the provided DocumentReference is not in the list of allowed types for this organisation',
        'type.coding[0].code',
      );
    });

    it('ALLOW_ALL_TYPES permits a type the grant does not list', () => {
      expect(() => checkTypePermitted(validPointer(), grant([], ['ALLOW_ALL_TYPES']))).not.toThrow();
    });

    it('other access controls do not permit unlisted types', () => {
      expect(() =>
        checkTypePermitted(
          validPointer(),
          grant([], ['ALLOW_OVERRIDE_CREATION_DATETIME', 'ALLOW_SUPERSEDE_WITH_DELETE_FAILURE']),
        ),
      ).toThrow(OperationOutcomeError);
    });
  });

  describe('checkUpsertId', () => {
    it('passes an id with the caller’s prefix', () => {
      expect(() => checkUpsertId('RR8-sync-0001', OWNER)).not.toThrow();
    });

    it.each(['RA7-sync-0001', 'RR81-sync-0001', 'RR8.001-sync-0001', 'sync-RR8-0001', 'RR8'])(
      'refuses %s: 400 BAD_REQUEST, no expression',
      (id) => {
        expectRefusal(
          () => checkUpsertId(id, OWNER),
          'BAD_REQUEST',
          'The id of the provided DocumentReference does not include the expected ODS code for this organisation',
        );
      },
    );
  });

  describe('checkPathMatchesBody', () => {
    it('passes when the ids agree', () => {
      expect(() => checkPathMatchesBody('RR8-a', { id: 'RR8-a' })).not.toThrow();
    });

    it.each([{ id: 'RR8-b' }, {}, null, 'RR8-a'])('refuses body %j: 400 BAD_REQUEST', (body) => {
      expectRefusal(
        () => checkPathMatchesBody('RR8-a', body),
        'BAD_REQUEST',
        'The document id in the path does not match the document id in the body',
      );
    });
  });

  describe('checkOwnership (§2.2, §2.4)', () => {
    it.each(['read', 'updated', 'deleted'] as const)('passes the owner’s own pointer (%s)', (verb) => {
      expect(() => checkOwnership('RR8-abc', OWNER, verb)).not.toThrow();
      expect(() => checkOwnership('RX898.001-abc', 'RX898.001', verb)).not.toThrow();
    });

    it.each([
      ['read', 'The requested DocumentReference cannot be read because it belongs to another organisation'],
      [
        'deleted',
        'The requested DocumentReference cannot be deleted because it belongs to another organisation',
      ],
      [
        'updated',
        'The id of the provided DocumentReference does not include the expected ODS code for this organisation',
      ],
    ] as const)(
      'refuses another organisation’s pointer (%s): 403 AUTHOR_CREDENTIALS_ERROR',
      (verb, message) => {
        expectRefusal(() => checkOwnership('RA7-abc', OWNER, verb), 'AUTHOR_CREDENTIALS_ERROR', message);
      },
    );

    it.each(['read', 'updated', 'deleted'] as const)(
      'an ODS extension is another organisation: RX898.001-x is not RX898’s, nor RX898-x RX898.001’s (%s)',
      (verb) => {
        expect(refusalOf(() => checkOwnership('RX898.001-x', 'RX898', verb)).status).toBe(403);
        expect(refusalOf(() => checkOwnership('RX898-x', 'RX898.001', verb)).status).toBe(403);
        expect(refusalOf(() => checkOwnership('RX898.002-x', 'RX898.001', verb)).status).toBe(403);
      },
    );
  });

  describe('checkImmutableFields (§4.4 update step 5)', () => {
    it('passes an unchanged pointer', () => {
      expect(() => checkImmutableFields(validPointer(), validPointer())).not.toThrow();
    });

    it.each([
      ['docStatus', (p: DocumentReference) => setPath(p, 'docStatus', 'entered-in-error')],
      ['description', (p: DocumentReference) => setPath(p, 'description', 'Amended report')],
      [
        'content',
        (p: DocumentReference) => setPath(p, 'content[0].attachment.url', 'https://ris.example.nhs.uk/r/2'),
      ],
      ['date', (p: DocumentReference) => setPath(p, 'date', '2030-01-01T00:00:00.000Z')],
      ['category', (p: DocumentReference) => setPath(p, 'category[0].coding[0].display', 'Other')],
    ])('a changed %s is no error (mutable)', (_field, mutate) => {
      const next = validPointer();
      mutate(next);
      expect(() => checkImmutableFields(validPointer(), next)).not.toThrow();
    });

    it.each([
      ['type', (p: DocumentReference) => setPath(p, 'type.coding[0].code', 'MAXIB'), ''],
      [
        'subject',
        (p: DocumentReference) => setPath(p, 'subject.identifier.value', '9000000017'),
        '; a pointer filed under the wrong NHS number is withdrawn (DELETE) and published again under the right one (R12)',
      ],
      ['custodian', (p: DocumentReference) => setPath(p, 'custodian.identifier.value', 'RA7'), ''],
      [
        'masterIdentifier',
        (p: DocumentReference) => setPath(p, 'masterIdentifier.value', 'urn:oid:1.2.3'),
        '',
      ],
      ['masterIdentifier', (p: DocumentReference) => deletePath(p, 'masterIdentifier'), ''],
    ])('a changed %s is refused: 400 BAD_REQUEST naming the field', (field, mutate, hint) => {
      const next = validPointer();
      mutate(next);
      expectRefusal(
        () => checkImmutableFields(validPointer(), next),
        'BAD_REQUEST',
        `The field '${field}' is immutable and cannot be updated${hint}`,
        field,
      );
    });

    it('a masterIdentifier added where none was stored is a change', () => {
      const before = validPointer();
      deletePath(before, 'masterIdentifier');
      expect(refusalOf(() => checkImmutableFields(before, validPointer())).issues[0]?.expression).toBe(
        'masterIdentifier',
      );
    });

    // Regression (a bug this suite found, now fixed; producer-rules.ts checkImmutableFields compares with JSON.stringify): the same subject
    // with its keys in another order (JSON objects are unordered) is refused as a change.
    it('an unchanged subject with its keys in another order is not a change', () => {
      const next = validPointer();
      setPath(next, 'subject', {
        identifier: { value: '9000000009', system: 'https://fhir.nhs.uk/Id/nhs-number' },
      });
      expect(() => checkImmutableFields(validPointer(), next)).not.toThrow();
    });
  });

  describe('supersede (§2.3, §4.4)', () => {
    it('supersedeTargets lists the replaces targets with their relatesTo index and naming element', () => {
      const pointer = validPointer();
      setPath(pointer, 'relatesTo', [
        { code: 'transforms', target: { identifier: { value: 'RR8-t' } } },
        // NRL's form (issue 13): a typed Reference with an identifier.
        { code: 'replaces', target: { type: 'DocumentReference', identifier: { value: 'RR8-a' } } },
        // MHD's form (mhd-balp.md §1.2): a relative literal reference.
        { code: 'replaces', target: { reference: 'DocumentReference/RR8-x' } },
        { code: 'replaces', target: { reference: 'https://other.example/DocumentReference/RR8-y' } },
        { code: 'replaces', target: { identifier: { value: 'RR8-b' } } },
      ]);
      expect(supersedeTargets(pointer)).toEqual([
        { index: 1, id: 'RR8-a', element: 'target.identifier.value' },
        { index: 2, id: 'RR8-x', element: 'target.reference' },
        { index: 4, id: 'RR8-b', element: 'target.identifier.value' },
      ]);
      expect(supersedeTargets(validPointer())).toEqual([]);
    });

    it('a refusal about a target named by reference names target.reference', () => {
      expectRefusal(
        () => checkSupersedeTargetOwner({ index: 1, id: 'RA7-x', element: 'target.reference' }, OWNER),
        'UNPROCESSABLE_ENTITY',
        'The relatesTo target identifier value does not include the expected ODS code for this organisation',
        'relatesTo[1].target.reference',
      );
    });

    it('a target with the caller’s prefix passes the owner check', () => {
      expect(() => checkSupersedeTargetOwner({ index: 0, id: 'RR8-old' }, OWNER)).not.toThrow();
    });

    it.each([
      [0, 'RA7-old'],
      [2, 'RR8.001-old'],
    ])('relatesTo[%i] target %s without the caller’s ODS: 422', (index, id) => {
      expectRefusal(
        () => checkSupersedeTargetOwner({ index, id }, OWNER),
        'UNPROCESSABLE_ENTITY',
        'The relatesTo target identifier value does not include the expected ODS code for this organisation',
        `relatesTo[${index}].target.identifier.value`,
      );
    });

    it('an existing target of the same patient and type is to be removed', () => {
      const next = superseding('RR8-old');
      expect(checkSupersedeTarget({ index: 0, id: 'RR8-old' }, stored(), next, grant([MAULR]))).toBe(true);
    });

    it('an absent target is refused without ALLOW_SUPERSEDE_WITH_DELETE_FAILURE: 422', () => {
      const next = superseding('RR8-a', 'RR8-gone');
      expectRefusal(
        () => checkSupersedeTarget({ index: 1, id: 'RR8-gone' }, undefined, next, grant([MAULR])),
        'UNPROCESSABLE_ENTITY',
        'The relatesTo target document does not exist',
        'relatesTo[1].target.identifier.value',
      );
    });

    it('an absent target is tolerated with ALLOW_SUPERSEDE_WITH_DELETE_FAILURE (nothing to remove)', () => {
      const next = superseding('RR8-gone');
      const tolerant = grant([MAULR], ['ALLOW_SUPERSEDE_WITH_DELETE_FAILURE']);
      expect(checkSupersedeTarget({ index: 0, id: 'RR8-gone' }, undefined, next, tolerant)).toBe(false);
    });

    it('a target of another NHS number is refused, even with the delete-failure flag: 422', () => {
      const next = superseding('RR8-old');
      const tolerant = grant([MAULR], ['ALLOW_SUPERSEDE_WITH_DELETE_FAILURE']);
      expectRefusal(
        () =>
          checkSupersedeTarget(
            { index: 0, id: 'RR8-old' },
            stored({ nhsNumber: '9000000017' }),
            next,
            tolerant,
          ),
        'UNPROCESSABLE_ENTITY',
        'The relatesTo target document NHS number does not match the NHS number in the request',
        'relatesTo[0].target.identifier.value',
      );
    });

    it.each([
      ['another code', 'https://nicip.nhs.uk|MAXIB'],
      ['the same code in another system', 'http://snomed.info/sct|MAULR'],
    ])('a target of another type (%s) is refused: 422', (_name, type) => {
      const next = superseding('RR8-old');
      expectRefusal(
        () => checkSupersedeTarget({ index: 0, id: 'RR8-old' }, stored({ type }), next, grant([MAULR])),
        'UNPROCESSABLE_ENTITY',
        'The relatesTo target document type does not match the type in the request',
        'relatesTo[0].target.identifier.value',
      );
    });

    it('the NHS number is compared before the type', () => {
      const next = superseding('RR8-old');
      const other = stored({ nhsNumber: '9000000017', type: 'https://nicip.nhs.uk|MAXIB' });
      expect(
        refusalOf(() => checkSupersedeTarget({ index: 0, id: 'RR8-old' }, other, next, grant([MAULR])))
          .issues[0]?.diagnostics,
      ).toBe('The relatesTo target document NHS number does not match the NHS number in the request');
    });
  });

  // Killers of mutants that survived `pnpm test:mutation producer-rules` (docs/MUTATION.md).
  describe('on a pointer that lacks the parts a rule reads (never a TypeError)', () => {
    const bare = {} as unknown as DocumentReference;
    const typeless = { type: {}, category: [{}] } as unknown as DocumentReference;

    it('reads empty facts rather than throwing', () => {
      expect(nhsNumberOf(bare)).toBe('');
      expect(nhsNumberOf({ subject: {} } as unknown as DocumentReference)).toBe('');
      expect(custodianOf(bare)).toBe('');
      expect(custodianOf({ custodian: {} } as unknown as DocumentReference)).toBe('');
      expect(typeOf(bare)).toBe('undefined|undefined');
      expect(typeOf(typeless)).toBe('undefined|undefined');
      expect(typeOf({ type: { coding: [] } } as unknown as DocumentReference)).toBe('undefined|undefined');
      expect(categoryOf(bare)).toBe('undefined|undefined');
      expect(categoryOf(typeless)).toBe('undefined|undefined');
      expect(categoryOf({ category: [] } as unknown as DocumentReference)).toBe('undefined|undefined');
      expect(categoryOf({ category: [{ coding: [] }] } as unknown as DocumentReference)).toBe(
        'undefined|undefined',
      );
    });

    it('R3: a pointer without a type is refused by a grant of listed types (AUTHOR_CREDENTIALS_ERROR, not a TypeError)', () => {
      for (const pointer of [bare, typeless, { type: { coding: [{}] } } as unknown as DocumentReference]) {
        expect(refusalOf(() => checkTypePermitted(pointer, grant([MAULR]))).issues[0]?.code).toBe(
          'AUTHOR_CREDENTIALS_ERROR',
        );
      }
    });

    it('a master identifier without a system reads as |value', () => {
      expect(masterIdentifierOf({ masterIdentifier: { value: 'x' } } as unknown as DocumentReference)).toBe(
        '|x',
      );
    });

    it('a replaces relation without a target names no target', () => {
      const pointer = {
        relatesTo: [{ code: 'replaces' }, { code: 'replaces', target: {} }],
      } as unknown as DocumentReference;
      expect(supersedeTargets(pointer)).toEqual([]);
    });
  });

  describe('checkImmutableFields compares JSON values, not their text', () => {
    const withType = (type: unknown) => ({ ...validPointer(), type }) as unknown as DocumentReference;

    it('key order at any depth is not a change, whatever order either side has', () => {
      const keys = ['d', 'b', 'e', 'a', 'c'];
      const object = (order: string[]) => Object.fromEntries(order.map((k) => [k, { [k]: k, z: 1, a: 2 }]));
      const orders = [keys, [...keys].reverse(), [...keys].sort(), ['c', 'a', 'e', 'b', 'd']];
      for (const before of orders) {
        for (const after of orders) {
          expect(() => checkImmutableFields(withType(object(before)), withType(object(after)))).not.toThrow();
        }
      }
    });

    it.each([
      ['array items joined differently', { x: [1, 2] }, { x: [12] }],
      ['an array against an object with index keys', { x: [1, 2] }, { x: { 0: 1, 1: 2 } }],
      ['array order', { x: [1, 2] }, { x: [2, 1] }],
      ['an extra key', { x: 1 }, { x: 1, y: 2 }],
    ])('%s is a change', (_name, before, after) => {
      expect(
        refusalOf(() => checkImmutableFields(withType(before), withType(after))).issues[0]?.expression,
      ).toBe('type');
    });
  });
});
