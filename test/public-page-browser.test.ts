import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningServer } from '../src/web/server.ts';
import { openTestDatabase } from './support/databases.ts';
import { duplicateGroup, putAssignment, type PublicFixture } from './support/public-assignments.ts';
import { workerConfig } from './support/worker.ts';

/**
 * The public assignments page (/assignments) in headless Chromium with JavaScript DISABLED, against the real web
 * server on an embedded database: the page must work as plain HTML forms and links, at a phone viewport.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const OUT = path.resolve('test-results');
const CLOSED_TITLE = 'Sec 3 Physics (already taken)';

const ROWS: PublicFixture[] = [
  {
    agency: 'Coco Tutors',
    title: 'P5 Maths & Science',
    subjects: ['Maths', 'Science'],
    levels: ['Primary'],
    specificLevels: ['Primary 5'],
    region: 'Central',
    postal: '570123',
    address: ['Bishan St 22'],
    rateMin: 35,
    rateMax: 45,
    minutesAgo: 12,
    bumps: 1,
    seenMinutesAgo: 4,
  },
  {
    agency: 'Elite Agency',
    title: 'Sec 4 Pure Chemistry',
    subjects: ['Chemistry'],
    levels: ['Secondary'],
    specificLevels: ['Secondary 4'],
    region: 'East',
    postal: '520123',
    address: ['Tampines Ave 5'],
    rateMin: 50,
    rateMax: 60,
    minutesAgo: 35,
    bumps: 2,
    seenMinutesAgo: 9,
    remarks: 'Student weak in organic chemistry; prefers ex-MOE tutor',
  },
  {
    agency: 'Coco Tutors',
    title: 'P3 English',
    subjects: ['English'],
    levels: ['Primary'],
    specificLevels: ['Primary 3'],
    region: 'West',
    postal: '640123',
    rateMin: 25,
    rateMax: 30,
    minutesAgo: 50,
  },
  {
    agency: 'Tuition Hub',
    title: 'JC1 H2 Physics (online)',
    subjects: ['Physics'],
    levels: ['Junior College'],
    specificLevels: ['JC 1'],
    region: null,
    mode: 'Online',
    rateMin: 80,
    rateMax: 90,
    minutesAgo: 70,
  },
  {
    agency: 'Elite Agency',
    title: 'P6 Science',
    subjects: ['Science'],
    levels: ['Primary'],
    specificLevels: ['Primary 6'],
    region: 'North',
    postal: '730123',
    mode: null,
    minutesAgo: 95,
    tier: 'yellow',
  },
  {
    agency: 'Tuition Hub',
    title: 'Sec 2 E-Maths',
    subjects: ['Maths'],
    levels: ['Secondary'],
    specificLevels: ['Secondary 2'],
    region: 'Central',
    postal: '018956',
    rateMin: 40,
    rateMax: 40,
    minutesAgo: 130,
  },
  {
    agency: 'Coco Tutors',
    title: 'K2 Chinese',
    subjects: ['Chinese'],
    levels: ['Pre-School'],
    region: 'East',
    postal: '460123',
    rateMin: 30,
    rateMax: 35,
    minutesAgo: 160,
  },
  {
    agency: 'Elite Agency',
    title: 'IB Economics HL',
    subjects: ['Economics'],
    levels: ['IB'],
    region: 'Central',
    postal: '238801',
    rateMin: 90,
    rateMax: 120,
    minutesAgo: 200,
    tier: 'yellow',
  },
  {
    agency: 'Tuition Hub',
    title: 'Sec 1 Maths & Science',
    subjects: ['Maths', 'Science'],
    levels: ['Secondary'],
    region: 'North-East',
    postal: '550123',
    rateMin: 35,
    rateMax: 40,
    minutesAgo: 260,
    tier: 'yellow',
  },
  {
    agency: 'Coco Tutors',
    title: 'P4 Maths',
    subjects: ['Maths'],
    levels: ['Primary'],
    region: 'East',
    postal: '520123',
    rateMin: 30,
    rateMax: 35,
    minutesAgo: 320,
  },
];

describe.skipIf(!HAS_CHROMIUM && !process.env.TUTORDEX_REQUIRE_BROWSER)(
  `public assignments page in headless Chromium, JavaScript disabled (${HAS_CHROMIUM ? 'chromium found' : `SKIPPED: ${CHROMIUM} not installed`})`,
  () => {
    let db: Awaited<ReturnType<typeof openTestDatabase>>;
    let server: RunningServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];
    const requests: string[] = [];

    beforeAll(async () => {
      mkdirSync(OUT, { recursive: true });
      db = await openTestDatabase('pglite');
      for (const r of ROWS) await putAssignment(db.handle.db, r);
      // more rows so there is a second page; a closed one and a non-primary duplicate that must never show
      for (let i = 0; i < 14; i++)
        await putAssignment(db.handle.db, {
          agency: 'Coco Tutors',
          title: `Primary Maths ${i + 1}`,
          subjects: ['Maths'],
          levels: ['Primary'],
          region: 'West',
          postal: '640123',
          rateMin: 30,
          minutesAgo: 400 + i * 30,
        });
      await putAssignment(db.handle.db, {
        agency: 'Coco Tutors',
        title: CLOSED_TITLE,
        subjects: ['Physics'],
        levels: ['Secondary'],
        region: 'Central',
        postal: '570123',
        status: 'closed',
        minutesAgo: 1,
      });
      const g = await duplicateGroup(db.handle.db);
      await putAssignment(db.handle.db, { agency: 'Tuition Hub', title: 'Duplicate copy', group: g, primary: false, minutesAgo: 2 });
      await putAssignment(db.handle.db, {
        agency: 'Elite Agency',
        title: 'Grouped original',
        group: g,
        primary: true,
        region: 'Central',
        postal: '238801',
        minutesAgo: 3,
      });
      server = await startWebServer({ db: db.handle.db, config: workerConfig(), token: 'browser-test-token', host: '127.0.0.1', port: 0 });
      browser = await chromium.launch({
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
      context = await browser.newContext({
        javaScriptEnabled: false,
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      });
      page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
    });

    afterEach(() => {
      expect(pageErrors, 'uncaught errors in the page').toEqual([]);
      // no external assets, no CDN: every request goes to our server
      expect(requests.filter((u) => !u.startsWith(server.url))).toEqual([]);
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await db?.close();
    });

    const cardTitles = () => page.locator('[data-testid=card] h2').allTextContents();
    const total = async () => Number(await page.getByTestId('total').textContent());
    /** Region, mode, agency, rate and distance sit in a <details> (closed unless one of them is set). */
    async function openMore() {
      if ((await page.getByTestId('more-filters').getAttribute('open')) === null) await page.locator('[data-testid=more-filters] summary').click();
    }
    /** The options of a filter select as shown: label → count (first entry is "Any"). */
    async function options(name: string) {
      const texts = await page.getByTestId(`filter-${name}`).locator('option').allTextContents();
      return texts.map((t) => {
        const m = /^(.*) \((\d+)\)$/.exec(t)!;
        return { label: m[1]!, count: Number(m[2]) };
      });
    }

    it('loads without login or JavaScript, newest first; a closed assignment and a duplicate copy never appear; phone screenshot', async () => {
      await page.goto(`${server.url}/assignments`);
      expect(await total()).toBe(ROWS.length + 14 + 1);
      const titles = await cardTitles();
      expect(titles).toHaveLength(20);
      expect(titles.slice(0, 3)).toEqual(['Grouped original', 'P5 Maths & Science', 'Sec 4 Pure Chemistry']);
      expect(titles).not.toContain(CLOSED_TITLE);
      expect(titles).not.toContain('Duplicate copy');
      expect(await page.locator('[data-testid=card]').nth(2).getByTestId('freshness').textContent()).toBe('posted 35 min ago, bumped 2×, last 9 min ago');
      expect(await page.locator('[data-testid=card] a.open').first().getAttribute('href')).toMatch(/^https:\/\/t\.me\/cocotutors\/\d+$/);
      // the page fits the phone: nothing wider than the viewport
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(OUT, 'public-assignments-phone.png') });
      await page.screenshot({ path: path.join(OUT, 'public-assignments-phone-full.png'), fullPage: true });

      // page 2 by the plain link, no repeats, still no closed one
      await page.getByTestId('next-page').click();
      await page.waitForURL(/cursor=/);
      const second = await cardTitles();
      expect(second).toHaveLength(ROWS.length + 14 + 1 - 20);
      expect(second.filter((t) => titles.includes(t))).toEqual([]);
      expect(second).not.toContain(CLOSED_TITLE);
      await page.getByTestId('first-page').click();
      expect(await cardTitles()).toEqual(titles);
    });

    it('facet counts beside each option add up to the total, and choosing an option yields its count', async () => {
      await page.goto(`${server.url}/assignments`);
      const all = await total();
      for (const name of ['region', 'mode', 'agency']) {
        const [any, ...rest] = await options(name);
        expect(any!.count, name).toBe(all);
        expect(
          rest.reduce((s, o) => s + o.count, 0),
          name,
        ).toBe(all);
      }
      const east = (await options('region')).find((o) => o.label === 'East')!;
      expect(east.count).toBe(3);
      await openMore();
      await page.getByTestId('filter-region').selectOption('East');
      await page.getByTestId('apply').click();
      await page.waitForURL(/region=East/);
      expect(await total()).toBe(east.count);
      expect(await page.locator('[data-testid=card]').count()).toBe(east.count);
      for (const card of await page.locator('[data-testid=card] dl').allTextContents()) expect(card).toContain('East');
      // with region chosen, the other facets count only East and still add up
      const [anyAgency, ...agencies] = await options('agency');
      expect(anyAgency!.count).toBe(3);
      expect(agencies.reduce((s, o) => s + o.count, 0)).toBe(3);
    });

    it('filters narrow the list: subject + minimum rate + search, through the GET form', async () => {
      await page.goto(`${server.url}/assignments`);
      const maths = (await options('subject')).find((o) => o.label === 'Maths')!;
      await page.getByTestId('filter-subject').selectOption('Maths');
      await page.getByTestId('apply').click();
      await page.waitForURL(/subject=Maths/);
      expect(await total()).toBe(maths.count);
      const atLeast35 = (await options('minrate')).find((o) => o.label.startsWith('$30/h'))!;
      await openMore();
      await page.getByTestId('filter-minrate').selectOption('30');
      await page.getByTestId('apply').click();
      await page.waitForURL(/minrate=30/);
      expect(await total()).toBe(atLeast35.count);
      expect(atLeast35.count).toBeLessThan(maths.count);
      await page.getByTestId('filter-q').fill('bishan');
      await page.getByTestId('apply').click();
      await page.waitForURL(/q=bishan/);
      expect(await cardTitles()).toEqual(['P5 Maths & Science']);
      // the closed one is not found by search either
      await page.goto(`${server.url}/assignments?q=taken`);
      expect(await page.getByTestId('empty').isVisible()).toBe(true);
    });

    it('distance sort from a postal code orders cards by distance', async () => {
      await page.goto(`${server.url}/assignments`);
      await openMore();
      await page.getByTestId('filter-near').fill('238801');
      await page.getByTestId('apply').click();
      await page.waitForURL(/near=238801/);
      expect(await page.getByTestId('summary').textContent()).toContain('nearest to 238801 first');
      const metres = (await page.locator('[data-testid=card][data-distance-m]').evaluateAll((els) => els.map((e) => e.getAttribute('data-distance-m')))).map(
        Number,
      );
      expect(metres.length).toBeGreaterThan(5);
      expect(metres).toEqual([...metres].sort((a, b) => a - b));
      expect(metres[0]).toBe(0);
      expect(await page.getByTestId('distance').first().textContent()).toBe('under 1 km');
      // cards with a distance come first, the online one (no distance) after them
      const all = await page.locator('[data-testid=card]').evaluateAll((els) => els.map((e) => e.hasAttribute('data-distance-m')));
      expect(all).toEqual(all.map((_, i) => i < metres.length));
      expect((await cardTitles()).slice(0, 2).sort()).toEqual(['Grouped original', 'IB Economics HL']);
      await page.screenshot({ path: path.join(OUT, 'public-assignments-phone-distance.png') });
    });

    it('a hostile query string shows a short 400 page', async () => {
      const res = await page.goto(`${server.url}/assignments?agency=1%20or%201=1`);
      expect(res?.status()).toBe(400);
      expect(await page.getByTestId('bad-request').textContent()).toContain('agency: an agency number');
    });
  },
);
