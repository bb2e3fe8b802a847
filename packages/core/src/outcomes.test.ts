import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  type ErrorCode,
  informationOutcome,
  isOperationOutcomeError,
  NRL_RESPONSE_SYSTEM,
  OperationOutcomeError,
  operationOutcome,
  refuse,
  SPINE_ERROR_SYSTEM,
} from './outcomes.ts';

describe('error code table (R16)', () => {
  it('uses the one Spine error code system', () => {
    expect(SPINE_ERROR_SYSTEM).toBe('https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode');
  });

  it.each<[ErrorCode, number, string, string]>([
    ['ACCESS DENIED', 403, 'forbidden', 'Access has been denied to process this request'],
    ['ACCESS_DENIED', 401, 'forbidden', 'Access has been denied to process this request'],
    ['AUTHOR_CREDENTIALS_ERROR', 403, 'forbidden', 'Author credentials error'],
    ['BAD_REQUEST', 400, 'invalid', 'Bad request'],
    ['DUPLICATE_REJECTED', 409, 'conflict', 'Create would lead to creation of a duplicate resource'],
    ['INTERNAL_SERVER_ERROR', 500, 'exception', 'Unexpected internal server error'],
    ['INVALID_CODE_SYSTEM', 400, 'code-invalid', 'Invalid code system'],
    ['INVALID_IDENTIFIER_VALUE', 400, 'invalid', 'Invalid identifier value'],
    ['INVALID_NHS_NUMBER', 400, 'invalid', 'Invalid NHS number'],
    ['INVALID_PARAMETER', 400, 'invalid', 'Invalid parameter'],
    ['MESSAGE_NOT_WELL_FORMED', 400, 'invalid', 'Message not well formed'],
    ['MISSING_OR_INVALID_HEADER', 400, 'invalid', 'There is a required header missing or invalid'],
    ['NO_RECORD_FOUND', 404, 'not-found', 'No record found'],
    ['UNPROCESSABLE_ENTITY', 422, 'business-rule', 'Unprocessable Entity'],
    ['PRECONDITION_FAILED', 400, 'required', 'Precondition failed'],
  ])('R16: %s is %i %s with NRL display', (code, status, issue, display) => {
    expect(ERROR_CODES[code]).toEqual({ display, status, issue });
  });
});

describe('operationOutcome (NRL wire shape, nrl-behaviour.md §1.6)', () => {
  it('R16: builds the exact NRL error shape with diagnostics and expression as an array', () => {
    const outcome = operationOutcome([
      { code: 'INVALID_NHS_NUMBER', diagnostics: 'Invalid NHS number', expression: 'subject:identifier' },
    ]);
    expect(outcome).toStrictEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'invalid',
          details: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode',
                code: 'INVALID_NHS_NUMBER',
                display: 'Invalid NHS number',
              },
            ],
          },
          diagnostics: 'Invalid NHS number',
          expression: ['subject:identifier'],
        },
      ],
    });
  });

  it('R16: has no expression key (not even undefined) when there is no expression', () => {
    const outcome = operationOutcome([{ code: 'ACCESS DENIED', diagnostics: 'nope' }]);
    const issue = outcome.issue[0];
    if (!issue) throw new Error('expected one issue');
    expect(Object.keys(issue).sort()).toEqual(['code', 'details', 'diagnostics', 'severity']);
    expect('expression' in issue).toBe(false);
    expect(JSON.stringify(outcome)).not.toContain('expression');
  });

  it('R16: has no diagnostics key when there are no diagnostics (DUPLICATE_REJECTED)', () => {
    const outcome = operationOutcome([{ code: 'DUPLICATE_REJECTED' }]);
    expect(outcome.issue).toStrictEqual([
      {
        severity: 'error',
        code: 'conflict',
        details: {
          coding: [
            {
              system: SPINE_ERROR_SYSTEM,
              code: 'DUPLICATE_REJECTED',
              display: 'Create would lead to creation of a duplicate resource',
            },
          ],
        },
      },
    ]);
  });

  it('keeps a list of expressions, copied (not shared with the caller)', () => {
    const expressions = ['content[0].attachment.url', 'context.related'];
    const outcome = operationOutcome([{ code: 'UNPROCESSABLE_ENTITY', expression: expressions }]);
    expect(outcome.issue[0]?.expression).toEqual(['content[0].attachment.url', 'context.related']);
    expressions.push('later');
    expect(outcome.issue[0]?.expression).toEqual(['content[0].attachment.url', 'context.related']);
  });

  it('makes one issue per spec, in order', () => {
    const outcome = operationOutcome([
      { code: 'MESSAGE_NOT_WELL_FORMED', diagnostics: 'a', expression: 'resourceType' },
      { code: 'MESSAGE_NOT_WELL_FORMED', diagnostics: 'b', expression: 'status' },
      { code: 'BAD_REQUEST', diagnostics: 'c' },
    ]);
    expect(outcome.issue.map((i) => [i.details?.coding?.[0]?.code, i.diagnostics, i.expression])).toEqual([
      ['MESSAGE_NOT_WELL_FORMED', 'a', ['resourceType']],
      ['MESSAGE_NOT_WELL_FORMED', 'b', ['status']],
      ['BAD_REQUEST', 'c', undefined],
    ]);
    expect(outcome.issue.every((i) => i.severity === 'error')).toBe(true);
  });
});

describe('OperationOutcomeError', () => {
  it('takes its status from the code table', () => {
    const error = new OperationOutcomeError({ code: 'NO_RECORD_FOUND', diagnostics: 'gone' });
    expect(error.status).toBe(404);
    expect(error.message).toBe('gone');
    expect(error.name).toBe('OperationOutcomeError');
    expect(error).toBeInstanceOf(Error);
    expect(error.issues).toEqual([{ code: 'NO_RECORD_FOUND', diagnostics: 'gone' }]);
  });

  it('uses the display as its message when there are no diagnostics', () => {
    expect(new OperationOutcomeError({ code: 'BAD_REQUEST' }).message).toBe('Bad request');
  });

  it("lets an issue's status override the table (MISSING_OR_INVALID_HEADER is 401 for metadata)", () => {
    const error = new OperationOutcomeError({ code: 'MISSING_OR_INVALID_HEADER', status: 401 });
    expect(error.status).toBe(401);
    // The status is not part of the FHIR body.
    expect(JSON.stringify(error.toOperationOutcome())).not.toContain('401');
    expect(error.toOperationOutcome().issue[0]?.details?.coding?.[0]?.code).toBe('MISSING_OR_INVALID_HEADER');
  });

  it("lets the constructor's status override both the issue and the table", () => {
    expect(new OperationOutcomeError({ code: 'PRECONDITION_FAILED', status: 401 }, 403).status).toBe(403);
    expect(new OperationOutcomeError({ code: 'PRECONDITION_FAILED' }, 403).status).toBe(403);
  });

  it('takes its status from the first issue when there are several', () => {
    const error = new OperationOutcomeError([
      { code: 'UNPROCESSABLE_ENTITY', diagnostics: 'first' },
      { code: 'BAD_REQUEST', diagnostics: 'second' },
    ]);
    expect(error.status).toBe(422);
    expect(error.message).toBe('first');
    expect(error.toOperationOutcome().issue).toHaveLength(2);
  });

  it('refuses to be built without an issue', () => {
    expect(() => new OperationOutcomeError([])).toThrow(/at least one issue/);
  });

  it('renders through operationOutcome', () => {
    const spec = { code: 'INVALID_PARAMETER' as const, diagnostics: 'x', expression: 'type' };
    expect(new OperationOutcomeError(spec).toOperationOutcome()).toStrictEqual(operationOutcome([spec]));
  });
});

describe('refuse', () => {
  it('R16: builds a single-issue refusal without expression when none is given', () => {
    const error = refuse('ACCESS DENIED', 'Your organisation does not have permission');
    expect(error).toBeInstanceOf(OperationOutcomeError);
    expect(error.status).toBe(403);
    expect(error.issues).toStrictEqual([
      { code: 'ACCESS DENIED', diagnostics: 'Your organisation does not have permission' },
    ]);
    expect(error.toOperationOutcome().issue[0]).not.toHaveProperty('expression');
  });

  it('carries an expression when given', () => {
    const error = refuse('INVALID_NHS_NUMBER', 'Invalid NHS number', 'subject:identifier');
    expect(error.status).toBe(400);
    expect(error.toOperationOutcome().issue[0]?.expression).toEqual(['subject:identifier']);
  });

  it('has neither diagnostics nor expression when given only a code', () => {
    const error = refuse('DUPLICATE_REJECTED');
    expect(error.issues).toStrictEqual([{ code: 'DUPLICATE_REJECTED' }]);
    expect(error.status).toBe(409);
  });

  it('ACCESS_DENIED (gateway) is 401, ACCESS DENIED (backend) is 403', () => {
    expect(refuse('ACCESS_DENIED').status).toBe(401);
    expect(refuse('ACCESS DENIED').status).toBe(403);
  });
});

describe('isOperationOutcomeError', () => {
  it('is true only for OperationOutcomeError', () => {
    expect(isOperationOutcomeError(refuse('BAD_REQUEST'))).toBe(true);
    expect(isOperationOutcomeError(new Error('x'))).toBe(false);
    expect(isOperationOutcomeError({ status: 400, issues: [] })).toBe(false);
    expect(isOperationOutcomeError(undefined)).toBe(false);
  });
});

describe('informationOutcome (nrl-behaviour.md §1.5)', () => {
  it('builds the exact NRL success shape', () => {
    expect(NRL_RESPONSE_SYSTEM).toBe('https://fhir.nhs.uk/ValueSet/NRL-ResponseCode');
    expect(
      informationOutcome('RESOURCE_CREATED', 'Resource created', 'The document has been created'),
    ).toStrictEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'information',
          code: 'informational',
          details: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/ValueSet/NRL-ResponseCode',
                code: 'RESOURCE_CREATED',
                display: 'Resource created',
              },
            ],
          },
          diagnostics: 'The document has been created',
        },
      ],
    });
  });

  it('has no expression key', () => {
    const outcome = informationOutcome(
      'RESOURCE_DELETED',
      'Resource deleted',
      'The requested DocumentReference has been deleted',
    );
    expect(outcome.issue[0]).not.toHaveProperty('expression');
  });
});
