/**
 * The end-to-end flow every real FHIR client library drives (issue 13, "Proof by real
 * clients"): token, create, search by patient identifier (GET and POST), follow `next` links,
 * read, update with If-Match, delete, ITI-65 transaction, audit search, subject access request,
 * Bulk Data kick-off, poll and download. A driver adapts one library to {@link ClientSession};
 * the only accommodation a driver may make is passing NRL's headers (X-Request-Id,
 * NHSD-End-User-Organisation-ODS) through the library's documented hooks. Every resource the
 * server returns is checked by the independent R4 validator.
 */
import type {
  AuditEvent,
  Bundle,
  CapabilityStatement,
  DocumentReference,
  OperationOutcome,
  Resource,
} from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { freshNhsNumber, NHS_NUMBER_SYSTEM, validPointer } from '../support/pointers.ts';
import type { R4Validator } from './r4-validator.ts';

/** Which FHIR base a session talks to. */
export type Base = 'producer' | 'consumer' | 'audit';

/** What a driver needs to log in: the registry, the demo client, its organisation. */
export interface ConnectOptions {
  url: string;
  base: Base;
  clientId: string;
  ods: string;
  /** Signs a fresh client assertion for the demo client (the client's private key). */
  assertion: () => Promise<string>;
}

/** One logged-in client library session on one base. */
export interface ClientSession {
  metadata(): Promise<CapabilityStatement>;
  /** Creates a pointer; returns the created resource as the client obtains it. */
  create(pointer: DocumentReference): Promise<DocumentReference>;
  read(id: string): Promise<DocumentReference>;
  searchGet(params: Record<string, string>): Promise<Bundle>;
  searchPost(params: Record<string, string>): Promise<Bundle>;
  /** The next page, or undefined when there is no `next` link. */
  nextPage(bundle: Bundle): Promise<Bundle | undefined>;
  update(pointer: DocumentReference, ifMatch: string): Promise<Resource>;
  remove(id: string, ifMatch: string): Promise<Resource>;
  transaction(bundle: Bundle): Promise<Bundle>;
  auditSearch(params: Record<string, string | string[]>): Promise<Bundle>;
  subjectAccess(params: Record<string, string | string[]>): Promise<Bundle>;
  /** Kick-off, poll until the manifest, download every file: the NDJSON texts. */
  bulkExport(since: string): Promise<{ manifest: { output: { url: string }[] }; files: string[] }>;
  /** The OperationOutcome a failed call carried (and its HTTP status when the library tells it). */
  failure(call: Promise<unknown>): Promise<{ status?: number; outcome: OperationOutcome }>;
}

/** A client library under test. */
export interface ClientDriver {
  name: string;
  connect(options: ConnectOptions): Promise<ClientSession>;
}

const MHD_SUBMISSION_SET = 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes';

/** An ITI-65 Provide Document Bundle with one SubmissionSet and `docs`. */
function provideBundle(nhs: string, docs: DocumentReference[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:4e0c7b4a-0d1f-4d7e-9a4b-1f2e3d4c5b6a',
        resource: {
          resourceType: 'List',
          status: 'current',
          mode: 'working',
          code: { coding: [{ system: MHD_SUBMISSION_SET, code: 'submissionset' }] },
          subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhs } },
          date: new Date().toISOString(),
        },
        request: { method: 'POST', url: 'List' },
      },
      ...docs.map((resource, i) => ({
        fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
        resource,
        request: { method: 'POST' as const, url: 'DocumentReference' },
      })),
    ],
  } as Bundle;
}

/** A fresh pointer for the patient (no id, no meta: the registry assigns them). */
function newPointer(nhs: string): DocumentReference {
  const { id: _id, meta: _meta, ...body } = validPointer({ custodian: 'RR8', nhsNumber: nhs });
  return {
    ...body,
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` },
  } as DocumentReference;
}

const codeOf = (outcome: OperationOutcome) => outcome.issue?.[0]?.details?.coding?.[0]?.code;

const ids = (bundle: Bundle) =>
  (bundle.entry ?? []).flatMap((e) =>
    e.resource?.resourceType === 'DocumentReference' ? [e.resource.id] : [],
  );

/** Runs the whole flow with one driver; every returned resource goes through `validator`. */
export async function runClientFlow(
  driver: ClientDriver,
  registry: { url: string; assertion: (clientId: string) => Promise<string> },
  validator: R4Validator,
): Promise<void> {
  const v = <T>(resource: T, source: string): T => validator.check(resource, `${driver.name} ${source}`);
  const connect = (base: Base, clientId: string, ods: string) =>
    driver.connect({ url: registry.url, base, clientId, ods, assertion: () => registry.assertion(clientId) });
  const started = new Date(Date.now() - 1000).toISOString();
  const nhs = freshNhsNumber();

  // Token (each driver logs in with its JWT assertion) and discovery.
  const producer = await connect('producer', 'demo-provider-a', 'RR8');
  const consumer = await connect('consumer', 'demo-consumer', 'RWY');
  const audit = await connect('audit', 'demo-audit', 'RR8');
  for (const [base, session] of [
    ['producer', producer],
    ['consumer', consumer],
    ['audit', audit],
  ] as const) {
    const statement = v(await session.metadata(), `${base} metadata`);
    expect(statement.resourceType).toBe('CapabilityStatement');
  }

  // Create three pointers (the client's create), one more by ITI-65.
  const created: DocumentReference[] = [];
  for (let i = 0; i < 3; i++) created.push(v(await producer.create(newPointer(nhs)), 'create'));
  for (const doc of created) expect(doc.id).toMatch(/^RR8-/);
  const response = v(await producer.transaction(provideBundle(nhs, [newPointer(nhs)])), 'ITI-65');
  expect(response.type).toBe('transaction-response');
  const pointerEntries = (response.entry ?? []).filter((e) =>
    e.response?.location?.includes('DocumentReference/'),
  );
  expect(pointerEntries).toHaveLength(1);
  for (const entry of pointerEntries) expect(entry.response?.status).toMatch(/^201/);

  // Consumer: search by patient identifier, GET and POST, paged; follow next links.
  const patient = { 'patient.identifier': `${NHS_NUMBER_SYSTEM}|${nhs}` };
  const first = v(await consumer.searchGet({ ...patient, _count: '2' }), 'search GET');
  expect(first.total).toBe(4);
  const seen = [...ids(first)];
  for (let page = await consumer.nextPage(first); page; page = await consumer.nextPage(page)) {
    seen.push(...ids(v(page, 'search next page')));
  }
  expect(new Set(seen).size).toBe(4);
  for (const doc of created) expect(seen).toContain(doc.id);
  for (const entry of first.entry ?? []) {
    expect(entry.fullUrl).toMatch(/^https?:\/\/.+\/consumer\/FHIR\/R4\/DocumentReference\/RR8-/);
    expect(entry.search?.mode).toBe('match');
  }
  const posted = v(await consumer.searchPost({ ...patient, type: 'MAULR' }), 'search POST');
  expect(ids(posted).sort()).toEqual([...seen].sort());

  // Read, update with If-Match (a stale version is refused), delete with If-Match.
  const [doc] = created as [DocumentReference];
  const read = v(await consumer.read(doc.id as string), 'read');
  expect(read.id).toBe(doc.id);
  const mine = v(await producer.read(doc.id as string), 'producer read');
  const version = mine.meta?.versionId ?? '';
  expect(version).not.toBe('');
  const stale = await producer.failure(producer.update({ ...mine, description: 'stale' }, 'W/"999"'));
  expect(stale.status ?? 412).toBe(412);
  expect(codeOf(stale.outcome)).toBe('VERSION_CONFLICT');
  v(stale.outcome, 'update 412');
  v(await producer.update({ ...mine, description: 'Amended by a FHIR client' }, `W/"${version}"`), 'update');
  const updated = v(await producer.read(doc.id as string), 'read after update');
  expect(updated.description).toBe('Amended by a FHIR client');
  v(await producer.remove(doc.id as string, `W/"${updated.meta?.versionId}"`), 'delete');
  const gone = await consumer.failure(consumer.read(doc.id as string));
  expect(gone.status ?? 404).toBe(404);
  expect(codeOf(gone.outcome)).toBe('NO_RECORD_FOUND');
  v(gone.outcome, 'read 404');

  // Audit: ITI-81 search, subject access request, Bulk Data export.
  const range = { date: [`ge${started}`, `lt${new Date(Date.now() + 60_000).toISOString()}`] };
  const events = v(
    await audit.auditSearch({ ...range, entity: `DocumentReference/${doc.id}`, _count: '50' }),
    'audit search',
  );
  const actions = (events.entry ?? []).map((e) => (e.resource as AuditEvent).action).sort();
  expect(actions).toEqual(expect.arrayContaining(['C', 'D', 'R', 'U']));
  const sar = v(await audit.subjectAccess({ 'patient.identifier': nhs, ...range }), 'subject access');
  expect((sar.entry ?? []).length).toBeGreaterThan(0);
  const { manifest, files } = await audit.bulkExport(started);
  expect(manifest.output.length).toBeGreaterThan(0);
  const exported = files.flatMap((text) => validator.checkNdjson(text, `${driver.name} export file`));
  expect(exported.length).toBeGreaterThan(0);
  for (const event of exported) expect(event.resourceType).toBe('AuditEvent');
}
