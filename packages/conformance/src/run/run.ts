/**
 * `run` (R15): the kit drives a registry as a client of one role with the scripted checks of
 * the published contract, on fresh test patients, cleaning up after itself. Its report names
 * the registry's version and the profile versions the registry itself publishes.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { DocumentReference } from '@medplum/fhirtypes';
import { randomTestRangeNhsNumber } from '@nir/core';
import type { JWK } from 'jose';
import {
  type ConformanceReport,
  KIT_VERSION,
  type ProfileVersion,
  type RegistryFacts,
  summarise,
} from '../report/model.ts';
import { runAudit } from './audit.ts';
import { KitClient } from './client.ts';
import { checkRequestIdsEchoed, checkTokenFlow } from './common.ts';
import { runConsumer } from './consumer.ts';
import { runProducer } from './producer.ts';
import { Script } from './script.ts';

/** The roles the kit can play. */
export const RUN_ROLES = ['producer', 'consumer', 'audit'] as const;
export type RunRole = (typeof RUN_ROLES)[number];

/** The version of the scripted checks (the run's "plan"). */
export const RUN_PLAN_VERSION = '1.0.0';

const SCOPES: Record<RunRole, string> = {
  producer: 'system/DocumentReference.cruds',
  consumer: 'system/DocumentReference.rs',
  audit: 'system/AuditEvent.rs',
};

/** A client the kit signs in as. */
export interface RunClient {
  clientId: string;
  privateJwk: JWK;
  ods: string;
}

/** What a run is asked. */
export interface RunInput extends RunClient {
  registry: string;
  role: RunRole;
  /** The published example pointer (the body template). */
  example: DocumentReference;
  /** A pointer type the grant lists (`system|code`). */
  type?: string | undefined;
  /** A pointer type outside the consumer grant. */
  typeOutsideGrant?: string | undefined;
  /** Consumer runs: a producer that publishes (and then deletes) the paging patient's pointers. */
  seeder?: RunClient | undefined;
  fetch?: typeof fetch | undefined;
  now?: () => Date;
}

/** A 999 number that fails Modulus 11. */
function invalidTestNumber(): string {
  const valid = randomTestRangeNhsNumber(randomInt);
  return `${valid.slice(0, 9)}${(Number(valid[9]) + 1) % 10}`;
}

/** The registry's version and published profile versions, from its own discovery endpoints. */
export async function remoteRegistryFacts(client: KitClient): Promise<RegistryFacts> {
  const metadata = await client.send('GET', '/producer/FHIR/R4/metadata', { noToken: true });
  const version =
    (metadata.body as { software?: { version?: string } } | undefined)?.software?.version ?? 'unknown';
  const profiles: ProfileVersion[] = [];
  for (const type of ['StructureDefinition', 'ValueSet', 'ConceptMap']) {
    const list = await client.send('GET', `/producer/FHIR/R4/${type}`, { noToken: true });
    const entries =
      (list.body as { entry?: { resource?: Partial<ProfileVersion> }[] } | undefined)?.entry ?? [];
    for (const { resource } of entries) {
      if (resource?.resourceType && resource.id && resource.version) {
        profiles.push({ resourceType: resource.resourceType, id: resource.id, version: resource.version });
      }
    }
  }
  return { url: client.identity.registry, version, profiles };
}

/** Runs the role's scripted checks against the registry; the report (unsigned: the kit is a client). */
export async function runConformance(input: RunInput): Promise<ConformanceReport> {
  const now = input.now ?? (() => new Date());
  const started = now().toISOString();
  const runId = randomUUID();
  const client = new KitClient({
    registry: input.registry,
    clientId: input.clientId,
    privateJwk: input.privateJwk,
    ods: input.ods,
    scope: SCOPES[input.role],
    fetch: input.fetch,
  });
  const script = new Script();
  const registry = await remoteRegistryFacts(client);
  const patient = () => randomTestRangeNhsNumber(randomInt);
  const type = input.type ?? 'https://nicip.nhs.uk|MAULR';
  if (await checkTokenFlow(script, client, SCOPES[input.role])) {
    if (input.role === 'producer') {
      await runProducer({
        script,
        client,
        example: input.example,
        type,
        patient,
        invalidNhsNumber: invalidTestNumber(),
        runId,
      });
    } else if (input.role === 'consumer') {
      const seeder = input.seeder
        ? new KitClient({
            registry: input.registry,
            clientId: input.seeder.clientId,
            privateJwk: input.seeder.privateJwk,
            ods: input.seeder.ods,
            scope: SCOPES.producer,
            fetch: input.fetch,
          })
        : undefined;
      await runConsumer({
        script,
        client,
        example: input.example,
        type,
        typeOutsideGrant: input.typeOutsideGrant ?? 'https://nicip.nhs.uk|MAXIB',
        patient,
        runId,
        seeder,
      });
    } else {
      await runAudit(script, client, started);
    }
    await checkRequestIdsEchoed(script, client);
  }
  const checks = script.results;
  return {
    kit: { name: 'nir-conformance', version: KIT_VERSION },
    kind: 'run',
    registry,
    plan: {
      name: `run-${input.role}`,
      version: RUN_PLAN_VERSION,
      title: `Scripted checks of the ${input.role} contract`,
    },
    client: { id: input.clientId, ods: input.ods, role: input.role },
    period: { since: started, until: now().toISOString() },
    generatedAt: now().toISOString(),
    summary: summarise(checks),
    checks,
  };
}
