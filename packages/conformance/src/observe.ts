/**
 * What the registry saw of one client (R15): its AuditEvents and the pointer versions it
 * wrote, read from the registry's own records. Events are grouped into requests (one request
 * may record one event per patient); everything a check needs is a plain fact here, with the
 * AuditEvent ids kept as evidence.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { auditFacts, JTI_PREFIX, TRANSACTION_ID_SYSTEM } from '@nir/core';
import { type AuditCursor, AuditStore, type DatabaseSchema, isoTimestamp } from '@nir/store';
import type { Kysely } from 'kysely';

/** One request as the audit trail recorded it. */
export interface ObservedRequest {
  /** AuditEvent ids of the request (one per patient involved). */
  eventIds: string[];
  recorded: string;
  requestId: string | null;
  subtype: string;
  iheTransaction: string | null;
  /** BALP outcome: 0 success, 4 client error, 8/12 server error. */
  outcome: string;
  /** The registry error code of a refusal. */
  code: string | null;
  patients: string[];
  /** `jti` of the access token the request carried. */
  tokenId: string | null;
  /** Purpose-of-use codes of the end user. */
  purposes: string[];
  /** The raw request of a search or operation (method, URL, body). */
  query: string | null;
  /** Pointers named, with versions before and after. */
  pointers: { id: string; versionBefore?: string; versionAfter?: string }[];
}

/** One pointer version the client wrote (pointer_history). */
export interface ObservedVersion {
  id: string;
  version: number;
  action: 'create' | 'update' | 'delete' | 'supersede';
  recordedAt: string;
  requestId: string | null;
  nhsNumber: string;
  /** `system|code` of the pointer's type, when the version has a resource. */
  type: string | null;
  supersededBy: string | null;
}

/** Everything observed of a client over a period. */
export interface Observation {
  clientId: string;
  since: string;
  until: string;
  /** Clinical requests (FHIR APIs), oldest first. */
  requests: ObservedRequest[];
  /** Token requests (`token-issue` events), oldest first. */
  tokenRequests: ObservedRequest[];
  versions: ObservedVersion[];
}

const TOKEN_SUBTYPE = 'token-issue';

function requestOf(event: AuditEvent): ObservedRequest {
  const facts = auditFacts(event);
  const user = event.agent.find((a) => a.purposeOfUse);
  const policy = event.agent.flatMap((a) => a.policy ?? []).find((p) => p.startsWith(JTI_PREFIX));
  const entities = event.entity ?? [];
  const query = entities.find((e) => e.query)?.query;
  const pointers = entities.flatMap((e) => {
    const reference = e.what?.reference;
    if (!reference?.startsWith('DocumentReference/')) return [];
    const id = reference.split('/')[1] ?? '';
    const detail = (type: string) => e.detail?.find((d) => d.type === type)?.valueString;
    const before = detail('versionBefore');
    const after = detail('versionAfter');
    return [{ id, ...(before ? { versionBefore: before } : {}), ...(after ? { versionAfter: after } : {}) }];
  });
  const transaction = entities.find((e) => e.what?.identifier?.system === TRANSACTION_ID_SYSTEM);
  return {
    eventIds: [facts.id],
    recorded: facts.recorded,
    requestId: facts.requestId ?? transaction?.what?.identifier?.value ?? null,
    subtype: facts.subtype,
    iheTransaction: facts.iheTransaction,
    outcome: facts.outcome,
    code: facts.outcome === '0' ? null : (event.outcomeDesc?.split(':')[0]?.trim() ?? null),
    patients: facts.patientNhs ? [facts.patientNhs] : [],
    tokenId: policy ? policy.slice(JTI_PREFIX.length) : null,
    purposes: (user?.purposeOfUse ?? []).flatMap((c) => c.coding?.map((x) => x.code ?? '') ?? []),
    query: query ? Buffer.from(query, 'base64').toString('utf8') : null,
    pointers,
  };
}

/** Groups events into requests: the events of one request share its request id and time. */
export function groupRequests(events: readonly AuditEvent[]): ObservedRequest[] {
  const byKey = new Map<string, ObservedRequest>();
  for (const event of events) {
    const request = requestOf(event);
    const key = request.requestId === null ? request.eventIds[0] : `${request.requestId}@${request.recorded}`;
    const known = byKey.get(key ?? '');
    if (known) {
      known.eventIds.push(...request.eventIds);
      known.patients.push(...request.patients.filter((p) => !known.patients.includes(p)));
      known.pointers.push(...request.pointers);
    } else {
      byKey.set(key ?? '', request);
    }
  }
  return [...byKey.values()].sort((a, b) => a.recorded.localeCompare(b.recorded));
}

function typeOf(resource: unknown): string | null {
  const coding = (resource as { type?: { coding?: { system?: string; code?: string }[] } } | null)?.type
    ?.coding?.[0];
  return coding ? `${coding.system ?? ''}|${coding.code ?? ''}` : null;
}

/** Reads what the registry saw of `clientId` from `since` until `until` (default now). */
export async function observeClient(
  db: Kysely<DatabaseSchema>,
  clientId: string,
  since: string,
  until: string = new Date().toISOString(),
): Promise<Observation> {
  const audit = new AuditStore(db);
  const events: AuditEvent[] = [];
  let after: AuditCursor | undefined;
  do {
    const page = await audit.search(
      { clientId, from: since, to: until },
      { limit: 1000, after, order: 'asc' },
    );
    events.push(...page.events);
    after = page.next;
  } while (after);
  const all = groupRequests(events);
  const rows = await db
    .selectFrom('pointer_history')
    .select([
      'id',
      'version',
      'action',
      'recorded_at',
      'request_id',
      'nhs_number',
      'superseded_by',
      'resource',
    ])
    .where('client_id', '=', clientId)
    .where('recorded_at', '>=', since)
    .where('recorded_at', '<', until)
    .orderBy('recorded_at')
    .orderBy('id')
    .execute();
  // A removal keeps no resource: its type is the type of the version it removed.
  const typeById = new Map<string, string>();
  const versions = rows.map((row): ObservedVersion => {
    const type = typeOf(row.resource) ?? typeById.get(row.id) ?? null;
    if (type) typeById.set(row.id, type);
    return {
      id: row.id,
      version: row.version,
      action: row.action as ObservedVersion['action'],
      recordedAt: isoTimestamp(row.recorded_at),
      requestId: row.request_id,
      nhsNumber: row.nhs_number,
      type,
      supersededBy: row.superseded_by,
    };
  });
  return {
    clientId,
    since,
    until,
    requests: all.filter((r) => r.subtype !== TOKEN_SUBTYPE),
    tokenRequests: all.filter((r) => r.subtype === TOKEN_SUBTYPE),
    versions,
  };
}
