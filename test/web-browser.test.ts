import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbComparison } from '../src/ab/compare.ts';
import { dashboardHtml } from '../src/web/dashboard.ts';
import type {
  AssignmentDetail,
  AssignmentListItem,
  AssignmentsResponse,
  CatchupResponse,
  HealthResponse,
  QueueResponse,
  RunsResponse,
} from '../src/web/api-types.ts';

/**
 * The dashboard page (src/web/dashboard.ts) driven in headless Chromium against a minimal fake of the read-only API
 * (canned fixtures typed against api-types.ts). The real server gets its own browser test.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const XSS = '<script>window.__pwned=1</script>';
const OUT = path.resolve('test-results');

// ---------- fixtures ----------

const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const iso = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

const queue: QueueResponse = {
  versions: [
    { version: 'rules-v3', live: true, counts: { pending: 12, processing: 2, ok: 4810, failed: 7, skipped: 931 }, oldest_pending_age_s: 95 },
    { version: 'llm-2026-11', live: false, counts: { pending: 0, processing: 0, ok: 1200, failed: 31, skipped: 240 }, oldest_pending_age_s: null },
  ],
  throughput: Array.from({ length: 60 }, (_, i) => ({ minute: iso(59 - i), ok: 3 + ((i * 7) % 11), skipped: i % 4, failed: i % 13 === 0 ? 2 : 0 })),
  failures: [
    {
      id: 901,
      raw_id: 5512,
      pipeline_version: 'llm-2026-11',
      channel_link: 'https://t.me/sgtuitions',
      message_id: 20411,
      error_type: 'llm_timeout',
      message: 'extractor did not answer within 30000 ms',
      at: iso(4),
    },
    {
      id: 884,
      raw_id: 5490,
      pipeline_version: 'rules-v3',
      channel_link: 'https://t.me/tuitionhub',
      message_id: 7781,
      error_type: 'validation',
      message: `rate_max < rate_min ${XSS}`,
      at: iso(31),
    },
  ],
};

const runs: RunsResponse = {
  runs: [
    {
      id: 42,
      run_type: 'tail',
      status: 'running',
      started_at: iso(300),
      finished_at: null,
      heartbeat_at: iso(0.5),
      channels: ['https://t.me/sgtuitions', 'https://t.me/tuitionhub', 'https://t.me/eliteagency'],
      totals: { messages: 1832, inserted: 1790 },
    },
    {
      id: 41,
      run_type: 'catchup',
      status: 'ok',
      started_at: iso(320),
      finished_at: iso(305),
      heartbeat_at: iso(305),
      channels: ['https://t.me/sgtuitions'],
      totals: { scanned: 5000, inserted: 4200, updated: 12 },
    },
    {
      id: 40,
      run_type: 'catchup',
      status: 'failed',
      started_at: iso(1440),
      finished_at: iso(1438),
      heartbeat_at: iso(1438),
      channels: ['https://t.me/sgtuitions'],
      totals: { error: 'FLOOD_WAIT 30' },
    },
  ],
};

const catchup: CatchupResponse = {
  latest: runs.runs[1] ?? null,
  channels: [
    { channel_link: 'https://t.me/sgtuitions', scanned: 3000, inserted: 2500, updated: 8, last_message_date: iso(310) },
    { channel_link: 'https://t.me/tuitionhub', scanned: 2000, inserted: 1700, updated: 4, last_message_date: iso(330) },
  ],
};

const health: HealthResponse = {
  ok: true,
  checks: [
    { name: 'database', ok: true, detail: 'select 1 in 2 ms' },
    { name: 'tail', ok: true, detail: 'heartbeat 30 s ago' },
    { name: 'queue', ok: true, detail: '12 pending, oldest 95 s' },
  ],
};

function item(id: number, o: Partial<AssignmentListItem>): AssignmentListItem {
  return {
    id,
    status: 'open',
    academic_display_text: null,
    subjects: [],
    levels: [],
    region: null,
    learning_mode: 'Face-to-face',
    rate_min: null,
    rate_max: null,
    agency: 'SG Tuitions',
    published_at: iso(id * 17),
    source_last_seen: iso(id * 5),
    bump_count: 0,
    freshness_tier: 'green',
    message_link: `https://t.me/sgtuitions/${20000 + id}`,
    ...o,
  };
}

const PWNED_ID = 7;
const assignments: AssignmentListItem[] = [
  item(1, { academic_display_text: 'Sec 3 A-Math', subjects: ['A-Math'], levels: ['Secondary 3'], region: 'East', rate_min: 45, rate_max: 55 }),
  item(2, {
    academic_display_text: 'P5 Science',
    subjects: ['Science'],
    levels: ['Primary 5'],
    region: 'West',
    rate_min: 30,
    rate_max: 35,
    agency: 'Tuition Hub',
    bump_count: 2,
  }),
  item(3, {
    academic_display_text: 'JC1 H2 Physics',
    subjects: ['Physics'],
    levels: ['JC 1'],
    region: 'Central',
    rate_min: 70,
    rate_max: 90,
    learning_mode: 'Online',
  }),
  item(4, {
    academic_display_text: 'Sec 4 Physics & Chemistry',
    subjects: ['Physics', 'Chemistry'],
    levels: ['Secondary 4'],
    region: 'North',
    rate_min: 50,
    rate_max: 50,
    freshness_tier: 'amber',
  }),
  item(5, {
    academic_display_text: 'IB Economics',
    subjects: ['Economics'],
    levels: ['IB'],
    region: 'Central',
    rate_min: 90,
    rate_max: 120,
    agency: 'Elite Agency',
  }),
  item(PWNED_ID, {
    academic_display_text: `P6 English ${XSS}`,
    subjects: ['English'],
    levels: ['Primary 6'],
    region: 'North-East',
    rate_min: 35,
    rate_max: 40,
    agency: `Evil ${XSS}`,
  }),
];

const RAW_TEXT = `Code: 2207\nLevel: P6 English\nLocation: Sengkang ${XSS}\nRate: $35-40/h\n<img src=x onerror="window.__pwned=2">\nApply at https://t.me/sgtuitions`;

function detail(a: AssignmentListItem): AssignmentDetail {
  return {
    assignment: { ...a, external_id: `SGT-${a.id}`, postal_code: '540123', nearest_mrt: 'Sengkang', schedule: { sat: ['10:00-12:00'] } },
    raw: {
      channel_link: 'https://t.me/sgtuitions',
      message_id: 20000 + a.id,
      message_date: a.published_at ?? iso(0),
      text: a.id === PWNED_ID ? RAW_TEXT : `${a.academic_display_text}\nRate: $${a.rate_min}/h`,
      deleted_at: null,
      versions: a.id === PWNED_ID ? [{ text: `older ${XSS}`, edit_date: iso(200) }] : [],
    },
    extraction: {
      id: 3000 + a.id,
      pipeline_version: 'rules-v3',
      status: 'ok',
      meta: {
        extractor: { model: 'rules', latency_ms: 12.4, cache_hit: false },
        parse_quality_score: 0.82,
        status_detection: { status: 'open' },
        geo: { region: a.region },
        hard_validation: { mode: 'enforce', violations: [] },
        total_ms: 18,
      },
    },
    deliveries: [{ kind: 'dm', recipient: `tutor:88 ${XSS}`, status: 'sent', sent_at: iso(1) }],
  };
}

function abComparison(a: string, b: string): AbComparison {
  const side = (version: string, ok: number) => ({
    version,
    jobs: 500,
    by_status: { ok, failed: 500 - ok },
    ok,
    compilation_jobs: 10,
    items_total: ok + 14,
    latency_ms: { count: ok, p50: 20, p95: 900 },
    stages_total_ms: { count: ok, p50: 25, p95: 950 },
    tokens: { jobs_with_usage: 0, prompt: 0, completion: 0, total: 0, mean_total: null },
    reuse: { ok_jobs: ok, cache_hits: 40, rate: 40 / ok },
    gold: null,
  });
  const field = (name: string, agree: number, compared: number) => ({
    field: name,
    kind: 'text' as const,
    compared,
    agree,
    agreement: compared ? agree / compared : null,
    compared_both_ok: compared,
    agree_both_ok: agree,
    agreement_both_ok: compared ? agree / compared : null,
    both_empty: 480 - compared,
    filled_a: compared,
    filled_b: Math.max(0, compared - 3),
    fill_a: compared / 480,
    fill_b: Math.max(0, compared - 3) / 480,
    disagreeing_raw_ids: [],
  });
  return {
    pipelines: { a, b },
    filters: { since: null, until: null, channels: null },
    generated_at: iso(0),
    counts: { a: 500, b: 500, intersection: 480, both_ok: 470, only_a: 20, only_b: 20 },
    sides: { a: side(a, 490), b: side(b, 475) },
    fields: [field('subjects', 450, 470), field('levels', 400, 465), field('region', 300, 460), field('rate_min', 0, 0)],
    disagreeing_messages: 120,
    samples: [],
    notes: ['null/null is reported as both_empty, never as agreement.'],
    rows: [],
  };
}

// ---------- the fake API ----------

interface Fake {
  url: string;
  requests: string[];
  mode: { emptyAssignments: boolean; unauthorized: boolean };
  close: () => Promise<void>;
}

function listAssignments(u: URL, empty: boolean): AssignmentsResponse {
  const subject = u.searchParams.get('subject');
  const q = u.searchParams.get('q')?.toLowerCase();
  const status = u.searchParams.get('status') ?? 'open';
  const all = empty ? [] : assignments;
  const items = all.filter(
    (a) =>
      (status === 'all' || a.status === status) &&
      (!subject || a.subjects.includes(subject)) &&
      (!q || (a.academic_display_text ?? '').toLowerCase().includes(q)),
  );
  return {
    page: 1,
    page_size: 50,
    total: items.length,
    items,
    facets: {
      subjects: [...new Set(all.flatMap((a) => a.subjects))].sort(),
      levels: [...new Set(all.flatMap((a) => a.levels))].sort(),
      regions: [...new Set(all.flatMap((a) => (a.region ? [a.region] : [])))].sort(),
    },
  };
}

async function startFake(): Promise<Fake> {
  const requests: string[] = [];
  const mode = { emptyAssignments: false, unauthorized: false };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(u.pathname + u.search);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(dashboardHtml());
      return;
    }
    if (mode.unauthorized && (u.pathname.startsWith('/api/') || u.pathname === '/health')) return json(401, { error: 'unauthorized' });
    const detailMatch = /^\/api\/assignments\/(\d+)$/.exec(u.pathname);
    if (u.pathname === '/health') return json(200, health);
    if (u.pathname === '/api/queue') return json(200, queue);
    if (u.pathname === '/api/runs') return json(200, runs);
    if (u.pathname === '/api/catchup') return json(200, catchup);
    if (u.pathname === '/api/assignments') return json(200, listAssignments(u, mode.emptyAssignments));
    if (detailMatch) {
      const a = assignments.find((x) => x.id === Number(detailMatch[1]));
      return a ? json(200, detail(a)) : json(404, { error: 'no such assignment' });
    }
    if (u.pathname === '/api/ab') {
      const a = u.searchParams.get('a') ?? '',
        b = u.searchParams.get('b') ?? '';
      const known = queue.versions.map((v) => v.version);
      if (!known.includes(a) || !known.includes(b)) return json(404, { error: `no jobs for pipeline version ${known.includes(a) ? b : a}` });
      return json(200, abComparison(a, b));
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, mode, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// ---------- tests ----------

describe('dashboardHtml', () => {
  const html = dashboardHtml();
  it('is one self-contained document: inline script and style, no external resources, no innerHTML', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)="(?!data:)/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    for (const id of ['health', 'queue', 'filter-subject', 'filter-level', 'filter-region', 'filter-q', 'filter-status']) expect(html).toContain(id);
  });
  it('has a script that parses', () => {
    const m = /<script>([\s\S]*)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    expect(() => new Function(m![1]!)).not.toThrow();
  });
});

describe.skipIf(!HAS_CHROMIUM && !process.env.TUTORDEX_REQUIRE_BROWSER)(
  `dashboard in headless Chromium (${HAS_CHROMIUM ? 'chromium found' : `SKIPPED: ${CHROMIUM} not installed`})`,
  () => {
    let fake: Fake;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      mkdirSync(OUT, { recursive: true });
      fake = await startFake();
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
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
    });

    afterEach(() => {
      expect(pageErrors, 'uncaught errors in the page').toEqual([]);
    });

    afterAll(async () => {
      await browser?.close();
      await fake?.close();
    });

    it('overview: health pill, queue by version with the live one marked, throughput chart, failures, runs, catch-up', async () => {
      await page.goto(`${fake.url}/`);
      const queueTable = page.getByTestId('queue-table');
      await queueTable.waitFor();
      await expect.poll(() => queueTable.innerText()).toContain('rules-v3');
      const text = await queueTable.innerText();
      expect(text).toContain('llm-2026-11');
      expect(await page.locator('[data-testid="queue-table"] tr.live').innerText()).toContain('rules-v3');
      await expect.poll(() => page.getByTestId('health').innerText()).toBe('healthy');
      expect(await page.locator('[data-testid="throughput-chart"] rect').count()).toBeGreaterThan(60);
      const failures = await page.getByTestId('failures-table').innerText();
      expect(failures).toContain('llm_timeout');
      expect(failures).toContain(XSS); // shown as text
      expect(await page.locator('[data-testid="runs-table"] tbody tr').count()).toBe(3);
      expect(await page.getByTestId('catchup').innerText()).toContain('tuitionhub');
      await page.screenshot({ path: path.join(OUT, 'dashboard.png'), fullPage: true });
    });

    it('filters: choosing a subject and typing a search send the query string and narrow the list', async () => {
      await page.goto(`${fake.url}/#/assignments`);
      const rows = page.getByTestId('assignment-row');
      await expect.poll(() => rows.count()).toBe(assignments.length);
      // facets fill the drop-downs
      expect(await page.locator('[data-testid="filter-subject"] option').allInnerTexts()).toEqual([
        'All subjects',
        'A-Math',
        'Chemistry',
        'Economics',
        'English',
        'Physics',
        'Science',
      ]);

      fake.requests.length = 0;
      await page.getByTestId('filter-subject').selectOption('Physics');
      await expect.poll(() => fake.requests).toContain('/api/assignments?subject=Physics');
      await expect.poll(() => rows.count()).toBe(2);
      expect(page.url()).toContain('#/assignments?subject=Physics');

      await page.getByTestId('filter-q').fill('jc1');
      await expect.poll(() => fake.requests).toContain('/api/assignments?subject=Physics&q=jc1');
      await expect.poll(() => rows.count()).toBe(1);
      expect(await rows.first().innerText()).toContain('JC1 H2 Physics');
      await page.screenshot({ path: path.join(OUT, 'dashboard-list.png') });

      await page.getByRole('button', { name: 'Clear' }).click();
      await expect.poll(() => rows.count()).toBe(assignments.length);
      expect(await page.getByTestId('filter-subject').inputValue()).toBe('');
    });

    it('detail: a row opens the raw post as text (no script runs), linked by the URL hash', async () => {
      await page.goto(`${fake.url}/#/assignments`);
      const row = page.locator(`[data-testid="assignment-row"][data-id="${PWNED_ID}"]`);
      await row.waitFor();
      expect(await row.innerText()).toContain(XSS);
      await row.click();
      const panel = page.getByTestId('assignment-detail');
      await panel.waitFor();
      expect(page.url()).toMatch(new RegExp(`#/assignments/${PWNED_ID}$`));
      const raw = page.getByTestId('raw-text');
      expect(await raw.textContent()).toBe(RAW_TEXT);
      expect(await raw.innerText()).toContain('<script>window.__pwned=1</script>');
      expect(
        await page.locator('[data-testid="raw-text"] script, [data-testid="assignment-detail"] script, [data-testid="assignment-detail"] img').count(),
      ).toBe(0);
      const panelText = await panel.innerText();
      expect(panelText).toContain('SGT-7'); // structured fields
      expect(panelText).toContain('rules-v3'); // extraction meta
      expect(panelText).toContain('Parse quality');
      expect(panelText).toContain(`tutor:88 ${XSS}`); // deliveries
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      await page.screenshot({ path: path.join(OUT, 'dashboard-detail.png'), fullPage: true });

      // the link works on its own, and back returns to the list
      const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await other.goto(`${fake.url}/#/assignments/3`);
      await expect.poll(() => other.getByTestId('raw-text').textContent()).toContain('JC1 H2 Physics');
      await other.close();
      await page.getByRole('button', { name: '← Back to list' }).click();
      await expect.poll(() => page.getByTestId('assignment-row').count()).toBe(assignments.length);
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    });

    it('A/B: two versions render headline counts and per-field agreement bars; an unknown version shows the API error', async () => {
      await page.goto(`${fake.url}/#/ab`);
      await page.getByTestId('ab-a').fill('rules-v3');
      await page.getByTestId('ab-b').fill('llm-2026-11');
      await page.getByRole('button', { name: 'Compare' }).click();
      await expect.poll(() => page.getByTestId('ab-field').count()).toBe(4);
      expect(page.url()).toContain('#/ab?a=rules-v3&b=llm-2026-11');
      const result = await page.getByTestId('ab-result').innerText();
      expect(result).toContain('480');
      expect(result).toContain('95.7%'); // subjects 450/470
      expect(await page.locator('[data-field="rate_min"]').innerText()).toContain('n/a');
      await page.screenshot({ path: path.join(OUT, 'dashboard-ab.png'), fullPage: true });

      await page.getByTestId('ab-b').fill('nope');
      await page.getByRole('button', { name: 'Compare' }).click();
      await expect.poll(() => page.getByTestId('ab-result').innerText()).toContain('no jobs for pipeline version nope');
    });

    it('empty state on a fresh install, and a log-in banner on 401', async () => {
      fake.mode.emptyAssignments = true;
      try {
        await page.goto(`${fake.url}/#/assignments`);
        await expect
          .poll(() =>
            page
              .getByTestId('assignments-empty')
              .innerText()
              .catch(() => ''),
          )
          .toBe('No assignments yet — run tutordex start or tutordex worker');
        expect(await page.getByTestId('assignment-row').count()).toBe(0);
      } finally {
        fake.mode.emptyAssignments = false;
      }

      fake.mode.unauthorized = true;
      try {
        const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await p.goto(`${fake.url}/`);
        const banner = p.getByTestId('error-banner');
        await expect.poll(() => banner.isVisible()).toBe(true);
        expect(await banner.innerText()).toContain('Log in');
        expect(await p.getByTestId('login-link').getAttribute('href')).toBe('/login');
        await p.close();
      } finally {
        fake.mode.unauthorized = false;
      }
    });
  },
);
