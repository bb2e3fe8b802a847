/** Catalogue rows as the database returns them, mapped to the domain records of @nir/core. */
import type {
  AccessControl,
  CatalogueChange,
  CatalogueEntity,
  ClientStatus,
  ClientSystem,
  Grant,
  Interaction,
  Organisation,
  OrganisationStatus,
  PublicJwk,
  Role,
} from '@nir/core';
import type { Selectable } from 'kysely';
import type { CatalogueChangeTable, ClientSystemTable, GrantTable, OrganisationTable } from './schema.ts';
import { isoTimestamp } from './schema.ts';

/** Maps an `organisation` row. */
export function toOrganisation(row: Selectable<OrganisationTable>): Organisation {
  return {
    odsCode: row.ods_code,
    name: row.name,
    status: row.status as OrganisationStatus,
    ...(row.rate_limit_per_minute != null ? { rateLimitPerMinute: row.rate_limit_per_minute } : {}),
    version: row.version,
    updatedAt: isoTimestamp(row.updated_at),
  };
}

/** Maps a `client_system` row. */
export function toClient(row: Selectable<ClientSystemTable>): ClientSystem {
  return {
    clientId: row.client_id,
    name: row.name,
    status: row.status as ClientStatus,
    jwks: row.jwks as { keys: PublicJwk[] },
    organisations: row.organisations,
    roles: row.roles as Role[],
    admin: row.is_admin,
    demo: row.is_demo,
    ...(row.rate_limit_per_minute != null ? { rateLimitPerMinute: row.rate_limit_per_minute } : {}),
    ...(row.token_limit_per_minute != null ? { tokenLimitPerMinute: row.token_limit_per_minute } : {}),
    version: row.version,
    updatedAt: isoTimestamp(row.updated_at),
  };
}

/** Maps a `catalogue_grant` row. */
export function toGrant(row: Selectable<GrantTable>): Grant {
  return {
    grantId: row.grant_id,
    odsCode: row.ods_code,
    role: row.role as Role,
    pointerTypes: row.pointer_types,
    interactions: row.interactions as Interaction[],
    accessControls: row.access_controls as AccessControl[],
    version: row.version,
    updatedAt: isoTimestamp(row.updated_at),
  };
}

/** Maps a `catalogue_change` row. */
export function toChange(row: Selectable<CatalogueChangeTable>): CatalogueChange {
  return {
    changeId: Number(row.change_id),
    changedAt: isoTimestamp(row.changed_at),
    actor: row.actor,
    entity: row.entity as CatalogueEntity,
    entityKey: row.entity_key,
    action: row.action as CatalogueChange['action'],
    before: row.before ?? null,
    after: row.after ?? null,
  };
}
