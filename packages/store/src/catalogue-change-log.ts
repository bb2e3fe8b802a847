/** The append-only record of catalogue changes (R19): who changed what, when, before and after. */
import type { CatalogueEntity } from '@nir/core';
import type { Transaction } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

/** Strips bookkeeping that changes on every write, so a change record shows what was changed. */
function snapshot<T extends { updatedAt: string }>(record: T | undefined): string | null {
  if (!record) return null;
  const { updatedAt: _ignored, ...rest } = record;
  return JSON.stringify(rest);
}

/** Appends the change record of one catalogue write, in the write's transaction (R19). */
export async function recordChange(
  trx: Transaction<DatabaseSchema>,
  actor: string,
  entity: CatalogueEntity,
  entityKey: string,
  before: { updatedAt: string } | undefined,
  after: { updatedAt: string } | undefined,
): Promise<void> {
  await trx
    .insertInto('catalogue_change')
    .values({
      actor,
      entity,
      entity_key: entityKey,
      action: before ? (after ? 'update' : 'delete') : 'create',
      before: snapshot(before),
      after: snapshot(after),
      changed_at: new Date(),
    })
    .execute();
}
