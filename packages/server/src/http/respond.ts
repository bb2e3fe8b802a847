/** Writing FHIR responses: one content type, one error shape. */
import { type OperationOutcomeError, refuse } from '@nir/core';
import type { Response } from 'express';

/** The registry always replies in FHIR JSON (mhd-balp.md §7). */
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Sends a FHIR resource (or any JSON body) with the FHIR content type. */
export function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/** Sends a refusal as its OperationOutcome; a 401 also gets the RFC 6750 challenge. */
export function sendOutcome(res: Response, error: OperationOutcomeError): void {
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
  res.locals.outcome = error;
  sendFhir(res, error.status, error.toOperationOutcome());
}

/** The refusal for an unexpected failure: no stack, no SQL, nothing internal (R16). */
export function internalError(): OperationOutcomeError {
  return refuse(
    'INTERNAL_SERVER_ERROR',
    'An unexpected error occurred. Quote the X-Request-Id when reporting it.',
  );
}
