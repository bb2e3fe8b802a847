/**
 * R17 as a person sees it: a month of generated activity goes through the audit store (which
 * maintains the rollup); `nir report` writes the review of RR8 and of the whole registry, and
 * headless Chromium opens them, with the network closed, and reads the numbers and charts back,
 * compared with a full scan of audit_event. The audit team's `$service-review` shows RR8 only
 * and is audited; the operator's all-organisation view and the live `/dashboard` (admin only)
 * agree with the data too. Screenshots go under test-results/screenshots/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toAuditEvents } from '@nir/core';
import type { ServiceReview } from '@nir/server';
import { AuditStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { sql } from 'kysely';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../packages/cli/src/test-support.ts';
import { generatedActivity } from './support/audit-activity.ts';
import { chromiumAvailable, launchBrowser, saveScreenshot } from './support/browser.ts';
import { clinicalHeaders, startTestRegistry, type TestRegistry } from './support/harness.ts';

const backends = await testBackends();

/** Counts from a full scan of audit_event for November 2026 (the slow way the rollup avoids). */
async function scan(store: Store, where: ReturnType<typeof sql> = sql`TRUE`) {
  const { rows } = await sql<{
    events: string;
    failed: string;
    created: string;
    found: string;
    empty: string;
  }>`
    SELECT count(*) AS events, count(*) FILTER (WHERE outcome <> '0') AS failed,
           count(*) FILTER (WHERE outcome = '0' AND subtype = 'create' AND resource->'source'->>'site' LIKE '%/producer/FHIR/R4') AS created,
           count(*) FILTER (WHERE outcome = '0' AND subtype = 'search-type' AND resource->'source'->>'site' LIKE '%/consumer/FHIR/R4' AND cardinality(custodian_ods) > 0) AS found,
           count(*) FILTER (WHERE outcome = '0' AND subtype = 'search-type' AND resource->'source'->>'site' LIKE '%/consumer/FHIR/R4' AND cardinality(custodian_ods) = 0) AS empty
    FROM audit_event WHERE recorded >= '2026-11-01T00:00:00Z' AND recorded < '2026-12-01T00:00:00Z' AND ${where}`.execute(
    store.db,
  );
  const r = rows[0];
  return {
    events: Number(r?.events),
    failed: Number(r?.failed),
    created: Number(r?.created),
    found: Number(r?.found),
    empty: Number(r?.empty),
  };
}

const count = (n: number) => n.toLocaleString('en-GB');

async function kpis(page: Page): Promise<Record<string, string>> {
  return page.$$eval('[data-kpi]', (els) =>
    Object.fromEntries(els.map((el) => [el.getAttribute('data-kpi') ?? '', el.textContent ?? ''])),
  );
}

describe.runIf(chromiumAvailable() || process.env.CI).each(backends)(
  'R17 service review on $name',
  (backend) => {
    let store: Store;
    let t: TestRegistry;
    let browser: Browser;
    let dir: string;
    const nir = cliRunner(() => ({ store }));

    beforeAll(async () => {
      store = await backend.open();
      const audit = new AuditStore(store.db);
      await audit.ensurePartitions(new Date('2025-12-01T00:00:00Z'), 12);
      // November in full, and thinner earlier months for the twelve-month trend.
      const records = [
        ...generatedActivity('2026-11', 2500, 11),
        ...generatedActivity('2026-10', 900, 10),
        ...generatedActivity('2026-08', 400, 8),
        ...generatedActivity('2026-01', 200, 1),
      ];
      for (let i = 0; i < records.length; i += 250)
        await audit.insert(records.slice(i, i + 250).flatMap((r) => toAuditEvents(r)));
      t = await startTestRegistry(store);
      browser = await launchBrowser();
      dir = await mkdtemp(path.join(tmpdir(), 'nir-review-'));
    });
    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    /** Opens `url` with every request outside it refused and counted. */
    async function open(
      url: string,
      headers?: Record<string, string>,
    ): Promise<{ page: Page; external: string[] }> {
      const page = await browser.newPage();
      await page.setViewport({ width: 820, height: 1000 });
      const external: string[] = [];
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        if (request.url() === url || request.url().startsWith(`${url}#`))
          void request.continue(headers ? { headers: { ...request.headers(), ...headers } } : {});
        else {
          external.push(request.url());
          void request.abort();
        }
      });
      const response = await page.goto(url, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      return { page, external };
    }

    it("nir report: RR8's November review, opened in Chromium, shows the audit table's numbers, with no network", async () => {
      const out = path.join(dir, 'review-RR8.html');
      const run = await nir('report', '--month', '2026-11', '--org', 'RR8', '--out', out);
      expect(run.code, run.err).toBe(0);
      const expected = await scan(store, sql`requester_ods = 'RR8'`);
      expect(expected.events).toBeGreaterThan(300);

      const { page, external } = await open(`file://${out}`);
      expect(external).toEqual([]);
      const shown = await kpis(page);
      expect(shown.requests).toBe(count(expected.events));
      expect(shown.failed).toBe(count(expected.failed));
      expect(shown['pointers-created']).toBe(count(expected.created));
      expect(shown['searches-found']).toBe(count(expected.found));
      expect(shown['searches-empty']).toBe(count(expected.empty));
      // The daily chart: one bar per day of November, adding up to the month.
      const bars = await page.$$eval('#chart-daily g.bar', (els) =>
        els.map((el) => Number(el.getAttribute('data-ok')) + Number(el.getAttribute('data-failed'))),
      );
      expect(bars).toHaveLength(30);
      expect(bars.reduce((a, b) => a + b, 0)).toBe(expected.events);
      const perDay = await sql<{ day: string; n: string }>`
      SELECT to_char(recorded AT TIME ZONE 'UTC', 'DD') AS day, count(*) AS n FROM audit_event
      WHERE requester_ods = 'RR8' AND recorded >= '2026-11-01Z' AND recorded < '2026-12-01Z' GROUP BY 1`.execute(
        store.db,
      );
      for (const row of perDay.rows) expect(bars[Number(row.day) - 1], `day ${row.day}`).toBe(Number(row.n));
      // Only RR8's own requests appear.
      expect(
        await page.$$eval('#table-organisations tr[data-org]', (els) =>
          els.map((e) => e.getAttribute('data-org')),
        ),
      ).toEqual(['RR8']);
      // Twelve months of trend, with October's count.
      const trend = await page.$$eval('#chart-trend g.bar', (els) =>
        els.map((el) => [
          el.getAttribute('data-label'),
          Number(el.getAttribute('data-ok')) + Number(el.getAttribute('data-failed')),
        ]),
      );
      expect(trend).toHaveLength(12);
      const october = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM audit_event WHERE requester_ods = 'RR8'
      AND recorded >= '2026-10-01Z' AND recorded < '2026-11-01Z'`.execute(store.db);
      expect(trend.find(([m]) => m === '2026-10')?.[1]).toBe(Number(october.rows[0]?.n));
      // Charts are drawn (non-empty SVGs with marks).
      expect(await page.$$eval('svg.chart', (els) => els.length)).toBeGreaterThanOrEqual(6);
      expect(await page.$$eval('#chart-interactions g.hbar', (els) => els.length)).toBeGreaterThan(3);
      if (backend.name === 'pglite') {
        await saveScreenshot(page, 'service-review-RR8');
        await page.emulateMediaType('print');
        await saveScreenshot(page, 'service-review-RR8-print');
        const pdf = await page.pdf({ format: 'A4' });
        expect(pdf.byteLength).toBeGreaterThan(10_000);
      }
      await page.close();
    });

    it("$service-review: RR8's audit team reads its own share only, and the read is audited", async () => {
      const token = await t.token('demo-audit');
      const requestId = crypto.randomUUID();
      const response = await t.fetch('/audit/FHIR/R4/$service-review?month=2026-11&_format=json', {
        headers: clinicalHeaders(token, 'RR8', requestId),
      });
      expect(response.status).toBe(200);
      const review = (await response.json()) as ServiceReview;
      const expected = await scan(store, sql`requester_ods = 'RR8'`);
      expect(review.ods).toBe('RR8');
      expect(review.totals.events).toBe(expected.events);
      expect(review.byOrganisation.map((o) => o.ods)).toEqual(['RR8']);
      const accessed = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_event WHERE outcome = '0'
      AND 'RR8' = ANY(custodian_ods) AND recorded >= '2026-11-01Z' AND recorded < '2026-12-01Z'`.execute(
        store.db,
      );
      expect(review.accessedBy.reduce((n, a) => n + a.events, 0)).toBe(Number(accessed.rows[0]?.n));
      const audited = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM audit_event WHERE request_id = ${requestId}`.execute(store.db);
      expect(Number(audited.rows[0]?.n)).toBe(1);

      const html = await t.fetch('/audit/FHIR/R4/$service-review?month=2026-11', {
        headers: clinicalHeaders(token, 'RR8'),
      });
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await html.text()).toContain('Monthly service review: 2026-11');
      const bad = await t.fetch('/audit/FHIR/R4/$service-review?month=2026-13', {
        headers: clinicalHeaders(token, 'RR8'),
      });
      expect(bad.status).toBe(400);
      const consumer = await t.token('demo-consumer');
      expect(
        (
          await t.fetch('/audit/FHIR/R4/$service-review?month=2026-11', {
            headers: clinicalHeaders(consumer, 'RWY'),
          })
        ).status,
      ).toBe(403);
    });

    it("the operator's all-organisation view through the admin API, and the live dashboard, agree with the data", async () => {
      const admin = await t.token('demo-admin');
      const headers = { authorization: `Bearer ${admin}`, 'x-request-id': crypto.randomUUID() };
      const all = await t.fetch('/admin/service-review?month=2026-11&_format=json', { headers });
      expect(all.status).toBe(200);
      const review = (await all.json()) as ServiceReview;
      const expected = await scan(store);
      expect(review.ods).toBeUndefined();
      expect(review.totals.events).toBe(expected.events);
      expect(review.byOrganisation.length).toBeGreaterThan(3);
      const audit = await t.token('demo-audit');
      expect(
        (await t.fetch('/admin/service-review?month=2026-11', { headers: clinicalHeaders(audit, 'RR8') }))
          .status,
      ).toBe(403);

      // Some live traffic today, then the dashboard.
      const consumer = await t.token('demo-consumer');
      for (let i = 0; i < 5; i++)
        await (
          await t.fetch(
            '/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009',
            {
              headers: clinicalHeaders(consumer, 'RWY'),
            },
          )
        ).arrayBuffer();
      expect((await t.fetch('/dashboard', { headers: clinicalHeaders(consumer, 'RWY') })).status).toBe(403);
      const today = new Date().toISOString().slice(0, 10);
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_event
      WHERE (recorded AT TIME ZONE 'UTC')::date = ${today}::date`.execute(store.db);
      const { page, external } = await open(`${t.url}/dashboard`, {
        authorization: `Bearer ${admin}`,
        'x-request-id': crypto.randomUUID(),
      });
      expect(external.filter((u) => !u.endsWith('/favicon.ico'))).toEqual([]);
      const shown = await kpis(page);
      expect(shown.ready).toBe('ready');
      expect(Number(shown['hour-requests']?.replace(/,/g, ''))).toBeGreaterThanOrEqual(5);
      expect(
        await page.$eval(`#table-days tr[data-day="${today}"] td[data-col="events"]`, (el) => el.textContent),
      ).toBe(count(Number(rows[0]?.n)));
      const minutes = await page.$$eval('#chart-hour g.bar', (els) => els.length);
      expect(minutes).toBe(60);
      expect(await page.$eval('meta[http-equiv="refresh"]', (el) => el.getAttribute('content'))).toBe('30');
      if (backend.name === 'pglite') await saveScreenshot(page, 'dashboard');
      await page.close();
    });
  },
);
