/**
 * Validation of catalogue records sent by administrators (admin API bodies, the CLI and catalogue
 * import files): first by their JSON Schemas (`catalogue-schemas.ts`, with ajv), then the rules
 * a schema cannot say (unique kids, interactions of the grant's role). Each problem names the
 * offending field, so the caller gets an OperationOutcome with an expression.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import {
  type AccessControl,
  type ClientStatus,
  INTERACTIONS,
  type Interaction,
  type OrganisationStatus,
  type PublicJwk,
  ROLE_INTERACTIONS,
  type Role,
} from './catalogue.ts';
import {
  CATALOGUE_FILE_SCHEMA,
  CLIENT_SCHEMA,
  GRANT_SCHEMA,
  MAX_RATE_LIMIT_PER_MINUTE,
  ORGANISATION_SCHEMA,
  PER_MINUTE_LIMIT_FIELDS,
} from './catalogue-schemas.ts';
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
  private readonly seen = new Set<string>();
  /** One problem per field: the first found. */
  add(expression: string, diagnostics: string): void {
    if (this.seen.has(expression)) return;
    this.seen.add(expression);
    this.list.push({ code: 'MESSAGE_NOT_WELL_FORMED', expression, diagnostics });
  }
  has(expression: string): boolean {
    return this.seen.has(expression);
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

const ajv = new Ajv2020({
  allErrors: true,
  useDefaults: true,
  verbose: true,
  strict: true,
  strictTypes: false,
  strictRequired: false,
});
const validators = new Map<object, ValidateFunction>();

/** The compiled validator of `schema` (compiled once). */
function validatorOf(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** A JSON pointer (`/jwks/keys/0/kid`) as a FHIRPath-like expression (`jwks.keys[0].kid`). */
export function pointerToExpression(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

/** Where a schema error is reported, and what it says. */
function describeError(error: ErrorObject): [string, string] {
  const at = pointerToExpression(error.instancePath);
  const child = (name: string) => (at === '' ? name : `${at}.${name}`);
  // A JWK's faults are reported on the key; a malformed JWKS on jwks.
  const key = /^(jwks\.keys\[\d+\])/.exec(at)?.[1];
  if (key) return [key, `${key}: must be a public RSA or EC key with a kid`];
  if ((PER_MINUTE_LIMIT_FIELDS as readonly string[]).includes(at)) {
    return [at, `${at}: Input should be a whole number from 1 to ${MAX_RATE_LIMIT_PER_MINUTE}`];
  }
  if (at === 'jwks' || at === 'jwks.keys' || (at === '' && error.params.missingProperty === 'jwks')) {
    return ['jwks', 'jwks: Field required (a JWKS with at least one public key)'];
  }
  switch (error.keyword) {
    case 'required': {
      const name = child(String(error.params.missingProperty));
      return [name, `${name}: Field required`];
    }
    case 'additionalProperties': {
      const name = child(String(error.params.additionalProperty));
      return [name, `${name}: Extra inputs are not permitted`];
    }
    case 'enum':
      return [at, `${at}: Input should be one of ${(error.params.allowedValues as unknown[]).join(', ')}`];
    case 'pattern': {
      const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
      const expected = typeof description === 'string' ? description : `like ${String(error.params.pattern)}`;
      return [at, `${at}: must be ${expected}`];
    }
    default:
      return [at, `${at}: ${error.message ?? 'is not valid'}`];
  }
}

/**
 * Validates `raw` against `schema`: the JSON Schema's defaults filled in on a copy, every
 * problem added to `problems` (one per field).
 */
function checkSchema(schema: object, raw: Body, problems: Problems): Body {
  const data = structuredClone(raw);
  const validate = validatorOf(schema);
  if (!validate(data)) {
    for (const error of validate.errors ?? []) {
      problems.add(...describeError(error));
    }
  }
  return data;
}

/**
 * Validates a catalogue import file against its JSON Schema: the problems, each naming the field
 * (`clients[2].jwks.keys[0]`); empty when the file is well formed.
 */
export function catalogueFileProblems(raw: unknown): IssueSpec[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return [
      { code: 'MESSAGE_NOT_WELL_FORMED', expression: '$', diagnostics: 'a catalogue file is a JSON object' },
    ];
  }
  const problems = new Problems();
  checkSchema(CATALOGUE_FILE_SCHEMA, raw as Body, problems);
  return problems.list;
}

const unique = <T>(values: T[]): T[] => [...new Set(values)];

/** `{ key: value }` when the body holds the field, else nothing (absent fields stay absent). */
function present<K extends string>(body: Body, key: K): { [P in K]?: number } {
  return (typeof body[key] === 'number' ? { [key]: body[key] } : {}) as { [P in K]?: number };
}

/** Validates an organisation record; throws an OperationOutcomeError naming each bad field. */
export function parseOrganisationInput(raw: unknown): OrganisationInput {
  const problems = new Problems();
  const body = checkSchema(ORGANISATION_SCHEMA, asObject(raw), problems);
  problems.throwIfAny();
  return {
    odsCode: body.odsCode as string,
    name: body.name as string,
    status: body.status as OrganisationStatus,
    ...present(body, 'rateLimitPerMinute'),
  };
}

/** Validates a client system record, including that its JWKS holds only public RSA/EC keys with unique kids. */
export function parseClientInput(raw: unknown): ClientInput {
  const problems = new Problems();
  const body = checkSchema(CLIENT_SCHEMA, asObject(raw), problems);
  const keys = ((body.jwks as { keys?: unknown } | undefined)?.keys ?? []) as PublicJwk[];
  const kids = new Set<unknown>();
  if (Array.isArray(keys)) {
    keys.forEach((key, i) => {
      const kid = (key as { kid?: unknown } | null)?.kid;
      if (typeof kid !== 'string' || problems.has(`jwks.keys[${i}]`)) return; // a bad key is named already
      if (kids.has(kid)) problems.add(`jwks.keys[${i}].kid`, `jwks.keys[${i}].kid: kid must be unique`);
      kids.add(kid);
    });
  }
  problems.throwIfAny();
  return {
    clientId: body.clientId as string,
    name: body.name as string,
    status: body.status as ClientStatus,
    jwks: { keys },
    organisations: unique(body.organisations as string[]),
    roles: unique(body.roles as Role[]),
    admin: body.admin as boolean,
    ...present(body, 'rateLimitPerMinute'),
    ...present(body, 'tokenLimitPerMinute'),
  };
}

/** Validates a grant; interactions must suit the role, pointer types must be `system|code`. */
export function parseGrantInput(raw: unknown): GrantInput {
  const problems = new Problems();
  const body = checkSchema(GRANT_SCHEMA, asObject(raw), problems);
  const role = body.role as Role;
  const interactions = body.interactions;
  // The grant's interactions, each checked once, at its index in the request.
  if (Array.isArray(interactions) && role in ROLE_INTERACTIONS) {
    interactions.forEach((item: unknown, i) => {
      if (!(INTERACTIONS as readonly unknown[]).includes(item)) return; // the schema named it
      if (!ROLE_INTERACTIONS[role].includes(item as Interaction)) {
        problems.add(
          `interactions[${i}]`,
          `interactions[${i}]: '${String(item)}' is not an interaction of the ${role} role`,
        );
      }
    });
  }
  problems.throwIfAny();
  return {
    odsCode: body.odsCode as string,
    role,
    pointerTypes: unique(body.pointerTypes as string[]),
    interactions: unique(body.interactions as Interaction[]),
    accessControls: unique(body.accessControls as AccessControl[]),
  };
}
