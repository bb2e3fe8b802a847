/**
 * The last stops of every request: unknown routes, refused methods and the error handler that
 * turns anything thrown into an OperationOutcome (R16). Unknown failures become a 500 with no
 * internals; the detail goes to the log with the request id.
 */
import { isOperationOutcomeError, refuse } from '@nir/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { internalError, sendOutcome } from './respond.ts';

/** 404 for a URL the registry does not serve. */
export function unknownRoute(_req: Request, res: Response): void {
  sendOutcome(res, refuse('NO_RECORD_FOUND', 'The requested URL is not served by this registry'));
}

/** 405 with an `Allow` header, for a known path asked with another method. */
export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req, res) => {
    res.setHeader('Allow', allowed.join(', '));
    sendOutcome(
      res,
      refuse('METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed here; use ${allowed.join(', ')}`),
    );
  };
}

/** NRL answers HEAD with 405 everywhere; Express would otherwise run the GET handler. */
export function refuseHead(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'HEAD') {
    methodNotAllowed(['GET'])(req, res, next);
    return;
  }
  next();
}

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  errno?: number;
}

/** Maps body-parser failures to the registry's codes. */
function fromBodyParser(error: BodyParserError) {
  switch (error.type) {
    case 'entity.parse.failed':
      return refuse('MESSAGE_NOT_WELL_FORMED', 'Request body could not be parsed (body: Invalid JSON)');
    case 'entity.too.large':
      return refuse('PAYLOAD_TOO_LARGE', 'Request body is larger than this registry accepts');
    case 'charset.unsupported':
      return refuse('UNSUPPORTED_MEDIA_TYPE', 'Request body must be UTF-8 encoded');
    case 'encoding.unsupported':
      return refuse(
        'UNSUPPORTED_MEDIA_TYPE',
        'Content-Encoding must be identity, gzip, deflate or br',
        'Content-Encoding',
      );
    case 'parameters.too.many':
      return refuse('PAYLOAD_TOO_LARGE', 'Request body has more parameters than this registry accepts');
    case 'request.aborted':
    case 'request.size.invalid':
      return refuse('BAD_REQUEST', 'Request body was incomplete');
    default:
      return undefined;
  }
}

/**
 * Other client errors that Express and the body parsers raise with a 4xx status: a route
 * parameter whose percent-encoding does not decode (the router's `URIError`), a body that does
 * not decode as its `Content-Encoding` says (zlib). Anything else with a 4xx status is still the
 * client's fault: 400 `BAD_REQUEST`, never a 500.
 */
function fromClientError(error: unknown) {
  const { status, statusCode, errno } = (error ?? {}) as BodyParserError;
  const httpStatus = status ?? statusCode;
  if (typeof httpStatus !== 'number' || httpStatus < 400 || httpStatus > 499) return undefined;
  if (error instanceof URIError) {
    return refuse(
      'INVALID_PARAMETER',
      'Invalid path parameter (the path has malformed percent-encoding)',
      'path',
    );
  }
  // zlib's errors (gzip, deflate: Z_DATA_ERROR; br: ERR__ERROR_FORMAT_…) carry an errno.
  if (typeof errno === 'number') {
    return refuse(
      'BAD_REQUEST',
      'Request body does not decode as its Content-Encoding says',
      'Content-Encoding',
    );
  }
  if (httpStatus === 413)
    return refuse('PAYLOAD_TOO_LARGE', 'Request body is larger than this registry accepts');
  if (httpStatus === 415)
    return refuse('UNSUPPORTED_MEDIA_TYPE', 'Request body is of a type this route does not take');
  return refuse('BAD_REQUEST', 'The request could not be read');
}

/**
 * A pointer too large for the index that keeps a patient's pointers together (migration 0011):
 * PostgreSQL refuses a B-tree entry over 2,704 bytes (SQLSTATE 54000, "index row size … exceeds
 * … maximum"), and `pointer_patient_recent` carries the DocumentReference as stored, compressed.
 * Typical pointers are 1–2 KB stored (a 10 KB pointer of many attachments stores in under 2 KB),
 * so this refuses only a pointer of several KB of text that does not compress: the provider's
 * fault, a 413, never a 500.
 */
export function fromIndexRowLimit(error: unknown) {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== '54000' || typeof message !== 'string' || !/^index row size \d+ exceeds/.test(message)) {
    return undefined;
  }
  return refuse(
    'PAYLOAD_TOO_LARGE',
    'DocumentReference is larger than this registry stores: its JSON, as stored (compressed), must stay under about 2.5 KB',
  );
}

/** Express error handler: the one place that renders thrown errors. */
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) {
    req.log?.error({ err: error }, 'error after the response started');
    res.end();
    return;
  }
  if (isOperationOutcomeError(error)) {
    sendOutcome(res, error);
    return;
  }
  // A refusal mapped here is not logged: body-parser's errors carry the raw body (issue 14.5).
  const parsed =
    fromBodyParser((error ?? {}) as BodyParserError) ?? fromClientError(error) ?? fromIndexRowLimit(error);
  if (parsed) {
    sendOutcome(res, parsed);
    return;
  }
  // The logger's `err` serializer (logging.ts) drops any body an error carries.
  req.log?.error({ err: error }, 'unexpected error');
  sendOutcome(res, internalError());
}
