/**
 * Validation of catalogue records sent by administrators (admin API and CLI). Each problem
 * names the offending field, so the caller gets an OperationOutcome with an expression.
 */
import {
  ACCESS_CONTROLS,
  type AccessControl,
  CLIENT_STATUSES,
  type ClientStatus,
  INTERACTIONS,
  type Interaction,
  ORGANISATION_STATUSES,
  type OrganisationStatus,
  type PublicJwk,
  ROLE_INTERACTIONS,
  ROLES,
  type Role,
} from './catalogue.ts';
import { isOdsCodeShape } from './ods.ts';
import { type IssueSpec, OperationOutcomeError } from './outcomes.ts';

/** Fields an administrator sends to create or replace an organisation. */
export interface OrganisationInput {
  odsCode: string;
  name: string;
  status: OrganisationStatus;
  rateLimitPerMinute?: number | undefined;
}

/** Fields an administrator sends to create or replace a client system. */
export interface ClientInput {
  clientId: string;
  name: string;
  status: ClientStatus;
  jwks: { keys: PublicJwk[] };
  organisations: string[];
  roles: Role[];
  admin: boolean;
  rateLimitPerMinute?: number | undefined;
  tokenLimitPerMinute?: number | undefined;
}

/** Fields an administrator sends to create or replace a grant. */
export interface GrantInput {
  odsCode: string;
  role: Role;
  pointerTypes: string[];
  interactions: Interaction[];
  accessControls: AccessControl[];
}

type Body = Record<string, unknown>;

class Problems {
  readonly list: IssueSpec[] = [];
  add(expression: string, diagnostics: string): void {
    this.list.push({ code: 'MESSAGE_NOT_WELL_FORMED', expression, diagnostics });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new OperationOutcomeError(this.list);
  }
}

function asObject(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OperationOutcomeError({
      code: 'BAD_REQUEST',
      diagnostics: 'Request body must be a JSON object',
    });
  }
  return body as Body;
}

function rejectUnknown(body: Body, allowed: readonly string[], problems: Problems): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) problems.add(key, `${key}: Extra inputs are not permitted`);
  }
}

function text(body: Body, key: string, problems: Problems, pattern?: RegExp): string {
  const value = body[key];
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(key, `${key}: Field required (a non-empty string)`);
    return '';
  }
  if (pattern && !pattern.test(value)) problems.add(key, `${key}: Value '${value}' is not valid`);
  return value;
}

function oneOf<T extends string>(
  body: Body,
  key: string,
  allowed: readonly T[],
  problems: Problems,
  fallback?: T,
): T {
  const value = body[key] ?? fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    problems.add(key, `${key}: Input should be one of ${allowed.join(', ')}`);
    return allowed[0] as T;
  }
  return value as T;
}

function stringList(body: Body, key: string, problems: Problems, check: (v: string) => boolean): string[] {
  const value = body[key] ?? [];
  if (!Array.isArray(value)) {
    problems.add(key, `${key}: Input should be a list of strings`);
    return [];
  }
  value.forEach((item, i) => {
    if (typeof item !== 'string' || !check(item))
      problems.add(`${key}[${i}]`, `${key}[${i}]: Value is not valid`);
  });
  return value.filter((v): v is string => typeof v === 'string');
}

/** The largest rate limit the catalogue accepts (a minute's requests). */
export const MAX_RATE_LIMIT_PER_MINUTE = 10_000_000;

/** An optional per-minute limit: a whole number from 1; absent means the registry default. */
function optionalLimit(body: Body, key: string, problems: Problems): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_RATE_LIMIT_PER_MINUTE
  ) {
    problems.add(key, `${key}: Input should be a whole number from 1 to ${MAX_RATE_LIMIT_PER_MINUTE}`);
    return undefined;
  }
  return value;
}

/** `{ key: value }` when value is defined, else nothing (absent fields stay absent). */
function present<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

/** Validates an organisation record; throws an OperationOutcomeError naming each bad field. */
export function parseOrganisationInput(raw: unknown): OrganisationInput {
  const body = asObject(raw);
  const problems = new Problems();
  rejectUnknown(body, ['odsCode', 'name', 'status', 'rateLimitPerMinute'], problems);
  const odsCode = text(body, 'odsCode', problems);
  if (odsCode && !isOdsCodeShape(odsCode))
    problems.add('odsCode', 'odsCode: must be 3–9 upper-case letters or digits');
  const name = text(body, 'name', problems);
  const status = oneOf(body, 'status', ORGANISATION_STATUSES, problems, 'active');
  const rateLimit = optionalLimit(body, 'rateLimitPerMinute', problems);
  problems.throwIfAny();
  return { odsCode, name, status, ...present('rateLimitPerMinute', rateLimit) };
}

const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;

function validJwk(key: unknown): key is PublicJwk {
  if (typeof key !== 'object' || key === null) return false;
  const k = key as Record<string, unknown>;
  if (typeof k.kid !== 'string' || k.kid === '') return false;
  if ('d' in k || 'p' in k || 'q' in k || 'k' in k) return false; // private or symmetric material
  if (k.kty === 'RSA') return typeof k.n === 'string' && typeof k.e === 'string';
  if (k.kty === 'EC') return typeof k.crv === 'string' && typeof k.x === 'string' && typeof k.y === 'string';
  return false;
}

/** Validates a client system record, including that its JWKS holds only public RSA/EC keys with unique kids. */
export function parseClientInput(raw: unknown): ClientInput {
  const body = asObject(raw);
  const problems = new Problems();
  rejectUnknown(
    body,
    [
      'clientId',
      'name',
      'status',
      'jwks',
      'organisations',
      'roles',
      'admin',
      'rateLimitPerMinute',
      'tokenLimitPerMinute',
    ],
    problems,
  );
  const clientId = text(body, 'clientId', problems, CLIENT_ID_PATTERN);
  const name = text(body, 'name', problems);
  const status = oneOf(body, 'status', CLIENT_STATUSES, problems, 'active');
  const jwks = body.jwks as { keys?: unknown } | undefined;
  const keys: PublicJwk[] = [];
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    problems.add('jwks', 'jwks: Field required (a JWKS with at least one public key)');
  } else {
    const kids = new Set<string>();
    jwks.keys.forEach((key, i) => {
      if (!validJwk(key)) {
        problems.add(`jwks.keys[${i}]`, `jwks.keys[${i}]: must be a public RSA or EC key with a kid`);
      } else if (kids.has(key.kid as string)) {
        problems.add(`jwks.keys[${i}].kid`, `jwks.keys[${i}].kid: kid must be unique`);
      } else {
        kids.add(key.kid as string);
        keys.push(key);
      }
    });
  }
  const organisations = stringList(body, 'organisations', problems, isOdsCodeShape);
  const roles = stringList(body, 'roles', problems, (v) =>
    (ROLES as readonly string[]).includes(v),
  ) as Role[];
  const admin = body.admin ?? false;
  if (typeof admin !== 'boolean') problems.add('admin', 'admin: Input should be a boolean');
  const rateLimit = optionalLimit(body, 'rateLimitPerMinute', problems);
  const tokenLimit = optionalLimit(body, 'tokenLimitPerMinute', problems);
  problems.throwIfAny();
  return {
    clientId,
    name,
    status,
    jwks: { keys },
    organisations: [...new Set(organisations)],
    roles: [...new Set(roles)],
    admin: admin === true,
    ...present('rateLimitPerMinute', rateLimit),
    ...present('tokenLimitPerMinute', tokenLimit),
  };
}

const TYPE_PATTERN = /^[^|\s]+\|[^|\s]+$/;

/** The grant's interactions: each entry checked once, at its index in the request. */
function interactionList(body: Body, role: Role, problems: Problems): Interaction[] {
  const value = body.interactions ?? [];
  if (!Array.isArray(value)) {
    problems.add('interactions', 'interactions: Input should be a list of strings');
    return [];
  }
  const out: Interaction[] = [];
  value.forEach((item, i) => {
    const at = `interactions[${i}]`;
    if (typeof item !== 'string' || !(INTERACTIONS as readonly string[]).includes(item)) {
      problems.add(at, `${at}: Input should be one of ${INTERACTIONS.join(', ')}`);
    } else if (!ROLE_INTERACTIONS[role].includes(item as Interaction)) {
      problems.add(at, `${at}: '${item}' is not an interaction of the ${role} role`);
    } else {
      out.push(item as Interaction);
    }
  });
  return out;
}

/** Validates a grant; interactions must suit the role, pointer types must be `system|code`. */
export function parseGrantInput(raw: unknown): GrantInput {
  const body = asObject(raw);
  const problems = new Problems();
  rejectUnknown(body, ['odsCode', 'role', 'pointerTypes', 'interactions', 'accessControls'], problems);
  const odsCode = text(body, 'odsCode', problems);
  if (odsCode && !isOdsCodeShape(odsCode))
    problems.add('odsCode', 'odsCode: must be 3–9 upper-case letters or digits');
  const role = oneOf(body, 'role', ROLES, problems);
  const pointerTypes = stringList(body, 'pointerTypes', problems, (v) => TYPE_PATTERN.test(v));
  const interactions = interactionList(body, role, problems);
  const accessControls = stringList(body, 'accessControls', problems, (v) =>
    (ACCESS_CONTROLS as readonly string[]).includes(v),
  ) as AccessControl[];
  problems.throwIfAny();
  return {
    odsCode,
    role,
    pointerTypes: [...new Set(pointerTypes)],
    interactions: [...new Set(interactions)],
    accessControls: [...new Set(accessControls)],
  };
}
