/**
 * The consumer role's scripted checks: search (GET and POST), count, paging through next
 * links, read, and the main refusals. Paging and read need pointers: with a seeding producer
 * the run publishes a test patient's pointers first and deletes them afterwards.
 */
import type { ConceptMap, DocumentReference } from '@medplum/fhirtypes';
import type { KitClient } from './client.ts';
import { checkHeaderRefusals } from './common.ts';
import { pointerFor, pointerTypeInfo } from './pointer.ts';
import type { Script } from './script.ts';

const BASE = '/consumer/FHIR/R4';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

/** What the consumer script needs. */
export interface ConsumerRunInput {
  script: Script;
  client: KitClient;
  example: DocumentReference;
  /** `system|code` of a type the consumer grant lists (and the seeding producer's). */
  type: string;
  /** `system|code` of a type outside the consumer grant. */
  typeOutsideGrant: string;
  patient: () => string;
  runId: string;
  /** A producer to publish the paging patient's pointers with (and delete them after). */
  seeder?: KitClient | undefined;
}

interface Searchset {
  type?: string;
  total?: number;
  link?: { relation?: string; url?: string }[];
  entry?: { resource?: { id?: string } }[];
}

/** Runs the consumer checks. */
export async function runConsumer(input: ConsumerRunInput): Promise<void> {
  const { script, client } = input;
  const empty = input.patient();
  const subject = (nhs: string) => `${NHS}|${nhs}`;

  await script.check(
    {
      id: 'RUN-SEARCH',
      title: 'Search a patient (GET and POST _search) and count',
      requirement: 'R3',
      criterion:
        'GET and POST _search (NRL JSON body) answer 200 searchset; _summary=count answers 200 with a total',
      hint: 'subject:identifier=https://fhir.nhs.uk/Id/nhs-number|<nhs>; POST keeps the NHS number out of URLs.',
    },
    async (e) => {
      const get = await client.send(
        'GET',
        `${BASE}/DocumentReference?${new URLSearchParams({ 'subject:identifier': subject(empty) })}`,
      );
      e.status(get, 200);
      e.expect((get.body as Searchset).type === 'searchset', 'not a searchset');
      e.expect(
        (get.body as Searchset).total === 0,
        `a fresh test patient has ${(get.body as Searchset).total} pointers`,
      );
      const post = await client.send('POST', `${BASE}/DocumentReference/_search`, {
        body: { 'subject:identifier': subject(empty) },
        headers: { 'content-type': 'application/json' },
      });
      e.status(post, 200);
      const count = await client.send(
        'GET',
        `${BASE}/DocumentReference?${new URLSearchParams({ 'subject:identifier': subject(empty), _summary: 'count' })}`,
      );
      e.status(count, 200);
      e.expect(typeof (count.body as Searchset).total === 'number', 'no total in the count');
      return 'searched by GET and POST, counted';
    },
  );

  if (input.seeder) {
    const seeder = input.seeder;
    const paged = input.patient();
    const seeded: string[] = [];
    const map = await seeder.send('GET', '/producer/FHIR/R4/ConceptMap/NIR-PointerTypeCategory', {
      noToken: true,
    });
    const type = pointerTypeInfo(map.body as ConceptMap, input.type);
    await script.check(
      {
        id: 'RUN-PAGING',
        title: 'Page through a patient with more pointers than a page',
        requirement: 'R3',
        criterion:
          '_count=2 over 3 pointers: total 3, 2 entries and a next link; the next link gives the third; no id twice',
        hint: 'Follow link[relation=next] as given until there is none.',
      },
      async (e) => {
        for (let i = 0; i < 3; i++) {
          const created = await seeder.send('POST', '/producer/FHIR/R4/DocumentReference', {
            body: pointerFor(input.example, type, paged, seeder.identity.ods, input.runId),
            headers: { prefer: 'return=representation' },
          });
          if (!e.status(created, 201)) throw new Error('the seeding producer could not publish');
          seeded.push((created.body as { id: string }).id);
        }
        const ids: string[] = [];
        let page = await client.send(
          'GET',
          `${BASE}/DocumentReference?${new URLSearchParams({ 'subject:identifier': subject(paged), _count: '2' })}`,
        );
        e.status(page, 200);
        e.expect((page.body as Searchset).total === 3, `total ${(page.body as Searchset).total}`);
        e.expect(
          (page.body as Searchset).entry?.length === 2,
          `first page holds ${(page.body as Searchset).entry?.length}`,
        );
        for (let pages = 1; pages < 5; pages++) {
          ids.push(...((page.body as Searchset).entry ?? []).map((x) => x.resource?.id ?? ''));
          const next = (page.body as Searchset).link?.find((l) => l.relation === 'next')?.url;
          if (!next) break;
          page = await client.send('GET', next);
          e.status(page, 200);
        }
        e.expect(ids.length === 3 && new Set(ids).size === 3, `paged ids ${ids.join(', ')}`);
        e.expect(
          seeded.every((id) => ids.includes(id)),
          'the pages miss a pointer',
        );
        return `3 pointers over ${Math.ceil(ids.length / 2)} pages`;
      },
    );
    await script.check(
      {
        id: 'RUN-READ',
        title: 'Read a pointer found',
        requirement: 'R3',
        criterion: 'GET DocumentReference/{id} of a granted type: 200 and the same id; an unknown id: 404',
        hint: 'Read by the id the search returned.',
      },
      async (e) => {
        const id = seeded[0];
        if (!id) throw new Error('nothing was seeded');
        const read = await client.send('GET', `${BASE}/DocumentReference/${id}`);
        e.status(read, 200);
        e.expect((read.body as { id?: string }).id === id, 'another id came back');
        e.status(
          await client.send(
            'GET',
            `${BASE}/DocumentReference/${seeder.identity.ods}-00000000-0000-4000-8000-000000000000`,
          ),
          404,
        );
        return `read ${id}`;
      },
    );
    await script.check(
      {
        id: 'RUN-CLEANUP',
        title: 'The seeded pointers are deleted',
        requirement: 'R15',
        criterion: 'The seeding producer deletes each pointer (200); the patient then has none',
        hint: 'The kit leaves nothing behind.',
      },
      async (e) => {
        for (const id of seeded)
          e.status(await seeder.send('DELETE', `/producer/FHIR/R4/DocumentReference/${id}`), 200);
        const after = await client.send(
          'GET',
          `${BASE}/DocumentReference?${new URLSearchParams({ 'subject:identifier': subject(paged) })}`,
        );
        e.status(after, 200);
        e.expect((after.body as Searchset).total === 0, `${(after.body as Searchset).total} left`);
        return `${seeded.length} seeded pointers deleted`;
      },
    );
  }

  await script.check(
    {
      id: 'RUN-REFUSALS-SEARCH',
      title: 'Searches outside the contract are refused',
      requirement: 'R3, R16',
      criterion:
        'A type outside the grant: 400 INVALID_CODE_SYSTEM; an unknown parameter: 400 INVALID_PARAMETER; no subject: 400',
      hint: 'Search only the types your grant lists; NRL refuses parameters it does not know.',
    },
    async (e) => {
      const search = (params: Record<string, string>) =>
        client.send('GET', `${BASE}/DocumentReference?${new URLSearchParams(params)}`);
      e.status(
        await search({ 'subject:identifier': subject(empty), type: input.typeOutsideGrant }),
        400,
        'INVALID_CODE_SYSTEM',
      );
      e.status(
        await search({ 'subject:identifier': subject(empty), conformanceKitUnknown: 'x' }),
        400,
        'INVALID_PARAMETER',
      );
      const none = await search({});
      e.status(none, 400);
      return 'refused as the contract says';
    },
  );

  await checkHeaderRefusals(
    script,
    client,
    `${BASE}/DocumentReference?${new URLSearchParams({ 'subject:identifier': subject(empty) })}`,
  );
}
