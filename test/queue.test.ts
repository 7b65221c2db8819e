import { expect, it } from 'vitest';
import { claim, complete, enqueue, enqueueRawIds, fail, heartbeat, outstanding, release, requeueStale, skip, stats, waitForWork } from '../src/queue/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { insertRaw, jobStatuses, setStatus } from './support/raw.ts';

const V = 'v1';
const CH = 't.me/agency';
const policy = { maxAttempts: 3, backoffBaseSeconds: 30, backoffMaxSeconds: 60 };

describeEachDatabase('queue', (t) => {
  it('enqueues one job per raw row; duplicates, unknown ids and deleted rows are not counted', async () => {
    await insertRaw(t.db, CH, [1, 2, 3, 4, 5]);
    await insertRaw(t.db, CH, [6], { deleted: true });
    const n = await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: ['1', '2', '3', '4', '5', '6', '99', '1', ' 2 ', 'abc'] });
    expect(n).toBe(5);
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'pending', 2: 'pending', 3: 'pending', 4: 'pending', 5: 'pending' });
  });

  it('never enqueues a deleted raw row, not even with force', async () => {
    await insertRaw(t.db, CH, [7], { deleted: true });
    expect(await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [7], force: true })).toBe(0);
    expect(await jobStatuses(t.db, V)).toEqual({});
  });

  it('without force keeps ok jobs and resets failed, skipped, processing and pending ones', async () => {
    await insertRaw(t.db, CH, [1, 2, 3, 4, 5]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2, 3, 4, 5] });
    await setStatus(t.db, V, 1, 'ok');
    await setStatus(t.db, V, 2, 'failed');
    await setStatus(t.db, V, 3, 'skipped');
    await setStatus(t.db, V, 4, 'processing');
    expect(await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2, 3, 4, 5] })).toBe(4);
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'ok', 2: 'pending', 3: 'pending', 4: 'pending', 5: 'pending' });
  });

  it('with force resets ok jobs too', async () => {
    await insertRaw(t.db, CH, [1, 2]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2] });
    await setStatus(t.db, V, 1, 'ok');
    await setStatus(t.db, V, 2, 'ok');
    expect(await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1], force: true })).toBe(1);
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'pending', 2: 'ok' });
  });

  it('issue 14 #9: a forced enqueue marks as a reparse only a job that has an outcome; a job never processed keeps its reason', async () => {
    await insertRaw(t.db, CH, [1, 2, 3, 4, 5, 6, 7]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2, 3, 4, 6] });
    const [edited] = await t.db.query<{ id: number }>(`select id from telegram_messages_raw where message_id = 5`);
    await enqueueRawIds(t.db, V, [edited!.id], false, 'edit');
    await setStatus(t.db, V, 1, 'ok');
    await setStatus(t.db, V, 2, 'skipped');
    await setStatus(t.db, V, 6, 'failed');
    await claim(t.db, V, 1); // message 3: claimed, still processing
    expect(await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2, 3, 4, 5, 6, 7], force: true })).toBe(7);
    const rows = await t.db.query<{ message_id: number; status: string; reason: string }>(
      `select message_id, status, meta ->> 'enqueue_reason' as reason from telegram_extractions where pipeline_version = $1 order by message_id`,
      [V],
    );
    expect(rows.map((r) => [r.message_id, r.status, r.reason])).toEqual([
      [1, 'pending', 'force'], // ok: a reparse
      [2, 'pending', 'force'], // skipped: a reparse
      [3, 'pending', 'new'], // processing its first run: never finished
      [4, 'pending', 'new'], // pending: never processed
      [5, 'pending', 'edit'], // an edit waiting for its run stays an edit
      [6, 'pending', 'new'], // failed: nothing was ever written or sent for it
      [7, 'pending', 'new'], // no job yet: a first run
    ]);
  });

  it('matches the channel link case-insensitively and compares message ids as numbers', async () => {
    await insertRaw(t.db, CH, [9, 10, 100]);
    const n = await enqueue(t.db, { pipelineVersion: V, channelLink: ' T.ME/Agency ', messageIds: ['10', '9', '100'] });
    expect(n).toBe(3);
    const jobs = await claim(t.db, V, 10);
    expect(jobs.map((j) => j.messageId)).toEqual([9, 10, 100]);
  });

  it('a new pipeline version gets its own jobs and leaves the old ones untouched', async () => {
    await insertRaw(t.db, CH, [1, 2]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2] });
    await setStatus(t.db, V, 1, 'ok');
    expect(await enqueue(t.db, { pipelineVersion: 'v2', channelLink: CH, messageIds: [1, 2] })).toBe(2);
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'ok', 2: 'pending' });
    expect(await jobStatuses(t.db, 'v2')).toEqual({ 1: 'pending', 2: 'pending' });
    expect((await claim(t.db, 'v2', 10)).every((j) => j.pipelineVersion === 'v2')).toBe(true);
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'ok', 2: 'pending' });
  });

  it('refuses an empty pipeline version', async () => {
    await insertRaw(t.db, CH, [1]);
    await expect(enqueue(t.db, { pipelineVersion: ' ', channelLink: CH, messageIds: [1] })).rejects.toThrow(/pipeline version/);
  });

  it('claims oldest first by (created_at, id); a requeued job keeps its place', async () => {
    await insertRaw(t.db, CH, [1, 2, 3, 4]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [3, 4] });
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2] });
    await t.db.query(`update telegram_extractions set created_at = now() - make_interval(secs => 100 - message_id)`);
    await t.db.query(`update telegram_extractions set created_at = now() - interval '1 hour' where message_id = 4`);
    const first = await claim(t.db, V, 2);
    expect(first.map((j) => j.messageId)).toEqual([4, 1]);
    const rest = await claim(t.db, V, 10);
    expect(rest.map((j) => j.messageId)).toEqual([2, 3]);
    expect(await claim(t.db, V, 10)).toEqual([]);
  });

  it('claim sets processing, stamps processing_started_at and counts attempts', async () => {
    await insertRaw(t.db, CH, [1]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const [job] = await claim(t.db, V, 5);
    expect(job).toMatchObject({ attempt: 1, channelLink: CH, messageId: 1 });
    expect(typeof job!.meta.processing_started_at).toBe('string');
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'processing' });
    await release(t.db, [job!], 'test');
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const [again] = await claim(t.db, V, 5);
    expect(again!.attempt).toBe(1); // a release does not spend an attempt
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] }); // processing → pending
    const [third] = await claim(t.db, V, 5);
    expect(third!.attempt).toBe(2); // the attempt keeps counting: it fences the earlier claim
    expect(third!.meta.attempt_base).toBe(1); // …but the re-enqueue started a fresh budget
  });

  it('a re-enqueued job gets a full attempt budget again (retries are not double-counted)', async () => {
    await insertRaw(t.db, CH, [1]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const policy = { maxAttempts: 2, backoffBaseSeconds: 0, backoffMaxSeconds: 0 };
    const err = { type: 'llm_timeout', message: 'slow' };
    let [job] = await claim(t.db, V, 1);
    expect((await fail(t.db, [{ ...job!, error: err, transient: true }], policy)).retried).toEqual([job!.id]);
    [job] = await claim(t.db, V, 1);
    expect((await fail(t.db, [{ ...job!, error: err, transient: true }], policy)).failed).toEqual([job!.id]);
    // an edit of the source post re-enqueues the failed job: two fresh attempts, not an instant failure
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    [job] = await claim(t.db, V, 1);
    expect(job!.attempt).toBe(3);
    expect((await fail(t.db, [{ ...job!, error: err, transient: true }], policy)).retried).toEqual([job!.id]);
    [job] = await claim(t.db, V, 1);
    expect((await fail(t.db, [{ ...job!, error: err, transient: true }], policy)).failed).toEqual([job!.id]);
  });

  it('complete stores the result and is fenced by the claiming attempt', async () => {
    await insertRaw(t.db, CH, [1, 2]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2] });
    const jobs = await claim(t.db, V, 5);
    const stale = { id: jobs[1]!.id, attempt: jobs[1]!.attempt + 1, canonical: { x: 1 } };
    const done = await complete(t.db, [
      { id: jobs[0]!.id, attempt: jobs[0]!.attempt, canonical: { subject: 'Math', nested: { ok: true } }, meta: { extractor: 'rules' }, llmModel: 'm1' },
      stale,
    ]);
    expect(done).toEqual([jobs[0]!.id]);
    const [row] = await t.db.query<{ status: string; canonical_json: unknown; meta: Record<string, unknown>; llm_model: string }>(
      'select status, canonical_json, meta, llm_model from telegram_extractions where id = $1',
      [jobs[0]!.id],
    );
    expect(row!.status).toBe('ok');
    expect(row!.canonical_json).toEqual({ subject: 'Math', nested: { ok: true } });
    expect(row!.meta).toMatchObject({ extractor: 'rules', attempt: 1 });
    expect(row!.llm_model).toBe('m1');
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'ok', 2: 'processing' });
  });

  it('a transient failure goes back to pending with backoff until the budget is spent, then fails', async () => {
    await insertRaw(t.db, CH, [1]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const noWait = { ...policy, backoffBaseSeconds: 0, backoffMaxSeconds: 0 };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [job] = await claim(t.db, V, 1);
      expect(job!.attempt).toBe(attempt);
      const out = await fail(t.db, [{ id: job!.id, attempt, transient: true, error: { type: 'llm_timeout', message: 'timed out' } }], noWait);
      expect(out).toEqual(attempt < 3 ? { retried: [job!.id], failed: [] } : { retried: [], failed: [job!.id] });
    }
    const [row] = await t.db.query<{ status: string; error_json: { type: string } }>('select status, error_json from telegram_extractions');
    expect(row).toMatchObject({ status: 'failed', error_json: { type: 'llm_timeout', message: 'timed out' } });
  });

  it('a retried job is not claimed again before its backoff has passed', async () => {
    await insertRaw(t.db, CH, [1]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const [job] = await claim(t.db, V, 1);
    await fail(t.db, [{ id: job!.id, attempt: 1, transient: true, error: { type: 'llm_http_503', message: 'busy' } }], policy);
    expect(await claim(t.db, V, 1)).toEqual([]);
    await t.db.query(`update telegram_extractions set next_attempt_at = now() - interval '1 second'`);
    expect((await claim(t.db, V, 1)).map((j) => j.attempt)).toEqual([2]);
  });

  it('a worker sweeps only its own version for stale jobs', async () => {
    await insertRaw(t.db, CH, [1, 2]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    await enqueue(t.db, { pipelineVersion: 'other', channelLink: CH, messageIds: [2] });
    await claim(t.db, V, 1);
    await claim(t.db, 'other', 1);
    await t.db.query(`update telegram_extractions set updated_at = now() - interval '1 hour'`);
    expect(await requeueStale(t.db, 600, V, 3)).toEqual({ requeued: 1, failed: 0 });
    expect(await jobStatuses(t.db, 'other')).toEqual({ 2: 'processing' });
    expect(await requeueStale(t.db, 600, null, 3)).toEqual({ requeued: 1, failed: 0 }); // null = every version (the operator's call)
  });

  it('issue 14 #10: a heartbeat keeps a claim from the stale sweep, and refreshes only the claim it holds', async () => {
    await insertRaw(t.db, CH, [1, 2]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2] });
    const [a, b] = await claim(t.db, V, 2);
    await t.db.query(`update telegram_extractions set updated_at = now() - interval '1 hour'`);
    // b's worker died and b was claimed again (attempt 2): b's old claim no longer refreshes it
    await t.db.query(`update telegram_extractions set meta = meta || '{"attempt": 2}' where id = $1`, [b!.id]);
    expect(await heartbeat(t.db, [a!, b!])).toEqual([a!.id]);
    expect(await requeueStale(t.db, 600, V, 3)).toEqual({ requeued: 1, failed: 0 });
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'processing', 2: 'pending' });
  });

  it('a permanent failure fails at once', async () => {
    await insertRaw(t.db, CH, [1]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const [job] = await claim(t.db, V, 1);
    const out = await fail(
      t.db,
      [{ id: job!.id, attempt: 1, transient: false, error: { type: 'llm_invalid_json', message: 'no JSON', snippet: 'I think' } }],
      policy,
    );
    expect(out.failed).toEqual([job!.id]);
  });

  it('skip records the reason', async () => {
    await insertRaw(t.db, CH, [1]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    const [job] = await claim(t.db, V, 1);
    expect(await skip(t.db, [{ id: job!.id, attempt: 1, reason: 'not_an_assignment' }])).toEqual([job!.id]);
    const [row] = await t.db.query<{ status: string; meta: { skip_reason: string } }>('select status, meta from telegram_extractions');
    expect(row).toMatchObject({ status: 'skipped', meta: { skip_reason: 'not_an_assignment' } });
  });

  it('requeues processing jobs older than the threshold, with the reason, and leaves fresh ones', async () => {
    await insertRaw(t.db, CH, [1, 2, 3]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2, 3] });
    await claim(t.db, V, 2);
    await t.db.query(`update telegram_extractions set updated_at = now() - interval '20 minutes' where message_id = 1`);
    expect(await requeueStale(t.db, 600, null, 3)).toEqual({ requeued: 1, failed: 0 });
    expect(await jobStatuses(t.db, V)).toEqual({ 1: 'pending', 2: 'processing', 3: 'pending' });
    const [row] = await t.db.query<{ meta: Record<string, unknown> }>('select meta from telegram_extractions where message_id = 1');
    expect(row!.meta.requeue_reason).toBe('stale_processing');
    expect(typeof row!.meta.requeued_at).toBe('string');
    expect(await t.db.query(`select requeue_stale_extractions(600) as r`)).toEqual([{ r: { count: 0, failed: 0 } }]);
  });

  it('stats counts jobs by version and status; outstanding counts pending + processing', async () => {
    await insertRaw(t.db, CH, [1, 2, 3]);
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1, 2, 3] });
    await enqueue(t.db, { pipelineVersion: 'v2', channelLink: CH, messageIds: [1] });
    await claim(t.db, V, 1);
    const rows = await stats(t.db);
    expect(rows.map((r) => [r.pipelineVersion, r.status, r.count])).toEqual([
      ['v1', 'pending', 2],
      ['v1', 'processing', 1],
      ['v2', 'pending', 1],
    ]);
    expect((await stats(t.db, 'v2')).length).toBe(1);
    expect(await outstanding(t.db, V)).toBe(3);
  });

  it('waitForWork wakes on enqueue of its version and otherwise times out', async () => {
    await insertRaw(t.db, CH, [1, 2]);
    expect(await waitForWork(t.db, V, { timeoutMs: 50 })).toBe('timeout');
    const started = Date.now();
    const waiting = waitForWork(t.db, V, { timeoutMs: 10_000 });
    const other = waitForWork(t.db, 'other', { timeoutMs: 300 });
    await new Promise((r) => setTimeout(r, 50));
    await enqueue(t.db, { pipelineVersion: V, channelLink: CH, messageIds: [1] });
    expect(await waiting).toBe('notified');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await other).toBe('timeout');
    const controller = new AbortController();
    const aborted = waitForWork(t.db, V, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await aborted).toBe('aborted');
  });
});
