/**
 * The OpenAPI document of the token endpoint and discovery (and of this reference itself).
 */
import { CLIENT_ASSERTION_ALGS, MAX_ASSERTION_LIFETIME_SECONDS } from '../auth/client-assertion.ts';
import { API_NAMES, type OpenApiObject, openApiDocument, outcomeResponse } from './common.ts';

function json(description: string, schema: OpenApiObject = { type: 'object' }): OpenApiObject {
  return { description, content: { 'application/json': { schema } } };
}

/** Builds the OpenAPI 3.1 document of the token endpoint and discovery. */
export function tokenApiDocument(publicUrl: string): OpenApiObject {
  const tokenUrl = `${publicUrl}/oauth2/token`;
  const discovery = (summary: string, description: string): OpenApiObject => ({
    tags: ['Discovery'],
    summary,
    description,
    responses: { '200': json(summary) },
  });
  return openApiDocument({
    title: 'NIR token endpoint and discovery',
    description: [
      'OAuth 2.0 client credentials with a signed JWT client assertion (SMART Backend Services, NHS England signed JWT). No shared secrets.',
      `The assertion is signed with the client's registered key (${CLIENT_ASSERTION_ALGS.join(', ')}), aud = ${tokenUrl}, exp at most ${MAX_ASSERTION_LIFETIME_SECONDS} s ahead, jti single use, and carries the end user as IHE IUA claims (extensions.ihe_iua).`,
      'Demo mode: `pnpm -s nir token --client demo-consumer` signs one with the demo key and prints the access token.',
    ].join('\n\n'),
    server: publicUrl,
    paths: {
      '/oauth2/token': {
        post: {
          tags: ['Token'],
          summary: 'Issue an access token',
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  required: ['grant_type', 'client_assertion_type', 'client_assertion'],
                  properties: {
                    grant_type: { const: 'client_credentials' },
                    client_assertion_type: {
                      const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                    },
                    client_assertion: { type: 'string', description: 'The signed JWT' },
                    scope: {
                      type: 'string',
                      description: 'Optional: default everything the catalogue grants',
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': json('The access token', {
              type: 'object',
              properties: {
                access_token: { type: 'string' },
                token_type: { const: 'bearer' },
                expires_in: { type: 'integer' },
                scope: { type: 'string' },
              },
            }),
            '400': json('invalid_request, unsupported_grant_type or invalid_scope (RFC 6749)'),
            '401': json('invalid_client: the assertion failed (the reason is in the server log)'),
            '403': json('unauthorized_client: the catalogue does not allow it'),
          },
        },
      },
      '/.well-known/smart-configuration': {
        get: discovery('SMART configuration', 'Token endpoint, algorithms and scopes'),
      },
      '/.well-known/jwks.json': {
        get: discovery("The registry's public keys", 'Verify access tokens with these'),
      },
      '/_status': {
        get: {
          tags: ['Health'],
          summary: 'Health',
          responses: {
            '200': json('"OK"'),
            '503': outcomeResponse('The database does not answer', 'application/json'),
          },
        },
      },
      '/_ready': {
        get: {
          tags: ['Health'],
          summary: 'Readiness: whether this instance should receive traffic',
          description:
            'Database answers, migrations applied, signing keys loaded, not draining (after SIGTERM). `/_status` is liveness, as NRL has it.',
          responses: {
            '200': json('Ready'),
            '503': json('Not ready, with the failing checks'),
          },
        },
      },
      '/dashboard': {
        get: {
          tags: ['Operations'],
          summary: "The operator's live dashboard (admin clients only)",
          description:
            'Server-rendered HTML and SVG from the service-review rollup and the metrics: the last hour of this instance, today and yesterday across the registry. Needs an admin access token, like `/admin`.',
          responses: { '200': { description: 'HTML' }, '401': { description: 'No valid access token' } },
        },
      },
      '/docs': {
        get: {
          tags: ['Reference'],
          summary: 'This interactive API reference',
          responses: { '200': { description: 'HTML' } },
        },
      },
      '/docs/openapi/{api}.json': {
        get: {
          tags: ['Reference'],
          summary: 'An OpenAPI 3.1 document',
          parameters: [{ name: 'api', in: 'path', required: true, schema: { enum: [...API_NAMES] } }],
          responses: { '200': json('OpenAPI 3.1') },
        },
      },
      '/docs/assets/{file}': {
        get: {
          tags: ['Reference'],
          summary: "Swagger UI's files (from the swagger-ui-dist package)",
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'A file' } },
        },
      },
    },
  });
}
