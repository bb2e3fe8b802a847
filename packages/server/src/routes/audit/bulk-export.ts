/**
 * FHIR Bulk Data export of audit (R8; mhd-balp.md §3.5):
 *
 * - `GET [base]/$export?_type=AuditEvent&_since=…`, or `POST [base]/$export` with the same as a
 *   Bulk Data v2 `Parameters` body (or in the query string), with `Prefer: respond-async` → 202 and
 *   `Content-Location` of the job's status URL. The job (kept in the database, so any instance
 *   answers) fixes the query: what the caller's organisation may see, from `_since` to the
 *   kick-off time (`transactionTime`).
 * - `GET` on the status URL → 202 (`X-Progress`, `Retry-After`) while audit in flight at the
 *   kick-off may still commit, then 200 with the manifest: one NDJSON file per month.
 * - `GET` on a file URL → the month's events as NDJSON, streamed from the database in keyset
 *   chunks (constant memory). `DELETE` on the status URL cancels the job (202).
 *
 * Every kick-off, poll, download and cancellation is itself audited.
 */
import { randomUUID } from 'node:crypto';
import { refuse } from '@nir/core';
import { type AuditExportJob, monthStart } from '@nir/store';
import type { Request, RequestHandler, Response } from 'express';
import { findAudit } from '../../audit/context.ts';
import { FHIR_NDJSON } from '../../audit/negotiate.ts';
import type { AuditService } from '../../audit/service.ts';
import type { Principal } from '../../http/guard.ts';
import { paramValues } from './search-params.ts';
import { streamNdjson } from './stream.ts';

/** The identifier system of export jobs named by audit events. */
export const AUDIT_EXPORT_JOB_SYSTEM = 'https://fhir.nir.nhs.uk/Id/audit-export-job';

/** Timing of export jobs. */
export interface ExportTiming {
  /** How long after the kick-off the manifest is given (audit in flight then may still commit). */
  settleMs: number;
  /** How long a job and its files stay available. */
  ttlMs: number;
}

export const DEFAULT_EXPORT_TIMING: ExportTiming = { settleMs: 2000, ttlMs: 24 * 3600_000 };

const NDJSON_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];

/** Kick-off parameters this export does not support (Bulk Data v2: refused, not ignored). */
const UNSUPPORTED = ['_typeFilter', '_elements', 'patient', 'includeAssociatedData', '_until'];

/** The value of a `Parameters.parameter` (Bulk Data v2 POST kick-off), as text. */
function parameterValue(parameter: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(parameter)) {
    if (key.startsWith('value') && (typeof value === 'string' || typeof value === 'number'))
      return String(value);
  }
  return undefined;
}

/**
 * The kick-off parameters: the query string, and for a POST its `Parameters` body too (Bulk
 * Data v2). A POST with no body (as MedplumClient.bulkExport sends) takes the query string only.
 */
export function kickOffParameters(req: Request): Map<string, string[]> {
  const params = new Map<string, string[]>();
  const add = (name: string, value: string) => params.set(name, [...(params.get(name) ?? []), value]);
  for (const name of Object.keys(req.query)) for (const value of paramValues(req, name)) add(name, value);
  const body: unknown = req.body;
  if (
    req.method === 'POST' &&
    body !== undefined &&
    !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)
  ) {
    const resource = body as { resourceType?: unknown; parameter?: unknown };
    if (
      resource.resourceType !== 'Parameters' ||
      (resource.parameter !== undefined && !Array.isArray(resource.parameter))
    ) {
      throw refuse(
        'INVALID_PARAMETER',
        'A POST kick-off body must be a Parameters resource (Bulk Data v2)',
        'Parameters',
      );
    }
    for (const [i, raw] of ((resource.parameter ?? []) as unknown[]).entries()) {
      const parameter = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const value = parameterValue(parameter);
      if (typeof parameter.name !== 'string' || value === undefined) {
        throw refuse(
          'INVALID_PARAMETER',
          'Each parameter needs a name and a value[x]',
          `Parameters.parameter[${i}]`,
        );
      }
      add(parameter.name, value);
    }
  }
  for (const name of UNSUPPORTED) {
    if (params.has(name)) throw refuse('INVALID_PARAMETER', `${name} is not supported by this export`, name);
  }
  return params;
}

function single(params: Map<string, string[]>, name: string): string | undefined {
  const values = params.get(name) ?? [];
  if (values.length > 1) throw refuse('INVALID_PARAMETER', `${name} may be given once`, name);
  return values[0];
}

function noteJob(res: Response, id: string, description: string): void {
  if (/^[0-9a-f-]{36}$/.test(id))
    findAudit(res)?.object({ system: AUDIT_EXPORT_JOB_SYSTEM, value: id, description });
}

/** The caller's live job, or 404 (another organisation's job is not disclosed). */
async function ownJob(service: AuditService, req: Request, res: Response): Promise<AuditExportJob> {
  const principal = res.locals.principal as Principal;
  const id = String(req.params.id ?? '');
  const job = /^[0-9a-f-]{36}$/.test(id) ? await service.jobs.get(id) : undefined;
  if (
    !job ||
    job.odsCode !== principal.odsCode ||
    job.status !== 'active' ||
    Date.parse(job.expiresAt) < Date.now()
  ) {
    throw refuse('NO_RECORD_FOUND', 'No such export job (it may have been cancelled or have expired)');
  }
  return job;
}

/** `YYYY-MM` of each month from `from` to `to` (exclusive). */
function months(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let m = monthStart(from); m < to; m = monthStart(m, 1)) out.push(m.toISOString().slice(0, 7));
  return out;
}

/** The time window of one month's file of a job. */
function window(job: AuditExportJob, month: string): { from: string; to: string } {
  const start = new Date(`${month}-01T00:00:00.000Z`);
  const end = monthStart(start, 1);
  const since = job.since ? new Date(job.since) : undefined;
  const until = new Date(job.transactionTime);
  return {
    from: (since && since > start ? since : start).toISOString(),
    to: (until < end ? until : end).toISOString(),
  };
}

/** `GET /$export` or `POST /$export` (query string and/or a `Parameters` body): the kick-off. */
export function kickOff(service: AuditService, baseUrl: string, timing: ExportTiming): RequestHandler {
  return async (req, res) => {
    const principal = res.locals.principal as Principal;
    findAudit(res)?.describe({ subtype: 'operation', action: 'E', eventType: 'export' });
    if (!/respond-async/i.test(req.get('prefer') ?? '')) {
      throw refuse('PRECONDITION_FAILED', 'Bulk export needs the header Prefer: respond-async', 'Prefer');
    }
    const params = kickOffParameters(req);
    const type = single(params, '_type');
    if (type !== undefined && type !== 'AuditEvent') {
      throw refuse('INVALID_PARAMETER', 'Only _type=AuditEvent can be exported from the audit API', '_type');
    }
    const format = single(params, '_outputFormat');
    if (format !== undefined && !NDJSON_FORMATS.includes(format)) {
      throw refuse('INVALID_PARAMETER', '_outputFormat must be application/fhir+ndjson', '_outputFormat');
    }
    const sinceRaw = single(params, '_since');
    const since = sinceRaw === undefined ? undefined : Date.parse(sinceRaw);
    if (since !== undefined && (Number.isNaN(since) || !/T.*(Z|[+-]\d{2}:\d{2})$/.test(sinceRaw ?? ''))) {
      throw refuse('INVALID_PARAMETER', '_since must be a FHIR instant, e.g. 2026-11-01T00:00:00Z', '_since');
    }
    const now = Date.now();
    const job = await service.jobs.create({
      id: randomUUID(),
      odsCode: principal.odsCode,
      clientId: principal.clientId,
      requestUrl: `${service.publicUrl}${req.originalUrl}`,
      since: since === undefined ? undefined : new Date(since).toISOString(),
      transactionTime: new Date(now).toISOString(),
      expiresAt: new Date(now + timing.ttlMs).toISOString(),
    });
    noteJob(res, job.id, 'Bulk export kick-off');
    res.setHeader('Content-Location', `${baseUrl}/$export-status/${job.id}`);
    res.status(202).end();
  };
}

/** `GET /$export-status/{id}`: 202 while settling, then the manifest. */
export function exportStatus(service: AuditService, baseUrl: string, timing: ExportTiming): RequestHandler {
  return async (req, res) => {
    findAudit(res)?.describe({ subtype: 'operation', action: 'E', eventType: 'export' });
    noteJob(res, String(req.params.id), 'Bulk export status');
    const job = await ownJob(service, req, res);
    const ready = Date.parse(job.transactionTime) + timing.settleMs;
    if (Date.now() < ready) {
      res.setHeader('X-Progress', 'waiting for audit in flight at the kick-off to commit');
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((ready - Date.now()) / 1000))));
      res.status(202).end();
      return;
    }
    const partitions = new Set(
      (await service.store.partitions()).map((name) =>
        name.replace(/^audit_event_p(\d{4})(\d{2})$/, '$1-$2'),
      ),
    );
    const earliest = [...partitions].sort()[0];
    const from = job.since
      ? new Date(job.since)
      : new Date(`${earliest ?? job.transactionTime.slice(0, 7)}-01T00:00:00Z`);
    const output: { type: string; url: string }[] = [];
    for (const month of months(from, new Date(job.transactionTime))) {
      if (!partitions.has(month)) continue;
      const { from: start, to } = window(job, month);
      const page = await service.store.search({ from: start, to, visibleTo: job.odsCode }, { limit: 1 });
      if (page.events.length > 0) {
        output.push({ type: 'AuditEvent', url: `${baseUrl}/$export-file/${job.id}/${month}.ndjson` });
      }
    }
    res.status(200).json({
      transactionTime: job.transactionTime,
      request: job.requestUrl,
      requiresAccessToken: true,
      output,
      error: [],
    });
  };
}

/** `DELETE /$export-status/{id}`: cancels the job. */
export function cancelExport(service: AuditService): RequestHandler {
  return async (req, res) => {
    findAudit(res)?.describe({ subtype: 'operation', action: 'D' });
    noteJob(res, String(req.params.id), 'Bulk export cancellation');
    const job = await ownJob(service, req, res);
    await service.jobs.cancel(job.id);
    res.status(202).end();
  };
}

/** `GET /$export-file/{id}/{YYYY-MM}.ndjson`: one month of the export, streamed. */
export function exportFile(service: AuditService): RequestHandler {
  return async (req, res) => {
    findAudit(res)?.describe({ subtype: 'operation', action: 'R', eventType: 'export' });
    const month = String(req.params.file ?? '').replace(/\.ndjson$/, '');
    noteJob(res, String(req.params.id), `Bulk export file ${month}`);
    const job = await ownJob(service, req, res);
    const start = job.since ? monthStart(new Date(job.since)).toISOString().slice(0, 7) : '0000-00';
    if (!/^\d{4}-\d{2}$/.test(month) || month < start || month > job.transactionTime.slice(0, 7)) {
      throw refuse('NO_RECORD_FOUND', 'No such file in this export');
    }
    const { from, to } = window(job, month);
    res.status(200).type(FHIR_NDJSON);
    await streamNdjson(res, service.store.chunks({ from, to, visibleTo: job.odsCode }));
  };
}
