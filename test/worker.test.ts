import { afterAll, beforeAll, expect, it } from 'vitest';
import { LlmExtractor } from '../src/extraction/llm/index.ts';
import { claim, requeueStale } from '../src/queue/index.ts';
import { runWorker, type WorkerOptions } from '../src/worker/index.ts';
import { RulesExtractor, type ExtractContext, type Extractor } from '../src/extraction/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { EXAMPLES, assignmentRows, post } from './support/assignments.ts';
import { recordingLog } from './support/collector.ts';
import { startFakeLlm } from './support/fake-llm.ts';
import { VERSION, drain, jobRows, postAndEnqueue, workerConfig } from './support/worker.ts';

let llm: Awaited<ReturnType<typeof startFakeLlm>>;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(async () => llm.close());

const fixturePosts = (n: number, channel = 't.me/cocoassignments') => EXAMPLES.slice(0, n).map((e, i) => ({ channel, messageId: 100 + i, text: e.raw }));

function llmExtractor(over: { threshold?: number; timeoutS?: number } = {}) {
  const config = workerConfig({
    LLM_API_URL: llm.url,
    LLM_TIMEOUT_SECONDS: String(over.timeoutS ?? 2),
    LLM_CIRCUIT_BREAKER_THRESHOLD: String(over.threshold ?? 2),
    LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS: '1',
  });
  return new LlmExtractor(config.llm, { reuseStore: null, maxAttempts: 1, backoffBaseMs: 5, backoffMaxMs: 10 });
}

const until = async (check: () => Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached in time');
};

/** The rules extractor, taking `delayMs` per post (an LLM answering slowly); counts its calls. */
class SlowExtractor implements Extractor {
  readonly kind = 'rules' as const;
  calls = 0;
  private readonly rules = new RulesExtractor();
  constructor(private readonly delayMs: number) {}
  async extract(text: string, context: ExtractContext) {
    this.calls++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    return this.rules.extract(text, context);
  }
}

const workerOptions = (o: Pick<WorkerOptions, 'db' | 'config' | 'extractor' | 'signal'> & Partial<WorkerOptions>): WorkerOptions => ({
  log: recordingLog(),
  pipelineVersion: VERSION,
  live: true,
  broadcast: false,
  dms: false,
  oneshot: false,
  maxJobs: 0,
  batchSize: 1,
  concurrency: 1,
  idleMs: 50,
  staleSeconds: o.config.worker.staleProcessingSeconds,
  ...o,
});

describeEachDatabase('worker', (t) => {
  it('Mode 4: --oneshot --max-jobs N --no-broadcast --no-dms processes exactly N and leaves nothing processing', async () => {
    await postAndEnqueue(t.db, fixturePosts(8));
    const { result } = await drain(t.db, workerConfig(), { maxJobs: 3, batchSize: 10, concurrency: 4, broadcast: false, dms: false });
    expect(result).toMatchObject({ claimed: 3, exit: 'max_jobs', broadcast: false, dms: false, delivery: null });
    const statuses = (await jobRows(t.db)).map((j) => j.status);
    expect(statuses.filter((s) => s === 'pending')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'processing')).toHaveLength(0);
    expect(statuses.filter((s) => s === 'ok' || s === 'skipped')).toHaveLength(3);
    expect(await t.db.query('select count(*)::int as n from deliveries')).toEqual([{ n: 0 }]);
  });

  it('oneshot drains every job of its version and ignores other versions', async () => {
    await postAndEnqueue(t.db, fixturePosts(6));
    await postAndEnqueue(t.db, fixturePosts(2, 't.me/other'), { version: 'v-other' });
    const { result } = await drain(t.db, workerConfig());
    expect(result.exit).toBe('drained');
    expect(result.outcomes.ok + result.outcomes.skipped).toBe(6);
    expect((await jobRows(t.db, 'v-other')).map((j) => j.status)).toEqual(['pending', 'pending']);
  });

  it('oneshot on an empty queue exits at once', async () => {
    const started = Date.now();
    const { result } = await drain(t.db, workerConfig());
    expect(result).toMatchObject({ exit: 'drained', claimed: 0 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('the live version writes assignments; per job meta has stage timings, extractor and outcome', async () => {
    await postAndEnqueue(t.db, fixturePosts(3));
    await drain(t.db, workerConfig());
    const rows = await assignmentRows(t.db);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const [job] = await jobRows(t.db);
    expect(job!.status).toBe('ok');
    expect(job!.meta).toMatchObject({ extractor: { extractor: 'rules' }, stages: { load_raw_ms: expect.any(Number), extract_ms: expect.any(Number) } });
    expect((job!.meta.assignments as { action: string; broadcast: unknown }[])[0]).toMatchObject({
      action: 'inserted',
      broadcast: { suppressed: 'broadcast_disabled' },
      dm: { suppressed: 'dms_disabled' },
    });
  });

  it('a drain of another pipeline version writes only its queue rows, never assignments', async () => {
    await postAndEnqueue(t.db, fixturePosts(4), { version: 'v2' });
    const { result } = await drain(t.db, workerConfig(), { pipelineVersion: 'v2', broadcast: true, dms: true });
    expect(result).toMatchObject({ live: false, broadcast: false, dms: false });
    expect(await assignmentRows(t.db)).toEqual([]);
    const jobs = await jobRows(t.db, 'v2');
    expect(jobs.every((j) => j.status === 'ok' || j.status === 'skipped')).toBe(true);
    expect(jobs.find((j) => j.status === 'ok')!.canonical_json).toBeTruthy();
  });

  it('issue 14 #8: --analysis-only is refused on the live version (nothing claimed); on a version of its own it writes no assignment', async () => {
    await postAndEnqueue(t.db, fixturePosts(2));
    await expect(drain(t.db, workerConfig(), { analysisOnly: true })).rejects.toThrow(/^--analysis-only on the live pipeline version v1 /);
    expect((await jobRows(t.db)).map((j) => [j.status, j.meta.attempt ?? null])).toEqual([
      ['pending', null],
      ['pending', null],
    ]);
    await postAndEnqueue(t.db, fixturePosts(2, 't.me/other'), { version: 'v2' });
    const { result } = await drain(t.db, workerConfig(), { pipelineVersion: 'v2', analysisOnly: true });
    expect(result).toMatchObject({ live: false, claimed: 2 });
    expect(await assignmentRows(t.db)).toEqual([]);
  });

  it('skips with reasons: forward, empty text, non-assignment, deleted; a reply bumps its parent', async () => {
    const ch = 't.me/cocoassignments';
    await postAndEnqueue(t.db, [{ channel: ch, messageId: 1, text: post('cocoassignments', 0), date: new Date(Date.now() - 10 * 3_600_000) }]);
    await drain(t.db, workerConfig());
    await t.db.query(
      `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, is_forward, message_json) values ($1, 2, now(), 'fwd', true, '{}')`,
      [ch],
    );
    await t.db.query(`insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json) values ($1, 3, now(), null, '{}')`, [
      ch,
    ]);
    await t.db.query(
      `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json) values ($1, 4, now(), 'ASSIGNMENT CLOSED', '{}')`,
      [ch],
    );
    await t.db.query(
      `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, is_reply, message_json) values ($1, 5, now(), 'Still available!', true, '{"reply_to_msg_id": 1}')`,
      [ch],
    );
    const ids = await t.db.query<{ id: number }>('select id from telegram_messages_raw where message_id between 2 and 5 order by message_id');
    const { enqueueRawIds } = await import('../src/queue/index.ts');
    await enqueueRawIds(
      t.db,
      VERSION,
      ids.map((r) => r.id),
    );
    await drain(t.db, workerConfig());
    const jobs = await jobRows(t.db);
    expect(jobs.map((j) => [j.message_id, j.status, j.meta.skip_reason ?? null])).toEqual([
      [1, 'ok', null],
      [2, 'skipped', 'forward'],
      [3, 'skipped', 'empty_text'],
      [4, 'skipped', 'non_assignment'],
      [5, 'skipped', 'reply'],
    ]);
    expect((await assignmentRows(t.db))[0]!.bump_count).toBe(1);
  });

  it('an agency not in any registry is persisted under its own channel title', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/brandnewagency', messageId: 1, text: post('cocoassignments', 0), title: 'Brand New Tutors' }]);
    await drain(t.db, workerConfig());
    expect(await assignmentRows(t.db)).toHaveLength(1);
    expect(await t.db.query('select channel_link, agency_display_name, agency_telegram_channel_name from agencies')).toEqual([
      { channel_link: 't.me/brandnewagency', agency_display_name: 'Brand New Tutors', agency_telegram_channel_name: 'Brand New Tutors' },
    ]);
  });

  it('a compilation post becomes one assignment per item, all in one transaction, canonical_json stored', async () => {
    const text =
      'Compiled Tuition Assignments\n\n0706si: N1 Abacus @ 414 Jurong West Street 42 (S)640414\n1 Hr, 1x A Week; $25-35/Hr\n\n0706ts: N1 Phonics @ 105 Clementi Street 12. (S)120105\nFemale Tutor; 1.5 Hr, 1x A Week; $25-35/Hr';
    await postAndEnqueue(t.db, [{ channel: 't.me/compiler', messageId: 1, text }]);
    await drain(t.db, workerConfig());
    const rows = await assignmentRows(t.db);
    expect(rows.map((r) => r.external_id).sort()).toEqual(['code:0706SI', 'code:0706TS']);
    const [job] = await jobRows(t.db);
    expect(job!.status).toBe('ok');
    expect(job!.canonical_json).toBeTruthy();
    expect((job!.meta.items as unknown[]).length).toBe(2);
    expect((job!.meta.assignments as unknown[]).length).toBe(2);
  });

  it('a stale error_json does not survive an eventual ok', async () => {
    llm.setMode('down');
    await postAndEnqueue(t.db, fixturePosts(1));
    await drain(t.db, workerConfig({ EXTRACTION_MAX_ATTEMPTS: '5' }), { maxJobs: 1 }, { extractor: llmExtractor({ threshold: 50 }) });
    expect((await jobRows(t.db))[0]).toMatchObject({ status: 'pending', error_json: { type: 'llm_http_5xx' } });
    llm.setMode('ok');
    await drain(t.db, workerConfig(), {}, { extractor: llmExtractor({ threshold: 50 }) });
    expect((await jobRows(t.db))[0]).toMatchObject({ status: 'ok', error_json: null });
  });

  it('the worker records the time of its last successful loop (the health check reads it)', async () => {
    const { metrics } = await import('../src/metrics/index.ts');
    metrics.lastLoopAt.set(0);
    await postAndEnqueue(t.db, fixturePosts(1));
    await drain(t.db, workerConfig());
    const value = (await metrics.lastLoopAt.get()).values[0]!.value;
    expect(Math.abs(value - Date.now() / 1000)).toBeLessThan(60);
  });

  it('an LLM outage never burns the queue – jobs go back to pending with their budget, the breaker recovers', async () => {
    llm.setMode('down');
    await postAndEnqueue(t.db, fixturePosts(6));
    const abort = new AbortController();
    const extractor = llmExtractor({ threshold: 2 });
    const running = drain(
      t.db,
      workerConfig({ EXTRACTION_MAX_ATTEMPTS: '3' }),
      { oneshot: false, concurrency: 1, batchSize: 2 },
      { signal: abort.signal, extractor },
    );
    await until(async () => extractor.breaker.isOpen());
    await new Promise((r) => setTimeout(r, 300));
    const during = await jobRows(t.db);
    expect(during.filter((j) => j.status === 'failed')).toEqual([]); // nothing failed while the LLM was down
    llm.setMode('ok');
    await until(async () => (await jobRows(t.db)).every((j) => j.status === 'ok' || j.status === 'skipped'));
    abort.abort();
    const { result } = await running;
    expect(result.outcomes.failed).toBe(0);
    expect(result.outcomes.released + result.outcomes.retried).toBeGreaterThan(0);
    expect(extractor.breaker.isOpen()).toBe(false);
  });

  it('a permanent LLM error (not JSON) fails the job with a typed error; a transient one retries', async () => {
    llm.setMode('garbage');
    await postAndEnqueue(t.db, fixturePosts(1));
    await drain(t.db, workerConfig({ EXTRACTION_MAX_ATTEMPTS: '3' }), {}, { extractor: llmExtractor({ threshold: 50 }) });
    const [job] = await jobRows(t.db);
    expect(job).toMatchObject({ status: 'failed', error_json: { type: 'llm_invalid_json' } });
    llm.setMode('ok');
  });

  it('SIGINT/SIGTERM: stops claiming, releases in-flight work without spending an attempt, nothing left processing', async () => {
    llm.setMode('hang');
    await postAndEnqueue(t.db, fixturePosts(5));
    const abort = new AbortController();
    const running = drain(
      t.db,
      workerConfig(),
      { oneshot: false, concurrency: 2, batchSize: 5 },
      { signal: abort.signal, extractor: llmExtractor({ timeoutS: 30, threshold: 50 }) },
    );
    await until(async () => llm.requests.length >= 2);
    abort.abort();
    const { result } = await running;
    llm.setMode('ok');
    expect(result.exit).toBe('stopped');
    const jobs = await jobRows(t.db);
    expect(jobs.map((j) => j.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    const [next] = await claim(t.db, VERSION, 1);
    expect(next!.attempt).toBe(1); // released jobs did not spend their attempt
  });

  it("issue 14 #10: a job longer than the stale window, with every slot busy, keeps its claim: another worker's sweep does not steal it", async () => {
    await postAndEnqueue(t.db, fixturePosts(1));
    const config = workerConfig({ EXTRACTION_STALE_PROCESSING_SECONDS: '2' });
    const slow = new SlowExtractor(6_000); // three stale windows
    const other = new SlowExtractor(0);
    const otherDb = t.driver === 'postgres' ? await t.connect(2) : t.db;
    const stopOther = new AbortController();
    try {
      // concurrency 1: while the job runs, the loop has no free slot (the heartbeat interval follows the stale window)
      const first = runWorker(workerOptions({ db: t.db, config, extractor: slow, signal: new AbortController().signal, oneshot: true }));
      await until(async () => slow.calls === 1);
      // the other worker sweeps the lane every 100 ms and would claim (and extract) whatever it sweeps back
      const second = runWorker(workerOptions({ db: otherDb, config, extractor: other, signal: stopOther.signal, intervals: { staleMs: 100 } }));
      const summary = await first;
      stopOther.abort();
      expect((await second).claimed).toBe(0);
      expect(summary).toMatchObject({ exit: 'drained', claimed: 1, outcomes: { ok: 1, lost: 0 } });
      expect([slow.calls, other.calls]).toEqual([1, 0]);
      const [job] = await jobRows(t.db);
      expect(job!.status).toBe('ok');
      expect(job!.meta.attempt).toBe(1);
      expect(job!.meta.requeue_reason).toBeUndefined();
    } finally {
      stopOther.abort();
      if (otherDb !== t.db) await otherDb.close();
    }
  }, 30_000);

  it('issue 14 #10: a job whose worker dies every time is failed with stale_requeue_limit after EXTRACTION_STALE_REQUEUE_LIMIT sweeps, not looped', async () => {
    await postAndEnqueue(t.db, fixturePosts(1));
    const config = workerConfig({ EXTRACTION_STALE_PROCESSING_SECONDS: '60', EXTRACTION_STALE_REQUEUE_LIMIT: '3' });
    const dies = async () => {
      const [job] = await claim(t.db, VERSION, 1); // a worker claims the job and is killed mid-job
      expect(job).toBeDefined();
      await t.db.query(`update telegram_extractions set updated_at = now() - interval '2 minutes' where id = $1`, [job!.id]);
    };
    for (const n of [1, 2]) {
      await dies();
      expect(await requeueStale(t.db, 60, VERSION, config.worker.staleRequeueLimit)).toEqual({ requeued: 1, failed: 0 });
      expect((await jobRows(t.db)).map((j) => [j.status, j.meta.stale_requeues])).toEqual([['pending', n]]);
    }
    await dies();
    // the third time, the sweep of a running worker fails it; nothing is extracted again
    const extractor = new SlowExtractor(0);
    const summary = await runWorker(
      workerOptions({ db: t.db, config, extractor, signal: new AbortController().signal, oneshot: true, intervals: { staleMs: 10 } }),
    );
    expect(summary).toMatchObject({ exit: 'drained', claimed: 0 });
    expect(extractor.calls).toBe(0);
    const [job] = await jobRows(t.db);
    expect(job).toMatchObject({
      status: 'failed',
      error_json: { type: 'stale_requeue_limit', message: expect.stringMatching(/stale 3 times/) },
      meta: { stale_requeues: 3 },
    });
    // a re-enqueue (edit, --force) starts a fresh count
    await t.db.query(`select enqueue_raw_ids($1, array(select id from telegram_messages_raw), true)`, [VERSION]);
    await dies();
    expect(await requeueStale(t.db, 60, VERSION, config.worker.staleRequeueLimit)).toEqual({ requeued: 1, failed: 0 });
    expect((await jobRows(t.db)).map((j) => [j.status, j.meta.stale_requeues])).toEqual([['pending', 1]]);
  });

  it('a failed claim (database connections cut) is retried with backoff, not an exit', async () => {
    if (t.driver !== 'postgres') return; // PGlite runs in-process: there is no connection to cut
    await postAndEnqueue(t.db, fixturePosts(4));
    const abort = new AbortController();
    const log = recordingLog();
    const worker = runWorker(workerOptions({ db: t.db, config: workerConfig(), extractor: new RulesExtractor(), log, signal: abort.signal, staleSeconds: 0 }));
    await t.db.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`).catch(() => {});
    await until(async () => {
      const jobs = await jobRows(t.db).catch(() => []);
      return jobs.length === 4 && jobs.every((j) => j.status === 'ok' || j.status === 'skipped');
    }).catch(async (err) => {
      console.log(JSON.stringify(await jobRows(t.db).catch((e) => String(e))), JSON.stringify(log.lines.slice(-8)));
      throw err;
    });
    abort.abort();
    const summary = await worker;
    expect(summary.exit).toBe('stopped');
    expect(summary.outcomes.ok + summary.outcomes.skipped).toBe(4);
  });
});
