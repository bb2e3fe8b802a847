/**
 * The API reference (issue 17): one OpenAPI 3.1 document per API, served with the interactive
 * `/docs` page. Every route the server mounts is documented and every documented route is
 * mounted; the documents use the very schemas and parameter lists the server validates with;
 * `/docs` loads in headless Chromium and lists every API; its worked "try it" flow works.
 */
import path from 'node:path';
import {
  CATALOGUE_FILE_SCHEMA,
  CLIENT_SCHEMA,
  CONSUMER_SEARCH_KEYS,
  GRANT_SCHEMA,
  ORGANISATION_SCHEMA,
} from '@nir/core';
import { API_NAMES, mountedRoutes, type OpenApiObject, seedDemoPointers } from '@nir/server';
import { openStore, type Store } from '@nir/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser, saveScreenshot } from './support/browser.ts';
import { REPO_ROOT, startTestRegistry, type TestRegistry } from './support/harness.ts';

let store: Store;
let server: TestRegistry;
const documents: Record<string, OpenApiObject> = {};

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  server = await startTestRegistry(store);
  for (const api of API_NAMES) {
    const response = await server.fetch(`/docs/openapi/${api}.json`);
    expect(response.status).toBe(200);
    documents[api] = (await response.json()) as OpenApiObject;
  }
});

afterAll(async () => {
  await server?.close();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** `METHOD /full/path` of every operation of every document. */
function documentedRoutes(): string[] {
  return Object.values(documents).flatMap((doc) => {
    const base = new URL((doc.servers as { url: string }[])[0]?.url ?? '').pathname.replace(/\/$/, '');
    return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${`${base}${path}`.replace(/(.)\/$/, '$1')}`),
    );
  });
}

describe('the OpenAPI documents', () => {
  it('are OpenAPI 3.1, one per API, each with a server under the public URL', () => {
    for (const api of API_NAMES) {
      expect(documents[api]?.openapi).toBe('3.1.0');
      const [first] = (documents[api]?.servers ?? []) as { url: string }[];
      expect(first?.url.startsWith(server.url)).toBe(true);
    }
  });

  it('document every route the server mounts, and nothing it does not mount', () => {
    const mounted = mountedRoutes(server.registry.app).map(
      (r) => `${r.method} ${r.path.replaceAll('\\', '')}`, // Express escapes `$` in `/$validate`
    );
    const documented = documentedRoutes();
    expect(new Set(mounted).size).toBeGreaterThan(40);
    expect(documented.filter((r) => !mounted.includes(r))).toEqual([]);
    expect(mounted.filter((r) => !documented.includes(r))).toEqual([]);
  });

  it('describe the admin bodies and the catalogue file with the JSON Schemas that validate them', () => {
    const { schemas } = (documents.admin?.components ?? {}) as { schemas: Record<string, unknown> };
    expect(schemas.Organisation).toEqual(ORGANISATION_SCHEMA);
    expect(schemas.Client).toEqual(CLIENT_SCHEMA);
    expect(schemas.Grant).toEqual(GRANT_SCHEMA);
    expect(schemas.CatalogueFile).toEqual(CATALOGUE_FILE_SCHEMA);
  });

  it('list every consumer search parameter the server accepts', () => {
    const paths = documents.consumer?.paths as Record<string, { get: { parameters: { name: string }[] } }>;
    const names = paths['/DocumentReference']?.get.parameters.map((p) => p.name) ?? [];
    expect(CONSUMER_SEARCH_KEYS.filter((key) => !names.includes(key))).toEqual([]);
  });

  it("take the create example from the profile's published example pointer", () => {
    const paths = documents.producer?.paths as Record<string, Record<string, OpenApiObject>>;
    const body = paths['/DocumentReference']?.post?.requestBody as {
      content: Record<string, { example: { resourceType: string; id?: string } }>;
    };
    const example = body.content['application/fhir+json']?.example;
    expect(example?.resourceType).toBe('DocumentReference');
    expect(example?.id).toBeUndefined();
  });
});

describe('the "try it" flow of /docs', () => {
  it('works as the page describes it: the consumer search with the documented examples finds the demo pointers', async () => {
    const token = await server.token('demo-consumer');
    const paths = documents.consumer?.paths as Record<string, { get: { parameters: OpenApiObject[] } }>;
    const parameters = paths['/DocumentReference']?.get.parameters ?? [];
    const query = new URLSearchParams();
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    for (const p of parameters) {
      if (p.example === undefined || !p.required) continue;
      if (p.in === 'query') query.set(String(p.name), String(p.example));
      if (p.in === 'header') headers[String(p.name)] = String(p.example);
    }
    expect(query.get('subject:identifier')).toBe('https://fhir.nhs.uk/Id/nhs-number|9000000009');
    // `pnpm start` seeds the two example pointers in demo mode (main.ts); so does this test.
    await seedDemoPointers(server.registry.pointers, path.join(REPO_ROOT, 'fhir-profiles', 'examples'));
    const response = await server.fetch(`/consumer/FHIR/R4/DocumentReference?${query}`, { headers });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { total: number }).total).toBe(2);
  });
});

describe.runIf(chromiumAvailable() || process.env.CI)('/docs in headless Chromium', () => {
  it('loads Swagger UI from the registry itself and lists every API', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(server.url) && !request.url().startsWith('data:'))
          external.push(request.url());
      });
      const response = await page.goto(`${server.url}/docs`, { waitUntil: 'networkidle0' });
      expect(response?.status()).toBe(200);
      await page.waitForSelector('.opblock', { timeout: 30_000 });
      // The API picker of Swagger UI's top bar names every document.
      const options = await page.$$eval('.topbar select option', (els) =>
        els.map((el) => el.textContent ?? ''),
      );
      for (const api of API_NAMES) {
        expect(options).toContain(String((documents[api]?.info as { title?: string } | undefined)?.title));
      }
      // The try-it table names each API's demo client.
      const rows = await page.$$eval('#try-it tbody tr', (els) =>
        els.map((el) => el.getAttribute('data-api')),
      );
      expect(rows).toEqual([...API_NAMES]);
      // The consumer API is shown first, its operations rendered.
      const operations = await page.$$eval('.opblock-summary-path', (els) =>
        els.map((el) => el.textContent ?? ''),
      );
      expect(operations.some((p) => p.includes('/DocumentReference'))).toBe(true);
      await saveScreenshot(page, 'api-reference-docs');
      expect(external).toEqual([]); // no CDN
    } finally {
      await browser.close();
    }
  }, 90_000);
});
