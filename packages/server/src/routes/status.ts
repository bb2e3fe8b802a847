/**
 * `GET /_status` (R16): 200 while the database answers, else 503. No authentication, as in NRL.
 */
import { refuse } from '@nir/core';
import type { RequestHandler } from 'express';
import { sendFhir, sendOutcome } from '../http/respond.ts';

/** The health endpoint, asking `ping` for the database. */
export function statusRoute(ping: () => Promise<boolean>): RequestHandler {
  return async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (await ping()) {
      sendFhir(res, 200, 'OK');
      return;
    }
    sendOutcome(res, refuse('SERVICE_UNAVAILABLE', 'Service unavailable'));
  };
}
