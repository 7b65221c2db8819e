import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.ts';
import { cliWorkspace } from './support/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const OUT = path.resolve('test-results');

describe.skipIf(!HAS_CHROMIUM && !process.env.TUTORDEX_REQUIRE_BROWSER)(
  `tutordex start → dashboard in headless Chromium (${HAS_CHROMIUM ? 'chromium found' : `SKIPPED: ${CHROMIUM} not installed`})`,
  () => {
    it('the dashboard of a fresh `tutordex start` shows the processed sample; filters narrow it; a detail view opens', async () => {
      const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'v1' });
      const abort = new AbortController();
      const out: string[] = [];
      const io: CliIO = { out: (t) => out.push(t), err: () => {}, errStream: { write: () => true }, env: ws.env, cwd: ws.dir, signal: abort.signal };
      const started = Date.now();
      const running = runCli(['start', '--replay-interval', '0', '--port', '0'], io);
      let url: string | null = null;
      while (!url && Date.now() - started < 20_000) {
        url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out.join('\n'))?.[1] ?? null;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(url).not.toBeNull();
      // /health answers once the dashboard is up, on the embedded database (how long that took is printed, not
      // asserted: a loaded CI machine makes wall time meaningless)
      expect((await fetch(`${url}/health`)).status).toBe(200);
      console.log(`tutordex start: dashboard and /health up ${Date.now() - started} ms after launch`);
      // wait for the sample to be processed
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const q = (await (await fetch(`${url}/api/queue`)).json()) as { versions: { counts: { ok: number; pending: number; processing: number } }[] };
        const c = q.versions[0]?.counts;
        if (c && c.ok >= 77 && c.pending + c.processing === 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      mkdirSync(OUT, { recursive: true });
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-quic',
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${url}/`);
        await expect.poll(async () => page.getByTestId('queue-table').textContent(), { timeout: 10_000 }).toContain('v1');
        await page.screenshot({ path: path.join(OUT, 'start-dashboard.png'), fullPage: true });
        await page.getByTestId('nav-assignments').click();
        const rows = page.getByTestId('assignment-row');
        await expect.poll(async () => rows.count(), { timeout: 10_000 }).toBe(50); // first page of 77 open assignments
        await page.getByTestId('filter-q').fill('Yishun');
        await expect.poll(async () => rows.count(), { timeout: 10_000 }).toBeLessThan(10);
        const narrowed = await rows.count();
        expect(narrowed).toBeGreaterThan(0);
        await rows.first().click();
        await expect.poll(async () => page.getByTestId('raw-text').textContent(), { timeout: 10_000 }).toContain('Yishun');
        await page.screenshot({ path: path.join(OUT, 'start-dashboard-detail.png'), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
        abort.abort();
        expect(await running).toBe(0);
      }
    }, 90_000);
  },
);
