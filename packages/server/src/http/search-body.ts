/**
 * Search bodies (`POST …/_search`): MHD's form encoding or the JSON object NRL accepts. No body
 * is 400 `BAD_REQUEST`; a body of another content type is 415; a JSON body that does not parse
 * goes to `onInvalidJson`'s wording.
 */
import { refuse } from '@nir/core';
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { JSON_TYPES, refuseNoBody, requireBody } from './body.ts';
import { wellFormedBody } from './well-formed.ts';

/** The middleware chain that reads a search body. */
export function searchBody(
  limitBytes: number,
  onInvalidJson: ErrorRequestHandler,
): (RequestHandler | ErrorRequestHandler)[] {
  return [
    refuseNoBody,
    (req: Request, _res: Response, next: NextFunction) => {
      next(
        req.is([...JSON_TYPES, 'application/x-www-form-urlencoded'])
          ? undefined
          : refuse('UNSUPPORTED_MEDIA_TYPE', 'Search bodies are application/x-www-form-urlencoded or JSON'),
      );
    },
    express.json({ type: JSON_TYPES, limit: limitBytes }),
    express.urlencoded({ extended: false, limit: limitBytes }),
    onInvalidJson,
    requireBody,
    wellFormedBody,
  ];
}
