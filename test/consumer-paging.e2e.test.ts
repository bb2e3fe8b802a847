/**
 * Paging of the consumer search (docs/consumer-api.md, Results): keyset paging on (stored
 * time, id). Following `next` links with `_count=7` while pointers are inserted between and
 * during the page fetches, every pointer that existed when the first page was served appears
 * exactly once, no id appears twice and `total` is recounted on every page; pointers deleted
 * before their page is served never appear and nothing else is skipped; a `_page_token` that
 * is not well formed is 400 `INVALID_PARAMETER` (an altered position only moves the page). On both databases.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirReply, fhirCall } from './support/fhir-call.ts';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { NHS_NUMBER_SYSTEM, type PointerType, VALID_NHS_NUMBERS, validPointer } from './support/pointers.ts';

const backends = await testBackends();
const CONSUMER = '/consumer/FHIR/R4';
const PRODUCER = '/producer/FHIR/R4';
const SEEDED = 40;
const PAGE = 7;
/** Types RWY's demo consumer grant lists, and one it does not (RR8 may publish all three). */
const GRANTED: PointerType[] = ['https://nicip.nhs.uk|MAULR', 'http://snomed.info/sct|418062002'];
const NOT_GRANTED: PointerType = 'https://nicip.nhs.uk|MAXIB';

interface Page {
  resourceType?: string;
  total?: number;
  link?: { relation?: string; url?: string }[];
  entry?: { resource?: DocumentReference; search?: { mode?: string } }[];
}

describe.each(backends)('consumer paging on $name', (backend) => {
  let t: TestRegistry;
  let producerToken: string;
  let consumerToken: string;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open(), { env: { NIR_ACCESS_TOKEN_TTL: '3600' } });
    producerToken = await t.token('demo-provider-a');
    consumerToken = await t.token('demo-consumer');
  });
  afterAll(async () => t?.close());

  /** Publishes a pointer as RR8; returns its id. */
  async function create(nhsNumber: string, type: PointerType): Promise<string> {
    const reply = await fhirCall(
      t,
      'POST',
      `${PRODUCER}/DocumentReference`,
      { token: producerToken, ods: 'RR8' },
      validPointer({ nhsNumber, type }),
    );
    expect(reply.status, reply.text).toBe(201);
    return (reply.headers.get('location') ?? '').split('/').pop() ?? '';
  }

  async function remove(id: string): Promise<void> {
    const reply = await fhirCall(t, 'DELETE', `${PRODUCER}/DocumentReference/${id}`, {
      token: producerToken,
      ods: 'RR8',
    });
    expect(reply.status, reply.text).toBe(200);
  }

  /** Seeds `n` visible pointers for the patient (and a few of a type RWY may not see); returns their ids. */
  async function seed(nhsNumber: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(await create(nhsNumber, GRANTED[i % GRANTED.length] as PointerType));
      if (i % 8 === 3) await create(nhsNumber, NOT_GRANTED);
    }
    return ids;
  }

  /** GETs a consumer URL (a path, or a `next` link) as RWY. */
  async function get(url: string): Promise<FhirReply> {
    const target = url.startsWith('http') ? new URL(url) : new URL(url, t.url);
    expect(target.origin).toBe(t.url);
    const response = await t.fetch(`${target.pathname}${target.search}`, {
      headers: clinicalHeaders(consumerToken, 'RWY'),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as FhirReply['body']) : {},
      text,
    };
  }

  function firstUrl(nhsNumber: string): string {
    return `${CONSUMER}/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${nhsNumber}&_count=${PAGE}`;
  }

  function nextOf(page: Page): string | undefined {
    return page.link?.find((l) => l.relation === 'next')?.url;
  }

  /** The ids of one page, checking its shape: at most `_count` pointers, all of granted types. */
  function idsOf(reply: FhirReply, context: string): string[] {
    expect(reply.status, `${context}: ${reply.text.slice(0, 800)}`).toBe(200);
    const page = reply.body as Page;
    expect(page.resourceType, context).toBe('Bundle');
    const pointers = (page.entry ?? []).filter((e) => e.search?.mode !== 'outcome');
    expect(pointers.length, context).toBeLessThanOrEqual(PAGE);
    return pointers.map((entry) => {
      const coding = entry.resource?.type?.coding?.[0];
      expect(GRANTED as string[], context).toContain(`${coding?.system}|${coding?.code}`);
      return entry.resource?.id ?? '';
    });
  }

  function expectNextKeepsParameters(next: string, nhsNumber: string): void {
    const url = new URL(next);
    expect(url.pathname).toBe(`${CONSUMER}/DocumentReference`);
    expect(url.searchParams.get('subject:identifier')).toBe(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`);
    expect(url.searchParams.get('_count')).toBe(String(PAGE));
    expect(url.searchParams.get('_page_token')).toBeTruthy();
  }

  it('returns every pointer that existed at the first page exactly once while others are inserted', async () => {
    const nhsNumber = VALID_NHS_NUMBERS[0];
    const existing = await seed(nhsNumber, SEEDED);
    const inserted: string[] = [];
    /** Visible live pointers of the patient now. */
    let live = SEEDED;
    const insert = async (type: PointerType) => {
      const id = await create(nhsNumber, type);
      if (type !== NOT_GRANTED) inserted.push(id);
    };

    const first = await get(firstUrl(nhsNumber));
    const seen = idsOf(first, 'page 1');
    expect((first.body as Page).total, 'page 1 total').toBe(live);
    let next = nextOf(first.body as Page);
    let pages = 1;
    while (next) {
      pages += 1;
      expect(pages, 'too many pages').toBeLessThan(SEEDED);
      expectNextKeepsParameters(next, nhsNumber);
      let reply: FhirReply;
      if (pages % 2 === 0) {
        // Inserted between the pages: the recount is exact.
        await insert(GRANTED[0] as PointerType);
        await insert(NOT_GRANTED);
        await insert(GRANTED[1] as PointerType);
        live += 2;
        reply = await get(next);
        expect((reply.body as Page).total, `page ${pages} total`).toBe(live);
      } else {
        // Inserted while the page is being served: the recount sees some, all or none of them.
        const results = await Promise.all([
          get(next),
          insert(GRANTED[1] as PointerType),
          insert(NOT_GRANTED),
          insert(GRANTED[0] as PointerType),
        ]);
        reply = results[0];
        const total = (reply.body as Page).total ?? -1;
        expect(total, `page ${pages} total`).toBeGreaterThanOrEqual(live);
        expect(total, `page ${pages} total`).toBeLessThanOrEqual(live + 2);
        live += 2;
      }
      seen.push(...idsOf(reply, `page ${pages}`));
      next = nextOf(reply.body as Page);
    }

    expect(pages, 'paged').toBeGreaterThanOrEqual(Math.ceil(SEEDED / PAGE));
    expect(new Set(seen).size, 'an id was returned twice').toBe(seen.length);
    const seenSet = new Set(seen);
    const missing = existing.filter((id) => !seenSet.has(id));
    expect(missing, 'pointers that existed at the first page were skipped').toEqual([]);
    const known = new Set([...existing, ...inserted]);
    expect(
      seen.filter((id) => !known.has(id)),
      'ids that are neither seeded nor inserted',
    ).toEqual([]);

    // Afterwards, a fresh walk sees everything that is live now, once.
    const all: string[] = [];
    let url: string | undefined = firstUrl(nhsNumber);
    while (url) {
      const reply = await get(url);
      expect((reply.body as Page).total).toBe(live);
      all.push(...idsOf(reply, 'fresh walk'));
      url = nextOf(reply.body as Page);
    }
    expect(all.length).toBe(live);
    expect([...all].sort()).toEqual([...existing, ...inserted].sort());
  }, 60_000);

  it('never returns a pointer deleted before its page, and skips nothing else', async () => {
    const nhsNumber = VALID_NHS_NUMBERS[1];
    const existing = await seed(nhsNumber, SEEDED);
    const deleted = new Set<string>();
    /** Deleted before any page returned them. */
    const deletedUnseen = new Set<string>();
    let live = SEEDED;

    const first = await get(firstUrl(nhsNumber));
    const seen = idsOf(first, 'page 1');
    expect((first.body as Page).total).toBe(live);
    let next = nextOf(first.body as Page);
    let pages = 1;
    while (next) {
      pages += 1;
      expect(pages, 'too many pages').toBeLessThan(SEEDED);
      if (pages === 2 || pages === 4) {
        // Delete pointers not yet seen (the first and last of what remains, and one between),
        // and one already seen.
        const unseen = existing.filter((id) => !seen.includes(id) && !deleted.has(id));
        const victims = [unseen[0], unseen[Math.floor(unseen.length / 2)], unseen[unseen.length - 1]];
        const seenVictim = seen.find((id) => !deleted.has(id));
        for (const id of new Set([...victims, seenVictim])) {
          if (id === undefined) continue;
          await remove(id);
          deleted.add(id);
          if (!seen.includes(id)) deletedUnseen.add(id);
          live -= 1;
        }
      }
      const reply = await get(next);
      expect((reply.body as Page).total, `page ${pages} total`).toBe(live);
      seen.push(...idsOf(reply, `page ${pages}`));
      next = nextOf(reply.body as Page);
    }

    expect(deletedUnseen.size).toBeGreaterThanOrEqual(5);
    expect(deleted.size).toBeGreaterThan(deletedUnseen.size);
    expect(new Set(seen).size, 'an id was returned twice').toBe(seen.length);
    expect(
      seen.filter((id) => deletedUnseen.has(id)),
      'a pointer deleted before its page was returned',
    ).toEqual([]);
    const seenSet = new Set(seen);
    const skipped = existing.filter((id) => !deleted.has(id) && !seenSet.has(id));
    expect(skipped, 'live pointers were skipped').toEqual([]);
    expect(seen.filter((id) => !existing.includes(id))).toEqual([]);
  }, 60_000);

  describe('a _page_token that is not well formed is 400 INVALID_PARAMETER', () => {
    const nhsNumber = VALID_NHS_NUMBERS[2];
    let next = '';

    beforeAll(async () => {
      await seed(nhsNumber, 2 * PAGE + 1);
      const first = await get(firstUrl(nhsNumber));
      expect(first.status, first.text.slice(0, 300)).toBe(200);
      next = nextOf(first.body as Page) ?? '';
      expect(next).not.toBe('');
    });

    function withToken(token: string): string {
      const url = new URL(next);
      url.searchParams.set('_page_token', token);
      return url.toString();
    }

    function realToken(): string {
      return new URL(next).searchParams.get('_page_token') ?? '';
    }

    const tampered: [string, (token: string) => string][] = [
      ['truncated', (token) => token.slice(0, Math.floor(token.length / 2))],
      ['with junk appended', (token) => `${token}%%junk`],
      [
        'with a character changed to one outside base64url',
        (token) => `${token.slice(0, 4)}*${token.slice(5)}`,
      ],
      ['empty', () => ''],
      ['made up', () => 'not-a-page-token'],
      ['base64url of something else', () => Buffer.from('{"after":"RR8-x"}').toString('base64url')],
      [
        'base64url of a position with a bad time',
        () => Buffer.from('["yesterday","RR8-x"]').toString('base64url'),
      ],
      ['too long to be one (over 400 characters)', (token) => token.repeat(6)],
    ];

    it.each(tampered)('refuses a token %s', async (_name, tamper) => {
      const reply = await get(withToken(tamper(realToken())));
      expect(reply.status, reply.text.slice(0, 300)).toBe(400);
      expect(errorCode(reply.body), reply.text.slice(0, 300)).toBe('INVALID_PARAMETER');
      expect(reply.body.issue?.[0]?.expression, reply.text.slice(0, 300)).toEqual(['_page_token']);
    });

    it('serves a well-formed token with an altered position within what the caller may see anyway', async () => {
      // The token carries only the keyset position (docs/consumer-api.md): the parameters and the
      // grant are re-checked on every page, so an altered position moves the page, nothing more.
      const decoded = Buffer.from(realToken(), 'base64url').toString('utf8');
      const at = Math.max(...[...decoded].map((c, i) => (/[0-9a-f]/.test(c) ? i : -1)));
      expect(at).toBeGreaterThanOrEqual(0);
      const swapped = decoded[at] === '0' ? '1' : '0';
      const forged = Buffer.from(
        `${decoded.slice(0, at)}${swapped}${decoded.slice(at + 1)}`,
        'utf8',
      ).toString('base64url');
      expect(forged).not.toBe(realToken());
      const reply = await get(withToken(forged));
      expect(reply.status, `${decoded} → ${reply.text.slice(0, 300)}`).toBe(200);
      const page = reply.body as Page;
      expect(page.total).toBe(2 * PAGE + 1);
      for (const entry of page.entry ?? []) {
        expect(entry.resource?.subject?.identifier?.value).toBe(nhsNumber);
        expect(GRANTED).toContain(
          `${entry.resource?.type?.coding?.[0]?.system}|${entry.resource?.type?.coding?.[0]?.code}`,
        );
      }
    });

    it('still serves the untampered next link', async () => {
      const reply = await get(next);
      expect(reply.status, reply.text).toBe(200);
      expect(idsOf(reply, 'page 2').length).toBe(PAGE);
    });
  });
});
