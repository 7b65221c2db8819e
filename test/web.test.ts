import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPglite } from '../src/db/index.ts';
import { createWebApp, startWebServer } from '../src/web/server.ts';
import { checkHealth } from '../src/web/health.ts';
import type { AssignmentDetail, AssignmentsResponse, HealthResponse, QueueResponse } from '../src/web/api-types.ts';
import { describeEachDatabase } from './support/databases.ts';
import { EXAMPLES } from './support/assignments.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { drain, postAndEnqueue, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const HOSTILE = 'Sec 2 Math <script>window.__pwned=1</script> @ Bishan 570123\nRate: $40/hr';

describeEachDatabase('web: health, metrics, API', (t) => {
  const app = (token: string | null = null) => createWebApp({ db: t.db, config: workerConfig(), token });
  const json = async <T>(path: string, init?: RequestInit) => {
    const res = await app().request(path, init);
    return { status: res.status, body: (await res.json()) as T, res };
  };

  async function seed() {
    await postAndEnqueue(t.db, [
      ...EXAMPLES.slice(0, 6).map((e, i) => ({ channel: 't.me/cocoassignments', messageId: i + 1, text: e.raw, title: 'CocoTutors' })),
      { channel: 't.me/hostile', messageId: 1, text: HOSTILE },
    ]);
    await drain(t.db, workerConfig());
  }

  it('/health: 200 with details on a fresh database; 503 naming the check when the queue is stale or the tail is silent', async () => {
    const ok = await json<HealthResponse>('/health');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      ok: true,
      checks: [
        expect.objectContaining({ name: 'database', ok: true }),
        expect.objectContaining({ name: 'tail', ok: true }),
        expect.objectContaining({ name: 'queue', ok: true }),
        expect.objectContaining({ name: 'catchup', ok: true }),
      ],
    });

    await postAndEnqueue(t.db, [{ channel: 't.me/x', messageId: 1, text: 'post' }]);
    await t.db.query(`update telegram_extractions set updated_at = now() - interval '2 hours'`);
    const stale = await json<HealthResponse>('/health');
    expect(stale.status).toBe(503);
    expect(stale.body.checks.find((c) => c.name === 'queue')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^oldest pending job waits \d+ s \(limit 1800 s\)$/),
    });

    await t.db.query(`delete from telegram_extractions`);
    await t.db.query(`insert into ingestion_runs (run_type, status, heartbeat_at) values ('live', 'running', now() - interval '10 minutes')`);
    const silent = await json<HealthResponse>('/health');
    expect(silent.status).toBe(503);
    expect(silent.body.checks.find((c) => c.name === 'tail')).toMatchObject({ ok: false });
    await t.db.query(`update ingestion_runs set heartbeat_at = now()`);
    expect((await json('/health')).status).toBe(200);
  });

  it('/health is 503 when the database is gone', async () => {
    const dead = await openPglite({ dataDir: null });
    await dead.close();
    const h = await checkHealth(dead);
    expect(h).toMatchObject({ ok: false, checks: [{ name: 'database', ok: false }] });
    const res = await createWebApp({ db: dead, config: workerConfig(), token: null }).request('/health');
    expect(res.status).toBe(503);
  });

  it('/metrics: Prometheus text with queue depth by version × status and the worker counters', async () => {
    await seed();
    const res = await app().request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/tutordex_queue_jobs\{pipeline_version="v1",status="ok"\} 7/);
    expect(text).toMatch(/tutordex_worker_jobs_total\{pipeline_version="v1",outcome="ok",extractor="rules"\} \d+/);
    expect(text).toMatch(/tutordex_assignments_written_total\{action="inserted"\} \d+/);
    expect(text).toContain('tutordex_worker_stage_seconds_bucket');
  });

  it('/api/queue, /api/runs, /api/catchup', async () => {
    await seed();
    const q = await json<QueueResponse>('/api/queue');
    expect(q.body.versions).toEqual([
      { version: 'v1', live: true, counts: { pending: 0, processing: 0, ok: 7, failed: 0, skipped: 0 }, oldest_pending_age_s: null },
    ]);
    expect(q.body.throughput.reduce((s, m) => s + m.ok, 0)).toBe(7);
    expect((await json('/api/runs')).body).toEqual({ runs: [] });
    expect((await json('/api/catchup')).body).toEqual({ latest: null, channels: [] });
  });

  it('/api/assignments filters by subject, level, region, status and text; detail has the raw post, extraction and deliveries', async () => {
    await seed();
    const all = await json<AssignmentsResponse>('/api/assignments');
    expect(all.body.total).toBe(7);
    expect(all.body.facets.subjects.length).toBeGreaterThan(0);
    const subject = all.body.facets.subjects[0]!;
    const bySubject = await json<AssignmentsResponse>(`/api/assignments?subject=${encodeURIComponent(subject)}`);
    expect(bySubject.body.total).toBeGreaterThan(0);
    expect(bySubject.body.total).toBeLessThan(7);
    expect(bySubject.body.items.every((i) => i.subjects.includes(subject))).toBe(true);
    const byText = await json<AssignmentsResponse>('/api/assignments?q=Yishun');
    expect(byText.body.items.length).toBeGreaterThan(0);
    expect((await json<AssignmentsResponse>('/api/assignments?status=closed')).body.total).toBe(0);
    expect((await json<AssignmentsResponse>('/api/assignments?q=%25')).body.total).toBe(1); // % is literal (one fixture post has one), not a wildcard matching all 7
    const hostile = (await json<AssignmentsResponse>('/api/assignments?q=pwned')).body.items[0]!;
    const detail = await json<AssignmentDetail>(`/api/assignments/${hostile.id}`);
    expect(detail.body.raw!.text).toBe(HOSTILE); // JSON carries it as data; the page renders it as text
    expect(detail.body.extraction).toMatchObject({ pipeline_version: 'v1', status: 'ok' });
    expect(detail.body.raw!.versions).toHaveLength(0);
  });

  it('hostile query strings get 400/404 with a reason, never a stack trace', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/assignments?page=0', 400, /page/],
      ['/api/assignments?page=-1', 400, /page/],
      ['/api/assignments?page=1e9', 400, /page/],
      ['/api/assignments?status=deleted', 400, /status/],
      [`/api/assignments?q=${'x'.repeat(500)}`, 400, /q: at most 200/],
      ['/api/assignments/1;drop table assignments', 400, /id/],
      ['/api/assignments/999999', 404, /no assignment 999999/],
      ['/api/ab?a=x', 400, /a and b/],
      ['/api/ab?a=x&b=y', 404, /no pipeline version x, y/],
      ['/nope', 404, /not found/],
    ];
    for (const [path, status, message] of cases) {
      const r = await json<{ error: string }>(path);
      expect(r.status, path).toBe(status);
      expect(r.body.error, path).toMatch(message);
    }
    expect(await t.db.query('select count(*)::int as n from assignments')).toEqual([{ n: 0 }]);
  });

  it('a token guards everything but /health: 401 without, bearer or login cookie with', async () => {
    const guarded = app('s3cret-token');
    expect((await guarded.request('/health')).status).toBe(200);
    const denied = await guarded.request('/api/queue');
    expect(denied.status).toBe(401);
    expect(await denied.text()).not.toContain('s3cret-token');
    expect((await guarded.request('/', { headers: { accept: 'text/html' } })).headers.get('location')).toBe('/login');
    expect((await guarded.request('/api/queue', { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    expect((await guarded.request('/api/queue', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const wrong = await guarded.request('/login', { method: 'POST', body: new URLSearchParams({ token: 'nope' }) });
    expect(wrong.status).toBe(401);
    const login = await guarded.request('/login', { method: 'POST', body: new URLSearchParams({ token: 's3cret-token' }) });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect((await guarded.request('/api/queue', { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
  });

  it('binding anything but 127.0.0.1 without DASHBOARD_TOKEN refuses to start; a local bind answers /health', async () => {
    await expect(startWebServer({ db: t.db, config: workerConfig(), token: null, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /binding the dashboard to 0\.0\.0\.0 needs DASHBOARD_TOKEN/,
    );
    const server = await startWebServer({ db: t.db, config: workerConfig(), token: null, host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    } finally {
      await server.close();
    }
  });
});
