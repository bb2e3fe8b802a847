/**
 * The consumer API on `/consumer/FHIR/R4` (docs/consumer-api.md): NRL v3's consumer search,
 * count and read, and an IHE MHD Document Responder (ITI-67). Every route passes the guard
 * first (no grant, a suspended organisation or a purpose of use outside direct care is 403
 * before any parameter is read: R3, R5, R6); the grant is then compiled once into the type
 * access that the store renders as SQL (search, count) and that read checks in memory.
 */
import {
  auditMasterIdentifier,
  compileTypeAccess,
  type ParameterSource,
  readConsumerSearch,
  refuse,
  type Terminology,
  typeAccessAllows,
} from '@nir/core';
import type { PointerRepository } from '@nir/store';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { ApiModule } from '../../app.ts';
import { auditOf } from '../../audit/context.ts';
import { JSON_TYPES } from '../../http/body.ts';
import { methodNotAllowed } from '../../http/errors.ts';
import { confirmCatalogue, type Principal } from '../../http/guard.ts';
import { FHIR_JSON, sendFhir } from '../../http/respond.ts';
import { searchBody } from '../../http/search-body.ts';
import { type ConsumerReads, primaryReads } from '../../replica/replica-reads.ts';
import { capWarning, nextUrl, type Searchset, searchsetJson, searchUrl } from './searchset.ts';

/** What the consumer API needs. */
export interface ConsumerDeps {
  pointers: PointerRepository;
  /**
   * Where searches, counts and reads run (issue 19: a replica within the staleness bound);
   * default: on `pointers`, the primary.
   */
  reads?: ConsumerReads | undefined;
  terminology: Terminology;
  /** The public URL of the consumer base, for the Bundle links. */
  baseUrl: string;
  /** The most pointers one Bundle holds when no `_count` is sent. */
  searchCap: number;
  /** The largest page size `_count` gets. */
  maxCount: number;
}

/** NRL's wording for a search body that is not JSON. */
const searchJsonErrors: ErrorRequestHandler = (error, _req, _res, next) => {
  if ((error as { type?: string }).type === 'entity.parse.failed') {
    next(refuse('MESSAGE_NOT_WELL_FORMED', 'Request body could not be parsed (body: Invalid JSON)', 'body'));
    return;
  }
  next(error);
};

/** The parameters of a search: the query string, and for `_search` the body's too. */
function parametersOf(req: Request): { params: Record<string, unknown>; source: ParameterSource } {
  const query = req.query as Record<string, unknown>;
  if (req.method === 'GET') return { params: query, source: 'query' };
  const json = req.is(JSON_TYPES) !== false;
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw refuse(
      'MESSAGE_NOT_WELL_FORMED',
      'Request body could not be parsed (body: Input should be a valid dictionary)',
      'body',
    );
  }
  const params: Record<string, unknown> = { ...query };
  for (const [key, value] of Object.entries(body)) {
    const before = params[key];
    params[key] = before === undefined ? value : [before, value].flat();
  }
  return { params, source: json ? 'json-body' : 'query' };
}

function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The consumer API module. */
export function consumerModule(deps: ConsumerDeps): ApiModule {
  return ({ router, guard, bodyLimitBytes }) => {
    const reads = deps.reads ?? primaryReads(deps.pointers);
    const search: RequestHandler = async (req: Request, res: Response) => {
      const principal = principalOf(res);
      const { params, source } = parametersOf(req);
      // A count asked for in a body (which the guard could not see) still needs `count`.
      if (params._summary === 'count' && !principal.grant.interactions.includes('count')) {
        throw refuse(
          'ACCESS DENIED',
          `Your organisation '${principal.odsCode}' does not have permission to access this resource. Contact the onboarding team.`,
        );
      }
      const access = compileTypeAccess(principal.grant);
      const read = readConsumerSearch(params, {
        access,
        terminology: deps.terminology,
        maxCount: deps.maxCount,
        now: Date.now(),
        source,
        lenient: /(^|[\s,;])handling=lenient($|[\s,;])/.test(req.get('prefer') ?? ''),
      });
      const audit = auditOf(res);
      audit.patient(read.search.nhsNumber);
      const self = searchUrl(deps.baseUrl, read.used);
      let bundle: Searchset;
      if (read.search.summaryCount) {
        const { total, catalogueVersion } = await reads.run((pointers) =>
          pointers.count(read.search, access),
        );
        confirmCatalogue(res, catalogueVersion);
        bundle = { self, base: deps.baseUrl, total };
      } else {
        const pageSize = read.search.count ?? deps.searchCap;
        const page = await reads.run((pointers) => pointers.search(read.search, access, pageSize));
        confirmCatalogue(res, page.catalogueVersion);
        for (const entry of page.entries) audit.custodian(entry.custodian);
        const capped = read.search.count === undefined && page.next !== undefined;
        bundle = {
          self,
          base: deps.baseUrl,
          next: page.next ? nextUrl(deps.baseUrl, read.used, page.next) : undefined,
          total: page.total,
          entries: page.entries,
          warning: capped ? capWarning(deps.searchCap, page.total) : undefined,
        };
      }
      res.status(200).type(FHIR_JSON).send(searchsetJson(bundle));
    };

    // Each handler's statement reads the catalogue version beside its rows (R6, guard.ts).
    const as = (interaction: 'search' | 'count' | 'read') =>
      guard({ role: 'consumer', interaction, clinical: true, versionInStatement: true });
    const searchGuard = as('search');
    const countGuard = as('count');
    /**
     * Search and count are separate interactions of a grant; the guard decides before any
     * parameter is checked, from the query string's `_summary` (a count asked for in a POST
     * body also needs `search`, since the body is read only after the guard).
     */
    const searchOrCount: RequestHandler = (req, res, next) =>
      (req.query._summary === 'count' ? countGuard : searchGuard)(req, res, next);

    router
      .route('/DocumentReference/_search')
      .post(searchOrCount, ...searchBody(bodyLimitBytes, searchJsonErrors), search)
      .all(methodNotAllowed(['POST']));

    router
      .route('/DocumentReference')
      .get(searchOrCount, search)
      .all(methodNotAllowed(['GET']));

    router
      .route('/DocumentReference/:id')
      .get(as('read'), async (req: Request, res: Response) => {
        const id = String(req.params.id ?? '');
        const { pointer: stored, catalogueVersion } = await reads.run((pointers) =>
          pointers.readVersioned(id),
        );
        confirmCatalogue(res, catalogueVersion);
        if (!stored) throw refuse('NO_RECORD_FOUND', 'The requested DocumentReference could not be found');
        const audit = auditOf(res);
        audit.pointer({
          id,
          custodian: stored.custodian,
          nhsNumber: stored.nhsNumber,
          masterIdentifier: auditMasterIdentifier(stored.resource),
        });
        if (!typeAccessAllows(compileTypeAccess(principalOf(res).grant), stored.type)) {
          throw refuse(
            'ACCESS DENIED',
            'The requested DocumentReference is not of a type that this organisation is allowed to access',
          );
        }
        res.setHeader('ETag', `W/"${stored.version}"`);
        res.setHeader('Last-Modified', new Date(stored.updatedOn).toUTCString());
        sendFhir(res, 200, stored.resource);
      })
      .all(methodNotAllowed(['GET']));
  };
}
