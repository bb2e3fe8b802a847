/**
 * The catalogue administration API (R3, R6, R19), base `/admin`, for clients registered as
 * administrators holding the `admin/catalogue` scope. JSON in and out; refusals are
 * OperationOutcomes. Every write is versioned with the acting client (and user) recorded.
 */
import {
  type CatalogueEntity,
  parseClientInput,
  parseGrantInput,
  parseOrganisationInput,
  ROLES,
  type Role,
  refuse,
} from '@nir/core';
import type { CatalogueRepository } from '@nir/store';
import { type Request, type Response, Router } from 'express';
import type { KeyRing } from '../auth/key-ring.ts';
import { jsonBody, requireBody } from '../http/body.ts';
import { methodNotAllowed } from '../http/errors.ts';
import type { AdminPrincipal } from '../http/guard.ts';
import { wellFormedBody } from '../http/well-formed.ts';

/** What the admin API needs. */
export interface AdminDeps {
  catalogue: CatalogueRepository;
  keys: KeyRing;
  bodyLimitBytes: number;
}

function actor(res: Response): string {
  return (res.locals.admin as AdminPrincipal).actor;
}

function param(req: Request, name: string): string {
  return String(req.params[name] ?? '');
}

function sendRecord(res: Response, status: number, record: { version: number }): void {
  res.setHeader('ETag', `W/"${record.version}"`);
  res.status(status).json(record);
}

/** The body's key field must match the path, or be absent. */
function withPathKey(body: unknown, key: string, value: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw refuse('BAD_REQUEST', 'Request body must be a JSON object');
  }
  const record = body as Record<string, unknown>;
  if (record[key] !== undefined && record[key] !== value) {
    throw refuse('BAD_REQUEST', `The ${key} in the path does not match the ${key} in the body`, key);
  }
  return { ...record, [key]: value };
}

function roleParam(req: Request): Role {
  const role = param(req, 'role');
  if (!(ROLES as readonly string[]).includes(role)) {
    throw refuse('INVALID_PARAMETER', `Role must be one of ${ROLES.join(', ')}`, 'role');
  }
  return role as Role;
}

function notFound(what: string): never {
  throw refuse('NO_RECORD_FOUND', `${what} is not in the catalogue`);
}

/** Builds the admin router (mounted behind the admin guard). */
export function adminRouter(deps: AdminDeps): Router {
  const router = Router();
  const { catalogue } = deps;
  const body = [...jsonBody(deps.bodyLimitBytes), requireBody, wellFormedBody];

  router
    .route('/organisations')
    .get(async (_req, res) => {
      res.json(await catalogue.listOrganisations());
    })
    .all(methodNotAllowed(['GET']));
  router
    .route('/organisations/:ods')
    .get(async (req, res) => {
      sendRecord(res, 200, (await catalogue.getOrganisation(param(req, 'ods'))) ?? notFound('Organisation'));
    })
    .put(...body, async (req, res) => {
      const input = parseOrganisationInput(withPathKey(req.body, 'odsCode', param(req, 'ods')));
      const { record, created } = await catalogue.putOrganisation(input, actor(res));
      sendRecord(res, created ? 201 : 200, record);
    })
    .all(methodNotAllowed(['GET', 'PUT']));

  router
    .route('/clients')
    .get(async (_req, res) => {
      res.json(await catalogue.listClients());
    })
    .all(methodNotAllowed(['GET']));
  router
    .route('/clients/:clientId')
    .get(async (req, res) => {
      sendRecord(res, 200, (await catalogue.getClient(param(req, 'clientId'))) ?? notFound('Client'));
    })
    .put(...body, async (req, res) => {
      const input = parseClientInput(withPathKey(req.body, 'clientId', param(req, 'clientId')));
      const { record, created } = await catalogue.putClient(input, actor(res));
      sendRecord(res, created ? 201 : 200, record);
    })
    .delete(async (req, res) => {
      await catalogue.deleteClient(param(req, 'clientId'), actor(res));
      res.status(204).end();
    })
    .all(methodNotAllowed(['GET', 'PUT', 'DELETE']));

  router
    .route('/grants')
    .get(async (req, res) => {
      const ods = typeof req.query.ods === 'string' ? req.query.ods : undefined;
      res.json(await catalogue.listGrants(ods ? { odsCode: ods } : {}));
    })
    .all(methodNotAllowed(['GET']));
  router
    .route('/grants/:ods/:role')
    .get(async (req, res) => {
      sendRecord(
        res,
        200,
        (await catalogue.getGrant(param(req, 'ods'), roleParam(req))) ?? notFound('Grant'),
      );
    })
    .put(...body, async (req, res) => {
      const withOds = withPathKey(req.body, 'odsCode', param(req, 'ods'));
      const input = parseGrantInput(withPathKey(withOds, 'role', roleParam(req)));
      const { record, created } = await catalogue.putGrant(input, actor(res));
      sendRecord(res, created ? 201 : 200, record);
    })
    .delete(async (req, res) => {
      await catalogue.deleteGrant(param(req, 'ods'), roleParam(req), actor(res));
      res.status(204).end();
    })
    .all(methodNotAllowed(['GET', 'PUT', 'DELETE']));

  router
    .route('/changes')
    .get(async (req, res) => {
      const entity = typeof req.query.entity === 'string' ? req.query.entity : undefined;
      if (entity !== undefined && !['organisation', 'client', 'grant'].includes(entity)) {
        throw refuse('INVALID_PARAMETER', 'entity must be organisation, client or grant', 'entity');
      }
      const after = req.query.after === undefined ? undefined : Number(req.query.after);
      // A change id is a bigint from 1: 1e300 is an integer to JavaScript, not to PostgreSQL.
      if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0))
        throw refuse('INVALID_PARAMETER', 'after must be a change id (an integer from 0)', 'after');
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw refuse('INVALID_PARAMETER', 'limit must be an integer from 1 to 1000', 'limit');
      }
      res.json(
        await catalogue.listChanges({
          ...(entity ? { entity: entity as CatalogueEntity } : {}),
          ...(typeof req.query.key === 'string' ? { entityKey: req.query.key } : {}),
          ...(after !== undefined ? { afterId: after } : {}),
          limit,
        }),
      );
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/signing-keys/rotate')
    .post(async (_req, res) => {
      res.status(201).json({ kid: await deps.keys.rotate() });
    })
    .all(methodNotAllowed(['POST']));

  return router;
}
