/**
 * The reference supplier systems of the conformance plans (R15): a "good" client that does each
 * step as the plan says, and a deliberately faulty one whose faults are listed, so the verifier
 * can be shown to pass the first on every check and fail the second on exactly the checks its
 * faults break. Both are ordinary HTTP clients built on the kit's own `KitClient`.
 */
import type { ConceptMap, DocumentReference } from '@medplum/fhirtypes';
import {
  KitClient,
  type KitResponse,
  type PlanInstance,
  pointerFor,
  pointerTypeInfo,
} from '@nir/conformance';
import { demoPrivateKey } from '../support/harness.ts';

const PRODUCER = '/producer/FHIR/R4';
const CONSUMER = '/consumer/FHIR/R4';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const MAULR = 'https://nicip.nhs.uk|MAULR';

/** The faults the faulty producer has, and the checks each one breaks. */
export const PRODUCER_FAULTS = {
  'a new token for every request': ['TOKEN-REUSE'],
  'the create’s X-Request-Id sent again on the update': ['REQUEST-ID-UNIQUE'],
  'delete then create instead of supersede': ['PRODUCER-SUPERSEDE', 'NO-DELETE-AND-CREATE'],
  'the refused invalid pointer resent unchanged': ['NO-BLIND-RETRY'],
  'a pointer of a type outside its grant': ['VALID-POINTERS'],
} as const;

/** The faults the faulty consumer has, and the checks each one breaks. */
export const CONSUMER_FAULTS = {
  'a search sent without X-Request-Id': ['REQUEST-ID-PRESENT'],
  'the next link never followed': ['PAGING-FOLLOWED'],
  'the refused search resent unchanged': ['NO-BLIND-RETRY'],
} as const;

/** A supplier system's connection: one session, or (faulty) a new session for every request. */
class Supplier {
  readonly #make: () => KitClient;
  #session: KitClient;
  readonly #tokenPerRequest: boolean;

  constructor(make: () => KitClient, tokenPerRequest: boolean) {
    this.#make = make;
    this.#session = make();
    this.#tokenPerRequest = tokenPerRequest;
  }

  send(...args: Parameters<KitClient['send']>): Promise<KitResponse> {
    if (this.#tokenPerRequest) this.#session = this.#make();
    return this.#session.send(...args);
  }

  get ods(): string {
    return this.#session.identity.ods;
  }
}

async function supplier(
  registry: string,
  clientId: string,
  ods: string,
  tokenPerRequest = false,
): Promise<Supplier> {
  const privateJwk = await demoPrivateKey(clientId);
  return new Supplier(() => new KitClient({ registry, clientId, privateJwk, ods }), tokenPerRequest);
}

async function pointerMaker(client: Supplier, example: DocumentReference) {
  const map = (await client.send('GET', `${PRODUCER}/ConceptMap/NIR-PointerTypeCategory`, { noToken: true }))
    .body as ConceptMap;
  return (nhs: string, type = MAULR) =>
    pointerFor(example, pointerTypeInfo(map, type), nhs, client.ods, 'reference');
}

function expectStatus(response: KitResponse, status: number): KitResponse {
  if (response.status !== status) {
    throw new Error(
      `${response.exchange.method} ${response.exchange.path}: ${response.status} ${response.text.slice(0, 300)}`,
    );
  }
  return response;
}

const idOf = (response: KitResponse) => (response.body as { id: string }).id;
const representation = { prefer: 'return=representation' };

/** The good producer: every step of the producer plan as written, one token for the session. */
export async function goodProducer(
  registry: string,
  plan: PlanInstance,
  example: DocumentReference,
): Promise<void> {
  const client = await supplier(registry, 'demo-provider-a', 'RR8');
  const pointer = await pointerMaker(client, example);
  const A = plan.patients.A ?? '';
  const B = plan.patients.B ?? '';
  // P2 publish; P3 amend with If-Match; P4 supersede.
  const first = idOf(
    expectStatus(
      await client.send('POST', `${PRODUCER}/DocumentReference`, {
        body: pointer(A),
        headers: representation,
      }),
      201,
    ),
  );
  const read = expectStatus(await client.send('GET', `${PRODUCER}/DocumentReference/${first}`), 200)
    .body as DocumentReference;
  expectStatus(
    await client.send('PUT', `${PRODUCER}/DocumentReference/${first}`, {
      body: { ...read, meta: undefined, description: 'corrected report' },
      headers: { 'if-match': 'W/"1"' },
    }),
    200,
  );
  expectStatus(
    await client.send('POST', `${PRODUCER}/DocumentReference`, {
      body: { ...pointer(A), relatesTo: [{ code: 'replaces', target: { identifier: { value: first } } }] },
    }),
    201,
  );
  // P5 publish for B and withdraw.
  const withdrawn = idOf(
    expectStatus(
      await client.send('POST', `${PRODUCER}/DocumentReference`, {
        body: pointer(B),
        headers: representation,
      }),
      201,
    ),
  );
  expectStatus(await client.send('DELETE', `${PRODUCER}/DocumentReference/${withdrawn}`), 200);
  // P6 the invalid pointer: refused, shown to the user, not resent.
  expectStatus(
    await client.send('POST', `${PRODUCER}/DocumentReference`, { body: pointer(plan.invalidNhsNumber) }),
    422,
  );
  // P7 own search.
  expectStatus(
    await client.send(
      'GET',
      `${PRODUCER}/DocumentReference?${new URLSearchParams({ 'subject:identifier': `${NHS}|${A}` })}`,
    ),
    200,
  );
}

/** The faulty producer: the same plan with the faults of {@link PRODUCER_FAULTS}. */
export async function faultyProducer(
  registry: string,
  plan: PlanInstance,
  example: DocumentReference,
): Promise<void> {
  const client = await supplier(registry, 'demo-provider-b', 'RAE', true);
  const pointer = await pointerMaker(client, example);
  const A = plan.patients.A ?? '';
  const B = plan.patients.B ?? '';
  const created = expectStatus(
    await client.send('POST', `${PRODUCER}/DocumentReference`, { body: pointer(A), headers: representation }),
    201,
  );
  const first = idOf(created);
  const read = expectStatus(await client.send('GET', `${PRODUCER}/DocumentReference/${first}`), 200)
    .body as DocumentReference;
  expectStatus(
    await client.send('PUT', `${PRODUCER}/DocumentReference/${first}`, {
      body: { ...read, meta: undefined, description: 'corrected report' },
      headers: { 'if-match': 'W/"1"', 'x-request-id': created.exchange.requestId ?? '' },
    }),
    200,
  );
  expectStatus(await client.send('DELETE', `${PRODUCER}/DocumentReference/${first}`), 200);
  expectStatus(await client.send('POST', `${PRODUCER}/DocumentReference`, { body: pointer(A) }), 201);
  const withdrawn = idOf(
    expectStatus(
      await client.send('POST', `${PRODUCER}/DocumentReference`, {
        body: pointer(B),
        headers: representation,
      }),
      201,
    ),
  );
  expectStatus(await client.send('DELETE', `${PRODUCER}/DocumentReference/${withdrawn}`), 200);
  const invalid = pointer(plan.invalidNhsNumber);
  expectStatus(await client.send('POST', `${PRODUCER}/DocumentReference`, { body: invalid }), 422);
  expectStatus(await client.send('POST', `${PRODUCER}/DocumentReference`, { body: invalid }), 422);
  expectStatus(
    await client.send('POST', `${PRODUCER}/DocumentReference`, { body: pointer(A, plan.typeOutsideGrant) }),
    403,
  );
  expectStatus(
    await client.send(
      'GET',
      `${PRODUCER}/DocumentReference?${new URLSearchParams({ 'subject:identifier': `${NHS}|${A}` })}`,
    ),
    200,
  );
}

/** Publishes the consumer plan's patient B pointers (the plan's seed), as a provider. */
export async function seedConsumerPlan(
  registry: string,
  plan: PlanInstance,
  example: DocumentReference,
): Promise<string[]> {
  const client = await supplier(registry, 'demo-provider-a', 'RR8');
  const pointer = await pointerMaker(client, example);
  const ids: string[] = [];
  for (let i = 0; i < (plan.plan.seed?.pointers ?? 0); i++) {
    ids.push(
      idOf(
        expectStatus(
          await client.send('POST', `${PRODUCER}/DocumentReference`, {
            body: pointer(plan.patients.B ?? ''),
            headers: representation,
          }),
          201,
        ),
      ),
    );
  }
  return ids;
}

const search = (nhs: string, extra: Record<string, string> = {}) =>
  `${CONSUMER}/DocumentReference?${new URLSearchParams({ 'subject:identifier': `${NHS}|${nhs}`, ...extra })}`;

/** The good consumer: search with a page size, follow next, read, handle the refusal. */
export async function goodConsumer(registry: string, plan: PlanInstance): Promise<void> {
  const client = await supplier(registry, 'demo-consumer', 'RWY');
  const B = plan.patients.B ?? '';
  let page = expectStatus(await client.send('GET', search(B, { _count: '2' })), 200);
  const ids: string[] = [];
  for (;;) {
    const bundle = page.body as {
      entry?: { resource?: { id?: string } }[];
      link?: { relation?: string; url?: string }[];
    };
    ids.push(...(bundle.entry ?? []).flatMap((e) => (e.resource?.id ? [e.resource.id] : [])));
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    page = expectStatus(await client.send('GET', next), 200);
  }
  expectStatus(await client.send('GET', `${CONSUMER}/DocumentReference/${ids[0]}`), 200);
  expectStatus(await client.send('GET', search(B, { type: plan.typeOutsideGrant })), 400);
}

/** The faulty consumer: the same plan with the faults of {@link CONSUMER_FAULTS}. */
export async function faultyConsumer(registry: string, plan: PlanInstance): Promise<void> {
  const client = await supplier(registry, 'demo-consumer', 'RWY');
  const B = plan.patients.B ?? '';
  expectStatus(await client.send('GET', search(B, { _count: '2' }), { noRequestId: true }), 400);
  const page = expectStatus(await client.send('GET', search(B, { _count: '2' })), 200);
  const first = (page.body as { entry?: { resource?: { id?: string } }[] }).entry?.[0]?.resource?.id;
  expectStatus(await client.send('GET', `${CONSUMER}/DocumentReference/${first}`), 200);
  expectStatus(await client.send('GET', search(B, { type: plan.typeOutsideGrant })), 400);
  expectStatus(await client.send('GET', search(B, { type: plan.typeOutsideGrant })), 400);
}
