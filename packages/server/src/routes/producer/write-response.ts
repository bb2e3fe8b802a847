/**
 * Success responses of producer writes (nrl-behaviour.md §1.5; mhd-balp.md §7): NRL's
 * informational OperationOutcome by default, `Location` on 201, `ETag: W/"<version>"` and
 * `Last-Modified`, and FHIR's `Prefer: return=minimal|representation|OperationOutcome`.
 */
import type { DocumentReference, OperationOutcome } from '@medplum/fhirtypes';
import { informationOutcome } from '@nir/core';
import type { Request, Response } from 'express';
import { FHIR_JSON, sendFhir } from '../../http/respond.ts';

/** NRL's success codes for writes. */
export const WRITE_OUTCOMES = {
  created: ['RESOURCE_CREATED', 'Resource created', 'The document has been created'],
  superseded: [
    'RESOURCE_SUPERSEDED',
    'Resource created and resource(s) deleted',
    'The document has been superseded by a new version',
  ],
  updated: ['RESOURCE_UPDATED', 'Resource updated', 'The DocumentReference has been updated'],
  deleted: ['RESOURCE_DELETED', 'Resource deleted', 'The requested DocumentReference has been deleted'],
} as const;

/** Which success a write had. */
export type WriteOutcome = keyof typeof WRITE_OUTCOMES;

/** The informational OperationOutcome NRL returns for a write. */
export function writeOutcome(outcome: WriteOutcome): OperationOutcome {
  const [code, display, diagnostics] = WRITE_OUTCOMES[outcome];
  return informationOutcome(code, display, diagnostics);
}

/** What the client asked for with `Prefer: return=…` (NRL's OperationOutcome when absent). */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** Reads `Prefer: return=…`; anything unrecognised falls back to NRL's default. */
export function returnPreference(req: Request): ReturnPreference {
  const match = /(?:^|[;,\s])return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(
    req.get('prefer') ?? '',
  );
  const value = match?.[1]?.toLowerCase();
  if (value === 'minimal') return 'minimal';
  if (value === 'representation') return 'representation';
  return 'OperationOutcome';
}

/** The version tag of a stored pointer. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** The version a client's `If-Match` names, undefined when absent; NaN when unreadable. */
export function ifMatchVersion(req: Request): number | undefined {
  const header = req.get('if-match');
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header);
  return match?.[1] ? Number(match[1]) : Number.NaN;
}

/** A completed write, as the response describes it. */
export interface WrittenPointer {
  status: 200 | 201;
  outcome: WriteOutcome;
  /** The pointer as now stored; absent after a delete. */
  resource?: DocumentReference;
  id: string;
  version: number;
  lastUpdated: string;
}

/**
 * Where a pointer is, as NRL's create `Location` names it (`/producer/FHIR/R4/DocumentReference/<id>`,
 * nrl-behaviour.md §1.5); an ITI-65 entry's `location` has the same form.
 */
export function pointerLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/DocumentReference/${id}`;
}

/** Sends a write's response. */
export function sendWrite(req: Request, res: Response, written: WrittenPointer): void {
  res.setHeader('ETag', etagOf(written.version));
  res.setHeader('Last-Modified', new Date(written.lastUpdated).toUTCString());
  if (written.status === 201) res.setHeader('Location', pointerLocation(req.baseUrl, written.id));
  const preference = returnPreference(req);
  if (preference === 'minimal') {
    res.status(written.status).type(FHIR_JSON).end();
    return;
  }
  if (preference === 'representation' && written.resource) {
    sendFhir(res, written.status, written.resource);
    return;
  }
  sendFhir(res, written.status, writeOutcome(written.outcome));
}
