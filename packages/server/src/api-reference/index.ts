/**
 * The registry's API reference: one OpenAPI 3.1 document per API, generated from what the
 * server itself uses (the CapabilityStatements, the catalogue JSON Schemas, the published
 * example pointer), and the interactive `/docs` page over them.
 */
import type { CapabilityStatement, DocumentReference } from '@medplum/fhirtypes';
import { adminApiDocument } from './admin-openapi.ts';
import type { ApiName, OpenApiObject } from './common.ts';
import { fhirApiDocument, idParameter } from './fhir-openapi.ts';
import { tokenApiDocument } from './token-openapi.ts';

export { API_NAMES, type ApiName, type OpenApiObject } from './common.ts';
export { apiReferenceRouter } from './docs-route.ts';
export { type MountedRoute, mountedRoutes } from './mounted-routes.ts';

/** The demo client of each API and the organisation it acts for: the "try it" flow. */
export const DEMO_TRY_IT: Record<ApiName, { client: string; organisation: string; scope?: string }> = {
  token: { client: 'demo-consumer', organisation: 'RWY' },
  producer: { client: 'demo-provider-a', organisation: 'RR8' },
  consumer: { client: 'demo-consumer', organisation: 'RWY' },
  audit: { client: 'demo-audit', organisation: 'RR8' },
  admin: { client: 'demo-admin', organisation: 'X26', scope: 'admin/catalogue' },
};

/** What the reference is generated from. */
export interface ApiReferenceSource {
  publicUrl: string;
  /** The CapabilityStatement of each FHIR API, as served at its `/metadata`. */
  statements: Record<'producer' | 'consumer' | 'audit', CapabilityStatement>;
  /** The published example pointer (`fhir-profiles/examples/`). */
  example: DocumentReference;
}

const TITLES = {
  producer: 'NIR provider API (NRL producer, IHE MHD Document Recipient)',
  consumer: 'NIR consumer API (NRL consumer, IHE MHD Document Responder)',
  audit: 'NIR audit API (IHE BALP AuditEvents, subject access, Bulk Data export)',
} as const;

/** Routes of the FHIR APIs their CapabilityStatements do not declare. */
function extraPaths(api: 'producer' | 'consumer' | 'audit'): Record<string, Record<string, OpenApiObject>> {
  const conformance = (type: string) => ({
    [`/${type}`]: {
      get: {
        tags: ['Conformance'],
        summary: `The published ${type} resources`,
        security: [],
        responses: { '200': { description: 'searchset Bundle' } },
      },
    },
    [`/${type}/{id}`]: {
      get: {
        tags: ['Conformance'],
        summary: `A published ${type}`,
        security: [],
        parameters: [idParameter()],
        responses: { '200': { description: type } },
      },
    },
  });
  if (api === 'producer') {
    return {
      '/DocumentReference': {
        put: {
          tags: ['DocumentReference'],
          summary: "Upsert a DocumentReference with the client's own id (NRL)",
          description: "The id prefix must be the caller's ODS code; 409 DUPLICATE_REJECTED if live.",
          responses: { '201': { description: 'Created' } },
        },
      },
      ...conformance('CodeSystem'),
      ...conformance('SearchParameter'),
    };
  }
  if (api === 'audit') {
    const job = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
    return {
      ...conformance('CodeSystem'),
      '/$export': {
        post: {
          tags: ['System'],
          summary: 'Bulk Data v2 kick-off by POST: a Parameters body (_type, _since, _outputFormat), or none',
          parameters: [{ name: 'Prefer', in: 'header', required: true, schema: { const: 'respond-async' } }],
          responses: { '202': { description: 'Accepted: Content-Location names the status endpoint' } },
        },
      },
      '/$service-review': {
        get: {
          tags: ['Service review'],
          summary: "The organisation's own monthly service review (R17), from the rollup; audited",
          parameters: [
            { name: 'month', in: 'query', required: true, schema: { type: 'string' }, example: '2026-11' },
            { name: '_format', in: 'query', required: false, schema: { enum: ['json'] } },
          ],
          responses: { '200': { description: 'One self-contained HTML page, or its figures as JSON' } },
        },
      },
      '/$export-status/{id}': {
        get: {
          tags: ['System'],
          summary: 'Export status: 202 while running, then the manifest',
          parameters: [job],
          responses: { '200': { description: 'Manifest' } },
        },
        delete: {
          tags: ['System'],
          summary: 'Cancel an export',
          parameters: [job],
          responses: { '202': { description: 'Cancelled' } },
        },
      },
      '/$export-file/{id}/{file}': {
        get: {
          tags: ['System'],
          summary: 'One NDJSON file of an export (YYYY-MM.ndjson)',
          parameters: [
            job,
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { type: 'string' },
              example: '2026-11.ndjson',
            },
          ],
          responses: { '200': { description: 'NDJSON' } },
        },
      },
    };
  }
  // The published CodeSystems resolve on every base (issue 13), though only the producer lists them.
  return conformance('CodeSystem');
}

/** Builds the OpenAPI 3.1 document of every API. */
export function buildApiReference(source: ApiReferenceSource): Record<ApiName, OpenApiObject> {
  const tokenUrl = `${source.publicUrl}/oauth2/token`;
  const fhir = (api: 'producer' | 'consumer' | 'audit') =>
    fhirApiDocument({
      api,
      title: TITLES[api],
      statement: source.statements[api],
      baseUrl: `${source.publicUrl}/${api}/FHIR/R4`,
      tokenUrl,
      demoOrganisation: DEMO_TRY_IT[api].organisation,
      example: source.example,
      extraSearchParameters:
        api === 'consumer'
          ? [
              {
                name: '_page_token',
                in: 'query',
                required: false,
                description: 'Opaque: from a next link',
                schema: { type: 'string' },
              },
            ]
          : [],
      extraPaths: extraPaths(api),
    });
  return {
    token: tokenApiDocument(source.publicUrl),
    producer: fhir('producer'),
    consumer: fhir('consumer'),
    audit: fhir('audit'),
    admin: adminApiDocument(source.publicUrl),
  };
}
