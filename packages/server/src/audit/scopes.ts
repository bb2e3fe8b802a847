/**
 * How each kind of endpoint is audited: the FHIR bases (producer, consumer, audit), the token
 * endpoint and the catalogue administration API. Each builds the {@link AuditRecord} of a
 * finished request from what the route said (the audit context) and what the response shows.
 */
import {
  type AuditKind,
  type AuditObject,
  type AuditRecord,
  INTERACTION_KINDS,
  kindForMethod,
  NIR_CATALOGUE_SYSTEM_PREFIX,
  printableText,
  readIuaClaims,
} from '@nir/core';
import type { Request, Response } from 'express';
import { decodeJwt } from 'jose';
import type { AdminPrincipal } from '../http/guard.ts';
import type { AuditContext } from './context.ts';
import {
  claimedClientId,
  failureOf,
  identityOf,
  patientsInQuery,
  queryOf,
  userFromIua,
} from './request-facts.ts';
import type { AuditService } from './service.ts';

/** What a scope builds a record from. */
export interface ScopeInput {
  req: Request;
  res: Response;
  status: number;
  /** The response body when it was sent whole (token and admin responses are read for ids). */
  body: string | undefined;
  snapshot: ReturnType<AuditContext['snapshot']>;
  /** The request URL as it arrived, and the URL of the endpoint that served it. */
  originalUrl: string;
  serverUrl: string;
}

/** How one kind of endpoint is audited. */
export interface AuditScope {
  /** Requests not audited: discovery and health, which carry no data and no identity. */
  skip?(req: Request): boolean;
  /** The URL of the serving endpoint (`source.site`), read when the request enters. */
  serverUrl(service: AuditService, req: Request): string;
  build(service: AuditService, input: ScopeInput): Promise<AuditRecord>;
}

/** The parts every record shares. */
function common(input: ScopeInput, kind: AuditKind): AuditRecord {
  const { req, res, status, snapshot } = input;
  return {
    recorded: new Date().toISOString(),
    started: res.locals.startedAt instanceof Date ? res.locals.startedAt.toISOString() : undefined,
    requestId: res.locals.requestId as string | undefined,
    correlationId: res.locals.correlationId as string | undefined,
    kind,
    status,
    failure: failureOf(res, status),
    callerIp: req.ip,
    serverUrl: input.serverUrl,
    patients: snapshot.patients,
    pointers: snapshot.pointers,
    custodians: snapshot.custodians,
    objects: snapshot.objects,
    submissionSetId: snapshot.submissionSetId,
    description: snapshot.description,
  };
}

const UNAUDITED = /^\/(metadata|_status|\.well-known\/.*)$/;

/** A FHIR base: the kind comes from the route, else the guarded interaction, else the method. */
export const fhirScope: AuditScope = {
  skip: (req) => UNAUDITED.test(req.path),
  serverUrl: (service, req) => `${service.publicUrl}${req.baseUrl}`,
  async build(service, input) {
    const { snapshot, req, status } = input;
    const kind =
      snapshot.kind ??
      (snapshot.interaction
        ? INTERACTION_KINDS[snapshot.interaction]
        : status >= 400
          ? { subtype: 'request-refused' as const, action: kindForMethod(req.method).action }
          : kindForMethod(req.method));
    const record = common(input, kind);
    if (record.patients.length === 0) record.patients = patientsInQuery(req);
    if (kind.action === 'E') record.query = queryOf(req, input.originalUrl);
    return { ...record, ...(await identityOf(service, req, input.res)) };
  },
};

function parseJson(body: string | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The OAuth error of a refused token request, from either response shape. */
function oauthError(
  body: Record<string, unknown> | undefined,
): { error: string; description?: string } | undefined {
  if (!body) return undefined;
  if (typeof body.error === 'string') {
    return {
      error: body.error,
      ...(typeof body.error_description === 'string' ? { description: body.error_description } : {}),
    };
  }
  const issue = (body.issue as { diagnostics?: string }[] | undefined)?.[0];
  const match = /^([a-z_]+): (.*)$/.exec(issue?.diagnostics ?? '');
  return match ? { error: match[1] as string, description: match[2] as string } : undefined;
}

/** Errors the token endpoint gives only after the client assertion verified. */
const AFTER_VERIFICATION = ['unauthorized_client', 'invalid_scope'];

/**
 * The token endpoint: who asked (the assertion's client and IUA claims, verified when a token
 * was issued or refused after verification), and the id and scope of the token issued (never
 * the token or the assertion).
 */
export const tokenScope: AuditScope = {
  serverUrl: (service) => `${service.publicUrl}/oauth2/token`,
  async build(service, input) {
    const { req, status } = input;
    const record = common(input, { subtype: 'token-issue', action: 'E' });
    const form = (req.body ?? {}) as Record<string, unknown>;
    const assertion = typeof form.client_assertion === 'string' ? form.client_assertion : undefined;
    const response = parseJson(input.body);
    const error = status === 200 ? undefined : oauthError(response);
    // A 429 comes only after the assertion verified (limits/rate-limiter.ts).
    const verified =
      status === 200 || status === 429 || (error !== undefined && AFTER_VERIFICATION.includes(error.error));
    if (error) record.failure = { code: error.error, diagnostics: error.description };
    const clientId = claimedClientId(assertion);
    if (clientId && verified) {
      let iua = readIuaClaims(undefined);
      try {
        iua = readIuaClaims(
          (decodeJwt(assertion ?? '').extensions as { ihe_iua?: unknown } | undefined)?.ihe_iua,
        );
      } catch {
        // The assertion verified, so it decodes; nothing to add if it does not.
      }
      const client = await service.catalogue.getClient(clientId).catch(() => undefined);
      const ods =
        iua.subject_organization_id ??
        (client?.organisations.length === 1 ? client.organisations[0] : undefined);
      record.client = { clientId, name: client?.name, verified: true };
      if (ods) record.requester = { ods, verified: client?.organisations.includes(ods) ?? false };
      record.user = userFromIua(iua);
    } else if (clientId) {
      record.client = { clientId, verified: false };
    }
    if (status === 200 && typeof response?.access_token === 'string') {
      try {
        const issued = decodeJwt(response.access_token);
        record.issuedToken = {
          jti: String(issued.jti ?? ''),
          scope: typeof response.scope === 'string' ? response.scope : '',
        };
      } catch {
        // Our own token always decodes.
      }
    }
    return record;
  },
};

const CATALOGUE_PATHS: [RegExp, string][] = [
  [/^\/organisations\/([^/]+)$/, 'organisation'],
  [/^\/clients\/([^/]+)$/, 'client'],
  [/^\/grants\/([^/]+\/[^/]+)$/, 'grant'],
];

function adminKind(method: string, status: number, path: string): AuditKind {
  if (path === '/signing-keys/rotate' && method === 'POST')
    return { subtype: 'signing-key-rotation', action: 'C' };
  switch (method) {
    case 'PUT':
      return { subtype: 'catalogue-change', action: status === 201 ? 'C' : 'U' };
    case 'DELETE':
      return { subtype: 'catalogue-change', action: 'D' };
    case 'GET':
      return { subtype: 'catalogue-read', action: CATALOGUE_PATHS.some(([re]) => re.test(path)) ? 'R' : 'E' };
    default:
      return { subtype: 'request-refused', action: kindForMethod(method).action };
  }
}

/**
 * A catalogue key from the path, decoded; as sent when it does not decode, and printable either
 * way (the request is refused at the edge then, but its audit still records what it named).
 */
function catalogueKey(encoded: string): string {
  try {
    return printableText(decodeURIComponent(encoded));
  } catch {
    return printableText(encoded);
  }
}

/**
 * The catalogue administration API (R19): every call, reads and changes, with the catalogue
 * record it names and the acting client and user.
 */
export const adminScope: AuditScope = {
  serverUrl: (service) => `${service.publicUrl}/admin`,
  async build(service, input) {
    const { req, res, status } = input;
    const path = new URL(input.originalUrl, 'http://registry.invalid').pathname.replace(/^\/admin/, '');
    const record = common(input, adminKind(req.method, status, path));
    const objects: AuditObject[] = [...(record.objects ?? [])];
    for (const [re, entity] of CATALOGUE_PATHS) {
      const match = re.exec(path);
      if (match?.[1]) {
        objects.push({
          system: `${NIR_CATALOGUE_SYSTEM_PREFIX}${entity}`,
          value: catalogueKey(match[1]),
        });
      }
    }
    const kid = parseJson(input.body)?.kid;
    if (record.kind.subtype === 'signing-key-rotation' && typeof kid === 'string') {
      objects.push({
        system: `${NIR_CATALOGUE_SYSTEM_PREFIX}signing-key`,
        value: kid,
        description: 'New signing key',
      });
    }
    record.objects = objects;
    if (record.kind.action === 'E') record.query = queryOf(req, input.originalUrl);
    const admin = res.locals.admin as AdminPrincipal | undefined;
    if (!admin) return { ...record, ...(await identityOf(service, req, res)) };
    const client = await service.catalogue.getClient(admin.clientId).catch(() => undefined);
    const ods =
      admin.iua.subject_organization_id ??
      (client?.organisations.length === 1 ? client.organisations[0] : undefined);
    return {
      ...record,
      client: { clientId: admin.clientId, name: client?.name, verified: true },
      requester: ods ? { ods, verified: client?.organisations.includes(ods) ?? false } : undefined,
      user: userFromIua(admin.iua),
    };
  },
};
