/**
 * What one consumer search touches on a loaded bench database (issue 15):
 * `DATABASE_URL=… node scripts/bench/footprint.ts [--samples 200]` runs the S0 statement under
 * EXPLAIN (ANALYZE, BUFFERS) for sampled bench patients and prints rows, buffers and heap
 * fetches per search and the heap pages the patients' rows sit on (`searchFootprint`), so two
 * layouts (patient-grouped and `load.ts --aged`) or two index designs can be compared without
 * the noise of a throughput run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadPublishedProfiles } from '@nir/server';
import { CatalogueRepository, openStore } from '@nir/store';
import { sql } from 'kysely';
import { searchFootprint, searchScript } from './physical-limit.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '200' } } });
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL must name a loaded bench database');
const store = await openStore({ databaseUrl, poolSize: 1, migrate: false });
try {
  const profiles = fileURLToPath(new URL('../../fhir-profiles', import.meta.url));
  const { pointerSchema } = await loadPublishedProfiles(path.resolve(profiles));
  const grant = await new CatalogueRepository(store.db).getGrant('RWY', 'consumer');
  if (!grant) throw new Error('the bench consumer RWY has no grant: load the bench dataset first');
  const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bench_patient`.execute(store.db);
  const patients = count.rows[0]?.n ?? 0;
  const script = searchScript(grant, pointerSchema.terminology, patients, 1000);
  console.log(JSON.stringify(await searchFootprint(databaseUrl, script, patients, Number(values.samples))));
} finally {
  await store.close();
}
