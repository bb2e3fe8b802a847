/**
 * Conditional requests only where there is a validator (issue 14 point 7). Express answers 304
 * whenever `req.fresh`, and `fresh` counts `If-None-Match: *` as a match for any response, even
 * one without an `ETag` or `Last-Modified`: a search answered 304 with no body, and audited a
 * disclosure that did not happen. A search is not conditional; only a response that carries a
 * validator (a read's `ETag`/`Last-Modified`) is.
 */
import type { Express, Request } from 'express';

/** The `fresh` getter Express defines on its request prototype. */
function expressFresh(app: Express): (this: Request) => boolean {
  for (let proto: object | null = app.request; proto; proto = Object.getPrototypeOf(proto)) {
    const getter = Object.getOwnPropertyDescriptor(proto, 'fresh')?.get;
    if (getter) return getter as (this: Request) => boolean;
  }
  throw new Error('express request has no fresh getter');
}

/** Makes `req.fresh` false for a response without a validator, on this application only. */
export function conditionalOnlyWithValidators(app: Express): void {
  const fresh = expressFresh(app);
  Object.defineProperty(app.request, 'fresh', {
    configurable: true,
    enumerable: true,
    get(this: Request): boolean {
      const res = this.res;
      if (!res || (res.get('ETag') === undefined && res.get('Last-Modified') === undefined)) return false;
      return fresh.call(this);
    },
  });
}
