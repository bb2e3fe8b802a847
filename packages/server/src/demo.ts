/**
 * The demo catalogue of the embedded quick start (`demo/`). Seeded only into an empty
 * catalogue and only in demo mode; its keys are refused otherwise (see demo/README.md).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocumentReference } from '@medplum/fhirtypes';
import { type PublicJwk, parseClientInput, parseGrantInput, parseOrganisationInput } from '@nir/core';
import type { CatalogueRepository, PointerRepository } from '@nir/store';
import { calculateJwkThumbprint, type JWK } from 'jose';

/** The repository's `demo/` folder. */
export const DEFAULT_DEMO_DIR = fileURLToPath(new URL('../../../demo', import.meta.url));

/** The actor recorded on demo catalogue changes. */
export const DEMO_ACTOR = 'system:demo-seed';

interface DemoCatalogue {
  organisations: unknown[];
  clients: { clientId: string; name: string; organisations: string[]; roles: string[]; admin: boolean }[];
  grants: unknown[];
}

/** Reads a demo client's public key. */
export async function readDemoPublicKey(demoDir: string, clientId: string): Promise<PublicJwk> {
  return JSON.parse(
    await readFile(path.join(demoDir, 'keys', `${clientId}.public.jwk.json`), 'utf8'),
  ) as PublicJwk;
}

/** JWK thumbprints of every demo public key: these keys are refused outside demo mode. */
export async function demoKeyThumbprints(demoDir: string = DEFAULT_DEMO_DIR): Promise<Set<string>> {
  const names = (await readdir(path.join(demoDir, 'keys'))).filter((n) => n.endsWith('.public.jwk.json'));
  const thumbprints = new Set<string>();
  for (const name of names) {
    const jwk = JSON.parse(await readFile(path.join(demoDir, 'keys', name), 'utf8')) as JWK;
    thumbprints.add(await calculateJwkThumbprint(jwk));
  }
  return thumbprints;
}

/**
 * Seeds the demo catalogue when the catalogue is empty. Returns false (and changes nothing)
 * when any organisation exists, so a restart never undoes an administrator's change.
 */
export async function seedDemoCatalogue(
  catalogue: CatalogueRepository,
  demoDir: string = DEFAULT_DEMO_DIR,
): Promise<boolean> {
  if ((await catalogue.listOrganisations()).length > 0) return false;
  const demo = JSON.parse(await readFile(path.join(demoDir, 'catalogue.json'), 'utf8')) as DemoCatalogue;
  for (const organisation of demo.organisations) {
    await catalogue.putOrganisation(parseOrganisationInput(organisation), DEMO_ACTOR);
  }
  for (const { clientId, name, organisations, roles, admin } of demo.clients) {
    const jwks = { keys: [await readDemoPublicKey(demoDir, clientId)] };
    const input = parseClientInput({ clientId, name, organisations, roles, admin, jwks, status: 'active' });
    await catalogue.putClient(input, DEMO_ACTOR, { demo: true });
  }
  for (const grant of demo.grants) {
    await catalogue.putGrant(parseGrantInput(grant), DEMO_ACTOR);
  }
  return true;
}

/**
 * Seeds the published example pointers (`fhir-profiles/examples/`, NHS number 9000000009,
 * custodian RR8) so that the quick start's consumer search finds something. Only with a
 * freshly seeded demo catalogue; a pointer whose id exists is left alone.
 */
export async function seedDemoPointers(pointers: PointerRepository, examplesDir: string): Promise<number> {
  let seeded = 0;
  for (const name of (await readdir(examplesDir)).filter((n) => n.startsWith('DocumentReference-')).sort()) {
    const {
      id,
      meta: _meta,
      ...pointer
    } = JSON.parse(await readFile(path.join(examplesDir, name), 'utf8')) as DocumentReference;
    if (!id || (await pointers.read(id))) continue;
    const now = new Date();
    await pointers.transaction((writer) =>
      writer.create(
        { pointer: pointer as DocumentReference, id, date: now.toISOString(), now },
        { requestId: 'demo-seed', clientId: DEMO_ACTOR },
      ),
    );
    seeded += 1;
  }
  return seeded;
}
