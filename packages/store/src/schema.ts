/** Kysely's view of the registry's tables (see migrations/ for the source of truth). */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date | string, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface OrganisationTable {
  ods_code: string;
  name: string;
  status: string;
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface ClientSystemTable {
  client_id: string;
  name: string;
  status: string;
  jwks: Json;
  organisations: string[];
  roles: string[];
  is_admin: boolean;
  is_demo: boolean;
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface GrantTable {
  grant_id: string;
  ods_code: string;
  role: string;
  pointer_types: string[];
  interactions: string[];
  access_controls: string[];
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface CatalogueChangeTable {
  change_id: Generated<string | number>;
  changed_at: Timestamp;
  actor: string;
  entity: string;
  entity_key: string;
  action: string;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
}

export interface ClientAssertionJtiTable {
  client_id: string;
  jti: string;
  expires_at: Timestamp;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  public_jwk: Json;
  private_jwk: Json;
  created_at: Timestamp;
  retired_at: ColumnType<Date | string | null, Date | string | null | undefined, Date | string | null>;
}

export interface SchemaMigrationTable {
  name: string;
  applied_at: Timestamp;
}

/** Every table the registry uses. */
export interface DatabaseSchema {
  organisation: OrganisationTable;
  client_system: ClientSystemTable;
  catalogue_grant: GrantTable;
  catalogue_change: CatalogueChangeTable;
  client_assertion_jti: ClientAssertionJtiTable;
  signing_key: SigningKeyTable;
  schema_migration: SchemaMigrationTable;
}

/** Turns a timestamp column's value (Date from pg and PGlite, string otherwise) into ISO 8601. */
export function isoTimestamp(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
