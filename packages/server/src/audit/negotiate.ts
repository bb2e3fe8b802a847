/**
 * Content negotiation on the audit base: FHIR JSON as everywhere, and NDJSON
 * (`application/fhir+ndjson`) for subject access exports and Bulk Data files. `_format`
 * overrides `Accept`. The chosen format is `res.locals.format`.
 */
import { refuse } from '@nir/core';
import type { NextFunction, Request, Response } from 'express';
import { acceptsFhirJson } from '../http/body.ts';

/** Media type of NDJSON FHIR (Bulk Data). */
export const FHIR_NDJSON = 'application/fhir+ndjson';

const NDJSON_TYPES = ['ndjson', FHIR_NDJSON, 'application/ndjson'];
const JSON_FORMATS = ['json', 'application/fhir+json', 'application/json', 'application/json+fhir'];

/** The format a response of the audit API is written in. */
export type AuditFormat = 'json' | 'ndjson';

function acceptsNdjson(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return NDJSON_TYPES.includes(type) && !(q !== undefined && Number(q.slice(2)) === 0);
  });
}

/** 406 unless the client accepts FHIR JSON or NDJSON; records the choice on `res.locals.format`. */
export function negotiateAuditFormats(req: Request, res: Response, next: NextFunction): void {
  const format =
    typeof req.query._format === 'string' ? req.query._format.split(';')[0]?.trim().toLowerCase() : undefined;
  if (format !== undefined) {
    if (NDJSON_TYPES.includes(format)) res.locals.format = 'ndjson';
    else if (JSON_FORMATS.includes(format)) res.locals.format = 'json';
    else {
      next(
        refuse(
          'NOT_ACCEPTABLE',
          'Only JSON or NDJSON are supported: _format must be json or ndjson',
          '_format',
        ),
      );
      return;
    }
    next();
    return;
  }
  const accept = req.get('accept');
  if (acceptsFhirJson(accept)) {
    res.locals.format = 'json';
    next();
    return;
  }
  if (acceptsNdjson(accept)) {
    res.locals.format = 'ndjson';
    next();
    return;
  }
  next(refuse('NOT_ACCEPTABLE', `Only application/fhir+json or ${FHIR_NDJSON} responses are available`));
}
