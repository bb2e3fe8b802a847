/**
 * What every OpenAPI document of the registry shares: the document shell, the error body
 * (a FHIR OperationOutcome with an NRL code), the request headers of the clinical APIs and
 * the bearer security scheme.
 */

/** An OpenAPI object, as plain data. */
export type OpenApiObject = Record<string, unknown>;

/** The APIs the reference documents, each its own OpenAPI document. */
export const API_NAMES = ['token', 'producer', 'consumer', 'audit', 'admin'] as const;
export type ApiName = (typeof API_NAMES)[number];

/** The error body every refusal uses. */
export const OPERATION_OUTCOME_SCHEMA: OpenApiObject = {
  type: 'object',
  description:
    'A FHIR OperationOutcome: the NRL code (https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode) in details.coding, the offending element in expression.',
  required: ['resourceType', 'issue'],
  properties: {
    resourceType: { const: 'OperationOutcome' },
    issue: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          severity: { type: 'string' },
          code: { type: 'string' },
          details: { type: 'object' },
          diagnostics: { type: 'string' },
          expression: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

/** A response that is an OperationOutcome (refusals), by status. */
export function outcomeResponse(description: string, media = 'application/fhir+json'): OpenApiObject {
  return { description, content: { [media]: { schema: { $ref: '#/components/schemas/OperationOutcome' } } } };
}

/** The refusals every guarded operation may answer. */
export const GUARD_RESPONSES: OpenApiObject = {
  '400': outcomeResponse('Bad request: MISSING_OR_INVALID_HEADER, PRECONDITION_FAILED, INVALID_PARAMETER, …'),
  '401': outcomeResponse('ACCESS_DENIED: no, invalid or expired access token'),
  '403': outcomeResponse('ACCESS DENIED: the Controller Catalogue does not allow it'),
};

/** Header parameters of every clinical request, with examples that work for `organisation`. */
export function clinicalHeaders(organisation: string): OpenApiObject[] {
  return [
    {
      name: 'X-Request-Id',
      in: 'header',
      required: true,
      description: 'Any printable id of the request (echoed; names the request in the audit)',
      schema: { type: 'string', maxLength: 200 },
      example: 'try-it-1',
    },
    {
      name: 'NHSD-End-User-Organisation-ODS',
      in: 'header',
      required: true,
      description: "The end user's organisation; the client must act for it",
      schema: { type: 'string', pattern: '^[A-Z0-9]{3,9}$' },
      example: organisation,
    },
    {
      name: 'X-Correlation-Id',
      in: 'header',
      required: false,
      description: 'Optional, echoed',
      schema: { type: 'string' },
    },
  ];
}

/** The security scheme: an access token from `POST /oauth2/token`. */
export function bearerSecurity(tokenUrl: string): OpenApiObject {
  return {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `An access token from ${tokenUrl} (client credentials with a signed JWT client assertion). Demo: \`pnpm -s nir token --client demo-consumer\`, then paste it here.`,
    },
  };
}

/** An OpenAPI 3.1 document shell. */
export function openApiDocument(options: {
  title: string;
  description: string;
  server: string;
  paths: OpenApiObject;
  schemas?: OpenApiObject;
  tokenUrl?: string;
}): OpenApiObject {
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: '1.0.0', description: options.description },
    servers: [{ url: options.server }],
    ...(options.tokenUrl ? { security: [{ bearerAuth: [] }] } : {}),
    paths: options.paths,
    components: {
      schemas: { OperationOutcome: OPERATION_OUTCOME_SCHEMA, ...options.schemas },
      ...(options.tokenUrl ? { securitySchemes: bearerSecurity(options.tokenUrl) } : {}),
    },
  };
}
