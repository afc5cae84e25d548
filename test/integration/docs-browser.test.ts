// Proves the interactive reference in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core): /docs lists every documented route, loads nothing from anywhere but the gateway
// (its CSP would refuse it, and the test watches every request), and "Try it out" against the running
// gateway gets 200 for GET /health and, with the tenant set through "Authorize", for GET /v1/internal/users.
// Without Chromium the test is skipped, unless REQUIRE_CHROMIUM=1 (CI) makes that a failure.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/openapi/document.js';
import { contractFor } from '../support/contract-log.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const INSTALL_HINT = 'install it with `apt-get install chromium` (Debian; `.ci/install-chromium.sh` does it in CI)';

if (CHROMIUM === undefined) {
  describe('GET /docs in Chromium', () => {
    if (process.env.REQUIRE_CHROMIUM === '1') {
      it('needs Chromium, which REQUIRE_CHROMIUM=1 requires', () => {
        throw new Error(`Chromium was not found at /usr/bin/chromium: ${INSTALL_HINT}`);
      });
    } else {
      console.warn(`test/integration/docs-browser.test.ts skipped: Chromium not found; ${INSTALL_HINT}`);
      it.skip(`skipped: Chromium not found at /usr/bin/chromium; ${INSTALL_HINT}`, () => {});
    }
  });
} else {
  describe('GET /docs in Chromium', () => {
    let gw: TestGateway;
    let browser: Browser;
    let page: Page;
    const requested: string[] = [];
    const problems: string[] = [];
    const checked: Promise<void>[] = [];

    beforeAll(async () => {
      gw = await startTestGateway();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
      page = await browser.newPage();
      page.on('request', (request) => requested.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      // What the page receives is held to the document too, like every answer the suites get.
      const contract = contractFor('network', 'header');
      page.on('response', (response) => {
        const url = new URL(response.url());
        if (url.origin !== gw.url) return;
        const request = response.request();
        checked.push(
          response.text().then((body) =>
            contract.check({
              method: request.method(),
              url: url.pathname + url.search,
              status: response.status(),
              contentType: response.headers()['content-type'] ?? null,
              retryAfter: response.headers()['retry-after'] ?? null,
              body,
            }),
          ),
        );
      });
      await page.goto(`${gw.url}/docs`);
      await page.waitForSelector('.opblock', { timeout: 20_000 });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await gw?.close();
    });

    it('lists every documented route', async () => {
      const shown = await page.$$eval('.opblock', (blocks) =>
        blocks.map(
          (b) =>
            `${b.querySelector('.opblock-summary-method')?.textContent ?? ''} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? ''}`,
        ),
      );
      const documented = OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`);
      expect([...shown].sort()).toEqual([...documented].sort());
    });

    it('"Try it out" on GET /health gets 200 from the running gateway', async () => {
      await page.click('#operations-Health-health .opblock-summary');
      const answer = page.waitForResponse((r) => r.url() === `${gw.url}/health`);
      await page.click('#operations-Health-health button.execute');
      expect((await answer).status()).toBe(200);
      const status = page.locator('#operations-Health-health .live-responses-table tbody .response-col_status').first();
      await expect.poll(() => status.textContent(), { timeout: 10_000 }).toContain('200');
    });

    it('"Authorize" with a tenant id, then "Try it out" on GET /v1/internal/users gets 200', async () => {
      const tenant = await gw.createTenant();
      await page.click('button.authorize');
      const section = page.locator('.modal-ux .auth-container', { hasText: 'tenantHeader' });
      await section.locator('input').fill(tenant.id);
      await section.locator('button.authorize').click();
      await page.click('.modal-ux button.close-modal');
      await page.click('#operations-Users-listUsers .opblock-summary');
      const answer = page.waitForResponse((r) => r.url().startsWith(`${gw.url}/v1/internal/users`));
      await page.click('#operations-Users-listUsers button.execute');
      const res = await answer;
      expect(res.status(), `${res.url()}: ${await res.text()}`).toBe(200);
      expect(res.request().headers()['x-tenant-id']).toBe(tenant.id);
      expect(await res.json()).toMatchObject({ records: [], total: 0 });
    });

    it('loads everything from the gateway itself, without a CSP violation or a script error', async () => {
      const res = await page.request.get(`${gw.url}/docs`);
      expect(res.headers()['content-security-policy']).toContain("default-src 'none'");
      expect(requested.length).toBeGreaterThan(3);
      expect(requested.filter((url) => !url.startsWith(`${gw.url}/`) && !url.startsWith('data:'))).toEqual([]);
      expect(problems).toEqual([]);
      // Every answer the page received fit the document.
      await Promise.all(checked);
      expect(checked.length).toBeGreaterThan(4);
    });
  });
}
