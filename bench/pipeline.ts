/**
 * End-to-end pipeline on Postgres, rules extractor: raw → queue → worker → assignments → outbox → fake Bot API.
 * 1. throughput: a backlog of N posts drained by one worker process (jobs/s), against the bare extractor on the
 *    same posts (posts/s) as the baseline measured in the same run;
 * 2. latency: posts inserted at a steady rate while the worker runs; time from raw insert to the fake Bot API
 *    receiving the broadcast (p50/p99; target p50 < 300 ms);
 * 3. memory: worker RSS sampled over a long drain (target < 200 MB and flat).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/index.ts';
import { openPostgres, type Database } from '../src/db/index.ts';
import { createExtractor, loadExamples, processPost } from '../src/extraction/index.ts';
import { runWorkerService } from '../src/worker/index.ts';
import { startFakeBotApi } from '../test/support/fake-bot-api.ts';
import { fmt, machine, printTable, ratioOf, scratchDatabase, type SummaryRow } from './support.ts';
import { migrate } from '../src/db/index.ts';

const examples = loadExamples('test/fixtures/message_examples');
const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** The i-th synthetic post: a real fixture post, each in its own channel (so every post is its own assignment). */
const textFor = (i: number) => examples[i % examples.length]!.raw;
const channelFor = (i: number) => `t.me/benchagency${i}`;

async function insertPosts(db: Database, from: number, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { channel_link: channelFor(i), message_id: i + 1, raw_text: textFor(i) };
  });
  await db.query(
    `with ins as (
       insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json)
       select r.channel_link, r.message_id, now(), r.raw_text, '{}'::jsonb from jsonb_to_recordset($1::jsonb) as r(channel_link text, message_id bigint, raw_text text)
       returning id)
     select enqueue_raw_ids('bench', array(select id from ins order by id), false)`,
    [rows],
  );
}

function config(botUrl: string | null) {
  return loadConfig({
    env: {
      EXTRACTION_PIPELINE_VERSION: 'bench',
      EXTRACTION_WORKER_IDLE_S: '0.5',
      EXTRACTION_WORKER_BATCH_SIZE: '50',
      EXTRACTION_WORKER_CONCURRENCY: '8',
      DUPLICATE_DETECTION_ENABLED: '0',
      ...(botUrl ? { TELEGRAM_BOT_TOKEN: '1:bench', TELEGRAM_BOT_API_URL: botUrl, BROADCAST_CHAT_ID: '@tutordex_bench' } : {}),
    },
    envFile: null,
  });
}

async function withScratch<T>(tag: string, fn: (db: Database, url: string) => Promise<T>): Promise<T> {
  const scratch = await scratchDatabase(tag);
  const db = await openPostgres({ url: scratch.url, label: 'bench', max: 10 });
  try {
    await migrate(db);
    return await fn(db, scratch.url);
  } finally {
    await db.close();
    await scratch.drop();
  }
}

/** The worker's V8 heap cap, as recommended for production workers in the README. */
const WORKER_NODE_OPTIONS = process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=128';

export async function pipelineBenchmark(): Promise<SummaryRow[]> {
  const posts = Number(process.env.BENCH_PIPELINE_POSTS ?? 10_000);
  const latencyPosts = Number(process.env.BENCH_PIPELINE_LATENCY_POSTS ?? 300);
  const rssJobs = Number(process.env.BENCH_PIPELINE_RSS_JOBS ?? 100_000);
  console.log(`pipeline benchmark: rules extractor, Postgres, fake Bot API on 127.0.0.1; ${machine()}`);

  // baseline: the bare extractor over the same posts, no database
  const extractor = createExtractor(config(null), 'rules');
  const baseStart = performance.now();
  for (let i = 0; i < Math.min(posts, 3000); i++) {
    await processPost({ text: textFor(i), channelLink: 't.me/x', isForward: false, isReply: false, deleted: false }, { extractor });
  }
  const extractorRate = Math.min(posts, 3000) / ((performance.now() - baseStart) / 1000);

  // 1. throughput with broadcasts on
  const bot = await startFakeBotApi();
  const throughput = await withScratch('pipe', async (db) => {
    await insertPosts(db, 0, posts);
    const started = performance.now();
    const r = await runWorkerService({
      db,
      config: config(bot.url),
      log: silent,
      signal: new AbortController().signal,
      flags: { oneshot: true, broadcast: true },
    });
    const seconds = (performance.now() - started) / 1000;
    return { jobs: r.claimed, seconds, sent: r.delivery?.sent ?? 0, broadcasts: bot.calls.filter((c) => c.method === 'sendMessage').length };
  });

  // 2. latency: steady arrivals while a live worker runs
  const latencies: number[] = [];
  await withScratch('lat', async (db) => {
    const sentAt = new Map<string, number>();
    const abort = new AbortController();
    const before = bot.calls.length;
    const worker = runWorkerService({ db, config: config(bot.url), log: silent, signal: abort.signal, flags: { oneshot: false, broadcast: true } });
    for (let i = 0; i < latencyPosts; i++) {
      sentAt.set(channelFor(1_000_000 + i).slice(5), Date.now());
      await insertPosts(db, 1_000_000 + i, 1);
      await new Promise((r) => setTimeout(r, 20));
    }
    const deadline = Date.now() + 30_000;
    while (bot.calls.length - before < latencyPosts && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await worker;
    const seen = new Set<string>();
    for (const call of bot.calls.slice(before)) {
      const url = (call.body.reply_markup as { inline_keyboard?: { url?: string }[][] } | undefined)?.inline_keyboard?.[0]?.[0]?.url ?? '';
      const channel = /t\.me\/([a-z0-9_]+)\//.exec(url)?.[1];
      const t0 = channel ? sentAt.get(channel) : undefined;
      if (t0 !== undefined && !seen.has(channel!)) {
        seen.add(channel!);
        latencies.push(call.at - t0);
      }
    }
  });
  await bot.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;

  // 3. memory over a long drain: a real `tutordex worker --oneshot` process, its RSS read from /proc
  const rss: number[] = [];
  await withScratch('rss', async (db, url) => {
    for (let done = 0; done < rssJobs; done += 10_000) await insertPosts(db, 2_000_000 + done, Math.min(10_000, rssJobs - done));
    const child = spawn(process.execPath, ['bin/tutordex.js', 'worker', '--oneshot', '--no-broadcast', '--no-dms'], {
      env: {
        ...process.env,
        NODE_OPTIONS: WORKER_NODE_OPTIONS,
        DATABASE_URL: url,
        EXTRACTION_PIPELINE_VERSION: 'bench',
        LOG_LEVEL: 'warn',
        EXTRACTION_WORKER_BATCH_SIZE: '50',
        EXTRACTION_WORKER_CONCURRENCY: '8',
        DUPLICATE_DETECTION_ENABLED: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const timer = setInterval(() => {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        if (kb) rss.push(Number(kb) * 1024);
      } catch {
        // exited between samples
      }
    }, 1000);
    await done;
    clearInterval(timer);
    if (process.env.BENCH_PIPELINE_RSS_TRACE) console.log(`RSS MB every second: ${rss.map((b) => Math.round(b / 2 ** 20)).join(' ')}`);
  });
  const mb = (b: number) => `${fmt(b / 2 ** 20)} MB`;
  const tenth = Math.max(1, Math.floor(rss.length / 10));
  const early = rss.slice(0, tenth).reduce((a, b) => a + b, 0) / tenth;
  const late = rss.slice(-tenth).reduce((a, b) => a + b, 0) / tenth;

  printTable(
    ['measurement', 'value', 'baseline / target', 'ratio'],
    [
      [
        'end-to-end jobs/s (broadcast on)',
        fmt(throughput.jobs / throughput.seconds),
        `bare extractor ${fmt(extractorRate)} posts/s`,
        (throughput.jobs / throughput.seconds / extractorRate).toFixed(2),
      ],
      ['broadcasts delivered', `${fmt(throughput.broadcasts)} for ${fmt(posts)} posts`, 'one per new open assignment', ''],
      ['raw insert → Bot API p50', `${q(0.5).toFixed(0)} ms`, 'target < 300 ms', (q(0.5) / 300).toFixed(2)],
      ['raw insert → Bot API p99', `${q(0.99).toFixed(0)} ms`, '', ''],
      [
        `worker RSS over ${fmt(rssJobs)} jobs (${WORKER_NODE_OPTIONS || 'default heap'}): first 10 % → last 10 %`,
        `${mb(early)} → ${mb(late)}`,
        'target < 200 MB, flat',
        (late / early).toFixed(2),
      ],
      ['worker RSS peak', mb(Math.max(...rss)), 'target < 200 MB', (Math.max(...rss) / (200 * 2 ** 20)).toFixed(2)],
    ],
  );
  const e2e = throughput.jobs / throughput.seconds;
  const peak = Math.max(...rss);
  return [
    {
      suite: 'pipeline',
      measurement: 'end-to-end jobs/s, broadcasts on',
      value: `${fmt(e2e)} jobs/s`,
      baseline: `bare extractor ${fmt(extractorRate)} posts/s`,
      ratio: ratioOf(e2e, extractorRate),
    },
    { suite: 'pipeline', measurement: 'raw insert → Bot API, p50', value: `${q(0.5).toFixed(0)} ms`, baseline: 'target 300 ms', ratio: ratioOf(q(0.5), 300) },
    { suite: 'pipeline', measurement: 'raw insert → Bot API, p99', value: `${q(0.99).toFixed(0)} ms`, baseline: 'target 300 ms', ratio: ratioOf(q(0.99), 300) },
    {
      suite: 'pipeline',
      measurement: `worker RSS, last 10 % of ${fmt(rssJobs)} jobs`,
      value: mb(late),
      baseline: `first 10 % ${mb(early)}`,
      ratio: ratioOf(late, early),
    },
    { suite: 'pipeline', measurement: 'worker RSS peak', value: mb(peak), baseline: 'target 200 MB', ratio: ratioOf(peak, 200 * 2 ** 20) },
  ];
}
