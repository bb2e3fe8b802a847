/**
 * Subject access request (R9): `GET [base]/Patient/$audit?patient.identifier=<nhs>&date=ge…&date=lt…`
 * returns every access to one patient's pointers over a period, across all organisations, as
 * one searchset Bundle or as NDJSON (`_format=ndjson`), streamed. Only for a provider that
 * holds that patient's pointers (the custody port).
 */
import { refuse } from '@nir/core';
import type { RequestHandler } from 'express';
import { findAudit } from '../../audit/context.ts';
import { FHIR_NDJSON } from '../../audit/negotiate.ts';
import type { AuditService } from '../../audit/service.ts';
import type { Principal } from '../../http/guard.ts';
import { FHIR_JSON } from '../../http/respond.ts';
import { linkTo } from './search.ts';
import { nhsNumberParam, paramValues, parseDateBounds } from './search-params.ts';
import { streamBundle, streamNdjson } from './stream.ts';

const PATIENT_PARAMS = ['patient.identifier', 'patient:identifier', 'patient', 'identifier'];

/** The handler of `GET /Patient/$audit`. */
export function subjectAccess(service: AuditService, baseUrl: string): RequestHandler {
  return async (req, res) => {
    const principal = res.locals.principal as Principal;
    const audit = findAudit(res);
    audit?.describe({ subtype: 'operation', action: 'E', eventType: 'export' });
    const given = PATIENT_PARAMS.flatMap((name) =>
      paramValues(req, name).map((v): [string, string] => [name, v]),
    );
    const first = given[0];
    if (!first || given.length > 1) {
      throw refuse(
        'INVALID_PARAMETER',
        'One patient.identifier (an NHS number) is required',
        'patient.identifier',
      );
    }
    const nhs = nhsNumberParam(first[1], first[0]);
    audit?.patient(nhs);
    const dates = paramValues(req, 'date');
    const { from, to } = parseDateBounds(dates);
    if (!(await service.custody(principal.odsCode, nhs))) {
      throw refuse(
        'ACCESS DENIED',
        `Your organisation '${principal.odsCode}' holds no pointers for this patient: a subject access request is for a provider that does`,
      );
    }
    const chunks = service.store.chunks({ from, to, patientNhs: nhs });
    if (res.locals.format === 'ndjson') {
      res.status(200).type(FHIR_NDJSON);
      await streamNdjson(res, chunks);
      return;
    }
    res.status(200).type(FHIR_JSON);
    const self = linkTo(baseUrl, '/Patient/$audit', [
      first,
      ...dates.map((d): [string, string] => ['date', d]),
    ]);
    await streamBundle(res, self, (id) => `${baseUrl}/AuditEvent/${id}`, chunks);
  };
}
