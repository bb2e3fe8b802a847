/**
 * The JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) of the Controller Catalogue records an
 * administrator sends: the admin API bodies and the catalogue import file. One schema both
 * validates (`catalogue-validation.ts`, with ajv) and documents (the admin OpenAPI document).
 * Built from the same constants as the domain model, so a new role, status or interaction
 * appears in both. To add a field: add it to the record's `properties` (and `required`).
 * A pattern's `description` completes "must be …" in the refusal naming the field.
 */
import {
  ACCESS_CONTROLS,
  CLIENT_STATUSES,
  INTERACTIONS,
  ORGANISATION_STATUSES,
  ROLE_INTERACTIONS,
  ROLES,
} from './catalogue.ts';
import { ODS_CODE_PATTERN } from './ods.ts';

/** A JSON Schema, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** A client id: 3–64 letters, digits, `.`, `_` or `-`. */
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._-]{3,64}$';

/** A pointer type: `system|code`, neither empty nor holding spaces. */
export const POINTER_TYPE_PATTERN = '^[^|\\s]+\\|[^|\\s]+$';

const ODS_CODE: JsonSchema = {
  type: 'string',
  pattern: ODS_CODE_PATTERN,
  description: '3–9 upper-case letters or digits (an ODS organisation code)',
  examples: ['RR8'],
};

const TEXT: JsonSchema = { type: 'string', pattern: '\\S', description: 'a non-blank string' };

/** The largest rate limit the catalogue accepts (a minute's requests). */
export const MAX_RATE_LIMIT_PER_MINUTE = 10_000_000;

/** The catalogue's per-minute limits (rate limits and the token cap); absent: the registry default. */
export const PER_MINUTE_LIMIT_FIELDS = ['rateLimitPerMinute', 'tokenLimitPerMinute'] as const;

function perMinuteLimit(description: string): JsonSchema {
  return {
    type: 'integer',
    minimum: 1,
    maximum: MAX_RATE_LIMIT_PER_MINUTE,
    description: `${description} (a whole number from 1 to ${MAX_RATE_LIMIT_PER_MINUTE}); absent: the registry default`,
  };
}

function list(items: JsonSchema, description: string): JsonSchema {
  return { type: 'array', items, default: [], description };
}

/** An organisation (PUT /admin/organisations/{ods}; `odsCode` may be left out of the body). */
export const ORGANISATION_SCHEMA: JsonSchema = {
  title: 'Organisation',
  description:
    'A care organisation in the Controller Catalogue. Suspended or terminated: every request refused.',
  type: 'object',
  additionalProperties: false,
  required: ['odsCode', 'name'],
  properties: {
    odsCode: ODS_CODE,
    name: { ...TEXT, examples: ['Leeds Teaching Hospitals NHS Trust'] },
    status: { enum: [...ORGANISATION_STATUSES], default: 'active' },
    rateLimitPerMinute: perMinuteLimit(
      'Requests a minute made for this organisation, all its clients together',
    ),
  },
  examples: [{ odsCode: 'RR8', name: 'Leeds Teaching Hospitals NHS Trust', status: 'active' }],
};

/** A public JSON Web Key: RSA or EC, with a `kid`, and no private or symmetric material. */
export const PUBLIC_JWK_SCHEMA: JsonSchema = {
  title: 'PublicJwk',
  description: 'A public RSA or EC key with a kid. Private (d, p, q) or symmetric (k) material is refused.',
  type: 'object',
  required: ['kty', 'kid'],
  properties: {
    kty: { enum: ['RSA', 'EC'] },
    kid: { type: 'string', minLength: 1 },
    n: { type: 'string' },
    e: { type: 'string' },
    crv: { type: 'string' },
    x: { type: 'string' },
    y: { type: 'string' },
  },
  not: { anyOf: [{ required: ['d'] }, { required: ['p'] }, { required: ['q'] }, { required: ['k'] }] },
  anyOf: [
    { properties: { kty: { const: 'RSA' } }, required: ['n', 'e'] },
    { properties: { kty: { const: 'EC' } }, required: ['crv', 'x', 'y'] },
  ],
};

const CLIENT_PROPERTIES: Record<string, JsonSchema> = {
  clientId: {
    type: 'string',
    pattern: CLIENT_ID_PATTERN,
    description:
      '3–64 letters, digits, dots, underscores or hyphens (the iss and sub of its client assertions)',
    examples: ['my-pacs'],
  },
  name: { ...TEXT, examples: ['My PACS'] },
  status: { enum: [...CLIENT_STATUSES], default: 'active' },
  jwks: {
    type: 'object',
    description: 'The public keys its client assertions are signed with (kids unique)',
    required: ['keys'],
    properties: { keys: { type: 'array', minItems: 1, items: PUBLIC_JWK_SCHEMA } },
  },
  organisations: list(ODS_CODE, 'The organisations it acts for'),
  roles: list({ enum: [...ROLES] }, 'The roles it may exercise'),
  admin: { type: 'boolean', default: false, description: 'May ask for the admin/catalogue scope' },
  rateLimitPerMinute: perMinuteLimit('Requests a minute this client system may make'),
  tokenLimitPerMinute: perMinuteLimit('Access tokens a minute this client system may obtain'),
};

/** A client system (PUT /admin/clients/{clientId}; `clientId` may be left out of the body). */
export const CLIENT_SCHEMA: JsonSchema = {
  title: 'Client',
  description: 'A client system registered in the Controller Catalogue: its keys, organisations and roles.',
  type: 'object',
  additionalProperties: false,
  required: ['clientId', 'name', 'jwks'],
  properties: CLIENT_PROPERTIES,
  examples: [
    {
      clientId: 'my-pacs',
      name: 'My PACS',
      status: 'active',
      jwks: { keys: [{ kty: 'EC', kid: 'my-pacs-1', crv: 'P-384', x: '…', y: '…' }] },
      organisations: ['RR8'],
      roles: ['producer'],
      admin: false,
    },
  ],
};

/** Which interactions each role may be granted, for the description. */
const ROLE_INTERACTION_TEXT = ROLES.map((role) => `${role}: ${ROLE_INTERACTIONS[role].join(', ')}`).join(
  '; ',
);

/** A grant (PUT /admin/grants/{ods}/{role}; `odsCode` and `role` may be left out of the body). */
export const GRANT_SCHEMA: JsonSchema = {
  title: 'Grant',
  description: `What an organisation may do in a role: the pointer types and interactions allowed. Deny by default. Interactions per role: ${ROLE_INTERACTION_TEXT}.`,
  type: 'object',
  additionalProperties: false,
  required: ['odsCode', 'role'],
  properties: {
    odsCode: ODS_CODE,
    role: { enum: [...ROLES] },
    pointerTypes: list(
      {
        type: 'string',
        pattern: POINTER_TYPE_PATTERN,
        description: 'system|code, neither empty nor with spaces',
        examples: ['https://nicip.nhs.uk|MAULR'],
      },
      'Pointer types allowed, each system|code',
    ),
    interactions: list({ enum: [...INTERACTIONS] }, 'Interactions allowed (each of the role)'),
    accessControls: list({ enum: [...ACCESS_CONTROLS] }, 'NRL access control flags'),
  },
  examples: [
    {
      odsCode: 'RR8',
      role: 'producer',
      pointerTypes: ['https://nicip.nhs.uk|MAULR'],
      interactions: ['create', 'read', 'update', 'delete', 'search'],
      accessControls: [],
    },
  ],
};

/**
 * A client entry of a catalogue file: a client whose `jwks` may instead be in
 * `keys/<clientId>.public.jwk.json` beside the file, with an informational `alg`.
 */
export const CATALOGUE_FILE_CLIENT_SCHEMA: JsonSchema = {
  ...CLIENT_SCHEMA,
  title: 'CatalogueFileClient',
  required: ['clientId', 'name'],
  properties: { ...CLIENT_PROPERTIES, alg: { type: 'string', description: 'Informational; ignored' } },
};

/** A catalogue file for `nir catalogue import` (shaped like demo/catalogue.json). */
export const CATALOGUE_FILE_SCHEMA: JsonSchema = {
  title: 'CatalogueFile',
  description:
    'A whole Controller Catalogue: organisations, clients (jwks inline, or in keys/<clientId>.public.jwk.json beside the file) and grants. Keys starting with _ are comments.',
  type: 'object',
  patternProperties: { '^_': {} },
  additionalProperties: false,
  properties: {
    organisations: { type: 'array', items: ORGANISATION_SCHEMA },
    clients: { type: 'array', items: CATALOGUE_FILE_CLIENT_SCHEMA },
    grants: { type: 'array', items: GRANT_SCHEMA },
  },
};
