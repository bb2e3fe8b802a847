/**
 * Serves the published conformance resources (R13): `GET [base]/StructureDefinition/{id}` and
 * the same for ValueSet, ConceptMap, CodeSystem, SearchParameter and OperationDefinition;
 * `GET [base]/<type>` lists them (optionally `?url=`), so every canonical a CapabilityStatement
 * names resolves. Mounted on every FHIR base. No authentication: the schema is public.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { refuse } from '@nir/core';
import type { Router } from 'express';
import type { ApiModule } from '../../app.ts';
import { methodNotAllowed } from '../../http/errors.ts';
import { sendFhir } from '../../http/respond.ts';

/** The conformance resource types a base serves. */
export const CONFORMANCE_TYPES = [
  'StructureDefinition',
  'ValueSet',
  'ConceptMap',
  'CodeSystem',
  'SearchParameter',
  'OperationDefinition',
];

/** Mounts the conformance routes on a FHIR base router. */
export function mountConformance(router: Router, resources: readonly Resource[]): void {
  for (const type of CONFORMANCE_TYPES) {
    const ofType = resources.filter((r) => r.resourceType === type);
    router
      .route(`/${type}`)
      .get((req, res) => {
        const url = typeof req.query.url === 'string' ? req.query.url : undefined;
        const matches = ofType.filter((r) => url === undefined || (r as { url?: string }).url === url);
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'searchset',
          total: matches.length,
          entry: matches.map((resource) => ({
            fullUrl: `${req.protocol}://${req.get('host')}${req.baseUrl}/${type}/${resource.id}`,
            resource,
            search: { mode: 'match' },
          })),
        };
        res.setHeader('Cache-Control', 'public, max-age=300');
        sendFhir(res, 200, bundle);
      })
      .all(methodNotAllowed(['GET']));
    router
      .route(`/${type}/:id`)
      .get((req, res) => {
        const found = ofType.find((r) => r.id === req.params.id);
        if (!found)
          throw refuse('NO_RECORD_FOUND', `${type}/${req.params.id} is not published by this registry`);
        res.setHeader('Cache-Control', 'public, max-age=300');
        sendFhir(res, 200, found);
      })
      .all(methodNotAllowed(['GET']));
  }
}

/** The conformance routes as an API module, for the consumer and audit bases. */
export function conformanceModule(resources: readonly Resource[]): ApiModule {
  return ({ router }) => mountConformance(router, resources);
}
