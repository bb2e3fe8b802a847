/**
 * Response headers every response carries (issue 14 point 11): `X-Content-Type-Options:
 * nosniff`; `Cache-Control: no-store` on everything but the public discovery documents
 * (CapabilityStatements and `.well-known`), so no clinical or audit response is kept by a cache
 * or a browser; `Strict-Transport-Security` when the public URL is https. No CORS header is ever
 * sent: there is no browser client, so browsers keep refusing cross-origin reads.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Public documents a client may cache: they carry no patient, no identity. */
const DISCOVERY = /(^|\/)(metadata|\.well-known\/[^/]+)$/;

/** One year, as commonly required for HSTS; subdomains are not this service's to decide. */
const HSTS = 'max-age=31536000';

/** The security headers middleware for a registry served at `publicUrl`. */
export function securityHeaders(publicUrl: string): RequestHandler {
  const https = new URL(publicUrl).protocol === 'https:';
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (https) res.setHeader('Strict-Transport-Security', HSTS);
    if (!DISCOVERY.test(req.path)) res.setHeader('Cache-Control', 'no-store');
    next();
  };
}
