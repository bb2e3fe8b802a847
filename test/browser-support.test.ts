import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from './support/browser.ts';

// Guards the shared browser support every page test builds on: Debian's Chromium starts
// headless through puppeteer-core and renders a loopback page.
describe.runIf(chromiumAvailable() || process.env.CI)('the test browser', () => {
  it('renders a loopback page in headless Chromium', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>probe</title><h1 id="h">rendered</h1>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      expect(await page.$eval('#h', (el) => el.textContent)).toBe('rendered');
    } finally {
      await browser.close();
      server.close();
    }
  });
});
