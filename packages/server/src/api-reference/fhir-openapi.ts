/**
 * The OpenAPI document of a FHIR API (provider, consumer, audit), generated from the
 * CapabilityStatement the server serves at `[base]/metadata` (interactions, search parameters
 * and their documentation, operations) and the published example pointer. Nothing is copied by
 * hand: a search parameter or interaction added to the CapabilityStatement appears here.
 */
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  DocumentReference,
} from '@medplum/fhirtypes';
import {
  clinicalHeaders,
  GUARD_RESPONSES,
  type OpenApiObject,
  openApiDocument,
  outcomeResponse,
} from './common.ts';

const FHIR_JSON = 'application/fhir+json';

/** What a FHIR API document is built from. */
export interface FhirApiSource {
  api: 'producer' | 'consumer' | 'audit';
  title: string;
  statement: CapabilityStatement;
  baseUrl: string;
  tokenUrl: string;
  /** The organisation the demo client of this API acts for (header examples). */
  demoOrganisation: string;
  /** The published example pointer (request body and parameter examples). */
  example: DocumentReference;
  /** Parameters the search accepts beyond the CapabilityStatement's (e.g. a paging token). */
  extraSearchParameters?: OpenApiObject[];
  /** Routes this API serves that its CapabilityStatement does not declare, path → method → operation. */
  extraPaths?: Record<string, Record<string, OpenApiObject>>;
}

/** Types whose search is also served as `POST [type]/_search`. */
const POST_SEARCH_TYPES = new Set(['DocumentReference']);

/** How each operation named in a CapabilityStatement is invoked. */
const OPERATION_METHODS: Record<string, 'get' | 'post'> = { validate: 'post', audit: 'get', export: 'get' };

function fhirBody(description: string, example?: unknown): OpenApiObject {
  return {
    description,
    content: { [FHIR_JSON]: { schema: { type: 'object' }, ...(example === undefined ? {} : { example }) } },
  };
}

function ok(description: string): OpenApiObject {
  return { description, content: { [FHIR_JSON]: { schema: { type: 'object' } } } };
}

function idParameter(name = 'id'): OpenApiObject {
  return { name, in: 'path', required: true, schema: { type: 'string' } };
}

function add(paths: OpenApiObject, path: string, method: string, operation: OpenApiObject): void {
  const item = (paths[path] ?? {}) as OpenApiObject;
  if (!item[method]) item[method] = operation;
  paths[path] = item;
}

/** Example values of search parameters, from the published example pointer. */
function exampleFor(name: string, example: DocumentReference): unknown {
  const nhs = example.subject?.identifier;
  const type = example.type?.coding?.[0];
  if (name === 'subject:identifier' && nhs) return `${nhs.system}|${nhs.value}`;
  if (name === 'type' && type) return `${type.system}|${type.code}`;
  return undefined;
}

/** The names a declared parameter is searched by: a reference by identifier is `name:identifier`. */
function parameterNames(name: string, type: string, documentation: string): string[] {
  const byIdentifier = `${name}:identifier`;
  if (type !== 'reference') return [name];
  if (/:identifier only/.test(documentation)) return [byIdentifier];
  return documentation.includes(byIdentifier) ? [name, byIdentifier] : [name];
}

/**
 * Query parameters of a type's search, from its CapabilityStatement entry and the general
 * parameters the statement declares for every search (`rest.searchParam`: `_count`, `_summary`).
 */
function searchParameters(resource: CapabilityStatementRestResource, source: FhirApiSource): OpenApiObject[] {
  const general = source.statement.rest?.[0]?.searchParam ?? [];
  const own = resource.searchParam ?? [];
  const generalOnly = general.filter((g) => !own.some((p) => p.name === g.name));
  const declared = [...own, ...(own.length > 0 ? generalOnly : [])].flatMap((param) => {
    const documentation = param.documentation ?? '';
    const repeated = param.type === 'date';
    return parameterNames(param.name, param.type, documentation).map((name) => {
      const example = exampleFor(name, source.example);
      return {
        name,
        in: 'query',
        required: /\bRequired\b/.test(documentation),
        description: `${documentation} (FHIR ${param.type} parameter)`.trim(),
        schema: repeated ? { type: 'array', items: { type: 'string' } } : { type: 'string' },
        ...(repeated ? { style: 'form', explode: true } : {}),
        ...(example === undefined ? {} : { example }),
      };
    });
  });
  return [
    ...declared,
    ...(resource.type === 'DocumentReference' ? (source.extraSearchParameters ?? []) : []),
  ];
}

function guarded(
  operation: OpenApiObject,
  source: FhirApiSource,
  extra: OpenApiObject[] = [],
): OpenApiObject {
  return {
    ...operation,
    parameters: [...extra, ...clinicalHeaders(source.demoOrganisation)],
    responses: { ...(operation.responses as OpenApiObject), ...GUARD_RESPONSES },
  };
}

function resourcePaths(
  resource: CapabilityStatementRestResource,
  source: FhirApiSource,
  paths: OpenApiObject,
): void {
  const type = resource.type;
  const tag = [type];
  const body = { ...source.example };
  delete body.id;
  delete body.meta;
  for (const interaction of resource.interaction ?? []) {
    const doc = interaction.documentation ?? '';
    const op = (summary: string, responses: OpenApiObject, more: OpenApiObject = {}) => ({
      tags: tag,
      summary,
      description: doc,
      responses,
      ...more,
    });
    switch (interaction.code) {
      case 'read':
        add(
          paths,
          `/${type}/{id}`,
          'get',
          guarded(op(`Read a ${type}`, { '200': ok(type) }), source, [idParameter()]),
        );
        break;
      case 'search-type': {
        const params = searchParameters(resource, source);
        add(
          paths,
          `/${type}`,
          'get',
          guarded(op(`Search ${type}`, { '200': ok('searchset Bundle') }), source, params),
        );
        if (POST_SEARCH_TYPES.has(type)) {
          const properties = Object.fromEntries(
            params.map((p) => [String(p.name), { type: 'string', description: String(p.description) }]),
          );
          add(
            paths,
            `/${type}/_search`,
            'post',
            guarded(
              op(
                `Search ${type} (POST: keeps the NHS number out of URLs)`,
                { '200': ok('searchset Bundle') },
                {
                  requestBody: {
                    required: true,
                    content: {
                      'application/x-www-form-urlencoded': { schema: { type: 'object', properties } },
                      'application/json': {
                        schema: { type: 'object', properties },
                        example: { 'subject:identifier': exampleFor('subject:identifier', source.example) },
                      },
                    },
                  },
                },
              ),
              source,
            ),
          );
        }
        break;
      }
      case 'create':
        add(
          paths,
          `/${type}`,
          'post',
          guarded(
            op(
              `Create a ${type}`,
              {
                '201': outcomeResponse('Created (RESOURCE_CREATED)'),
                '422': outcomeResponse('UNPROCESSABLE_ENTITY'),
              },
              {
                requestBody: { required: true, ...fhirBody(`A ${type} of the published profile`, body) },
              },
            ),
            source,
          ),
        );
        break;
      case 'update':
        add(
          paths,
          `/${type}/{id}`,
          'put',
          guarded(
            op(
              `Update a ${type} (If-Match honoured)`,
              {
                '200': outcomeResponse('Updated (RESOURCE_UPDATED)'),
                '412': outcomeResponse('VERSION_CONFLICT'),
              },
              {
                requestBody: { required: true, ...fhirBody(`The ${type} with its id`, source.example) },
              },
            ),
            source,
            [idParameter()],
          ),
        );
        break;
      case 'delete':
        add(
          paths,
          `/${type}/{id}`,
          'delete',
          guarded(op(`Delete a ${type}`, { '200': outcomeResponse('Deleted (RESOURCE_DELETED)') }), source, [
            idParameter(),
          ]),
        );
        break;
      case 'history-instance':
        add(
          paths,
          `/${type}/{id}/_history`,
          'get',
          guarded(op(`Every kept version of a ${type}`, { '200': ok('history Bundle') }), source, [
            idParameter(),
          ]),
        );
        break;
      default:
        break;
    }
  }
  for (const operation of resource.operation ?? []) {
    const method = OPERATION_METHODS[operation.name] ?? 'post';
    const request =
      method === 'post' ? { requestBody: { required: true, ...fhirBody(`The ${type} to check`, body) } } : {};
    add(
      paths,
      `/${type}/$${operation.name}`,
      method,
      guarded(
        {
          tags: tag,
          summary: `$${operation.name}`,
          description: operation.documentation ?? '',
          responses: { '200': ok('Result') },
          ...request,
        },
        source,
      ),
    );
  }
}

function unauthenticated(summary: string, description: string): OpenApiObject {
  return { tags: ['Discovery'], summary, description, security: [], responses: { '200': ok(summary) } };
}

/** Builds the OpenAPI 3.1 document of one FHIR API. */
export function fhirApiDocument(source: FhirApiSource): OpenApiObject {
  const paths: OpenApiObject = {};
  add(
    paths,
    '/metadata',
    'get',
    unauthenticated('CapabilityStatement', 'What this API supports; no authentication'),
  );
  add(paths, '/_status', 'get', unauthenticated('Health', '200 "OK" while the database answers, else 503'));
  add(
    paths,
    '/.well-known/smart-configuration',
    'get',
    unauthenticated('SMART configuration', 'The token endpoint and the supported scopes'),
  );
  const rest = source.statement.rest?.[0];
  for (const resource of rest?.resource ?? []) resourcePaths(resource, source, paths);
  for (const interaction of rest?.interaction ?? []) {
    if (interaction.code === 'transaction') {
      add(
        paths,
        '/',
        'post',
        guarded(
          {
            tags: ['Bundle'],
            summary: 'Transaction Bundle (ITI-65 Provide Document Bundle)',
            description: interaction.documentation ?? '',
            requestBody: { required: true, ...fhirBody('A transaction Bundle') },
            responses: { '200': ok('transaction-response Bundle') },
          },
          source,
        ),
      );
    }
  }
  for (const operation of rest?.operation ?? []) {
    add(
      paths,
      `/$${operation.name}`,
      OPERATION_METHODS[operation.name] ?? 'post',
      guarded(
        {
          tags: ['System'],
          summary: `$${operation.name}`,
          description: operation.documentation ?? '',
          responses: { '202': { description: 'Accepted' } },
        },
        source,
      ),
    );
  }
  for (const [path, methods] of Object.entries(source.extraPaths ?? {})) {
    for (const [method, operation] of Object.entries(methods)) {
      const params = (operation.parameters as OpenApiObject[] | undefined) ?? [];
      add(paths, path, method, operation.security ? operation : guarded(operation, source, params));
    }
  }
  return openApiDocument({
    title: source.title,
    description: `${source.statement.description ?? ''}\n\n${rest?.documentation ?? ''}\n\nGenerated from this API's CapabilityStatement ([base]/metadata).`,
    server: source.baseUrl,
    paths,
    tokenUrl: source.tokenUrl,
  });
}

export { idParameter };
