/**
 * `GET [base]/AuditEvent` (an ITI-81-style search) and `GET [base]/AuditEvent/{id}` (R8). An
 * organisation sees only the events it requested and those involving pointers it is custodian
 * of; never another organisation's activity on other organisations' pointers.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { refuse } from '@nir/core';
import type { RequestHandler } from 'express';
import { findAudit } from '../../audit/context.ts';
import type { AuditService } from '../../audit/service.ts';
import type { Principal } from '../../http/guard.ts';
import { sendFhir } from '../../http/respond.ts';
import { encodeCursor, parseAuditSearch } from './search-params.ts';

/** The URL of a base's resource path with `params`. */
export function linkTo(baseUrl: string, path: string, params: [string, string][]): string {
  const query = new URLSearchParams(params).toString();
  return `${baseUrl}${path}${query ? `?${query}` : ''}`;
}

/** `GET /AuditEvent`: a searchset Bundle, newest first, with a keyset `next` link. */
export function searchAuditEvents(service: AuditService, baseUrl: string): RequestHandler {
  return async (req, res) => {
    const principal = res.locals.principal as Principal;
    const search = parseAuditSearch(req);
    if (search.patient) findAudit(res)?.patient(search.patient);
    const page = await service.store.search(
      { ...search.query, visibleTo: principal.odsCode },
      { limit: search.count, after: search.after, order: search.order },
    );
    const link: Bundle['link'] = [{ relation: 'self', url: linkTo(baseUrl, '/AuditEvent', search.used) }];
    if (page.next) {
      link.push({
        relation: 'next',
        url: linkTo(baseUrl, '/AuditEvent', [...search.used, ['_cursor', encodeCursor(page.next)]]),
      });
    }
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link,
      entry: page.events.map((resource) => ({
        fullUrl: `${baseUrl}/AuditEvent/${resource.id}`,
        resource,
        search: { mode: 'match' },
      })),
    };
    sendFhir(res, 200, bundle);
  };
}

/** `GET /AuditEvent/{id}`: one event the caller may see, else 404 (its existence is not disclosed). */
export function readAuditEvent(service: AuditService): RequestHandler {
  return async (req, res) => {
    const principal = res.locals.principal as Principal;
    const audit = findAudit(res);
    audit?.describe({ subtype: 'read', action: 'R', iheTransaction: 'ITI-81' });
    const stored = await service.store.read(String(req.params.id ?? ''));
    const visible =
      stored &&
      (stored.requesterOds === principal.odsCode || stored.custodianOds.includes(principal.odsCode));
    if (!stored || !visible) throw refuse('NO_RECORD_FOUND', 'No AuditEvent with this id is visible to you');
    if (stored.patientNhs) audit?.patient(stored.patientNhs);
    sendFhir(res, 200, stored.event);
  };
}
