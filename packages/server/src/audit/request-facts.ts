/**
 * What the audit reads off a request and its response: the caller, the refusal, the query,
 * the patients named in search parameters. Best effort for refusals (BALP: record what is
 * known rather than nothing), but an identity that did not verify is only ever "claimed".
 */
import {
  type AuditFailure,
  type AuditRecord,
  type AuditUser,
  type IuaClaims,
  isOdsCodeShape,
  isOperationOutcomeError,
  isValidNhsNumber,
  NHS_NUMBER_SYSTEM,
} from '@nir/core';
import type { Request, Response } from 'express';
import { decodeJwt } from 'jose';
import { bearerToken, ODS_HEADER, type Principal } from '../http/guard.ts';
import type { AuditService } from './service.ts';

/** The identity part of a record. */
export type AuditIdentity = Pick<AuditRecord, 'client' | 'requester' | 'user' | 'tokenId'>;

/** The end user named by IUA claims (signed by the client; copied into the registry's token). */
export function userFromIua(iua: IuaClaims): AuditUser | undefined {
  if (!iua.subject_id) return undefined;
  return {
    id: iua.subject_id,
    name: iua.subject_name,
    role: iua.subject_role ?? [],
    purposeOfUse: iua.purpose_of_use ?? [],
  };
}

function bearer(req: Request): string | undefined {
  return bearerToken(req.get('authorization'));
}

/** The `client_id` a JWT claims, without verifying it (for "claimed" identities only). */
export function claimedClientId(jwt: string | undefined): string | undefined {
  if (!jwt) return undefined;
  try {
    const payload = decodeJwt(jwt);
    const id = typeof payload.client_id === 'string' ? payload.client_id : payload.iss;
    return typeof id === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

function odsHeader(req: Request): string | undefined {
  const ods = req.get(ODS_HEADER);
  return ods !== undefined && isOdsCodeShape(ods) ? ods : undefined;
}

/**
 * Who called. With a principal (the guard let the request through) everything is verified.
 * For a refusal after the token verified, the token is read again for the user and its id, and
 * the organisation counts as verified only if the catalogue registers the client for it. For a
 * refusal before that, the client and organisation are only claimed.
 */
export async function identityOf(service: AuditService, req: Request, res: Response): Promise<AuditIdentity> {
  const principal = res.locals.principal as Principal | undefined;
  if (principal) {
    return {
      client: { clientId: principal.clientId, name: principal.clientName, verified: true },
      requester: { ods: principal.odsCode, name: principal.organisationName, verified: true },
      user: {
        id: principal.endUser.id,
        name: principal.endUser.name,
        role: principal.endUser.role,
        purposeOfUse: principal.endUser.purposeOfUse,
      },
      tokenId: principal.tokenId,
    };
  }
  const token = bearer(req);
  const header = odsHeader(req);
  // The guard may not have run (an unknown route, a 406): verify the token here then.
  const claims = token ? await service.tokens.verify(token).catch(() => undefined) : undefined;
  const clientId = (res.locals.clientId as string | undefined) ?? claims?.clientId;
  if (clientId) {
    const client = await service.catalogue.getClient(clientId).catch(() => undefined);
    const ods = header ?? claims?.iua.subject_organization_id;
    return {
      client: { clientId, name: client?.name, verified: true },
      requester: ods ? { ods, verified: client?.organisations.includes(ods) ?? false } : undefined,
      user: claims ? userFromIua(claims.iua) : undefined,
      tokenId: claims?.jti,
    };
  }
  const claimed = claimedClientId(token);
  return {
    client: claimed ? { clientId: claimed, verified: false } : undefined,
    requester: header ? { ods: header, verified: false } : undefined,
  };
}

/** The refusal a response carries (`res.locals.outcome`, set by `sendOutcome`), or a bare status. */
export function failureOf(res: Response, status: number): AuditFailure | undefined {
  if (status < 400) return undefined;
  const outcome: unknown = res.locals.outcome;
  if (isOperationOutcomeError(outcome) && outcome.status === status) {
    const [issue] = outcome.issues;
    if (issue) return { code: issue.code, diagnostics: issue.diagnostics };
  }
  if (status === 499) {
    return {
      code: 'CLIENT_CLOSED_REQUEST',
      diagnostics: 'The client closed the connection before the response',
    };
  }
  return { code: `HTTP_${status}` };
}

const PATIENT_PARAMS = [
  'subject:identifier',
  'subject.identifier',
  'patient:identifier',
  'patient.identifier',
  'subject',
  'patient',
];

function values(source: unknown, name: string): string[] {
  if (typeof source !== 'object' || source === null) return [];
  const value = (source as Record<string, unknown>)[name];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === 'string');
}

/** NHS numbers named by the patient search parameters of the query or a search body (BALP). */
export function patientsInQuery(req: Request): string[] {
  const found = new Set<string>();
  for (const name of PATIENT_PARAMS) {
    for (const raw of [...values(req.query, name), ...values(req.body, name)]) {
      const [system, value] = raw.includes('|') ? raw.split('|', 2) : [undefined, raw];
      const nhs = (value ?? '').replace(/^Patient\//, '');
      if ((system === undefined || system === NHS_NUMBER_SYSTEM) && isValidNhsNumber(nhs)) found.add(nhs);
    }
  }
  return [...found];
}

/**
 * The query entity of a search or operation: the raw request (method, URL and a form or JSON
 * search body; base64-encoded by the model) and a readable description.
 */
export function queryOf(req: Request, originalUrl: string): { raw: string; description: string } {
  const body =
    typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) && req.method === 'POST'
      ? new URLSearchParams(
          Object.entries(req.body as Record<string, unknown>).flatMap(([k, v]) =>
            (Array.isArray(v) ? v : [v])
              .filter((x) => typeof x === 'string')
              .map((x): [string, string] => [k, String(x)]),
          ),
        ).toString()
      : '';
  const url = new URL(originalUrl, 'http://registry.invalid');
  const params = [...url.searchParams, ...new URLSearchParams(body)].map(([k, v]) => `${k}=${v}`);
  return {
    raw: `${req.method} ${originalUrl}${body ? `\n\n${body}` : ''}`,
    description: `${req.method} ${url.pathname}${params.length > 0 ? `?${params.join('&')}` : ''}`,
  };
}
