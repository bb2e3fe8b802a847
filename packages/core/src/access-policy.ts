/**
 * The access decision every authenticated request passes through (R3, R4, R5, R6, R18):
 * a pure function of the catalogue records, the token and the request. Deny by default:
 * anything not explicitly allowed is refused, with NRL's codes.
 */
import type { ClientSystem, Grant, Interaction, Organisation, Role } from './catalogue.ts';
import type { EndUser } from './end-user.ts';
import { refuse } from './outcomes.ts';
import { isDirectCareOnly } from './purpose-of-use.ts';
import { type ScopePermission, scopePermits } from './scopes.ts';

/** What the access decision needs to know about one request. */
export interface AccessRequest {
  /** The client system named by the verified token, as the catalogue has it now. */
  client: ClientSystem | undefined;
  /** The organisation named by `NHSD-End-User-Organisation-ODS`. */
  odsCode: string;
  /** That organisation as the catalogue has it now. */
  organisation: Organisation | undefined;
  /** The organisation's grant for `role`, if any. */
  grant: Grant | undefined;
  role: Role;
  interaction: Interaction;
  scopes: readonly string[];
  /** The end user from the token's IUA claims. */
  endUser: EndUser | undefined;
  /** Whether the endpoint serves clinical data (direct-care purpose required, R5). */
  clinical: boolean;
}

/** The resource type and SMART permission each interaction needs in the token's scope. */
export const INTERACTION_SCOPE: Record<Interaction, [string, ScopePermission]> = {
  create: ['DocumentReference', 'c'],
  upsert: ['DocumentReference', 'c'],
  transaction: ['DocumentReference', 'c'],
  update: ['DocumentReference', 'u'],
  delete: ['DocumentReference', 'd'],
  read: ['DocumentReference', 'r'],
  history: ['DocumentReference', 'r'],
  search: ['DocumentReference', 's'],
  count: ['DocumentReference', 's'],
  'audit-search': ['AuditEvent', 's'],
  'audit-export': ['AuditEvent', 'r'],
};

function noPermission(odsCode: string) {
  return refuse(
    'ACCESS DENIED',
    `Your organisation '${odsCode}' does not have permission to access this resource. Contact the onboarding team.`,
  );
}

/**
 * Decides one request. Returns the grant that allowed it, or throws an OperationOutcomeError:
 * 401 `ACCESS_DENIED` when the client is gone or disabled, else 403 `ACCESS DENIED`.
 */
export function authoriseRequest(request: AccessRequest): Grant {
  const { client, odsCode, organisation, grant, endUser } = request;
  if (client?.status !== 'active') {
    throw refuse('ACCESS_DENIED', 'The access token is missing, invalid or expired');
  }
  if (!client.organisations.includes(odsCode) || !client.roles.includes(request.role))
    throw noPermission(odsCode);
  if (endUser?.organisation !== undefined && endUser.organisation !== odsCode) {
    throw refuse(
      'ACCESS DENIED',
      'The end user organisation in the access token does not match NHSD-End-User-Organisation-ODS',
    );
  }
  if (organisation?.status !== 'active') {
    throw refuse('ACCESS DENIED', `Organisation '${odsCode}' is not active in the Controller Catalogue`);
  }
  if (!endUser) {
    throw refuse('ACCESS DENIED', 'The access token does not identify the end user and their role');
  }
  if (request.clinical && !isDirectCareOnly(endUser.purposeOfUse)) {
    throw refuse(
      'ACCESS DENIED',
      'Access is for direct care only: purpose of use must be TREAT, ETREAT, ERTREAT or COC',
    );
  }
  if (!grant || grant.role !== request.role || !grant.interactions.includes(request.interaction)) {
    throw noPermission(odsCode);
  }
  if (
    request.role !== 'audit' &&
    grant.pointerTypes.length === 0 &&
    !grant.accessControls.includes('ALLOW_ALL_TYPES')
  ) {
    throw noPermission(odsCode);
  }
  const [resourceType, permission] = INTERACTION_SCOPE[request.interaction];
  if (!scopePermits(request.scopes, resourceType, permission)) {
    throw refuse('ACCESS DENIED', 'The access token scope does not cover this interaction');
  }
  return grant;
}
