import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createExtractor, triage } from '../../src/extraction/index.ts';
import type { LlmExtractor } from '../../src/extraction/llm/index.ts';
import { describePostgres } from '../support/databases.ts';
import { EXAMPLES } from '../support/assignments.ts';
import { startFakeLlm, type LlmFault } from '../support/fake-llm.ts';
import { drain, postAndEnqueue, workerConfig } from '../support/worker.ts';

/**
 * Fault: the LLM misbehaves in every way at once – 500s, garbage content, hangs and replies slower than the
 * timeout – then goes fully down long enough to open the circuit breaker, then recovers.
 *
 * Project semantics this checks (src/extraction/llm, src/worker/job.ts):
 *  - timeouts / 5xx are transient: the client retries them (3 tries per job attempt), then the job goes back to
 *    pending with one attempt spent; after EXTRACTION_MAX_ATTEMPTS it is `failed` (no fallback to rules);
 *  - garbage content is a permanent error: the job is `failed` (llm_invalid_json) at once, no retry;
 *  - while the breaker is open the worker stops claiming, and jobs that hit it are released without spending
 *    budget; a half-open probe closes it once the LLM answers again.
 */

const JOBS = Number(process.env.FAULT_LLM_JOBS ?? 300);
const SEED = process.env.FAULT_LLM_SEED ?? 'llm-fault-1';
const JOB_ATTEMPTS = 3; // EXTRACTION_MAX_ATTEMPTS
const CLIENT_TRIES = 3; // LlmClient default maxAttempts (createExtractor does not change it)
const TIMEOUT_S = 1; // LLM_TIMEOUT_SECONDS (its minimum)
const SLOW_MS = 1500; // slow replies arrive after the client gave up

let llm: Awaited<ReturnType<typeof startFakeLlm>>;
beforeAll(async () => {
  llm = await startFakeLlm({ slowMs: SLOW_MS });
});
afterAll(async () => llm.close());

type Phase = 'mixed' | 'outage' | 'healthy';

/** Deterministic number in [0, 1) for (job, nth request of that job, phase): the schedule does not depend on timing. */
function unit(...parts: (string | number)[]): number {
  return (
    createHash('sha256')
      .update([SEED, ...parts].join(':'))
      .digest()
      .readUInt32BE(0) /
    2 ** 32
  );
}

/** The fault a request gets: per job and per try in the mixed phase, mostly 5xx in the outage, none when healthy. */
function scheduled(phase: Phase, job: number, nth: number): LlmFault {
  if (phase === 'healthy') return 'ok';
  const h = unit(phase, job, nth);
  if (phase === 'outage') return h < 0.7 ? 'down' : h < 0.85 ? 'hang' : 'slow';
  if (job % 40 === 5) return 'down'; // poison: always 500 → spends its whole budget
  if (job % 40 === 25) return 'hang'; // poison: always times out → spends its whole budget
  return h < 0.12 ? 'down' : h < 0.17 ? 'garbage' : h < 0.23 ? 'hang' : h < 0.29 ? 'slow' : 'ok';
}

const MARK = /LLMFAULTJOB(\d+)X/;

describePostgres('fault: LLM timeouts, 500s, garbage, slow replies, outage and recovery', (t) => {
  it(`${JOBS} jobs: bounded retries, breaker opens and closes, no job lost or left processing`, async () => {
    const started = Date.now();
    const env = {
      EXTRACTION_MODE: 'llm',
      LLM_API_URL: llm.url,
      LLM_TIMEOUT_SECONDS: String(TIMEOUT_S),
      LLM_CIRCUIT_BREAKER_THRESHOLD: '3',
      LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS: '1',
      EXTRACTION_MAX_ATTEMPTS: String(JOB_ATTEMPTS),
      EXTRACTION_WORKER_CONCURRENCY: '16',
      EXTRACTION_WORKER_BATCH_SIZE: '16',
      DUPLICATE_DETECTION_ENABLED: '0',
    };
    const config = workerConfig(env);

    // Posts that triage sends to the extractor as exactly one item, each made unique by a marker (no reuse
    // across jobs), so every LLM request can be attributed to its job.
    const marked = (raw: string, i: number) => `${raw.trim()}\n\nRef LLMFAULTJOB${i}X`;
    const usable = EXAMPLES.filter((e) => {
      const r = triage({ text: marked(e.raw, 0), isForward: false, isReply: false, deleted: false });
      return r.action === 'extract' && r.items.length === 1 && r.items[0]!.text.includes('LLMFAULTJOB0X');
    });
    expect(usable.length).toBeGreaterThan(10);
    const posts = Array.from({ length: JOBS }, (_, i) => ({ channel: `t.me/llmfault${i}`, messageId: 1, text: marked(usable[i % usable.length]!.raw, i) }));
    const rawIds: number[] = [];
    for (let i = 0; i < posts.length; i += 100) rawIds.push(...(await postAndEnqueue(t.db, posts.slice(i, i + 100))));
    const jobOfRaw = new Map(rawIds.map((id, i) => [id, i]));

    // The fault schedule, per job and per request of that job.
    let phase: Phase = 'mixed';
    const perJob = new Map<number, LlmFault[]>();
    const byKind = new Map<string, number>();
    let unattributed = 0;
    llm.setFaults((post) => {
      const m = MARK.exec(post);
      if (!m) {
        unattributed++;
        return 'ok';
      }
      const job = Number(m[1]);
      const list = perJob.get(job) ?? [];
      const fault = scheduled(phase, job, list.length);
      list.push(fault);
      perJob.set(job, list);
      byKind.set(`${phase}/${fault}`, (byKind.get(`${phase}/${fault}`) ?? 0) + 1);
      return fault;
    });

    // The production extractor (as `tutordex worker` builds it), its breaker watched through its transitions.
    const extractor = createExtractor(config, 'llm', { db: t.db }) as LlmExtractor;
    const breaker = extractor.breaker;
    const events: { kind: 'open' | 'reopen' | 'close'; at: number; phase: Phase }[] = [];
    const onFailure = breaker.onFailure.bind(breaker);
    const onSuccess = breaker.onSuccess.bind(breaker);
    breaker.onFailure = () => {
      const before = breaker.state();
      onFailure();
      if (breaker.stats().opened_at === null) return;
      if (before === 'closed') events.push({ kind: 'open', at: Date.now(), phase });
      else if (before === 'half_open') events.push({ kind: 'reopen', at: Date.now(), phase }); // a failed probe
      // (a job that was already in flight failing while open only extends the open window)
    };
    breaker.onSuccess = () => {
      const wasOpen = breaker.stats().opened_at !== null;
      onSuccess();
      if (wasOpen) events.push({ kind: 'close', at: Date.now(), phase });
    };

    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}\n${w.stack ?? ''}`);
    process.on('warning', onWarning);
    const running = drain(t.db, config, { broadcast: false, dms: false }, { extractor, intervals: { staleMs: 500, heartbeatMs: 500, maintenanceMs: 600_000 } });
    let finished = false;
    void running.then(
      () => (finished = true),
      () => (finished = true),
    );

    const terminal = async () =>
      (await t.db.query<{ n: number }>(`select count(*)::int as n from telegram_extractions where status in ('ok', 'skipped', 'failed')`))[0]!.n;
    const waitFor = async (what: string, check: () => Promise<boolean> | boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!(await check())) {
        if (finished) throw new Error(`worker exited while waiting for: ${what}`);
        if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // Phase 1: mixed faults until half the jobs are done.
    await waitFor('half the jobs terminal', async () => (await terminal()) >= JOBS / 2, 60_000);
    const mixedDone = await terminal();
    const mixedMs = Date.now() - started;

    // Phase 2: the LLM is down until the breaker opened and at least one half-open probe failed.
    phase = 'outage';
    const outageStart = Date.now();
    await waitFor(
      'a failed half-open probe during the outage (so the breaker opened)',
      () => events.some((e) => e.phase === 'outage' && e.kind === 'reopen') && Date.now() - outageStart >= 4000,
      30_000,
    );
    const outageMs = Date.now() - outageStart;
    const stateAtHeal = breaker.state();

    // Phase 3: healthy again. Every job still waiting in the queue must now complete.
    phase = 'healthy';
    const healAt = Date.now();
    const pendingAtHeal = await t.db.query<{ raw_id: number }>(`select raw_id from telegram_extractions where status = 'pending'`);
    const { result, log } = await running.finally(() => process.off('warning', onWarning));
    const wallMs = Date.now() - started;

    // ---- figures
    const statuses = await t.db.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from telegram_extractions group by status order by status`,
    );
    const rows = await t.db.query<{ raw_id: number; status: string; error_type: string | null }>(
      `select raw_id, status, error_json ->> 'type' as error_type from telegram_extractions`,
    );
    const failedBy = new Map<string, number>();
    for (const r of rows) if (r.status === 'failed') failedBy.set(r.error_type ?? 'null', (failedBy.get(r.error_type ?? 'null') ?? 0) + 1);
    const counts = [...perJob.values()].map((l) => l.length);
    const totalRequests = llm.served.length;
    const maxPerJob = Math.max(0, ...counts);
    const opens = events.filter((e) => e.kind === 'open').length;
    const reopens = events.filter((e) => e.kind === 'reopen').length;
    const closes = events.filter((e) => e.kind === 'close').length;
    const paused = log.lines.filter((l) => l.event === 'worker_paused_llm_breaker_open').length;
    const stats = breaker.stats();
    console.log(
      `[fault] llm: ${JOBS} jobs in ${(wallMs / 1000).toFixed(1)} s (mixed ${(mixedMs / 1000).toFixed(1)} s → ${mixedDone} done, outage ${(outageMs / 1000).toFixed(1)} s, ` +
        `recovery ${((Date.now() - healAt) / 1000).toFixed(1)} s); jobs ${JSON.stringify(statuses)}; failed by type ${JSON.stringify(Object.fromEntries(failedBy))}; ` +
        `worker outcomes ${JSON.stringify(result.outcomes)} exit ${result.exit}`,
    );
    console.log(
      `[fault] llm: requests ${totalRequests} (unattributed ${unattributed}), max per job ${maxPerJob} (bound ${CLIENT_TRIES}×${JOB_ATTEMPTS}=${CLIENT_TRIES * JOB_ATTEMPTS}), ` +
        `jobs with ≥1 request ${perJob.size}; by phase/fault ${JSON.stringify(Object.fromEntries([...byKind].sort()))}`,
    );
    console.log(
      `[fault] llm: breaker opened ${opens}× (re-opened by failed probes ${reopens}×), closed ${closes}×; state at heal ${stateAtHeal}, at end ${stats.state}; ` +
        `rejected calls ${stats.total_rejected}; worker paused-log lines ${paused}; ${pendingAtHeal.length} jobs pending at heal; process warnings ${warnings.length}; ` +
        `events ${events.map((e) => `${e.kind}@${((e.at - started) / 1000).toFixed(1)}s/${e.phase}`).join(' ')}`,
    );

    // ---- no job lost, none left processing or pending
    // one 'abort' listener per LLM request used to pile up on the worker's shutdown signal
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    expect(result.exit).toBe('drained');
    expect(rows.length).toBe(JOBS);
    expect(new Set(rows.map((r) => r.raw_id))).toEqual(new Set(rawIds));
    expect(rows.filter((r) => !['ok', 'skipped', 'failed'].includes(r.status))).toEqual([]);

    // ---- bounded retries, and each terminal state explained by what the LLM did
    expect(unattributed).toBe(0);
    expect(maxPerJob).toBeLessThanOrEqual(CLIENT_TRIES * JOB_ATTEMPTS);
    expect(totalRequests).toBeLessThanOrEqual(CLIENT_TRIES * JOB_ATTEMPTS * JOBS);
    for (const r of rows) {
      const job = jobOfRaw.get(r.raw_id)!;
      const seen = perJob.get(job) ?? [];
      const why = { job, status: r.status, error_type: r.error_type, seen };
      if (r.status === 'ok') expect(seen.at(-1), JSON.stringify(why)).toBe('ok');
      if (r.status === 'failed' && r.error_type === 'llm_invalid_json') expect(seen.at(-1), JSON.stringify(why)).toBe('garbage');
      if (r.status === 'failed' && r.error_type !== 'llm_invalid_json') {
        // transient: the whole budget was spent, every try failed, and no more
        expect(['llm_http_5xx', 'llm_timeout'], JSON.stringify(why)).toContain(r.error_type);
        expect(seen.length, JSON.stringify(why)).toBe(CLIENT_TRIES * JOB_ATTEMPTS);
        expect(
          seen.every((f) => f === 'down' || f === 'hang' || f === 'slow'),
          JSON.stringify(why),
        ).toBe(true);
      }
    }
    expect(failedBy.get('llm_invalid_json') ?? 0).toBeGreaterThan(0);
    expect((failedBy.get('llm_http_5xx') ?? 0) + (failedBy.get('llm_timeout') ?? 0)).toBeGreaterThan(0);

    // ---- the breaker opened, the worker paused, jobs were given back without budget, and it closed again
    expect(opens).toBeGreaterThanOrEqual(1);
    expect(closes).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.kind === 'close' && e.at >= healAt)).toBe(true);
    expect(stats.state).toBe('closed');
    expect(paused).toBeGreaterThan(0);
    expect(result.outcomes.released).toBeGreaterThan(0);

    // ---- once healthy, everything still waiting completed
    const after = new Map(rows.map((r) => [r.raw_id, r.status]));
    expect(pendingAtHeal.length).toBeGreaterThan(0);
    expect(pendingAtHeal.filter((p) => !['ok', 'skipped'].includes(after.get(p.raw_id)!))).toEqual([]);
    expect(wallMs).toBeLessThan(120_000);
  });
});
