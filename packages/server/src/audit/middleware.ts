/**
 * The audit trail's one choke point (R7): mounted first on every FHIR base, the token
 * endpoint and `/admin`, it puts an {@link AuditContext} on `res.locals.audit` and holds the
 * response until its audit is committed. `res.end` (and `res.write`, for streamed responses)
 * are wrapped: the first byte or the end of a response waits for the audit record; if the
 * audit cannot be written and nothing has been sent, the response becomes a 500
 * INTERNAL_SERVER_ERROR instead (no response leaves without its audit), or a 503
 * SERVICE_UNAVAILABLE with `Retry-After` when the database is away; that refusal's own event
 * is then kept by {@link DeferredAudit} until the database answers (issue 14, point 8).
 * A stream that fails after its first byte is recorded again, as the failure it became
 * ({@link AuditContext.failedAfterStart}, point 6).
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuditRecord, OperationOutcomeError } from '@nir/core';
import { isDatabaseUnavailable } from '@nir/store';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FHIR_JSON, internalError } from '../http/respond.ts';
import { RETRY_AFTER_SECONDS, serviceUnavailable } from '../resilience/unavailable.ts';
import { AuditContext } from './context.ts';
import type { AuditScope } from './scopes.ts';
import type { AuditService } from './service.ts';

/** Headers kept when a response is replaced by the audit failure's 500 (ids, security headers). */
const KEPT_HEADERS = new Set([
  'x-request-id',
  'x-correlation-id',
  'cache-control',
  'x-content-type-options',
  'strict-transport-security',
]);

function bodyText(chunk: unknown): string | undefined {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString('utf8');
  return undefined;
}

type Write = (...args: unknown[]) => boolean;
type End = (...args: unknown[]) => Response;

/** The audit middleware of one kind of endpoint. */
export function auditTrail(service: AuditService, scope: AuditScope): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (res.locals.audit instanceof AuditContext || scope.skip?.(req)) {
      next();
      return;
    }
    const originalUrl = req.originalUrl;
    // The start of the event's period (R17 latencies), unless an earlier middleware set it.
    if (!(res.locals.startedAt instanceof Date)) res.locals.startedAt = new Date();
    const serverUrl = scope.serverUrl(service, req);
    const context: AuditContext = new AuditContext({
      build: (status) => build(status, undefined),
      insertWithin: (record, executor) => service.recordWithin(record, executor),
      recordAfter: (outcome) => recordAfter(outcome),
    });
    const build = (status: number, body: string | undefined): Promise<AuditRecord> =>
      scope.build(service, { req, res, status, body, snapshot: context.snapshot(), originalUrl, serverUrl });

    /** Writes `record`, or defers it while the database is away (it discloses nothing). */
    const writeOrDefer = async (record: AuditRecord): Promise<void> => {
      const events = service.events(record);
      try {
        await service.writer.record(events);
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        service.deferred.defer(events);
      }
    };

    /** A second event for a response that failed after its audited start (a cut stream). */
    const recordAfter = async (outcome: OperationOutcomeError): Promise<void> => {
      service.counters.increment('stream-aborted');
      // A start whose own audit failed was already answered (and recorded) as that failure.
      if (committed && !(await committed)) return;
      res.locals.outcome = outcome;
      await writeOrDefer(await build(outcome.status, undefined));
    };

    /** Records the response's audit once; resolves true when committed. */
    const finish = async (status: number, body: string | undefined): Promise<void> => {
      const within = context.recordedWithin();
      if (within) {
        if (within.status === status) return;
        // The write's transaction recorded a success but the response is not it: if the
        // transaction rolled back, that event is gone and this response is recorded instead.
        if (await eventStored(service, within.event)) {
          req.log?.warn({ status, recordedStatus: within.status }, 'response differs from the audited write');
          return;
        }
      }
      await service.record(await build(status, body));
    };

    const realWrite = res.write.bind(res) as Write;
    const realEnd = res.end.bind(res) as End;
    let committed: Promise<boolean> | undefined;
    let passThrough = false;
    let endArgs: unknown[] | undefined;
    const pending: unknown[][] = [];

    const replaceWithError = (error: OperationOutcomeError = internalError()) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      for (const name of res.getHeaderNames()) if (!KEPT_HEADERS.has(name)) res.removeHeader(name);
      res.locals.outcome = error;
      res.statusCode = error.status;
      res.setHeader('Content-Type', FHIR_JSON);
      if (error.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      passThrough = true;
      pending.length = 0;
      realEnd(JSON.stringify(error.toOperationOutcome()));
    };

    const commit = (status: number, body: string | undefined): Promise<boolean> => {
      if (!committed && status === 503) {
        // A 503 discloses nothing and its database is likely away: answer now (no wait for
        // the audit's own timeouts), record in the background, deferred if need be.
        committed = Promise.resolve(true);
        passThrough = true;
        for (const args of pending.splice(0)) realWrite(...args);
        if (endArgs) realEnd(...endArgs);
        void build(status, body)
          .then(writeOrDefer)
          .catch((error: unknown) => req.log?.error({ err: error }, 'audit of a 503 not written'));
        return committed;
      }
      committed ??= finish(status, body).then(
        () => {
          passThrough = true;
          const held = pending.splice(0);
          let ready = true;
          for (const args of held) ready = realWrite(...args);
          if (endArgs) realEnd(...endArgs);
          // Writers held back (write returned false) wait for 'drain'.
          else if (held.length > 0 && ready) res.emit('drain');
          return true;
        },
        (error: unknown) => {
          if (isDatabaseUnavailable(error)) {
            // Nothing is disclosed: the caller gets a 503 at once; its event waits for the database.
            req.log?.warn({ err: error }, 'audit write failed, database unavailable: 503');
            service.counters.increment('database-unavailable');
            const sent = !res.headersSent;
            replaceWithError(serviceUnavailable(error));
            if (sent) {
              build(503, undefined).then(
                (record) => service.deferred.defer(service.events(record)),
                (buildError: unknown) => req.log?.error({ err: buildError }, 'deferred audit not built'),
              );
            }
            return false;
          }
          req.log?.error({ err: error }, 'audit write failed: the response is refused');
          service.logger.error({ err: error, requestId: res.locals.requestId }, 'audit write failed');
          replaceWithError();
          return false;
        },
      );
      return committed;
    };

    res.write = ((...args: unknown[]) => {
      if (passThrough) return realWrite(...args);
      pending.push(args);
      // Streaming: the audit is recorded before the first byte, with the status as it is now.
      // Until it is committed the writer is told to wait for 'drain'.
      void commit(res.statusCode, undefined);
      return false;
    }) as Response['write'];

    res.end = ((...args: unknown[]) => {
      if (passThrough) return realEnd(...args);
      if (endArgs) return res;
      endArgs = args;
      void commit(res.statusCode, bodyText(args[0]));
      return res;
    }) as Response['end'];

    // A client that goes away before the response still leaves its audit.
    res.on('close', () => {
      if (!endArgs && !committed) void commit(res.headersSent ? res.statusCode : 499, undefined);
    });

    res.locals.audit = context;
    next();
  };
}

async function eventStored(service: AuditService, event: AuditEvent): Promise<boolean> {
  return event.id !== undefined && (await service.store.exists(event.id, event.recorded));
}
