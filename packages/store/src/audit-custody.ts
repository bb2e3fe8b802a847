/**
 * The custody check of subject access requests (R9): does an organisation hold pointers for a
 * patient? A port, so the audit API does not depend on how pointers are stored; this is the
 * default implementation over the `pointer` table (migrations/0003_pointers.sql).
 */
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

/** True when organisation `ods` is custodian of at least one live pointer for patient `nhsNumber`. */
export type CustodyCheck = (ods: string, nhsNumber: string) => Promise<boolean>;

/** The custody check over the `pointer` table (live pointers only). */
export function pointerTableCustody(db: Kysely<DatabaseSchema>): CustodyCheck {
  return async (ods, nhsNumber) => {
    const { rows } = await sql<{ held: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pointer WHERE nhs_number = ${nhsNumber} AND custodian = ${ods}) AS held`.execute(
      db,
    );
    return rows[0]?.held === true;
  };
}
