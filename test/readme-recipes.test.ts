import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../src/db/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import { EXAMPLES } from './support/assignments.ts';
import { cliWorkspace } from './support/cli.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';

/**
 * The "Running in production" recipes of README.md, run as written (the block is parsed, so a changed recipe is a
 * changed test) against the embedded database, with Telegram replaced by the in-memory source and the Bot API by
 * the fake on 127.0.0.1. Long-running commands (`live`, `worker`, `serve`) run until the recipe's purpose is met.
 */

interface Step {
  env: Record<string, string>;
  command: string;
  args: string[];
}
interface Recipe {
  title: string;
  lines: Step[][];
}

function readmeRecipes(): Recipe[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /\*\*Recipes\*\*[^\n]*\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no **Recipes** sh block');
  const recipes: Recipe[] = [];
  for (const line of block.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      // "# Title: what it does" starts a recipe; lower-case or "…" comment lines continue the one above
      const title = /^#\s*([A-Z][^:]+):/.exec(line)?.[1];
      if (title) recipes.push({ title, lines: [] });
      continue;
    }
    const steps = line.split(' && ').map((segment) => {
      const words = segment.trim().split(/\s+/);
      const env: Record<string, string> = {};
      while (/^[A-Z_]+=/.test(words[0] ?? '')) {
        const [k, ...v] = words.shift()!.split('=');
        env[k!] = v.join('=');
      }
      return { env, command: words[0]!, args: words.slice(1) };
    });
    recipes.at(-1)!.lines.push(steps);
  }
  return recipes;
}

const LIVE = '2026-01-02_det_time_v1';
const now = Date.now();
const agencyPosts = (n: number, offsetMinutes: number) =>
  Array.from({ length: n }, (_, i) =>
    makeMessage({ id: i + 1, date: new Date(now - (offsetMinutes - i * 6) * 60_000), text: EXAMPLES[i % EXAMPLES.length]!.raw }),
  );

describe('README "Running in production" recipes, run as written on the embedded database', { timeout: 90_000 }, () => {
  const recipes = readmeRecipes();
  const byTitle = (t: string) => {
    const r = recipes.find((x) => x.title.toLowerCase().startsWith(t.toLowerCase()));
    if (!r) throw new Error(`README recipe "${t}" is missing (found: ${recipes.map((x) => x.title).join(', ')})`);
    return r;
  };
  let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
  let ws: ReturnType<typeof cliWorkspace>;
  const source = new MemorySource();
  source.addChannel({ channelLink: 't.me/agency_a', channelId: '101', title: 'Agency A' }, agencyPosts(12, 150));
  source.addChannel({ channelLink: 't.me/agency_b', channelId: '102', title: 'Agency B' }, agencyPosts(12, 140));
  // a channel added later, with months of history
  source.addChannel(
    { channelLink: 't.me/newagency', channelId: '103', title: 'New Agency' },
    Array.from({ length: 8 }, (_, i) =>
      makeMessage({ id: i + 1, date: new Date(Date.UTC(2026, 6, 1 + i * 5)), text: EXAMPLES[(i + 3) % EXAMPLES.length]!.raw }),
    ),
  );

  beforeAll(async () => {
    bot = await startFakeBotApi();
    ws = cliWorkspace({
      EXTRACTION_PIPELINE_VERSION: LIVE,
      CHANNEL_LIST: 't.me/agency_a,t.me/agency_b',
      TELEGRAM_BOT_TOKEN: '123456:recipe-token',
      TELEGRAM_BOT_API_URL: bot.url,
      BROADCAST_CHAT_ID: '@tutordex_recipes',
      EXTRACTION_WORKER_BROADCAST: '1',
      DUPLICATE_DETECTION_ENABLED: '0',
      EXTRACTION_WORKER_IDLE_S: '0.05',
      // no worker runs beside `live` here: catch-up rounds must not wait for the queue to drain
      RECOVERY_CATCHUP_QUEUE_LOW_WATERMARK: '1000',
      RECOVERY_CATCHUP_CHECK_INTERVAL_SECONDS: '5',
    });
  });
  afterAll(async () => bot.close());

  /** The CLI in-process, with Telegram replaced by the in-memory source. */
  const cli = (argv: string[], env: Record<string, string> = {}, io: Parameters<typeof ws.run>[2] = {}) =>
    ws.run(argv, env, { telegramSource: () => source, ...io });

  async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const db = await openPglite({ dataDir: ws.env.TUTORDEX_DATA_DIR! });
    try {
      return await db.query<T>(sql, params);
    } finally {
      await db.close();
    }
  }
  const count = async (sql: string, params: unknown[] = []) => (await query<{ n: number }>(sql, params))[0]!.n;

  /** One scrape of a running command's METRICS_PORT server; `sum` adds up a metric's series matching `labels`. */
  async function scrape(base: string): Promise<{ sum: (name: string, labels?: Record<string, string>) => number }> {
    const text = await (await fetch(`${base}/metrics`)).text();
    return { sum: (name, labels = {}) => sumSamples(text, name, labels) };
  }
  function sumSamples(text: string, name: string, labels: Record<string, string>): number {
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').at(-1));
    }
    return total;
  }

  /**
   * Run one recipe line as written. A long-running command gets METRICS_PORT=0 and `until(metricsUrl)` ends it
   * (SIGTERM-like abort) once the recipe's purpose is met: PGlite has one owner, so progress is read over HTTP.
   */
  async function runLine(steps: Step[], until?: (metricsUrl: string) => Promise<boolean>) {
    const outputs: string[] = [];
    for (const step of steps) {
      if (step.command === 'curl') {
        // the smoke test's curl: the dashboard server is started as `tutordex serve --port 0` for the request
        const target = new URL(step.args.at(-1)!);
        const abort = new AbortController();
        let resolveUrl: (u: string) => void = () => {};
        const served = new Promise<string>((r) => (resolveUrl = r));
        const serving = cli(
          ['serve', '--port', '0'],
          {},
          { signal: abort.signal, out: (t) => void (/http:\/\/[\d.:]+/.test(t) && resolveUrl(/http:\/\/[\d.:]+/.exec(t)![0])) },
        );
        const base = await served;
        const res = await fetch(`${base}${target.pathname}`);
        const body = await res.text();
        abort.abort();
        expect((await serving).code).toBe(0);
        expect(res.status, `curl -fsS ${target.pathname}: ${body}`).toBe(200);
        outputs.push(body);
        continue;
      }
      expect(step.command).toBe('tutordex');
      const abort = new AbortController();
      let metricsUrl: string | null = null;
      const running = cli(
        step.args,
        { ...step.env, ...(until ? { METRICS_PORT: '0' } : {}) },
        {
          signal: abort.signal,
          err: (t) => void (metricsUrl ??= /(http:\/\/[\d.:]+)\/metrics/.exec(t)?.[1] ?? null),
        },
      );
      if (until) {
        let finished = false;
        void running.finally(() => (finished = true));
        const deadline = Date.now() + 45_000;
        let met = false;
        while (!finished && Date.now() < deadline && !(met = metricsUrl !== null && (await until(metricsUrl)))) await new Promise((r) => setTimeout(r, 100));
        expect(finished, `tutordex ${step.args.join(' ')} ended by itself`).toBe(false);
        expect(met, `tutordex ${step.args.join(' ')} did its job within 45 s`).toBe(true);
        abort.abort();
      }
      const result = await running;
      expect(result.code, `tutordex ${step.args.join(' ')}: ${result.err}`).toBe(0);
      outputs.push(result.out);
    }
    return outputs;
  }

  /**
   * Nothing pending or processing for `version`, messages sent since `sendsBefore`, and the Bot API quiet for a
   * second (the outbox is out; on a loaded machine the dispatcher may start after the queue is empty).
   */
  const queueDrainedAndSent = (version: string, sendsBefore: number) => {
    let quietSince = 0;
    let calls = -1;
    return async (url: string) => {
      const m = await scrape(url);
      const open =
        m.sum('tutordex_queue_jobs', { pipeline_version: version, status: 'pending' }) +
        m.sum('tutordex_queue_jobs', { pipeline_version: version, status: 'processing' });
      if (bot.calls.length !== calls) [calls, quietSince] = [bot.calls.length, Date.now()];
      const sent = bot.calls.filter((c) => c.method === 'sendMessage').length > sendsBefore;
      return open === 0 && sent && m.sum('tutordex_queue_jobs', { pipeline_version: version }) > 0 && Date.now() - quietSince > 1000;
    };
  };

  it('the README lists the five recipes', () => {
    expect(recipes.map((r) => r.title)).toEqual([
      'Downtime recovery',
      'Prompt or schema change',
      'Worker down for a while',
      'Adding a channel',
      'Smoke test after a deploy',
    ]);
  });

  it('downtime recovery: `tutordex live` stores what was posted while the collector was down; no gap, no duplicate', async () => {
    // before the downtime: the first part of each channel was collected and processed
    expect((await cli(['backfill', '--until', new Date(now - 110 * 60_000).toISOString()])).code).toBe(0);
    expect((await cli(['worker', '--oneshot'])).code).toBe(0);
    const before = await count(`select count(*)::int as n from telegram_messages_raw`);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(24);

    const started = Date.now();
    await runLine(byTitle('Downtime recovery').lines[0]!, async (metricsUrl) => {
      const { latest } = (await (await fetch(`${metricsUrl}/api/catchup`)).json()) as { latest: { status: string; started_at: string } | null };
      return latest?.status === 'ok' && Date.parse(latest.started_at) >= started - 1000;
    });
    expect(existsSync(path.join(ws.dir, 'state'))).toBe(false); // catch-up state is in the database, not the working directory
    const raw = await query<{ channel_link: string; n: number; distinct_ids: number; max_id: number }>(
      `select channel_link, count(*)::int as n, count(distinct message_id)::int as distinct_ids, max(message_id)::int as max_id from telegram_messages_raw group by 1 order by 1`,
    );
    expect(raw).toEqual([
      { channel_link: 't.me/agency_a', n: 12, distinct_ids: 12, max_id: 12 },
      { channel_link: 't.me/agency_b', n: 12, distinct_ids: 12, max_id: 12 },
    ]);
    expect(await count(`select count(*)::int as n from telegram_extractions where pipeline_version = $1`, [LIVE])).toBe(24);
  });

  it("worker down for a while: `tutordex worker` sweeps back a dead worker's job and drains the backlog, broadcasting fresh posts", async () => {
    // a worker that died mid-job left one row `processing` with an old lease
    await query(`update telegram_extractions set status = 'processing', updated_at = now() - interval '1 hour'
                  where id = (select id from telegram_extractions where status = 'pending' order by id limit 1)`);
    const pending = await count(`select count(*)::int as n from telegram_extractions where status in ('pending', 'processing')`);
    expect(pending).toBeGreaterThan(1);
    const sendsBefore = bot.calls.filter((c) => c.method === 'sendMessage').length;
    await runLine(byTitle('Worker down').lines[0]!, queueDrainedAndSent(LIVE, sendsBefore));
    expect(await count(`select count(*)::int as n from telegram_extractions where status not in ('ok', 'skipped')`)).toBe(0);
    expect(bot.calls.filter((c) => c.method === 'sendMessage').length).toBeGreaterThan(sendsBefore);
  });

  it('prompt or schema change: a new version is enqueued from the raw log, drained without side effects, compared', async () => {
    const [enqueue, drain, compare] = byTitle('Prompt or schema change').lines;
    const next = enqueue![0]!.env.EXTRACTION_PIPELINE_VERSION!;
    expect(next).not.toBe(LIVE);
    const historyReads = source.historyCalls.length;
    const sends = bot.calls.length;
    const assignments = await query(`select * from assignments order by id`);
    await runLine(enqueue!);
    expect(await count(`select count(*)::int as n from telegram_extractions where pipeline_version = $1`, [next])).toBe(24);
    await runLine(drain!);
    expect(await count(`select count(*)::int as n from telegram_extractions where pipeline_version = $1 and status in ('ok', 'skipped')`, [next])).toBe(24);
    const [report] = await runLine(compare!);
    expect(report).toMatch(/report/i);
    expect(source.historyCalls.length).toBe(historyReads); // Telegram was not read
    expect(bot.calls.length).toBe(sends); // nothing sent
    const after = await query<Record<string, unknown>>(`select * from assignments order by id`);
    expect(after).toEqual(assignments); // live assignments untouched
    expect(await query(`select value #>> '{}' as v from tutordex_settings where key = 'live_pipeline_version'`)).toEqual([{ v: LIVE }]);
  });

  it('adding a channel: its history is backfilled and extracted, never announced (older than SIDE_EFFECT_MAX_AGE_HOURS)', async () => {
    const sends = bot.calls.length;
    await runLine(byTitle('Adding a channel').lines[0]!);
    expect(await count(`select count(*)::int as n from telegram_messages_raw where channel_link = 't.me/newagency'`)).toBe(8);
    expect((await cli(['worker', '--oneshot'])).code).toBe(0);
    expect(
      await count(
        `select count(*)::int as n from telegram_extractions where channel_link = 't.me/newagency' and pipeline_version = $1 and status in ('ok', 'skipped')`,
        [LIVE],
      ),
    ).toBe(8);
    expect(bot.calls.length).toBe(sends);
  });

  it('smoke test after a deploy: health answers 200, queue stats print, one post drains on a scratch version; the live lane is untouched (issue 14 #8)', async () => {
    // a live job waiting for the production worker: the smoke test must leave it (and its broadcast) to it
    expect((await cli(['enqueue', '--channels', 't.me/agency_a', '--max-messages', '1', '--force'])).code).toBe(0);
    const liveJobs = () => query<Record<string, unknown>>(`select * from telegram_extractions where pipeline_version = $1 order by id`, [LIVE]);
    const before = await liveJobs();
    expect(before.filter((j) => j.status === 'pending')).toHaveLength(1);
    const assignments = await query(`select * from assignments order by id`);
    const sends = bot.calls.length;
    const line = byTitle('Smoke test').lines[0]!;
    const scratch = line.find((s) => s.args[0] === 'enqueue')?.env.EXTRACTION_PIPELINE_VERSION;
    expect(scratch).toBeTruthy();
    expect(scratch).not.toBe(LIVE);
    const [health, stats, , worker, prune] = await runLine(line);
    expect(JSON.parse(health!)).toMatchObject({ ok: true });
    expect(stats).toContain(LIVE);
    expect(worker).toMatch(new RegExp(`^worker max_jobs: claimed=1 .*version=${scratch} \\(drain`));
    expect(prune).toMatch(new RegExp(`^deleted 2 job row\\(s\\) of ${scratch}`));
    expect(await liveJobs()).toEqual(before);
    expect(await query(`select * from assignments order by id`)).toEqual(assignments);
    expect(bot.calls.length).toBe(sends);
    expect(await count(`select count(*)::int as n from telegram_extractions where pipeline_version = $1`, [scratch])).toBe(0);
  });
});
