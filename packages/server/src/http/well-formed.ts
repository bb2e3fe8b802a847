/**
 * Text a request brings is refused at the edge when it is not text: a path segment whose
 * percent-encoding does not decode (`%zz`, `%`, an overlong or surrogate UTF-8 sequence), or a
 * path segment, query parameter or body parameter holding a control character (NUL and the rest
 * of U+0000-U+001F but tab, CR and LF) or broken UTF-16. Checked once here, for every parameter
 * of every route, so that no handler, and no database (PostgreSQL refuses NUL in text), sees it.
 * A refusal is 400 `INVALID_PARAMETER` naming the offending element; in a JSON body it is
 * `MESSAGE_NOT_WELL_FORMED`, as NRL words JSON body faults.
 */
import { isPrintableText, type OperationOutcomeError, refuse } from '@nir/core';
import type { NextFunction, Request, Response } from 'express';
import { JSON_TYPES } from './body.ts';

/** The first fault of a decoded text, or undefined when it is printable. */
function textFault(text: string): string | undefined {
  return isPrintableText(text) ? undefined : 'control characters and broken Unicode are not allowed';
}

/** The path's refusal, if any: every segment must decode to printable text. */
export function pathFault(pathname: string): OperationOutcomeError | undefined {
  for (const segment of pathname.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return refuse(
        'INVALID_PARAMETER',
        'Invalid path parameter (the path has malformed percent-encoding)',
        'path',
      );
    }
    const fault = textFault(decoded);
    if (fault) return refuse('INVALID_PARAMETER', `Invalid path parameter (${fault})`, 'path');
  }
  return undefined;
}

/**
 * The first key or value of a parsed parameter record (query string, form or JSON body, to any
 * depth) that is not printable text, with the parameter it belongs to. Walks with its own stack,
 * so a JSON body nested a million deep is checked, not a stack overflow.
 */
export function unprintableParameter(record: unknown): { key: string; fault: string } | undefined {
  const stack: [unknown, string][] = [[record, '']];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, key] = next;
    if (typeof value === 'string') {
      const fault = textFault(value);
      if (fault) return { key, fault };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [name, item] = entries[i] as [string, unknown];
      const label = Array.isArray(value) ? key : key === '' ? name : `${key}.${name}`;
      const keyFault = textFault(name);
      if (keyFault) return { key: printable(label), fault: keyFault };
      stack.push([item, label]);
    }
  }
  return undefined;
}

/** A label that is safe to echo even when the key it names is not. */
function printable(label: string): string {
  return textFault(label) ? '(a parameter name)' : label;
}

/**
 * The edge check of the path and the query string. Mounted right after the audit middleware of
 * each audited endpoint (FHIR bases, token, admin), so the refusal is audited, and before any
 * route matches (Express would otherwise throw its own `URIError` decoding `:id`).
 */
export function wellFormedRequest(req: Request, _res: Response, next: NextFunction): void {
  const pathname = req.originalUrl.split('?')[0] ?? '';
  const fault = pathFault(pathname);
  if (fault) {
    next(fault);
    return;
  }
  const query = unprintableParameter(req.query);
  next(
    query
      ? refuse('INVALID_PARAMETER', `Invalid query parameter (${query.key}: ${query.fault})`, query.key)
      : undefined,
  );
}

/** The same check of a parsed body (form or JSON); runs after the body parser of a route. */
export function wellFormedBody(req: Request, _res: Response, next: NextFunction): void {
  const found = unprintableParameter(req.body);
  if (!found) {
    next();
    return;
  }
  next(
    req.is(JSON_TYPES)
      ? refuse(
          'MESSAGE_NOT_WELL_FORMED',
          `Request body could not be parsed (${found.key}: ${found.fault})`,
          found.key,
        )
      : refuse('INVALID_PARAMETER', `Invalid query parameter (${found.key}: ${found.fault})`, found.key),
  );
}
