/**
 * Request bodies and content negotiation (mhd-balp.md §7): FHIR JSON in (also plain JSON and
 * the legacy `application/json+fhir`), FHIR JSON out; anything else is 415 or 406.
 */
import { refuse } from '@nir/core';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** Media types accepted for JSON request bodies. */
export const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

/** True when the request carries no body: neither a length nor chunks, or a length of 0. */
function hasNoBody(req: Request): boolean {
  // `req.is` is null exactly when there is no body, whatever the types asked about.
  return req.get('content-length') === '0' || req.is('*/*') === null;
}

const missingBody = () => refuse('BAD_REQUEST', 'Request body is required');

/**
 * Refuses a request with no body at all: 400 `BAD_REQUEST` (nrl-behaviour.md §4.2), whatever
 * its content type says. Runs before the content-type check, so that only a body of the wrong
 * type is 415.
 */
export function refuseNoBody(req: Request, _res: Response, next: NextFunction): void {
  next(hasNoBody(req) ? missingBody() : undefined);
}

/** 415 for a body that is not FHIR JSON, naming what was sent. */
function notJson(req: Request): Error {
  return refuse(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type must be one of ${JSON_TYPES.join(', ')}; got '${req.get('content-type') ?? 'none'}'`,
  );
}

/** Parses a JSON body, refusing no body with 400 and other content types with 415. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    next(req.is(JSON_TYPES) ? undefined : notJson(req));
  };
  return [refuseNoBody, requireJson, express.json({ type: JSON_TYPES, limit: limitBytes, strict: true })];
}

/** A body is required: 400 `BAD_REQUEST` when there is none (nrl-behaviour.md §4.2). */
export function requireBody(req: Request, _res: Response, next: NextFunction): void {
  // body-parser turns an empty body into {}; an empty body is still no body.
  next(req.body === undefined || hasNoBody(req) ? missingBody() : undefined);
}

const ACCEPTABLE = ['application/fhir+json', 'application/json', 'application/json+fhir'];
const FORMAT_ALIASES = ['json', ...ACCEPTABLE];

/**
 * True when an `Accept` header admits a JSON FHIR response. Media-type parameters such as
 * `fhirVersion=4.0` or `charset=utf-8` are allowed; a range with `q=0` is a refusal.
 */
export function acceptsFhirJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return type === '*/*' || type === 'application/*' || ACCEPTABLE.includes(type);
  });
}

/**
 * 406 unless the client accepts FHIR JSON. `_format` overrides `Accept`, as FHIR allows.
 */
export function negotiateFhirJson(req: Request, _res: Response, next: NextFunction): void {
  const format = typeof req.query._format === 'string' ? req.query._format : undefined;
  if (format !== undefined) {
    const base = format.split(';')[0]?.trim().toLowerCase() ?? '';
    next(
      FORMAT_ALIASES.includes(base)
        ? undefined
        : refuse('NOT_ACCEPTABLE', 'Only JSON is supported: _format must be json', '_format'),
    );
    return;
  }
  next(
    acceptsFhirJson(req.get('accept'))
      ? undefined
      : refuse('NOT_ACCEPTABLE', 'Only application/fhir+json responses are available'),
  );
}

/**
 * Parses a JSON body when there is one (a Bulk Data POST kick-off may carry its parameters in
 * the query string and no body); a body of another content type is 415.
 */
export function optionalJsonBody(limitBytes: number): RequestHandler[] {
  const skipWhenEmpty: RequestHandler = (req, _res, next) => {
    if (hasNoBody(req)) {
      next();
      return;
    }
    next(req.is(JSON_TYPES) ? undefined : notJson(req));
  };
  return [skipWhenEmpty, express.json({ type: JSON_TYPES, limit: limitBytes, strict: true })];
}
