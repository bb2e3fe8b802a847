/**
 * The OpenAPI document of the catalogue administration API (`/admin`): its bodies are the
 * JSON Schemas `@nir/core` validates them with (`catalogue-schemas.ts`), so the reference and
 * the validation cannot drift apart.
 */
import { CATALOGUE_FILE_SCHEMA, CLIENT_SCHEMA, GRANT_SCHEMA, ORGANISATION_SCHEMA, ROLES } from '@nir/core';
import { type OpenApiObject, openApiDocument, outcomeResponse } from './common.ts';

const REFUSALS: OpenApiObject = {
  '400': outcomeResponse(
    'Refused: each bad field named in expression (MESSAGE_NOT_WELL_FORMED)',
    'application/json',
  ),
  '401': outcomeResponse('ACCESS_DENIED: no valid access token', 'application/json'),
  '403': outcomeResponse(
    'ACCESS DENIED: not an admin client, or no admin/catalogue scope',
    'application/json',
  ),
};

const REQUEST_ID: OpenApiObject = {
  name: 'X-Request-Id',
  in: 'header',
  required: true,
  schema: { type: 'string' },
  example: 'admin-try-1',
};

function path(
  name: string,
  description: string,
  example: string,
  schema: OpenApiObject = { type: 'string' },
) {
  return { name, in: 'path', required: true, description, schema, example };
}

const ODS = path('ods', 'ODS code', 'RR8', { type: 'string', pattern: '^[A-Z0-9]{3,9}$' });
const CLIENT_ID = path('clientId', 'Client id', 'demo-provider-a');
const ROLE = path('role', 'Role', 'producer', { enum: [...ROLES] });

function record(schema: string): OpenApiObject {
  return {
    description: 'The record with its version (ETag: W/"<version>")',
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
  };
}

function list(schema: string): OpenApiObject {
  return {
    description: 'Every record',
    content: {
      'application/json': { schema: { type: 'array', items: { $ref: `#/components/schemas/${schema}` } } },
    },
  };
}

function put(schema: string, summary: string, parameters: OpenApiObject[]): OpenApiObject {
  const example = ((CATALOGUE_SCHEMAS[schema] as OpenApiObject).examples as unknown[] | undefined)?.[0];
  return {
    tags: [schema],
    summary,
    description:
      'Creates (201) or replaces (200) the record; the path names it, so the body may leave the key out. Versioned with the acting client (R19).',
    parameters: [...parameters, REQUEST_ID],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` }, example } },
    },
    responses: { '200': record(schema), '201': record(schema), ...REFUSALS },
  };
}

function op(
  tag: string,
  summary: string,
  parameters: OpenApiObject[],
  responses: OpenApiObject,
): OpenApiObject {
  return {
    tags: [tag],
    summary,
    parameters: [...parameters, REQUEST_ID],
    responses: { ...responses, ...REFUSALS },
  };
}

const CATALOGUE_SCHEMAS: OpenApiObject = {
  Organisation: ORGANISATION_SCHEMA,
  Client: CLIENT_SCHEMA,
  Grant: GRANT_SCHEMA,
  CatalogueFile: CATALOGUE_FILE_SCHEMA,
};

/** Builds the OpenAPI 3.1 document of the admin API. */
export function adminApiDocument(publicUrl: string): OpenApiObject {
  const deleted = {
    '204': { description: 'Removed' },
    '404': outcomeResponse('Not in the catalogue', 'application/json'),
  };
  return openApiDocument({
    title: 'NIR catalogue administration API',
    description: [
      'The Controller Catalogue: organisations, client systems and grants. Deny by default: a client may do only what a grant of its organisation allows.',
      'For clients registered with `admin: true` holding the scope `admin/catalogue` (`pnpm -s nir token --client demo-admin --scope admin/catalogue` in demo mode).',
      'Bodies are validated by the JSON Schemas below (the same ones `nir catalogue import` validates a catalogue file with, `CatalogueFile`); every refusal names the field.',
      'The first admin client of a fresh database is registered with the CLI on the database: see the README, "The first admin client".',
    ].join('\n\n'),
    server: `${publicUrl}/admin`,
    tokenUrl: `${publicUrl}/oauth2/token`,
    schemas: CATALOGUE_SCHEMAS,
    paths: {
      '/organisations': {
        get: op('Organisation', 'List organisations', [], { '200': list('Organisation') }),
      },
      '/organisations/{ods}': {
        get: op('Organisation', 'Read an organisation', [ODS], { '200': record('Organisation') }),
        put: put('Organisation', 'Create or replace an organisation (suspend: status suspended)', [ODS]),
      },
      '/clients': { get: op('Client', 'List client systems', [], { '200': list('Client') }) },
      '/clients/{clientId}': {
        get: op('Client', 'Read a client system', [CLIENT_ID], { '200': record('Client') }),
        put: put('Client', 'Register or replace a client system', [CLIENT_ID]),
        delete: op('Client', 'Remove a client system', [CLIENT_ID], deleted),
      },
      '/grants': {
        get: op(
          'Grant',
          'List grants',
          [{ name: 'ods', in: 'query', required: false, schema: { type: 'string' }, example: 'RR8' }],
          { '200': list('Grant') },
        ),
      },
      '/grants/{ods}/{role}': {
        get: op('Grant', 'Read a grant', [ODS, ROLE], { '200': record('Grant') }),
        put: put('Grant', 'Create or replace the grant of an organisation in a role', [ODS, ROLE]),
        delete: op('Grant', 'Withdraw a grant', [ODS, ROLE], deleted),
      },
      '/changes': {
        get: op(
          'Changes',
          'Who changed what, when (oldest first)',
          [
            { name: 'entity', in: 'query', schema: { enum: ['organisation', 'client', 'grant'] } },
            {
              name: 'key',
              in: 'query',
              schema: { type: 'string' },
              description: 'ODS code, client id or ODS/role',
            },
            {
              name: 'after',
              in: 'query',
              schema: { type: 'integer' },
              description: 'Only changes after this id',
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            },
          ],
          {
            '200': {
              description: 'Changes with before and after',
              content: { 'application/json': { schema: { type: 'array' } } },
            },
          },
        ),
      },
      '/service-review': {
        get: op(
          'Service review',
          "The monthly service review of every organisation, or of one (the operator's view, from the rollup)",
          [
            {
              name: 'month',
              in: 'query',
              required: true,
              schema: { type: 'string', pattern: '^\\d{4}-\\d{2}$' },
              example: '2026-11',
            },
            { name: 'ods', in: 'query', required: false, schema: { type: 'string' }, example: 'RR8' },
            { name: '_format', in: 'query', required: false, schema: { enum: ['json'] } },
          ],
          {
            '200': {
              description: 'The review as one self-contained HTML page, or its figures as JSON',
              content: { 'text/html': {}, 'application/json': { schema: { type: 'object' } } },
            },
          },
        ),
      },
      '/signing-keys/rotate': {
        post: op('Signing keys', 'Make a fresh access-token signing key active', [], {
          '201': {
            description: 'The new kid',
            content: {
              'application/json': { schema: { type: 'object', properties: { kid: { type: 'string' } } } },
            },
          },
        }),
      },
    },
  });
}
