/**
 * Generated registry activity for the service-review tests (R17): AuditRecords spread over the
 * days of a month, across organisations, endpoints, interactions, outcomes and latencies, as
 * the audit middleware would record them. Seeded, so every run sees the same month.
 */
import { type AuditRecord, INTERACTION_KINDS } from '@nir/core';
import { prng } from './prng.ts';

const ORGS = ['RR8', 'RAE', 'RWY', 'X26'];
const NHS = ['9000000009', '9434765919', '9449306060', '9449310394'];
const CODES = ['INVALID_PARAMETER', 'ACCESS DENIED', 'ACCESS_DENIED', 'INVALID_RESOURCE', 'NO_RECORD_FOUND'];

/** `count` records of the UTC month `month` (`YYYY-MM`), on the public URL `publicUrl`. */
export function generatedActivity(
  month: string,
  count: number,
  seed = 16,
  publicUrl = 'http://nir.test',
): AuditRecord[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const [y, m] = month.split('-').map(Number) as [number, number];
  const end = Date.UTC(y, m, 1);
  const records: AuditRecord[] = [];
  for (let i = 0; i < count; i++) {
    const recordedMs = start + Math.floor(random() * (end - start - 60_000)) + 60_000;
    // Latencies from under a millisecond to a few seconds, log-uniform, whole milliseconds.
    const latency = Math.floor(2 ** (random() * 12)) - 1;
    const requester = pick(ORGS);
    const verified = random() > 0.05;
    const shape = random();
    const base =
      shape < 0.55
        ? 'consumer'
        : shape < 0.8
          ? 'producer'
          : shape < 0.9
            ? 'audit'
            : shape < 0.97
              ? 'token'
              : 'admin';
    const failed = random() < 0.1;
    const status = failed ? pick([400, 401, 403, 404, 422, 500, 503]) : base === 'producer' ? 201 : 200;
    const kind =
      base === 'consumer'
        ? random() < 0.8
          ? INTERACTION_KINDS.search
          : INTERACTION_KINDS.read
        : base === 'producer'
          ? pick([
              INTERACTION_KINDS.create,
              INTERACTION_KINDS.update,
              INTERACTION_KINDS.delete,
              INTERACTION_KINDS.transaction,
            ])
          : base === 'audit'
            ? random() < 0.7
              ? INTERACTION_KINDS['audit-search']
              : ({ subtype: 'operation', action: 'E', eventType: 'export' } as const)
            : base === 'token'
              ? ({ subtype: 'token-issue', action: 'E' } as const)
              : ({ subtype: 'catalogue-read', action: 'R' } as const);
    const found = base === 'consumer' && !failed && random() < 0.7;
    const custodian = pick(['RR8', 'RAE']);
    const serverUrl =
      base === 'token'
        ? `${publicUrl}/oauth2/token`
        : base === 'admin'
          ? `${publicUrl}/admin`
          : `${publicUrl}/${base}/FHIR/R4`;
    records.push({
      recorded: new Date(recordedMs).toISOString(),
      started: new Date(recordedMs - latency).toISOString(),
      requestId: `gen-${seed}-${i}`,
      kind,
      status,
      ...(failed
        ? {
            failure: {
              code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : pick(CODES),
              diagnostics: `generated ${i}`,
            },
          }
        : {}),
      client: { clientId: `client-${requester}`, verified },
      requester: { ods: requester, verified },
      serverUrl,
      patients:
        base === 'token' || base === 'admin' ? [] : random() < 0.1 ? [pick(NHS), pick(NHS)] : [pick(NHS)],
      pointers:
        base === 'producer' && !failed
          ? [{ id: `ptr-${i}`, custodian: requester, nhsNumber: undefined }]
          : [],
      custodians: found ? [custodian] : [],
    });
  }
  return records;
}
