/**
 * Token endpoint refusals (RFC 6749 §5.2), each with the registry OperationOutcome it maps to
 * for callers that ask for FHIR.
 */
import { type ErrorCode, OperationOutcomeError } from '@nir/core';

/** OAuth 2.0 error codes the token endpoint uses. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

const MAPPING: Record<OAuthErrorCode, { status: number; code: ErrorCode; expression?: string }> = {
  invalid_request: { status: 400, code: 'BAD_REQUEST' },
  unsupported_grant_type: { status: 400, code: 'BAD_REQUEST', expression: 'grant_type' },
  invalid_scope: { status: 400, code: 'INVALID_PARAMETER', expression: 'scope' },
  invalid_client: { status: 401, code: 'ACCESS_DENIED' },
  unauthorized_client: { status: 403, code: 'ACCESS DENIED' },
};

/** A refused token request. `reason` is for the log only, never for the caller. */
export class TokenRequestError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly reason: string;

  constructor(error: OAuthErrorCode, description: string, reason: string = description) {
    super(`${error}: ${reason}`);
    this.name = 'TokenRequestError';
    this.error = error;
    this.description = description;
    this.reason = reason;
  }

  get status(): number {
    return MAPPING[this.error].status;
  }

  /** The OAuth JSON body (RFC 6749 §5.2). */
  toOAuth(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }

  /** The same refusal as a registry OperationOutcome. */
  toOperationOutcomeError(): OperationOutcomeError {
    const { code, status, expression } = MAPPING[this.error];
    return new OperationOutcomeError(
      { code, diagnostics: `${this.error}: ${this.description}`, ...(expression ? { expression } : {}) },
      status,
    );
  }
}
