/**
 * The audit API on `/audit/FHIR/R4` (R8, R9), for clients whose organisation holds an `audit`
 * grant: AuditEvent search and read, the subject access request and FHIR Bulk Data export.
 * Every request to it is itself audited by the audit middleware.
 */
import type { ApiModule } from '../../app.ts';
import type { AuditService } from '../../audit/service.ts';
import { optionalJsonBody } from '../../http/body.ts';
import { methodNotAllowed } from '../../http/errors.ts';
import {
  cancelExport,
  DEFAULT_EXPORT_TIMING,
  type ExportTiming,
  exportFile,
  exportStatus,
  kickOff,
} from './bulk-export.ts';
import { readAuditEvent, searchAuditEvents } from './search.ts';
import { subjectAccess } from './subject-access.ts';

/** What the audit API needs. */
export interface AuditApiDeps {
  service: AuditService;
  /** Bulk export timing (tests shorten the settle time). */
  exportTiming?: Partial<ExportTiming>;
}

/** Mounts the audit API on its base. */
export function auditApi(deps: AuditApiDeps): ApiModule {
  const timing = { ...DEFAULT_EXPORT_TIMING, ...deps.exportTiming };
  const baseUrl = `${deps.service.publicUrl}/audit/FHIR/R4`;
  return ({ router, guard, bodyLimitBytes }) => {
    const search = guard({ role: 'audit', interaction: 'audit-search', clinical: false });
    const exporting = guard({ role: 'audit', interaction: 'audit-export', clinical: false });
    const { service } = deps;
    router
      .route('/AuditEvent')
      .get(search, searchAuditEvents(service, baseUrl))
      .all(methodNotAllowed(['GET']));
    router
      .route('/AuditEvent/:id')
      .get(search, readAuditEvent(service))
      .all(methodNotAllowed(['GET']));
    router
      .route('/Patient/$audit')
      .get(search, subjectAccess(service, baseUrl))
      .all(methodNotAllowed(['GET']));
    router
      .route('/$export')
      .get(exporting, kickOff(service, baseUrl, timing))
      .post(exporting, ...optionalJsonBody(bodyLimitBytes), kickOff(service, baseUrl, timing))
      .all(methodNotAllowed(['GET', 'POST']));
    router
      .route('/$export-status/:id')
      .get(exporting, exportStatus(service, baseUrl, timing))
      .delete(exporting, cancelExport(service))
      .all(methodNotAllowed(['GET', 'DELETE']));
    router
      .route('/$export-file/:id/:file')
      .get(exporting, exportFile(service))
      .all(methodNotAllowed(['GET']));
  };
}
