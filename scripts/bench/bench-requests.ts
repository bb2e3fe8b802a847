/**
 * The requests of the bench's S2 and S3 as the single-scenario scripts send them (s2-probe,
 * s3, topology): a consumer search by NHS number over the loaded patients, and a producer
 * create of a new pointer for a random loaded patient. Each call builds a fresh request (its own
 * X-Request-Id).
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { clinicalHeaders } from '../../test/support/harness.ts';
import { prng } from '../../test/support/prng.ts';
import { benchPatient, benchPointer } from './generate.ts';
import type { BenchRequest } from './load-generators.ts';

/** S2: searches for `patients` in turn, as the bench consumer (RWY); `count`: `_summary=count`. */
export function benchSearches(bearer: string, patients: string[], count = false): () => BenchRequest {
  let i = 0;
  return () => ({
    method: 'GET',
    path: `/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${patients[i++ % patients.length]}${count ? '&_summary=count' : ''}`,
    headers: clinicalHeaders(bearer, 'RWY'),
  });
}

/** S3: creates of new pointers by RR8 for random patients among the first `patientCount` loaded. */
export function benchCreates(bearer: string, patientCount: number): () => BenchRequest {
  const random = prng(Date.now() % 100_000);
  const now = new Date();
  let created = 0;
  return () => ({
    method: 'POST',
    path: '/producer/FHIR/R4/DocumentReference',
    headers: { ...clinicalHeaders(bearer, 'RR8'), 'content-type': 'application/fhir+json' },
    body: JSON.stringify(
      benchPointer(
        8,
        benchPatient(1, Math.floor(random() * patientCount)),
        5_000_000 + Math.floor(random() * 1e9) + created++,
        now,
        'RR8',
      ) as DocumentReference,
    ),
  });
}
