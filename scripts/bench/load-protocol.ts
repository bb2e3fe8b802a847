/** What the bench loader's main thread and its workers (`load-worker.ts`) exchange, and the COPY columns. */
import type { Grant } from '@nir/core';

/** What the main thread gives each worker. */
export interface LoadWorkerData {
  seed: number;
  profilesDir: string;
  grants: Record<string, Grant>;
  /** The load's clock: pointers are dated up to ten years before it. */
  now: string;
}

/** A range of patients to generate, `[from, to)`. */
export interface LoadTask {
  from: number;
  to: number;
}

/** The COPY text of one task, per table. */
export interface LoadChunk {
  pointer: string;
  locator: string;
  history: string;
  patients: string;
  pointers: number;
}

export const POINTER_COLUMNS = [
  'nhs_number',
  'id',
  'custodian',
  'type',
  'category',
  'master_identifier',
  'version',
  'created_on',
  'updated_on',
  'resource',
  'search_tokens',
  'date_low',
  'date_high',
  'creation_low',
  'creation_high',
  'period_low',
  'period_high',
  'facts_version',
] as const;
export const LOCATOR_COLUMNS = ['id', 'nhs_number', 'custodian', 'version', 'deleted'] as const;
export const HISTORY_COLUMNS = [
  'id',
  'version',
  'nhs_number',
  'custodian',
  'action',
  'recorded_at',
  'request_id',
  'client_id',
  'superseded_by',
  'resource',
] as const;
export const PATIENT_COLUMNS = ['i', 'nhs_number', 'pointers'] as const;
