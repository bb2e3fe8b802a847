/**
 * The provider API on `/producer/FHIR/R4` (nrl-behaviour.md §1.1; mhd-balp.md §1.2): NRL's
 * producer interactions, an ITI-65 Recipient, `$validate`, the pointer history and the
 * published profiles. Every route passes the guard first (permission before any parameter or
 * body is read, as NRL orders it), then the body, then the {@link PointerService}.
 */
import type { DocumentReference, OperationOutcome, Resource } from '@medplum/fhirtypes';
import {
  checkOwnership,
  type Interaction,
  isOperationOutcomeError,
  type PointerSchema,
  refuse,
} from '@nir/core';
import { type PointerRepository, readCatalogueVersion } from '@nir/store';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { ApiModule } from '../../app.ts';
import { jsonBody, requireBody } from '../../http/body.ts';
import { methodNotAllowed } from '../../http/errors.ts';
import { confirmCatalogue, type Principal } from '../../http/guard.ts';
import { sendFhir } from '../../http/respond.ts';
import { searchBody } from '../../http/search-body.ts';
import { mountConformance } from './conformance.ts';
import { historyBundle } from './history.ts';
import { ownSearchBundle, readOwnSearch } from './own-search.ts';
import { PointerService, type ProducerCall, type WriteAudit } from './pointer-service.ts';
import { provideBundle } from './provide-bundle.ts';
import { etagOf, ifMatchVersion, pointerLocation, sendWrite } from './write-response.ts';

/** What the provider API needs. */
export interface ProducerDeps {
  pointers: PointerRepository;
  schema: PointerSchema;
  /** The published conformance resources, served on the base. */
  profiles: readonly Resource[];
  /** The public URL of the producer base: searchset entries' absolute `fullUrl`. */
  baseUrl: string;
}

/** The audit hooks a producer route uses (present when the audit trail is mounted). */
interface ProducerAudit extends WriteAudit {
  submissionSet?(id: string): void;
}

/** The request's audit context, when the audit trail is mounted (it is, in the registry). */
function auditIn(res: Response): ProducerAudit | undefined {
  return res.locals.audit as ProducerAudit | undefined;
}

function call(res: Response): ProducerCall {
  const principal = res.locals.principal as Principal;
  return {
    principal,
    now: new Date(),
    audit: auditIn(res),
    // R6: a write reads the catalogue version inside its own transaction (guard.ts).
    check: principal.versionInStatement
      ? async (trx) => confirmCatalogue(res, await readCatalogueVersion(trx))
      : undefined,
  };
}

function idParam(req: Request): string {
  const id = String(req.params.id ?? '');
  if (id === '') throw refuse('INVALID_PARAMETER', 'Invalid path parameter (id: Field required)', 'id');
  return id;
}

/** A route's middleware chain, error handlers included. */
type Handlers = (RequestHandler | ErrorRequestHandler)[];

/** NRL's parse error for a pointer body that is not JSON. */
const pointerJsonErrors: ErrorRequestHandler = (error, _req, _res, next) => {
  if ((error as { type?: string }).type === 'entity.parse.failed') {
    next(
      refuse(
        'MESSAGE_NOT_WELL_FORMED',
        'Request body could not be parsed (DocumentReference: Invalid JSON)',
        'DocumentReference',
      ),
    );
    return;
  }
  next(error);
};

function validationResult(error: unknown): OperationOutcome {
  if (isOperationOutcomeError(error)) return error.toOperationOutcome();
  throw error;
}

/** The provider API module. */
export function producerModule(deps: ProducerDeps): ApiModule {
  const service = new PointerService(deps.pointers, deps.schema);
  return ({ router, guard, bodyLimitBytes }) => {
    const as = (interaction: Interaction) => guard({ role: 'producer', interaction, clinical: true });
    // Creates, upserts, updates and deletes read the catalogue version in their own transaction
    // (the `check` of `call`), so their guard does not read it first (R6, guard.ts).
    const writeAs = (interaction: Interaction) =>
      guard({ role: 'producer', interaction, clinical: true, versionInStatement: true });
    const body: Handlers = [...jsonBody(bodyLimitBytes), pointerJsonErrors, requireBody];

    const search: RequestHandler = async (req: Request, res: Response) => {
      const principal = res.locals.principal as Principal;
      const params = (req.method === 'GET' ? req.query : req.body) as Record<string, unknown>;
      const query = readOwnSearch(params, principal.odsCode, principal.grant, deps.schema.terminology);
      auditIn(res)?.patient(query.nhsNumber);
      sendFhir(
        res,
        200,
        ownSearchBundle(await deps.pointers.searchOwn(query), principal.grant, deps.baseUrl),
      );
    };

    router
      .route('/DocumentReference/_search')
      .post(as('search'), ...searchBody(bodyLimitBytes, pointerJsonErrors), search)
      .all(methodNotAllowed(['POST']));

    router
      .route('/DocumentReference/\\$validate')
      .post(as('create'), ...body, (req: Request, res: Response) => {
        const parameter =
          (req.body as { resourceType?: string; parameter?: { name?: string; resource?: unknown }[] })
            .resourceType === 'Parameters'
            ? (req.body.parameter ?? []).find((p: { name?: string }) => p.name === 'resource')?.resource
            : req.body;
        const mode = req.query.mode === 'update' || req.query.mode === 'upsert' ? 'upsert' : 'create';
        let outcome: OperationOutcome;
        try {
          service.prepareCreate(parameter, mode, call(res));
          outcome = {
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'information',
                code: 'informational',
                diagnostics: 'The DocumentReference is valid',
              },
            ],
          };
        } catch (error) {
          outcome = validationResult(error);
        }
        sendFhir(res, 200, outcome);
      })
      .all(methodNotAllowed(['POST']));

    router
      .route('/DocumentReference')
      .get(as('search'), search)
      .post(writeAs('create'), ...body, async (req: Request, res: Response) => {
        const created = await service.create(req.body, 'create', call(res));
        sendWrite(req, res, { status: 201, ...writtenOf(created.stored), outcome: created.outcome });
      })
      .put(writeAs('upsert'), ...body, async (req: Request, res: Response) => {
        const created = await service.create(req.body, 'upsert', call(res));
        sendWrite(req, res, { status: 201, ...writtenOf(created.stored), outcome: created.outcome });
      })
      .all(methodNotAllowed(['GET', 'POST', 'PUT']));

    router
      .route('/DocumentReference/:id/_history')
      .get(as('history'), async (req: Request, res: Response) => {
        const id = idParam(req);
        const principal = res.locals.principal as Principal;
        checkOwnership(id, principal.odsCode, 'read');
        const versions = await deps.pointers.history(id);
        if (versions.length === 0)
          throw refuse('NO_RECORD_FOUND', 'The requested DocumentReference could not be found');
        const [latest] = versions;
        if (latest) {
          auditIn(res)?.patient(latest.nhsNumber);
          auditIn(res)?.pointer({
            id,
            custodian: latest.custodian,
            nhsNumber: latest.nhsNumber,
            versionAfter: latest.version,
          });
        }
        sendFhir(res, 200, historyBundle(`${req.protocol}://${req.get('host')}${req.baseUrl}`, versions));
      })
      .all(methodNotAllowed(['GET']));

    router
      .route('/DocumentReference/:id')
      .get(as('read'), async (req: Request, res: Response) => {
        const stored = await service.read(idParam(req), call(res));
        res.setHeader('ETag', etagOf(stored.version));
        res.setHeader('Last-Modified', new Date(stored.updatedOn).toUTCString());
        sendFhir(res, 200, stored.resource);
      })
      .put(writeAs('update'), ...body, async (req: Request, res: Response) => {
        const updated = await service.update(idParam(req), req.body, ifMatchVersion(req), call(res));
        sendWrite(req, res, { status: 200, ...writtenOf(updated), outcome: 'updated' });
      })
      .delete(writeAs('delete'), async (req: Request, res: Response) => {
        const id = idParam(req);
        const now = new Date();
        const { version } = await service.delete(id, ifMatchVersion(req), { ...call(res), now });
        sendWrite(req, res, { status: 200, id, version, lastUpdated: now.toISOString(), outcome: 'deleted' });
      })
      .all(methodNotAllowed(['GET', 'PUT', 'DELETE']));

    router
      .route('/')
      .post(as('transaction'), ...body, async (req: Request, res: Response) => {
        const bundle = await provideBundle(
          service,
          deps.pointers,
          req.body,
          call(res),
          (id) => auditIn(res)?.submissionSet?.(id),
          {
            pointer: (id) => pointerLocation(req.baseUrl, id),
            // The audit API is the producer base's sibling: /audit/FHIR/R4.
            auditEvent: (id) =>
              `${req.baseUrl.replace(/\/producer\/FHIR\/R4$/, '/audit/FHIR/R4')}/AuditEvent/${id}`,
          },
        );
        sendFhir(res, 200, bundle);
      })
      .all(methodNotAllowed(['POST']));

    mountConformance(router, deps.profiles);
  };
}

function writtenOf(stored: { id: string; version: number; updatedOn: string; resource: DocumentReference }) {
  return { id: stored.id, version: stored.version, lastUpdated: stored.updatedOn, resource: stored.resource };
}
