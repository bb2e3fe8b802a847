/**
 * The producer role's scripted checks: create, read, search, update, supersede, ITI-65, delete
 * and the main refusals, on fresh test patients, deleting every pointer it made.
 */
import type { ConceptMap, DocumentReference } from '@medplum/fhirtypes';
import type { KitClient } from './client.ts';
import { checkHeaderRefusals } from './common.ts';
import { type PointerTypeInfo, pointerFor, pointerTypeInfo } from './pointer.ts';
import type { Script } from './script.ts';

const BASE = '/producer/FHIR/R4';

/** What the producer script needs. */
export interface ProducerRunInput {
  script: Script;
  client: KitClient;
  example: DocumentReference;
  /** `system|code` of a type the producer grant lists. */
  type: string;
  /** Draws a fresh test-range NHS number. */
  patient: () => string;
  /** A test-range number failing Modulus 11. */
  invalidNhsNumber: string;
  runId: string;
}

function idOf(body: unknown): string {
  const id = (body as { id?: string } | undefined)?.id;
  if (!id) throw new Error('the answer has no id');
  return id;
}

/** Runs the producer checks; RUN-DELETE fails if any pointer the run made is left behind. */
export async function runProducer(input: ProducerRunInput): Promise<void> {
  const { script, client, example, runId } = input;
  const ods = client.identity.ods;
  const live = new Set<string>();
  const map = await client.send('GET', `${BASE}/ConceptMap/NIR-PointerTypeCategory`, { noToken: true });
  const type: PointerTypeInfo = pointerTypeInfo(map.body as ConceptMap, input.type);
  const patientA = input.patient();
  const pointer = (nhs: string) => pointerFor(example, type, nhs, ods, runId);
  const representation = { prefer: 'return=representation' };
  let first = '';

  await script.check(
    {
      id: 'RUN-CREATE',
      title: 'Create a pointer',
      requirement: 'R4, R13',
      criterion:
        'POST DocumentReference: 201 with Location, ETag W/"1" and the id the registry assigned (<ODS>-…)',
      hint: 'The body must meet the published profile; the type must be in the producer grant.',
    },
    async (e) => {
      const created = await client.send('POST', `${BASE}/DocumentReference`, {
        body: pointer(patientA),
        headers: representation,
      });
      e.status(created, 201);
      first = idOf(created.body);
      live.add(first);
      e.expect(first.startsWith(`${ods}-`), `id ${first} lacks the ODS prefix`);
      e.expect(
        (created.headers.get('location') ?? '').endsWith(`/DocumentReference/${first}`),
        'Location missing',
      );
      e.expect(created.headers.get('etag') === 'W/"1"', `ETag ${created.headers.get('etag')}`);
      return `created ${first}`;
    },
  );

  await script.check(
    {
      id: 'RUN-READ',
      title: 'Read the pointer',
      requirement: 'R4',
      criterion: 'GET DocumentReference/{id}: 200, the same id, ETag W/"1"',
      hint: 'A producer reads its own pointers by id.',
    },
    async (e) => {
      const read = await client.send('GET', `${BASE}/DocumentReference/${first}`);
      e.status(read, 200);
      e.expect(idOf(read.body) === first, 'another id came back');
      e.expect(read.headers.get('etag') === 'W/"1"', `ETag ${read.headers.get('etag')}`);
      return `read ${first}`;
    },
  );

  await script.check(
    {
      id: 'RUN-SEARCH',
      title: "Search the patient's own pointers",
      requirement: 'R4',
      criterion:
        'GET DocumentReference?subject:identifier=…: 200 searchset holding exactly the pointer created',
      hint: 'subject:identifier takes https://fhir.nhs.uk/Id/nhs-number|<nhs>.',
    },
    async (e) => {
      const query = new URLSearchParams({
        'subject:identifier': `https://fhir.nhs.uk/Id/nhs-number|${patientA}`,
      });
      const found = await client.send('GET', `${BASE}/DocumentReference?${query}`);
      e.status(found, 200);
      const bundle = found.body as { type?: string; entry?: { resource?: { id?: string } }[] };
      e.expect(bundle.type === 'searchset', `Bundle type ${bundle.type}`);
      const ids = (bundle.entry ?? []).map((x) => x.resource?.id);
      e.expect(ids.length === 1 && ids[0] === first, `found ${ids.join(', ') || 'nothing'}`);
      return `found ${ids.length} pointer`;
    },
  );

  await script.check(
    {
      id: 'RUN-UPDATE',
      title: 'Update the pointer with If-Match',
      requirement: 'R10, R11',
      criterion:
        'PUT DocumentReference/{id} with If-Match W/"1": 200 and ETag W/"2"; a stale If-Match: 412 VERSION_CONFLICT',
      hint: 'Send the whole resource with its id; If-Match names the version read.',
    },
    async (e) => {
      const body = {
        ...pointer(patientA),
        id: first,
        description: `amended by the conformance kit (run ${runId})`,
      };
      const read = await client.send('GET', `${BASE}/DocumentReference/${first}`);
      const master = (read.body as DocumentReference).masterIdentifier;
      const updated = await client.send('PUT', `${BASE}/DocumentReference/${first}`, {
        body: { ...body, masterIdentifier: master },
        headers: { 'if-match': 'W/"1"' },
      });
      e.status(updated, 200);
      e.expect(updated.headers.get('etag') === 'W/"2"', `ETag ${updated.headers.get('etag')}`);
      const stale = await client.send('PUT', `${BASE}/DocumentReference/${first}`, {
        body: { ...body, masterIdentifier: master },
        headers: { 'if-match': 'W/"1"' },
      });
      e.status(stale, 412, 'VERSION_CONFLICT');
      return 'updated to version 2; the stale write refused';
    },
  );

  let replacement = '';
  await script.check(
    {
      id: 'RUN-SUPERSEDE',
      title: 'Supersede the pointer',
      requirement: 'R11',
      criterion: 'POST a pointer with relatesTo replaces <id>: 201; the old pointer then reads 404',
      hint: 'relatesTo: [{code: "replaces", target: {identifier: {value: "<old id>"}}}]; the registry removes the old pointer in the same transaction.',
    },
    async (e) => {
      const created = await client.send('POST', `${BASE}/DocumentReference`, {
        body: {
          ...pointer(patientA),
          relatesTo: [{ code: 'replaces', target: { identifier: { value: first } } }],
        },
        headers: representation,
      });
      e.status(created, 201);
      replacement = idOf(created.body);
      live.add(replacement);
      const old = await client.send('GET', `${BASE}/DocumentReference/${first}`);
      if (e.status(old, 404)) live.delete(first);
      return `${first} superseded by ${replacement}`;
    },
  );

  await script.check(
    {
      id: 'RUN-ITI-65',
      title: 'ITI-65 Provide Document Bundle',
      requirement: 'R4 (IHE MHD)',
      criterion:
        'POST / with a transaction Bundle (SubmissionSet + DocumentReference): 200 transaction-response, 201 for the pointer',
      hint: 'The Bundle holds a List (SubmissionSet) and the DocumentReferences, each with request POST.',
    },
    async (e) => {
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:ss',
            resource: {
              resourceType: 'List',
              status: 'current',
              mode: 'working',
              code: {
                coding: [
                  {
                    system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes',
                    code: 'submissionset',
                  },
                ],
              },
            },
            request: { method: 'POST', url: 'List' },
          },
          {
            fullUrl: 'urn:uuid:doc',
            resource: pointer(input.patient()),
            request: { method: 'POST', url: 'DocumentReference' },
          },
        ],
      };
      const answer = await client.send('POST', `${BASE}/`, { body: bundle });
      e.status(answer, 200);
      const response = answer.body as {
        type?: string;
        entry?: { response?: { status?: string; location?: string } }[];
      };
      e.expect(response.type === 'transaction-response', `Bundle type ${response.type}`);
      const location = response.entry?.[1]?.response?.location ?? '';
      // MHD: the location of the created pointer, as a plain create's Location gives it.
      const id = /(?:^|\/)DocumentReference\/([^/]+)/.exec(location)?.[1];
      e.expect(response.entry?.[1]?.response?.status?.startsWith('201') === true, 'no 201 for the pointer');
      e.expect(id !== undefined, `no pointer location in the transaction-response (got '${location}')`);
      if (id) live.add(id);
      return `published ${id ?? 'nothing'}`;
    },
  );

  await script.check(
    {
      id: 'RUN-REFUSALS-POINTER',
      title: 'Invalid pointers are refused with the offending element',
      requirement: 'R12, R13, R16',
      criterion:
        'NHS number failing Modulus 11: 422 UNPROCESSABLE_ENTITY at subject.identifier.value; an unknown element: 400 MESSAGE_NOT_WELL_FORMED; a missing pointer: 404',
      hint: 'Validate with POST DocumentReference/$validate before publishing.',
    },
    async (e) => {
      const bad = await client.send('POST', `${BASE}/DocumentReference`, {
        body: pointer(input.invalidNhsNumber),
      });
      e.status(bad, 422, 'UNPROCESSABLE_ENTITY');
      const expression = (bad.body as { issue?: { expression?: string[] }[] }).issue?.[0]?.expression ?? [];
      e.expect(expression.includes('subject.identifier.value'), `expression ${expression.join(', ')}`);
      const unknown = await client.send('POST', `${BASE}/DocumentReference`, {
        body: { ...pointer(input.patient()), conformanceKitUnknownElement: true },
      });
      e.status(unknown, 400, 'MESSAGE_NOT_WELL_FORMED');
      e.status(
        await client.send('GET', `${BASE}/DocumentReference/${ods}-00000000-0000-4000-8000-000000000000`),
        404,
      );
      return 'refused as the contract says';
    },
  );

  await checkHeaderRefusals(script, client, `${BASE}/DocumentReference/${replacement || first}`);

  await script.check(
    {
      id: 'RUN-DELETE',
      title: 'Delete every pointer the run made (clean up)',
      requirement: 'R11, R15',
      criterion: 'DELETE DocumentReference/{id}: 200 for each; each then reads 404',
      hint: 'Delete answers 200 RESOURCE_DELETED; the history keeps the versions (R10).',
    },
    async (e) => {
      for (const id of [...live]) {
        e.status(await client.send('DELETE', `${BASE}/DocumentReference/${id}`), 200);
        if (e.status(await client.send('GET', `${BASE}/DocumentReference/${id}`), 404)) live.delete(id);
      }
      e.expect(live.size === 0, `left behind: ${[...live].join(', ')}`);
      return 'every pointer of the run deleted';
    },
  );
}
