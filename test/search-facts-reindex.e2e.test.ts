/**
 * Issue 15 item 8 on both databases: the start-up reindex of search facts is a background job
 * keyed by the table-level facts version (migration 0012). A registry whose recorded version is
 * current starts without a scan (an older row is left as it is: nothing looked); one whose
 * recorded version is older serves at once — a search is correct meanwhile, its patient's rows
 * recomputed first — and the job recomputes the rest, then records the version.
 */
import { compileTypeAccess, type PointerSearch, SEARCH_FACTS_VERSION } from '@nir/core';
import { PointerRepository, recordedFactsVersion, recordFactsVersion, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { startTestRegistry } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';

const PATIENTS = ['9000000009', '9278693472', '9995001624'];
/** A token every valid test pointer has (its status), so only current facts find it. */
const STATUS = 'status|http://hl7.org/fhir/document-reference-status|current';
const ALL = compileTypeAccess({ pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] });

function byStatus(nhsNumber: string): PointerSearch {
  return { nhsNumber, tokens: [[STATUS]], dates: [], summaryCount: false };
}

/** Writes two pointers for each patient, then makes every row's facts look older. */
async function seedOlderRows(store: Store): Promise<void> {
  const pointers = new PointerRepository(store.db);
  let n = 0;
  for (const nhsNumber of PATIENTS) {
    for (let i = 0; i < 2; i++) {
      const now = new Date(Date.UTC(2026, 10, 1, 10, 0, n++));
      await pointers.transaction((w) =>
        w.create(
          { pointer: validPointer({ nhsNumber }), id: `RR8-facts-${n}`, date: now.toISOString(), now },
          { requestId: `seed-${n}`, clientId: 'seed' },
        ),
      );
    }
  }
  await sql`UPDATE pointer SET search_tokens = '{}', facts_version = 0`.execute(store.db);
}

async function olderRows(store: Store): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM pointer WHERE facts_version < ${SEARCH_FACTS_VERSION}`.execute(store.db);
  return Number(rows[0]?.n);
}

describe.each(await testBackends())('search facts reindex at start on $name', (backend) => {
  it('a recorded current version: no job, no scan', async () => {
    const store = await backend.open();
    await seedOlderRows(store);
    await recordFactsVersion(store.db);
    const t = await startTestRegistry(store);
    try {
      expect(t.registry.searchFactsReindex).toBeUndefined();
      expect(t.registry.pointers.searchFacts.current).toBe(true);
      // Trusted: the older rows were not looked at (so they are still older).
      expect(await olderRows(store)).toBe(PATIENTS.length * 2);
    } finally {
      await t.close();
    }
  });

  it('an older recorded version: serves at once, searches correct meanwhile, then the job records the version', async () => {
    const store = await backend.open();
    await seedOlderRows(store);
    await recordFactsVersion(store.db, 0);
    const t = await startTestRegistry(store);
    try {
      expect(t.registry.searchFactsReindex).toBeDefined();
      // Listening already (startTestRegistry returned); a search finds its patient's pointers by
      // a token whatever the job's progress.
      const found = await t.registry.pointers.search(byStatus(PATIENTS[2] as string), ALL, 10);
      expect(found.total).toBe(2);
      expect((await t.fetch('/_ready')).status).toBe(200);
      await t.registry.searchFactsReindex;
      expect(await olderRows(store)).toBe(0);
      expect(await recordedFactsVersion(store.db)).toBe(SEARCH_FACTS_VERSION);
      expect(t.registry.pointers.searchFacts.current).toBe(true);
      for (const nhsNumber of PATIENTS)
        expect((await t.registry.pointers.search(byStatus(nhsNumber), ALL, 10)).total).toBe(2);
    } finally {
      await t.close();
    }
  });
});
