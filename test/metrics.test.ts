import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeBatch } from '../src/collector/index.ts';
import { openPglite } from '../src/db/index.ts';
import { LlmExtractor } from '../src/extraction/llm/index.ts';
import { RulesExtractor } from '../src/extraction/index.ts';
import { bindQueueMetrics, collectProcessMetrics, registry } from '../src/metrics/index.ts';
import { makeMessage } from '../src/telegram/memory.ts';
import { runWorker } from '../src/worker/index.ts';
import { createWebApp } from '../src/web/server.ts';
import { describeEachDatabase } from './support/databases.ts';
import { post } from './support/assignments.ts';
import { context, recordingLog } from './support/collector.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { startFakeLlm } from './support/fake-llm.ts';
import { drain, postAndEnqueue, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
let llm: Awaited<ReturnType<typeof startFakeLlm>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
  llm = await startFakeLlm();
});
afterAll(async () => {
  await bot.close();
  await llm.close();
});

describeEachDatabase('metrics', (t) => {
  it('every metric defined is actually emitted by the code that owns it (the earlier system defined several it never set)', async () => {
    registry.resetMetrics();
    collectProcessMetrics();
    bindQueueMetrics(t.db);
    const live = workerConfig({
      TELEGRAM_BOT_TOKEN: '1:fake',
      TELEGRAM_BOT_API_URL: bot.url,
      BROADCAST_CHAT_ID: '@tutordex_test',
      EXTRACTION_STALE_PROCESSING_SECONDS: '1',
      PUBLIC_BASE_URL: 'https://tutordex.example',
    });

    // collector: new, edit, delete
    const ctx = context(t.db, { config: { ...workerConfig(), pipelineVersion: 'collected' } });
    const ch = { channelLink: 't.me/metricsagency', channelId: '1', title: 'Metrics' };
    await writeBatch(ctx, ch, [makeMessage({ id: 1, date: new Date(), text: 'hello' })], { enqueue: false, force: false });
    await writeBatch(ctx, ch, [makeMessage({ id: 1, date: new Date(), text: 'hello again', editDate: new Date() })], {
      enqueue: false,
      force: true,
      reason: 'edit',
    });

    // worker + delivery: a 429 once, the same assignment from two agencies, a stale job swept back
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: post('cocoassignments', 0) }]);
    await drain(t.db, live, { broadcast: true });
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 1, text: post('cocoassignments', 0) }]);
    await t.db.query(`update telegram_extractions set status = 'processing', updated_at = now() - interval '1 hour' where channel_link = 't.me/agencytwo'`);
    await drain(t.db, live, { broadcast: true });

    // a tutor follows the broadcast's tracked link
    const [link] = await t.db.query<{ token: string }>(`select token from click_links limit 1`);
    expect((await createWebApp({ db: t.db, config: live, token: null }).request(`/r/${link!.token}`)).status).toBe(302);

    // LLM: one answer, one failure
    const llmConfig = workerConfig({ LLM_API_URL: llm.url, EXTRACTION_MAX_ATTEMPTS: '1' });
    const extractor = new LlmExtractor(llmConfig.llm, { reuseStore: null, maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1 });
    await postAndEnqueue(t.db, [{ channel: 't.me/llmagency', messageId: 1, text: post('eduaidtuition', 0) }], { version: 'llm-exp' });
    await drain(t.db, llmConfig, { pipelineVersion: 'llm-exp' }, { extractor });
    llm.setMode('garbage');
    await postAndEnqueue(t.db, [{ channel: 't.me/llmagency', messageId: 2, text: post('eduaidtuition', 1) }], { version: 'llm-exp' });
    await drain(t.db, llmConfig, { pipelineVersion: 'llm-exp' }, { extractor });
    llm.setMode('ok');

    // a claim that fails (the database is gone) is a loop error, not an exit
    const dead = await openPglite({ dataDir: null });
    await dead.close();
    const abort = new AbortController();
    const stopped = runWorker({
      db: dead,
      config: workerConfig(),
      extractor: new RulesExtractor(),
      log: recordingLog(),
      signal: abort.signal,
      pipelineVersion: 'v1',
      live: false,
      broadcast: false,
      dms: false,
      oneshot: false,
      maxJobs: 0,
      batchSize: 1,
      concurrency: 1,
      idleMs: 10,
      staleSeconds: 0,
    });
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await stopped;

    // a job left pending so the age gauge has something to say
    await postAndEnqueue(t.db, [{ channel: 't.me/pending', messageId: 1, text: 'waiting' }], { version: 'later' });

    const gauges = new Set(['tutordex_catchup_lag_seconds']); // present, legitimately 0 when no catch-up runs
    const silent: string[] = [];
    const checked: string[] = [];
    for (const m of await registry.getMetricsAsJSON()) {
      if (!m.name.startsWith('tutordex_') || m.name.startsWith('tutordex_process_') || m.name.startsWith('tutordex_nodejs_')) continue;
      checked.push(m.name);
      const values = (m.values as { value: number; metricName?: string }[]).filter(
        (v) => !v.metricName || v.metricName.endsWith('_count') || v.metricName === m.name,
      );
      const moved = gauges.has(m.name) ? values.length > 0 : values.some((v) => v.value > 0);
      if (!moved) silent.push(m.name);
    }
    expect(silent).toEqual([]);
    expect(checked.length).toBe(18);
    expect(checked).toEqual(
      expect.arrayContaining([
        'tutordex_worker_stale_requeued_total',
        'tutordex_worker_loop_errors_total',
        'tutordex_delivery_rate_limited_total',
        'tutordex_duplicates_grouped_total',
        'tutordex_queue_oldest_pending_seconds',
      ]),
    );
    const text = await registry.metrics();
    expect(text).toContain('tutordex_process_resident_memory_bytes');
    expect(text).toMatch(/tutordex_messages_ingested_total\{channel="t\.me\/metricsagency",kind="edit"\} 1/);
    expect(text).toMatch(/tutordex_llm_errors_total\{type="llm_invalid_json"\} 1/);
    expect(text).toMatch(/tutordex_link_clicks_total\{kind="broadcast"\} 1/);
  }, 60_000);
});
