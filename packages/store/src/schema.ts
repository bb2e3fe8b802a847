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
  /** Requests a minute made for this organisation; NULL: the registry default (0007). */
  rate_limit_per_minute: ColumnType<number | null, number | null | undefined, number | null>;
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
  /** Requests a minute this client may make; NULL: the registry default (0007). */
  rate_limit_per_minute: ColumnType<number | null, number | null | undefined, number | null>;
  /** Access tokens a minute this client may obtain; NULL: the registry default (0007). */
  token_limit_per_minute: ColumnType<number | null, number | null | undefined, number | null>;
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

export interface PointerTable {
  nhs_number: string;
  id: string;
  custodian: string;
  type: string;
  category: string;
  master_identifier: string | null;
  version: number;
  created_on: Timestamp;
  updated_on: Timestamp;
  resource: Json;
  search_tokens: Generated<string[]>;
  date_low: Timestamp | null;
  date_high: Timestamp | null;
  creation_low: Generated<string[]>;
  creation_high: Generated<string[]>;
  period_low: Timestamp | null;
  period_high: Timestamp | null;
  facts_version: Generated<number>;
}

/** The search facts version every pointer row is known to be at (migration 0012; one row). */
export interface SearchFactsStateTable {
  only_row: Generated<boolean>;
  version: number;
  recorded_at: Generated<Timestamp>;
}

export interface PointerLocatorTable {
  id: string;
  nhs_number: string;
  custodian: string;
  version: number;
  deleted: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface PointerHistoryTable {
  id: string;
  version: number;
  nhs_number: string;
  custodian: string;
  action: string;
  recorded_at: Timestamp;
  request_id: string | null;
  client_id: string | null;
  superseded_by: string | null;
  resource: ColumnType<unknown, string | null, never>;
}

/** One AuditEvent (migrations/0004_audit.sql): the resource and the facts searched on. */
export interface AuditEventTable {
  id: string;
  recorded: Timestamp;
  request_id: string | null;
  subtype: string;
  ihe_transaction: string | null;
  action: string;
  outcome: string;
  client_id: string | null;
  requester_ods: string | null;
  custodian_ods: string[];
  patient_nhs: string | null;
  /** Where the event lives on Citus: `patient_nhs`, or the event's id (migration 0013). */
  shard_key: string | null;
  resource: Json;
}

/** A bulk export job of the audit API. */
export interface AuditExportJobTable {
  id: string;
  ods_code: string;
  client_id: string;
  request_url: string;
  since: ColumnType<Date | string | null, Date | string | null, Date | string | null>;
  transaction_time: Timestamp;
  status: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/** The service-review rollup (migrations/0008): read and written with raw SQL in `audit-rollup.ts`. */
export interface AuditRollupTable {
  day: ColumnType<Date | string, string, string>;
  ods: string;
  base: string;
  interaction: string;
  action: string;
  outcome: string;
  code: string;
  events: ColumnType<string | number, number, number>;
  disclosed: ColumnType<string | number, number, number>;
  timed: ColumnType<string | number, number, number>;
  latency: ColumnType<(string | number)[], number[], number[]>;
}

/** Who accessed an organisation's pointers, per day (migrations/0008). */
export interface AuditAccessRollupTable {
  day: ColumnType<Date | string, string, string>;
  custodian: string;
  ods: string;
  base: string;
  interaction: string;
  outcome: string;
  events: ColumnType<string | number, number, number>;
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
  pointer: PointerTable;
  pointer_locator: PointerLocatorTable;
  pointer_history: PointerHistoryTable;
  search_facts_state: SearchFactsStateTable;
  audit_event: AuditEventTable;
  audit_export_job: AuditExportJobTable;
  audit_rollup: AuditRollupTable;
  audit_access_rollup: AuditAccessRollupTable;
}

/** Turns a timestamp column's value (Date from pg and PGlite, string otherwise) into ISO 8601. */
export function isoTimestamp(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
