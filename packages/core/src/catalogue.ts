/**
 * The Controller Catalogue's data model (R3, R6, R19; DSA Annex 3). Data, not code:
 * organisations, the client systems that act for them, and the grants that say what an
 * organisation may do in each role. Nothing here touches HTTP or SQL.
 */

/** Lifecycle of an organisation under the DSA: suspension (DSPT lapse) and termination refuse every request (R6). */
export const ORGANISATION_STATUSES = ['active', 'suspended', 'terminated'] as const;
export type OrganisationStatus = (typeof ORGANISATION_STATUSES)[number];

/** The three roles a grant can give an organisation. */
export const ROLES = ['producer', 'consumer', 'audit'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Every interaction the registry can allow. A grant lists the ones it allows; anything
 * missing is denied (deny by default). Names follow NRL's v2 permission `interactions`.
 */
export const INTERACTIONS = [
  'create',
  'upsert',
  'update',
  'delete',
  'read',
  'search',
  'count',
  'transaction',
  'history',
  'audit-search',
  'audit-export',
] as const;
export type Interaction = (typeof INTERACTIONS)[number];

/** Which interactions make sense for which role; a grant may list only these. */
export const ROLE_INTERACTIONS: Record<Role, readonly Interaction[]> = {
  producer: ['create', 'upsert', 'update', 'delete', 'read', 'search', 'count', 'transaction', 'history'],
  consumer: ['read', 'search', 'count'],
  audit: ['audit-search', 'audit-export'],
};

/** NRL v2 `access_controls` flags (nrl-behaviour.md §2.1). */
export const ACCESS_CONTROLS = [
  'ALLOW_ALL_TYPES',
  'ALLOW_OVERRIDE_CREATION_DATETIME',
  'ALLOW_SUPERSEDE_WITH_DELETE_FAILURE',
] as const;
export type AccessControl = (typeof ACCESS_CONTROLS)[number];

/** A care organisation known to the catalogue, keyed by ODS code. */
export interface Organisation {
  odsCode: string;
  name: string;
  status: OrganisationStatus;
  /** Requests a minute made for this organisation, all its clients together; absent: the registry default. */
  rateLimitPerMinute?: number | undefined;
  version: number;
  updatedAt: string;
}

/** Status of a registered client system. */
export const CLIENT_STATUSES = ['active', 'disabled'] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

/** A public JSON Web Key as registered for a client (RSA: n, e; EC: crv, x, y). */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
  [other: string]: unknown;
}

/** A supplier system registered to call the registry with signed-JWT client credentials (R18). */
export interface ClientSystem {
  clientId: string;
  name: string;
  status: ClientStatus;
  /** The public keys its client assertions are verified with. */
  jwks: { keys: PublicJwk[] };
  /** ODS codes of the organisations it may act for. */
  organisations: string[];
  /** The roles it may exercise for them (least privilege); its organisations' grants still decide. */
  roles: Role[];
  /** May ask for the catalogue administration scope. */
  admin: boolean;
  /** Seeded by the demo quick start: refused unless demo mode is on. */
  demo: boolean;
  /** Requests a minute this client may make (NRL's per-application quota); absent: the registry default. */
  rateLimitPerMinute?: number | undefined;
  /** Access tokens a minute this client may obtain; absent: the registry default. */
  tokenLimitPerMinute?: number | undefined;
  version: number;
  updatedAt: string;
}

/** What one organisation may do in one role. */
export interface Grant {
  grantId: string;
  odsCode: string;
  role: Role;
  /** Allowed pointer types as `system|code`. */
  pointerTypes: string[];
  interactions: Interaction[];
  accessControls: AccessControl[];
  version: number;
  updatedAt: string;
}

/** Kinds of catalogue entity whose changes are versioned and kept (R19). */
export type CatalogueEntity = 'organisation' | 'client' | 'grant';

/** One kept change to the catalogue: who changed what, when, before and after (R19). */
export interface CatalogueChange {
  changeId: number;
  changedAt: string;
  actor: string;
  entity: CatalogueEntity;
  entityKey: string;
  action: 'create' | 'update' | 'delete';
  before: unknown;
  after: unknown;
}

/** True when `grant` allows the pointer type `system|code` (or every type via ALLOW_ALL_TYPES). */
export function grantAllowsType(grant: Grant, system: string, code: string): boolean {
  if (grant.accessControls.includes('ALLOW_ALL_TYPES')) return true;
  return grant.pointerTypes.includes(`${system}|${code}`);
}
