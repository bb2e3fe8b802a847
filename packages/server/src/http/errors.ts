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
}

/** Maps body-parser failures to the registry's codes. */
function fromBodyParser(error: BodyParserError) {
  switch (error.type) {
    case 'entity.parse.failed':
      return refuse('MESSAGE_NOT_WELL_FORMED', 'Request body could not be parsed (body: Invalid JSON)');
    case 'entity.too.large':
      return refuse('PAYLOAD_TOO_LARGE', 'Request body is larger than this registry accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return refuse('UNSUPPORTED_MEDIA_TYPE', 'Request body must be UTF-8 encoded');
    case 'request.aborted':
    case 'request.size.invalid':
      return refuse('BAD_REQUEST', 'Request body was incomplete');
    default:
      return undefined;
  }
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
  const parsed = fromBodyParser(error as BodyParserError);
  if (parsed) {
    sendOutcome(res, parsed);
    return;
  }
  req.log?.error({ err: error }, 'unexpected error');
  sendOutcome(res, internalError());
}
