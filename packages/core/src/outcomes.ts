/**
 * The registry's one error model (R16): every refusal is a FHIR OperationOutcome whose
 * `details.coding` carries a stable code from NRL's Spine error code system, with the
 * offending element in `expression`. Wire-compatible with NRL v3 (nrl-behaviour.md §1.6–1.7).
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { printableText } from './printable-text.ts';

/** The one error code system (NRL defect 9 avoided: older NRL used two). */
export const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode';
/** The code system NRL uses for successful write responses. */
export const NRL_RESPONSE_SYSTEM = 'https://fhir.nhs.uk/ValueSet/NRL-ResponseCode';

/** Every error code the registry returns, with its display, HTTP status and FHIR issue type. */
export const ERROR_CODES = {
  'ACCESS DENIED': {
    display: 'Access has been denied to process this request',
    status: 403,
    issue: 'forbidden',
  },
  ACCESS_DENIED: {
    display: 'Access has been denied to process this request',
    status: 401,
    issue: 'forbidden',
  },
  AUTHOR_CREDENTIALS_ERROR: { display: 'Author credentials error', status: 403, issue: 'forbidden' },
  BAD_REQUEST: { display: 'Bad request', status: 400, issue: 'invalid' },
  DUPLICATE_REJECTED: {
    display: 'Create would lead to creation of a duplicate resource',
    status: 409,
    issue: 'conflict',
  },
  INTERNAL_SERVER_ERROR: { display: 'Unexpected internal server error', status: 500, issue: 'exception' },
  INVALID_CODE_SYSTEM: { display: 'Invalid code system', status: 400, issue: 'code-invalid' },
  INVALID_IDENTIFIER_VALUE: { display: 'Invalid identifier value', status: 400, issue: 'invalid' },
  INVALID_NHS_NUMBER: { display: 'Invalid NHS number', status: 400, issue: 'invalid' },
  INVALID_PARAMETER: { display: 'Invalid parameter', status: 400, issue: 'invalid' },
  MESSAGE_NOT_WELL_FORMED: { display: 'Message not well formed', status: 400, issue: 'invalid' },
  MISSING_OR_INVALID_HEADER: {
    display: 'There is a required header missing or invalid',
    status: 400,
    issue: 'invalid',
  },
  NO_RECORD_FOUND: { display: 'No record found', status: 404, issue: 'not-found' },
  UNPROCESSABLE_ENTITY: { display: 'Unprocessable Entity', status: 422, issue: 'business-rule' },
  PRECONDITION_FAILED: { display: 'Precondition failed', status: 400, issue: 'required' },
  // HTTP-level refusals that NRL leaves to its gateway; same code system, our stable codes.
  METHOD_NOT_ALLOWED: { display: 'Method not allowed', status: 405, issue: 'not-supported' },
  NOT_ACCEPTABLE: { display: 'Not acceptable', status: 406, issue: 'not-supported' },
  UNSUPPORTED_MEDIA_TYPE: { display: 'Unsupported media type', status: 415, issue: 'not-supported' },
  PAYLOAD_TOO_LARGE: { display: 'Payload too large', status: 413, issue: 'too-costly' },
  CONFLICT: { display: 'Conflict', status: 409, issue: 'conflict' },
  VERSION_CONFLICT: {
    display: 'The resource has changed since the version named in If-Match',
    status: 412,
    issue: 'conflict',
  },
  SERVICE_UNAVAILABLE: { display: 'Service unavailable', status: 503, issue: 'transient' },
  // NRL's gateway quota answers 429; its code in the same system, ours (issue 14, point 9).
  TOO_MANY_REQUESTS: { display: 'Too many requests', status: 429, issue: 'throttled' },
} as const satisfies Record<
  string,
  { display: string; status: number; issue: OperationOutcomeIssue['code'] }
>;

/** A stable registry error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** What one refusal says: the code, a human diagnostic and the offending element(s). */
export interface IssueSpec {
  code: ErrorCode;
  diagnostics?: string;
  /** FHIRPath-like location of the offending element, e.g. `subject.identifier.value`. */
  expression?: string | string[];
  /** Overrides the status of the code table where NRL uses one code with two statuses. */
  status?: number;
}

/**
 * A refusal that becomes an OperationOutcome response. Thrown (or returned) by any layer;
 * the HTTP layer turns it into the response, nothing else needs to know about HTTP.
 */
export class OperationOutcomeError extends Error {
  readonly status: number;
  readonly issues: readonly IssueSpec[];

  constructor(issues: IssueSpec | IssueSpec[], status?: number) {
    const list = Array.isArray(issues) ? issues : [issues];
    const first = list[0];
    if (!first) throw new Error('OperationOutcomeError needs at least one issue');
    super(first.diagnostics ?? ERROR_CODES[first.code].display);
    this.name = 'OperationOutcomeError';
    this.issues = list;
    this.status = status ?? first.status ?? ERROR_CODES[first.code].status;
  }

  /** The FHIR body of this refusal. */
  toOperationOutcome(): OperationOutcome {
    return operationOutcome(this.issues);
  }
}

/** Builds an error OperationOutcome in NRL's exact shape (no `expression` key when there is none). */
export function operationOutcome(issues: readonly IssueSpec[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((spec) => {
      const entry = ERROR_CODES[spec.code];
      const issue: OperationOutcomeIssue = {
        severity: 'error',
        code: entry.issue,
        details: { coding: [{ system: SPINE_ERROR_SYSTEM, code: spec.code, display: entry.display }] },
      };
      if (spec.diagnostics !== undefined) issue.diagnostics = printableText(spec.diagnostics);
      if (spec.expression !== undefined) {
        issue.expression = (Array.isArray(spec.expression) ? spec.expression : [spec.expression]).map(
          printableText,
        );
      }
      return issue;
    }),
  };
}

/** Shorthand for a single-issue refusal. */
export function refuse(
  code: ErrorCode,
  diagnostics?: string,
  expression?: string | string[],
): OperationOutcomeError {
  const spec: IssueSpec = { code };
  if (diagnostics !== undefined) spec.diagnostics = diagnostics;
  if (expression !== undefined) spec.expression = expression;
  return new OperationOutcomeError(spec);
}

/** True when `value` is a refusal the HTTP layer can render as it is. */
export function isOperationOutcomeError(value: unknown): value is OperationOutcomeError {
  return value instanceof OperationOutcomeError;
}

/** The informational OperationOutcome NRL returns for successful writes (nrl-behaviour.md §1.5). */
export function informationOutcome(code: string, display: string, diagnostics: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'informational',
        details: { coding: [{ system: NRL_RESPONSE_SYSTEM, code, display }] },
        diagnostics,
      },
    ],
  };
}
