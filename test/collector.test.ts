import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadCatchupCursors, runBackfill, runCatchup, runEnqueue, runImport, runLive } from '../src/collector/index.ts';
import type { Database } from '../src/db/index.ts';
import { UserError } from '../src/errors.ts';
import { claim, complete, fail, skip } from '../src/queue/index.ts';
import { latestMessageDates } from '../src/raw/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import { TransientSourceError, type ChannelSource } from '../src/telegram/index.ts';
import { checkHealth } from '../src/web/health.ts';
import { describeEachDatabase } from './support/databases.ts';
import { backfillOptions as oneAttempt, channel, context, jobs, minutes, rawRows, sourceWith, testConfig } from './support/collector.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tutordex-collector-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Retries of a failing channel: three attempts. */
const backfillOptions = (over: Parameters<typeof oneAttempt>[0] = {}) => oneAttempt({ channelAttempts: 3, ...over });

const runs = (db: Parameters<typeof rawRows>[0]) =>
  db.query<{ run_type: string; status: string; meta: Record<string, unknown> }>('select run_type, status, meta from ingestion_runs order by id');

describeEachDatabase('backfill', (t) => {
  it('stores the window [since, until): a post exactly at since is in, exactly at until is out; enqueues each once', async () => {
    const source = sourceWith({ alpha: 10 });
    const result = await runBackfill(context(t.db), source, backfillOptions({ window: { since: minutes(3), until: minutes(8) } }));
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([3, 4, 5, 6, 7]);
    expect((await rawRows(t.db))[0]!.raw_text).toBe('alpha post 3');
    expect((await jobs(t.db)).map((j) => [j.message_id, j.status])).toEqual([
      [3, 'pending'],
      [4, 'pending'],
      [5, 'pending'],
      [6, 'pending'],
      [7, 'pending'],
    ]);
    expect(result).toMatchObject({ status: 'ok', totals: { total_scanned: 5, total_written: 5, total_enqueued: 5, channels_done: 1 } });
    const [run] = await runs(t.db);
    expect(run).toMatchObject({ run_type: 'backfill', status: 'ok', meta: { total_scanned: 5, since: minutes(3).toISOString() } });
    const [progress] = await t.db.query('select channel_link, scanned_count, inserted_count, last_message_id from ingestion_run_progress');
    expect(progress).toEqual({ channel_link: 't.me/alpha', scanned_count: 5, inserted_count: 5, last_message_id: 3 });
  });

  it('a run left running by a process killed unseen (no heartbeat for 5 min) is closed as abandoned by the next run', async () => {
    const source = sourceWith({ alpha: 3 });
    // a live-looking run (recent heartbeat) and a dead one (silent for 6 minutes), as kill -9 leaves them
    await t.db.query(
      `insert into ingestion_runs (run_type, status, channels, started_at, heartbeat_at, meta)
       values ('backfill', 'running', '["t.me/alpha"]', now() - interval '10 minutes', now() - interval '6 minutes', '{}'),
              ('live', 'running', '["t.me/alpha"]', now() - interval '10 minutes', now() - interval '20 seconds', '{}')`,
    );
    const ctx = context(t.db);
    await runBackfill(ctx, source, backfillOptions());
    const all = await t.db.query<{ run_type: string; status: string; meta: Record<string, unknown>; closed_at_heartbeat: boolean }>(
      `select run_type, status, meta, finished_at = heartbeat_at as closed_at_heartbeat from ingestion_runs order by id`,
    );
    expect(all.map((r) => [r.run_type, r.status])).toEqual([
      ['backfill', 'error'],
      ['live', 'running'],
      ['backfill', 'ok'],
    ]);
    expect(all[0]).toMatchObject({ meta: { abandoned: true }, closed_at_heartbeat: true });
    expect(String(all[0]!.meta.error)).toMatch(/no heartbeat for 300 s/);
    expect(ctx.log.lines.some((l) => l.event === 'ingestion_runs_abandoned')).toBe(true);
  });

  it('a second backfill of the same window writes no duplicates and leaves ok jobs alone', async () => {
    const source = sourceWith({ alpha: 6 });
    await runBackfill(context(t.db), source, backfillOptions());
    const claimed = await claim(t.db, 'v1', 2);
    await complete(
      t.db,
      claimed.map((j) => ({ id: j.id, attempt: j.attempt, canonical: {} })),
    );
    const again = await runBackfill(context(t.db), source, backfillOptions());
    expect(again.totals).toMatchObject({ total_scanned: 6, total_written: 6, total_enqueued: 0 }); // unchanged text: no job reset (issue 14 #12)
    expect((await rawRows(t.db)).length).toBe(6);
    expect((await jobs(t.db)).filter((j) => j.status === 'ok').length).toBe(2);
  });

  it('--max-messages caps each channel; EXTRACTION_QUEUE_ENABLED=0 stores without enqueueing', async () => {
    const source = sourceWith({ alpha: 10, bravo: 4 });
    await runBackfill(
      context(t.db, { config: testConfig({ queue: false }) }),
      source,
      backfillOptions({ channels: ['t.me/alpha', 't.me/bravo'], maxMessages: 3 }),
    );
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([8, 9, 10, 2, 3, 4]);
    expect(await jobs(t.db)).toEqual([]);
  });

  it('service messages are stored but never enqueued', async () => {
    const source = sourceWith({ alpha: 2 });
    source.post('t.me/alpha', makeMessage({ id: 3, date: minutes(3), text: '', isService: true }), { silent: true });
    await runBackfill(context(t.db), source, backfillOptions());
    expect((await rawRows(t.db)).length).toBe(3);
    expect((await jobs(t.db)).map((j) => j.message_id)).toEqual([1, 2]);
  });

  it('an unknown channel fails before anything is written', async () => {
    const source = sourceWith({ alpha: 3 });
    const err = await runBackfill(context(t.db), source, backfillOptions({ channels: ['t.me/alpha', 't.me/nosuchchan'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain('t.me/nosuchchan');
    expect(await rawRows(t.db)).toEqual([]);
    expect(await runs(t.db)).toEqual([]);
  });

  it('transient failures are retried within the run, from the checkpoint', async () => {
    const source = sourceWith({ alpha: 10 });
    let failures = 0;
    source.beforeYield = (_link, m) => {
      if (m.id === 5 && failures < 2) {
        failures++;
        throw new TransientSourceError('FloodWait', 0);
      }
    };
    const result = await runBackfill(context(t.db), source, backfillOptions({ batchSize: 2 }));
    expect(result.status).toBe('ok');
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // every retry started below the last written batch, not from the top
    expect(source.historyCalls.map((c) => c.request.maxId ?? null)).toEqual([null, 7, 7]);
  });

  it('an interrupted backfill resumes from its durable checkpoint with no gap and no duplicate', async () => {
    const source = sourceWith({ alpha: 10 });
    source.beforeYield = (_link, m) => {
      if (m.id === 4) throw new Error('connection lost for good');
    };
    await expect(runBackfill(context(t.db), source, backfillOptions())).rejects.toThrow('connection lost for good');
    expect((await runs(t.db))[0]).toMatchObject({ status: 'error', meta: { error: 'connection lost for good' } });
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([5, 6, 7, 8, 9, 10]);

    source.beforeYield = null;
    source.post('t.me/alpha', makeMessage({ id: 11, date: minutes(11) }), { silent: true }); // arrived meanwhile
    source.historyCalls.length = 0;
    const resumed = await runBackfill(context(t.db), source, backfillOptions());
    expect(resumed.totals.resumed_channels).toEqual(['t.me/alpha']);
    expect(source.historyCalls.map((c) => [c.request.minId ?? null, c.request.maxId ?? null])).toEqual([
      [10, null],
      [null, 5],
    ]);
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await jobs(t.db)).length).toBe(11);
  });

  it('SIGINT mid-run: what was read is written, the run ends cancelled with its counts', async () => {
    const source = sourceWith({ alpha: 10 });
    const abort = new AbortController();
    source.beforeYield = (_link, m) => {
      if (m.id === 6) abort.abort();
    };
    const result = await runBackfill(context(t.db, { signal: abort.signal }), source, backfillOptions());
    expect(result.status).toBe('cancelled');
    expect((await runs(t.db))[0]).toMatchObject({ status: 'cancelled', meta: { total_scanned: 5 } });
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([6, 7, 8, 9, 10]);
  });
});

describeEachDatabase('enqueue from raw', (t) => {
  it('enqueues the window page by page, per-channel caps, force, deleted rows skipped, new version gets new jobs', async () => {
    const source = sourceWith({ alpha: 120, bravo: 5 });
    await runBackfill(
      context(t.db, { config: testConfig({ queue: false }) }),
      source,
      backfillOptions({ channels: ['t.me/alpha', 't.me/bravo'], batchSize: 50 }),
    );
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/alpha' and message_id in (10, 11)`);
    const ctx = context(t.db);
    const first = await runEnqueue(ctx, {
      channels: ['t.me/alpha', 't.me/bravo'],
      window: { since: minutes(1), until: minutes(101) },
      maxMessages: null,
      force: false,
      pageSize: 50,
    });
    expect(first.totals).toEqual({ total_scanned: 103, total_enqueued: 103 });
    const again = await runEnqueue(ctx, { channels: ['t.me/alpha'], window: { since: null, until: null }, maxMessages: null, force: false, pageSize: 50 });
    // 20 new jobs (101..120) plus the 98 still pending, which a non-forced enqueue resets (counted, as in the seed)
    expect(again.totals).toEqual({ total_scanned: 118, total_enqueued: 118 });
    expect((await jobs(t.db)).length).toBe(123);
    const capped = await runEnqueue(context(t.db, { config: testConfig({ version: 'v2' }) }), {
      channels: ['t.me/alpha', 't.me/bravo'],
      window: { since: null, until: null },
      maxMessages: 7,
      force: false,
      pageSize: 50,
    });
    expect(capped.totals).toEqual({ total_scanned: 12, total_enqueued: 12 });
    expect((await jobs(t.db, 'v2')).map((j) => j.message_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5]);
    const claimed = await claim(t.db, 'v2', 3);
    await complete(
      t.db,
      claimed.map((j) => ({ id: j.id, attempt: j.attempt, canonical: {} })),
    );
    const forced = await runEnqueue(context(t.db, { config: testConfig({ version: 'v2' }) }), {
      channels: ['t.me/alpha'],
      window: { since: null, until: null },
      maxMessages: 7,
      force: true,
      pageSize: 50,
    });
    expect(forced.totals).toEqual({ total_scanned: 7, total_enqueued: 7 });
    expect((await jobs(t.db)).length).toBe(123);
  });
});

describeEachDatabase('tail', (t) => {
  it('new → stored and enqueued; edit → new text, version kept, ok job re-queued; delete → deleted_at; run ends cancelled', async () => {
    const source = sourceWith({ alpha: 0 });
    const abort = new AbortController();
    const ctx = context(t.db, { signal: abort.signal });
    const live = runLive(ctx, source, { channels: ['t.me/alpha'], catchupSource: null });
    while (!(await t.db.query(`select 1 from ingestion_runs where status = 'running'`)).length) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    source.post('t.me/alpha', makeMessage({ id: 1, date: minutes(1), text: 'P5 Math $40/h' }));
    source.post('t.me/alpha', makeMessage({ id: 2, date: minutes(2), text: 'Sec 2 Chem' }));
    source.edit('t.me/alpha', 1, 'P5 Math $45/h', minutes(3)); // arrives right behind the post it edits
    await source.settle();
    const claimed = await claim(t.db, 'v1', 10);
    await complete(
      t.db,
      claimed.map((j) => ({ id: j.id, attempt: j.attempt, canonical: {} })),
    );
    source.edit('t.me/alpha', 2, 'Sec 2 Chem (taken)', minutes(4));
    source.delete('t.me/alpha', [1]);
    source.delete('t.me/alpha', [2], { anonymous: true }); // no chat named: not ours to apply
    await source.settle();
    abort.abort();
    const result = await live;
    expect(result.status).toBe('cancelled');
    const rows = await rawRows(t.db);
    expect(rows.map((r) => [r.message_id, r.raw_text, r.deleted_at !== null])).toEqual([
      [1, 'P5 Math $45/h', true],
      [2, 'Sec 2 Chem (taken)', false],
    ]);
    expect((await jobs(t.db)).map((j) => [j.message_id, j.status])).toEqual([
      [1, 'ok'],
      [2, 'pending'],
    ]);
    const versions = await t.db.query<{ raw_text: string }>('select raw_text from telegram_message_versions order by id');
    expect(versions.map((v) => v.raw_text)).toEqual(['P5 Math $40/h', 'Sec 2 Chem', 'P5 Math $45/h', 'Sec 2 Chem (taken)']);
    const [run] = await t.db.query<{ run_type: string; status: string; meta: Record<string, unknown> }>('select run_type, status, meta from ingestion_runs');
    expect(run).toMatchObject({ run_type: 'tail', status: 'cancelled', meta: { newMessages: 2, edits: 2, deletes: 1 } });
    const [progress] = await t.db.query('select scanned_count, last_message_id from ingestion_run_progress');
    expect(progress).toEqual({ scanned_count: 2, last_message_id: 2 });
  });
});

describeEachDatabase('tail edits (issue 14 #12)', (t) => {
  it('an edit event that leaves the text alone does not reset the job being processed; one with new text re-enqueues it', async () => {
    const source = sourceWith({ alpha: 0 });
    const abort = new AbortController();
    const live = runLive(context(t.db, { signal: abort.signal }), source, { channels: ['t.me/alpha'], catchupSource: null });
    while (!(await t.db.query(`select 1 from ingestion_runs where status = 'running'`)).length) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    source.post('t.me/alpha', makeMessage({ id: 1, date: minutes(1), text: 'P5 Math $40/h' }));
    await source.settle();
    const [job] = await claim(t.db, 'v1', 1);
    const before = await jobState(t.db, 't.me/alpha');
    source.edit('t.me/alpha', 1, 'P5 Math $40/h', minutes(2)); // e.g. only its buttons changed
    await source.settle();
    expect(await jobState(t.db, 't.me/alpha')).toEqual(before);
    source.edit('t.me/alpha', 1, 'P5 Math $45/h', minutes(3));
    await source.settle();
    abort.abort();
    await live;
    const after = (await jobState(t.db, 't.me/alpha')).get(1)!;
    expect([after.status, after.meta.enqueue_reason]).toEqual(['pending', 'edit']);
    expect(await complete(t.db, [{ id: job!.id, attempt: job!.attempt, canonical: {} }])).toEqual([]); // the run of the old text is discarded
  });
});

describeEachDatabase('catch-up', (t) => {
  async function seed(source: ReturnType<typeof sourceWith>, upTo: number) {
    await runBackfill(context(t.db), source, backfillOptions({ channels: ['t.me/alpha'], window: { since: null, until: minutes(upTo + 1) } }));
  }

  it('heals the downtime gap from the newest stored message to the moment the tail listens (plus overlap), in chunks, with overlap and no duplicates', async () => {
    const source = sourceWith({ alpha: 600 }); // posts every minute for 10 hours
    await seed(source, 100);
    const ctx = context(t.db, { config: testConfig({ chunkHours: 2, overlapMinutes: 10, queueLowWatermark: 100_000 }) });
    const snapshot = await latestMessageDates(t.db, ['t.me/alpha']);
    const result = await runCatchup(ctx, source, [channel('alpha')], { snapshot, listeningSince: minutes(592) });
    expect(result.status).toBe('ok');
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect((await jobs(t.db)).length).toBe(600);
    // slices: from the stored cursor (minute 100) to listening + overlap (minute 602), 2 h each, starting 10 min early
    const slices = source.historyCalls.filter((c) => c.request.since).map((c) => [c.request.since!.getTime(), c.request.until!.getTime()]);
    expect(slices[0]).toEqual([minutes(90).getTime(), minutes(220).getTime()]);
    expect(slices.at(-1)![1]).toBe(minutes(602).getTime());
    expect(await loadCatchupCursors(t.db)).toEqual(
      new Map([['t.me/alpha', expect.objectContaining({ status: 'ok', target: minutes(602), readUntil: minutes(602), lastError: null })]]),
    );
  });

  it('a restart mid-catch-up resumes at the durable cursor, reaches the new listening moment, and heals the whole gap', async () => {
    const source = sourceWith({ alpha: 600 });
    await seed(source, 100);
    const config = testConfig({ chunkHours: 1, overlapMinutes: 0, maxAttempts: 1, queueLowWatermark: 100_000 });
    source.beforeYield = (_l, m) => {
      if (m.id === 300) throw new Error('process killed');
    };
    const snapshot = await latestMessageDates(t.db, ['t.me/alpha']);
    await expect(runCatchup(context(t.db, { config }), source, [channel('alpha')], { snapshot, listeningSince: minutes(399) })).rejects.toThrow(
      'process killed',
    );
    const broken = (await loadCatchupCursors(t.db)).get('t.me/alpha')!;
    expect(broken).toMatchObject({ status: 'error', readUntil: minutes(280), target: minutes(400), lastError: 'process killed' });
    expect((await runs(t.db)).at(-1)).toMatchObject({ run_type: 'catchup', status: 'error' });

    // back up much later: the old target (minute 400) would leave 400..602 missing forever
    source.beforeYield = null;
    const later = await latestMessageDates(t.db, ['t.me/alpha']);
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], { snapshot: later, listeningSince: minutes(601) });
    expect(source.historyCalls.at(-1)!.request.until).toEqual(minutes(602));
    expect(
      source.historyCalls
        .filter((c) => c.request.since)
        .map((c) => c.request.since!.getTime())
        .slice(4)[0],
    ).toBe(minutes(280).getTime()); // resumed, not restarted
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect((await loadCatchupCursors(t.db)).get('t.me/alpha')).toMatchObject({ status: 'ok', target: minutes(602), lastError: null });
  });

  it('a backlog above the watermark delays the next round until the queue drains', async () => {
    const source = sourceWith({ alpha: 200 });
    await seed(source, 100); // leaves 100 pending jobs
    const config = testConfig({ chunkHours: 1, overlapMinutes: 0, queueLowWatermark: 10, checkIntervalSeconds: 0.02 });
    const ctx = context(t.db, { config });
    const run = runCatchup(ctx, source, [channel('alpha')], { snapshot: await latestMessageDates(t.db, ['t.me/alpha']), listeningSince: minutes(200) });
    await new Promise((r) => setTimeout(r, 150));
    expect(source.historyCalls.filter((c) => c.request.since).length).toBe(0); // still waiting
    expect(ctx.log.lines.some((l) => l.event === 'recovery_wait_queue')).toBe(true);
    // a worker drains the queue; every round of the catch-up waits for it again
    let done = false;
    const worker = (async () => {
      while (!done) {
        const batch = await claim(t.db, 'v1', 50);
        if (!batch.length) await new Promise((r) => setTimeout(r, 10));
        else
          await complete(
            t.db,
            batch.map((j) => ({ id: j.id, attempt: j.attempt, canonical: {} })),
          );
      }
    })();
    const result = await run;
    done = true;
    await worker;
    expect(ctx.log.lines.filter((l) => l.event === 'recovery_wait_queue').length).toBeGreaterThan(1);
    expect(result.status).toBe('ok');
    expect((await rawRows(t.db)).length).toBe(200);
  });
});

/** A memory channel whose posts are dated relative to the real clock (runLive takes the listening moment from it). */
function recentChannel(name: string, minutesAgo: number[]) {
  const now = Date.now();
  const source = new MemorySource();
  source.addChannel(
    channel(name),
    minutesAgo.map((ago, i) => makeMessage({ id: i + 1, date: new Date(now - ago * 60_000), text: `${name} post ${i + 1}` })),
  );
  return source;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeEachDatabase('live', (t) => {
  it('captures catch-up cursors before the tail writes, so a fresh post cannot hide the gap', async () => {
    const source = recentChannel(
      'alpha',
      Array.from({ length: 50 }, (_, i) => 100 - i),
    ); // 100..51 minutes ago
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: new Date(Date.now() - 80.5 * 60_000) } })); // stored 1..20
    expect((await rawRows(t.db)).length).toBe(20);
    const abort = new AbortController();
    const config = testConfig({ chunkHours: 72, overlapMinutes: 5, queueLowWatermark: 1000 });
    let outcome: string | null = null;
    const live = runLive(context(t.db, { config, signal: abort.signal }), source, {
      channels: ['t.me/alpha'],
      catchupSource: source,
      onCatchupSettled: (o) => (outcome = o),
    });
    await waitFor(
      'the tail to listen',
      async () => (await t.db.query(`select 1 from ingestion_runs where run_type = 'live' and status = 'running'`)).length > 0,
    );
    source.post('t.me/alpha', makeMessage({ id: 51, date: new Date() })); // the tail sees a brand-new post at once
    await waitFor('the catch-up', async () => outcome !== null);
    abort.abort();
    expect((await live).status).toBe('cancelled');
    expect(outcome).toBe('ok');
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect((await runs(t.db)).map((r) => [r.run_type, r.status])).toEqual([
      ['backfill', 'ok'],
      ['live', 'cancelled'],
      ['catchup', 'ok'],
    ]);
  });

  it('issue 15 #1: posts made in the last minutes before a restart (before the tail listens) are collected by the catch-up', async () => {
    // stored up to 30 minutes ago; then TutorDex was down; posts 20, 2 and 1 minutes and 5 seconds before it listens
    const source = recentChannel('alpha', [60, 45, 30, 20, 2, 1, 5 / 60]);
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: new Date(Date.now() - 25 * 60_000) } }));
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 2, 3]);
    const abort = new AbortController();
    let outcome: string | null = null;
    const live = runLive(context(t.db, { config: testConfig({ overlapMinutes: 10, queueLowWatermark: 1000 }), signal: abort.signal }), source, {
      channels: ['t.me/alpha'],
      catchupSource: source,
      onCatchupSettled: (o) => (outcome = o),
    });
    await waitFor('the catch-up', async () => outcome !== null);
    abort.abort();
    await live;
    expect(outcome).toBe('ok');
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await jobs(t.db)).map((j) => j.message_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const [cursor] = [...(await loadCatchupCursors(t.db)).values()];
    const [liveRun] = await t.db.query<{ started_at: Date }>(`select started_at from ingestion_runs where run_type = 'live'`);
    expect(cursor!.target.getTime()).toBeGreaterThan(liveRun!.started_at.getTime()); // past the moment the tail listened
  });

  it('issue 15 #3: posts whose updates were lost while the connection was down are fetched after the reconnect', async () => {
    const source = recentChannel('alpha', [10, 9]);
    await runBackfill(context(t.db), source, backfillOptions());
    const abort = new AbortController();
    const ctx = context(t.db, { config: testConfig({ gapCheckMinutes: 0 }), signal: abort.signal });
    const live = runLive(ctx, source, { channels: ['t.me/alpha'], catchupSource: null });
    await waitFor('the tail to listen', async () => (await t.db.query(`select 1 from ingestion_runs where status = 'running'`)).length > 0);
    source.post('t.me/alpha', makeMessage({ id: 3, date: new Date(), text: 'heard live' }));
    await source.settle();
    source.dropConnection();
    source.post('t.me/alpha', makeMessage({ id: 4, date: new Date(), text: 'posted while down' }));
    source.post('t.me/alpha', makeMessage({ id: 5, date: new Date(), text: 'also while down' }));
    source.edit('t.me/alpha', 3, 'heard live (edited while down)', new Date());
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 2, 3]); // the source really dropped them
    source.restoreConnection();
    await waitFor('the gap check', async () => (await rawRows(t.db)).length === 5);
    source.post('t.me/alpha', makeMessage({ id: 6, date: new Date(), text: 'after' }));
    await source.settle();
    abort.abort();
    const result = await live;
    expect((await rawRows(t.db)).map((r) => [r.message_id, r.raw_text])).toEqual([
      [1, 'alpha post 1'],
      [2, 'alpha post 2'],
      [3, 'heard live (edited while down)'], // above the floor (the newest id before the drop), so re-read with its lost edit
      [4, 'posted while down'],
      [5, 'also while down'],
      [6, 'after'],
    ]);
    expect((await jobs(t.db)).map((j) => j.message_id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.totals).toMatchObject({ newMessages: 2, gapFilled: 2 });
    expect(ctx.log.lines.filter((l) => l.event === 'raw_tail_gap_filled').map((l) => l.fields)).toEqual([
      expect.objectContaining({ reason: 'reconnect', above_id: 2, recovered: 2 }),
    ]);
  });

  it('issue 15 #3: the periodic gap check finds a post whose update never came, without any reconnect', async () => {
    const source = recentChannel('alpha', [10]);
    await runBackfill(context(t.db), source, backfillOptions());
    const abort = new AbortController();
    const live = runLive(context(t.db, { config: testConfig({ gapCheckMinutes: 0.002 }), signal: abort.signal }), source, {
      channels: ['t.me/alpha'],
      catchupSource: null,
    });
    await waitFor('the tail to listen', async () => (await t.db.query(`select 1 from ingestion_runs where status = 'running'`)).length > 0);
    source.post('t.me/alpha', makeMessage({ id: 2, date: new Date(), text: 'no update for this one' }), { silent: true });
    await waitFor('the periodic gap check', async () => (await rawRows(t.db)).length === 2);
    abort.abort();
    expect((await live).totals).toMatchObject({ newMessages: 0, gapFilled: 1 });
  });

  it('issue 15 #2: a failing catch-up is recorded per channel with its reason and turns /health red; the tail goes on; the next good catch-up clears it', async () => {
    const source = recentChannel('alpha', [30, 20]);
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: new Date(Date.now() - 25 * 60_000) } }));
    const broken = new MemorySource().addChannel(channel('alpha'));
    broken.beforeYield = () => {};
    const refusing: ChannelSource = {
      kind: 'memory',
      historyOrder: 'newest-first',
      resolve: (ref) => broken.resolve(ref),
      // biome-ignore lint/correctness/useYield: a history that fails before yielding anything
      history: async function* () {
        throw new UserError('no Telegram session file at /srv/tutordex_recovery.session; run tutordex login --save to create it');
      },
      subscribe: (channels, onEvent, hooks) => broken.subscribe(channels, onEvent, hooks),
      close: async () => {},
    };
    const abort = new AbortController();
    let outcome: string | null = null;
    const live = runLive(context(t.db, { config: testConfig({ queueLowWatermark: 1000 }), signal: abort.signal }), source, {
      channels: ['t.me/alpha'],
      catchupSource: refusing,
      onCatchupSettled: (o) => (outcome = o),
    });
    await waitFor('the catch-up to fail', async () => outcome !== null);
    expect(outcome).toBe('error');
    const health = await checkHealth(t.db);
    expect(health.ok).toBe(false);
    expect(health.checks.find((c) => c.name === 'catchup')).toMatchObject({ ok: false, detail: expect.stringContaining('t.me/alpha') });
    expect(health.checks.find((c) => c.name === 'catchup')!.detail).toContain('run tutordex login --save');
    source.post('t.me/alpha', makeMessage({ id: 3, date: new Date(), text: 'the tail still works' }));
    await source.settle();
    abort.abort();
    await live;
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 3]); // post 2 (20 min ago) is the unread gap

    let again: string | null = null;
    const abort2 = new AbortController();
    const fixed = runLive(context(t.db, { config: testConfig({ queueLowWatermark: 1000 }), signal: abort2.signal }), source, {
      channels: ['t.me/alpha'],
      catchupSource: source,
      onCatchupSettled: (o) => (again = o),
    });
    await waitFor('the catch-up', async () => again !== null);
    abort2.abort();
    await fixed;
    expect(again).toBe('ok');
    expect((await rawRows(t.db)).map((r) => r.message_id)).toEqual([1, 2, 3]);
    expect((await checkHealth(t.db)).checks.find((c) => c.name === 'catchup')).toMatchObject({ ok: true });
  });

  it('issue 15 #4: a state file in the working directory that does not name this database is never used; one that does seeds its cursors once', async () => {
    const source = recentChannel(
      'alpha',
      Array.from({ length: 40 }, (_, i) => 200 - i * 5),
    ); // 200..5 minutes ago
    const dir = tmp();
    const file = path.join(dir, 'recovery_catchup_state.json');
    // another database's finished catch-up: its cursors say everything up to now was read
    const stateOf = (database: string | undefined, status: string) =>
      writeFileSync(
        file,
        JSON.stringify({
          version: 1,
          ...(database ? { database } : {}),
          status,
          target_iso: new Date().toISOString(),
          cursors: { 't.me/alpha': new Date(Date.now() - 60_000).toISOString() },
          errors: [],
        }),
      );
    stateOf(undefined, 'running');
    const abort = new AbortController();
    let outcome: string | null = null;
    const ctx = context(t.db, { config: testConfig({ queueLowWatermark: 1000 }), signal: abort.signal });
    const live = runLive(ctx, source, {
      channels: ['t.me/alpha'],
      catchupSource: source,
      legacyStateFile: { path: file, databaseLocation: t.db.location },
      onCatchupSettled: (o) => (outcome = o),
    });
    await waitFor('the catch-up', async () => outcome !== null);
    abort.abort();
    await live;
    expect((await rawRows(t.db)).length).toBe(40); // nothing skipped on another database's word
    expect(ctx.log.lines.some((l) => l.event === 'recovery_state_file_ignored')).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('t.me/alpha'); // left alone

    // a file that names this database, unfinished: its cursor is where a channel with no row resumes, once
    await t.db.query(`delete from collector_catchup`);
    stateOf(t.db.location, 'running');
    const abort2 = new AbortController();
    outcome = null;
    const ctx2 = context(t.db, { config: testConfig({ queueLowWatermark: 1000 }), signal: abort2.signal });
    const second = runLive(ctx2, source, {
      channels: ['t.me/alpha'],
      catchupSource: source,
      legacyStateFile: { path: file, databaseLocation: t.db.location },
      onCatchupSettled: (o) => (outcome = o),
    });
    await waitFor('the catch-up', async () => outcome !== null);
    abort2.abort();
    await second;
    expect(ctx2.log.lines.find((l) => l.event === 'recovery_state_file_imported')?.fields).toMatchObject({ seeded: 1 });
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.imported`)).toBe(true);
  });
});

/** Every job of v1 as stored, keyed by message id (status, attempt, meta, updated_at: a reset changes them). */
async function jobState(db: Database, channelLink: string) {
  const rows = await db.query<{ message_id: number; status: string; meta: Record<string, unknown>; updated_at: Date; error_json: unknown }>(
    `select message_id, status, meta, updated_at, error_json from telegram_extractions where pipeline_version = 'v1' and channel_link = $1 order by message_id`,
    [channelLink],
  );
  return new Map(rows.map((r) => [r.message_id, r]));
}

/** Claim the jobs of these messages and leave them processing, failed (terminally), skipped and ok. */
async function spreadStatuses(db: Database, channelLink: string, ids: { processing: number; failed: number; skipped: number; ok: number }) {
  const byMessage = async (messageId: number) => {
    await db.query(
      `update telegram_extractions set created_at = now() - interval '1 day' where pipeline_version = 'v1' and channel_link = $1 and message_id = $2`,
      [channelLink, messageId],
    );
    const [job] = await claim(db, 'v1', 1);
    expect(job!.messageId).toBe(messageId);
    return job!;
  };
  const failed = await byMessage(ids.failed);
  await fail(db, [{ id: failed.id, attempt: failed.attempt, transient: false, error: { type: 'llm_invalid_json', message: 'no JSON' } }], {
    maxAttempts: 3,
    backoffBaseSeconds: 0,
    backoffMaxSeconds: 0,
  });
  const skipped = await byMessage(ids.skipped);
  await skip(db, [{ id: skipped.id, attempt: skipped.attempt, reason: 'not_an_assignment' }]);
  const ok = await byMessage(ids.ok);
  await complete(db, [{ id: ok.id, attempt: ok.attempt, canonical: {} }]);
  return byMessage(ids.processing);
}

describeEachDatabase('issue 14 #12: re-reading an unchanged message never resets its job', (t) => {
  it('backfill again (resume, overlap): processing, failed, skipped, ok and pending jobs untouched; new text or --force re-enqueues', async () => {
    const source = sourceWith({ alpha: 6 });
    await runBackfill(context(t.db), source, backfillOptions());
    const running = await spreadStatuses(t.db, 't.me/alpha', { processing: 1, failed: 2, skipped: 3, ok: 4 });
    const before = await jobState(t.db, 't.me/alpha');
    expect([...before.values()].map((j) => j.status)).toEqual(['processing', 'failed', 'skipped', 'ok', 'pending', 'pending']);

    const again = await runBackfill(context(t.db), source, backfillOptions());
    expect(again.totals).toMatchObject({ total_scanned: 6, total_enqueued: 0 });
    expect(await jobState(t.db, 't.me/alpha')).toEqual(before);
    // the worker that holds job 1 still finishes it
    expect(await complete(t.db, [{ id: running.id, attempt: running.attempt, canonical: {} }])).toEqual([running.id]);

    // a new text re-enqueues its job, whatever its status; a re-read with an edit date but the same text does not
    source.edit('t.me/alpha', 4, 'alpha post 4 (taken)', minutes(30), { silent: true });
    source.edit('t.me/alpha', 2, 'alpha post 2', minutes(31), { silent: true });
    const edited = await runBackfill(context(t.db), source, backfillOptions());
    expect(edited.totals).toMatchObject({ total_enqueued: 1 });
    const after = await jobState(t.db, 't.me/alpha');
    expect([...after.values()].map((j) => [j.message_id, j.status, j.meta.enqueue_reason])).toEqual([
      [1, 'ok', 'new'],
      [2, 'failed', 'new'],
      [3, 'skipped', 'new'],
      [4, 'pending', 'edit'],
      [5, 'pending', 'new'],
      [6, 'pending', 'new'],
    ]);

    // --force-enqueue re-enqueues every one
    const forced = await runBackfill(context(t.db), source, backfillOptions({ forceEnqueue: true }));
    expect(forced.totals).toMatchObject({ total_enqueued: 6 });
    expect((await jobs(t.db)).map((j) => j.status)).toEqual(Array(6).fill('pending'));
  });

  it('catch-up overlap: the re-read messages keep their jobs (a processing one is not reset); the new ones are enqueued', async () => {
    const source = sourceWith({ alpha: 130 });
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: minutes(101) }, batchSize: 50 }));
    const running = await spreadStatuses(t.db, 't.me/alpha', { processing: 95, failed: 96, skipped: 97, ok: 98 });
    const before = await jobState(t.db, 't.me/alpha');
    const ctx = context(t.db, { config: testConfig({ chunkHours: 2, overlapMinutes: 10, queueLowWatermark: 100_000 }) });
    const snapshot = await latestMessageDates(t.db, ['t.me/alpha']);
    const result = await runCatchup(ctx, source, [channel('alpha')], { snapshot, listeningSince: minutes(121) });
    expect(result.status).toBe('ok');
    expect(source.historyCalls.some((c) => c.request.since && c.request.since <= minutes(95))).toBe(true); // the overlap was re-read
    const after = await jobState(t.db, 't.me/alpha');
    for (const id of [90, 95, 96, 97, 98, 99, 100]) expect(after.get(id), `message ${id}`).toEqual(before.get(id));
    expect(after.size).toBe(130);
    expect(await complete(t.db, [{ id: running.id, attempt: running.attempt, canonical: {} }])).toEqual([running.id]);
  });

  it('re-import of a Telegram Desktop export: jobs untouched', async () => {
    const options = {
      path: path.join(import.meta.dirname, 'fixtures', 'desktop-export', 'folder'),
      channel: null,
      window: { since: null, until: null },
      enqueue: true,
      batchSize: 50,
    };
    await runImport(context(t.db), options);
    const [{ channel_link: link }] = (await t.db.query<{ channel_link: string }>(
      `select channel_link from telegram_extractions group by channel_link having count(*) >= 4 order by channel_link limit 1`,
    )) as [{ channel_link: string }];
    const ids = (
      await t.db.query<{ message_id: number }>(`select message_id from telegram_extractions where channel_link = $1 order by message_id limit 4`, [link])
    ).map((r) => r.message_id);
    await spreadStatuses(t.db, link, { processing: ids[0]!, failed: ids[1]!, skipped: ids[2]!, ok: ids[3]! });
    const before = await t.db.query(`select * from telegram_extractions order by id`);
    const again = await runImport(context(t.db), options);
    expect(again.totals).toMatchObject({ total_enqueued: 0 });
    expect(await t.db.query(`select * from telegram_extractions order by id`)).toEqual(before);
  });
});
