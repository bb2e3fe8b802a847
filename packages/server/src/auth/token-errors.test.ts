import { SPINE_ERROR_SYSTEM } from '@nir/core';
import { describe, expect, it } from 'vitest';
import { type OAuthErrorCode, TokenRequestError } from './token-errors.ts';

describe('TokenRequestError', () => {
  it.each<[OAuthErrorCode, number, string, string | undefined]>([
    ['invalid_request', 400, 'BAD_REQUEST', undefined],
    ['unsupported_grant_type', 400, 'BAD_REQUEST', 'grant_type'],
    ['invalid_scope', 400, 'INVALID_PARAMETER', 'scope'],
    ['invalid_client', 401, 'ACCESS_DENIED', undefined],
    ['unauthorized_client', 403, 'ACCESS DENIED', undefined],
  ])('%s is HTTP %i and OperationOutcome code %s', (error, status, code, expression) => {
    const refusal = new TokenRequestError(error, 'what the caller reads', 'what only the log reads');
    expect(refusal.status).toBe(status);

    const outcomeError = refusal.toOperationOutcomeError();
    expect(outcomeError.status).toBe(status);
    const outcome = outcomeError.toOperationOutcome();
    expect(outcome.issue).toHaveLength(1);
    const issue = outcome.issue[0];
    expect(issue?.severity).toBe('error');
    expect(issue?.details?.coding).toEqual([expect.objectContaining({ system: SPINE_ERROR_SYSTEM, code })]);
    expect(issue?.diagnostics).toBe(`${error}: what the caller reads`);
    if (expression === undefined) {
      expect(issue).not.toHaveProperty('expression');
    } else {
      expect(issue?.expression).toEqual([expression]);
    }
    expect(JSON.stringify(outcome)).not.toContain('what only the log reads');
  });

  it.each<OAuthErrorCode>([
    'invalid_request',
    'invalid_client',
    'unauthorized_client',
    'unsupported_grant_type',
    'invalid_scope',
  ])('toOAuth for %s carries the error and description, never the reason', (error) => {
    const refusal = new TokenRequestError(error, 'Client authentication failed', "unknown client 'x'");
    const body = refusal.toOAuth();
    expect(body).toEqual({ error, error_description: 'Client authentication failed' });
    expect(JSON.stringify(body)).not.toContain("unknown client 'x'");
  });

  it('keeps the reason for the log, defaulting to the description', () => {
    const withReason = new TokenRequestError(
      'invalid_client',
      'Client authentication failed',
      'jti replayed',
    );
    expect(withReason.reason).toBe('jti replayed');
    expect(withReason.message).toBe('invalid_client: jti replayed');
    expect(withReason.name).toBe('TokenRequestError');
    expect(withReason).toBeInstanceOf(Error);

    const withoutReason = new TokenRequestError('invalid_scope', 'Unknown scope');
    expect(withoutReason.reason).toBe('Unknown scope');
    expect(withoutReason.description).toBe('Unknown scope');
  });
});
