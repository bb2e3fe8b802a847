/**
 * The bench's Controller Catalogue: the demo catalogue (its clients and keys make the tokens),
 * plus the bench providers, each granted the imaging types it publishes, and the demo consumer
 * RWY granted every one of them, so a search returns a patient's whole imaging history (R3).
 */
import { type Grant, parseGrantInput, parseOrganisationInput, ROLE_INTERACTIONS } from '@nir/core';
import { seedDemoCatalogue } from '@nir/server';
import type { CatalogueRepository } from '@nir/store';
import { BENCH_PROVIDERS, BENCH_TYPES, SNOMED } from './generate.ts';

const ACTOR = 'bench';
const PRODUCER_INTERACTIONS = [...ROLE_INTERACTIONS.producer];
const BENCH_TYPE_KEYS = BENCH_TYPES.map((t) => `${SNOMED}|${t.code}`);

async function grantAtLeast(
  catalogue: CatalogueRepository,
  odsCode: string,
  role: 'producer' | 'consumer',
  interactions: readonly string[],
): Promise<Grant> {
  const current = await catalogue.getGrant(odsCode, role);
  const pointerTypes = [...new Set([...(current?.pointerTypes ?? []), ...BENCH_TYPE_KEYS])].sort();
  if (current && current.pointerTypes.length === pointerTypes.length) return current;
  const written = await catalogue.putGrant(
    parseGrantInput({
      odsCode,
      role,
      pointerTypes,
      interactions,
      accessControls: current?.accessControls ?? [],
    }),
    ACTOR,
  );
  return written.record;
}

/**
 * Makes the catalogue the bench needs (idempotent); returns each provider's producer grant, which
 * the loader checks every pointer against, as the API does.
 */
export async function ensureBenchCatalogue(catalogue: CatalogueRepository): Promise<Record<string, Grant>> {
  await seedDemoCatalogue(catalogue);
  const grants: Record<string, Grant> = {};
  for (const odsCode of BENCH_PROVIDERS) {
    if (!(await catalogue.getOrganisation(odsCode))) {
      await catalogue.putOrganisation(
        parseOrganisationInput({ odsCode, name: `BENCH provider ${odsCode}`, status: 'active' }),
        ACTOR,
      );
    }
    grants[odsCode] = await grantAtLeast(catalogue, odsCode, 'producer', PRODUCER_INTERACTIONS);
  }
  await grantAtLeast(catalogue, 'RWY', 'consumer', ROLE_INTERACTIONS.consumer);
  return grants;
}
