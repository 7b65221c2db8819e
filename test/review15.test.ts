import { expect, it } from 'vitest';
import { loadCatchupCursors, runBackfill, runCatchup, runLive } from '../src/collector/index.ts';
import { adoptChannel, latestMessageDates } from '../src/raw/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import type { ResolvedChannel } from '../src/telegram/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { channel, context, jobs, minutes, rawRows, sourceWith, testConfig } from './support/collector.ts';

/**
 * Adversarial review of "the collector never misses a post and never stores a channel twice".
 * Every test here describes the behaviour the guarantee promises; each one fails on the code as reviewed.
 */

const backfillOptions = (over: Partial<Parameters<typeof runBackfill>[2]> = {}) => ({
  channels: ['t.me/alpha'],
  window: { since: null, until: null },
  maxMessages: null,
  batchSize: 3,
  forceEnqueue: false,
  channelAttempts: 1,
  restart: false,
  retryDelaySeconds: 0,
  ...over,
});

function recentChannel(ch: ResolvedChannel, minutesAgo: number[]) {
  const now = Date.now();
  return new MemorySource().addChannel(ch, minutesAgo.map((ago, i) => makeMessage({ id: i + 1, date: new Date(now - ago * 60_000), text: `post ${i + 1}` })));
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const listening = (db: Parameters<typeof rawRows>[0]) => async () => (await db.query(`select 1 from ingestion_runs where status = 'running' and run_type in ('tail', 'live')`)).length > 0;
const ids = async (db: Parameters<typeof rawRows>[0], link?: string) => (await rawRows(db, link)).map((r) => r.message_id);

describeEachDatabase('review15: catch-up cursor', (t) => {
  it('R1 a catch-up cancelled mid-slice, then restarted, reads the whole slice (the cursor does not jump past unread posts)', async () => {
    const source = sourceWith({ alpha: 600 });
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: minutes(101) } })); // 1..100 stored
    const config = testConfig({ chunkHours: 72, overlapMinutes: 0, queueLowWatermark: 100_000 });
    const stop = new AbortController();
    source.beforeYield = (_link, m) => {
      if (m.id === 500) stop.abort(); // SIGTERM while the slice is being read (newest first: 600..500 read so far)
    };
    await expect(runCatchup(context(t.db, { config, signal: stop.signal }), source, [channel('alpha')], { snapshot: await latestMessageDates(t.db, ['t.me/alpha']), listeningSince: minutes(600) })).resolves.toMatchObject({ status: 'cancelled' });
    source.beforeYield = null;
    // the cursor claims the whole slice was read
    const cursor = (await loadCatchupCursors(t.db)).get('t.me/alpha')!;
    expect.soft({ status: cursor.status, readUntil: cursor.readUntil }).not.toEqual({ status: 'ok', readUntil: minutes(601) });

    // restart: the catch-up must still read 101..499
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], { snapshot: await latestMessageDates(t.db, ['t.me/alpha']), listeningSince: minutes(601) });
    expect(await ids(t.db)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
  });

  it('R3 a backfill of a recent window while TutorDex was down does not make the next catch-up skip the older part of the downtime', async () => {
    const source = sourceWith({ alpha: 600 });
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: minutes(101) } }));
    const config = testConfig({ chunkHours: 72, overlapMinutes: 1, queueLowWatermark: 100_000 });
    // first live run: catch-up to minute 200 (+1 overlap), ok; the tail stops right after
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], { snapshot: await latestMessageDates(t.db, ['t.me/alpha']), listeningSince: minutes(200) });
    expect((await loadCatchupCursors(t.db)).get('t.me/alpha')!.status).toBe('ok');
    // down from minute 201 to 601; meanwhile an operator backfills the last hour (posts 540..600)
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: minutes(540), until: null } }));
    // next live run
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], { snapshot: await latestMessageDates(t.db, ['t.me/alpha']), listeningSince: minutes(601) });
    expect(await ids(t.db)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1)); // 203..539 are never read
  });
});

describeEachDatabase('review15: gap checks', (t) => {
  it('R4 a gap check that fails after a reconnect is made good by a later check, even after a live post raised the newest id', async () => {
    const alpha = channel('alpha');
    const source = recentChannel(alpha, [60, 50]);
    await runBackfill(context(t.db), source, backfillOptions());
    const abort = new AbortController();
    const ctx = context(t.db, { config: testConfig({ gapCheckMinutes: 0 }), signal: abort.signal });
    const live = runLive(ctx, source, { channels: ['t.me/alpha'], catchupSource: null });
    // subscribed (the run row alone is written before the subscription: a reconnect before it would be unheard)
    await waitFor('the tail to listen', () => ctx.log.lines.some((l) => l.event === 'raw_tail_start'));
    source.dropConnection();
    source.post('t.me/alpha', makeMessage({ id: 3, date: new Date(Date.now() - 20 * 60_000), text: 'posted while down' }));
    let failOnce = true;
    source.beforeYield = () => {
      if (failOnce) {
        failOnce = false;
        throw new Error('FLOOD_WAIT_5');
      }
    };
    source.restoreConnection();
    await waitFor('the failed gap check', () => ctx.log.lines.some((l) => l.event === 'raw_tail_gap_check_failed'));
    source.post('t.me/alpha', makeMessage({ id: 4, date: new Date(), text: 'heard live' }));
    await source.settle();
    // another reconnect (and its gap check) later on
    source.dropConnection();
    source.restoreConnection();
    await new Promise((r) => setTimeout(r, 200));
    abort.abort();
    await live;
    expect(await ids(t.db)).toEqual([1, 2, 3, 4]);
  });

  it('R6 live: a channel with nothing stored still has its lost posts fetched after a reconnect (and by the periodic check)', async () => {
    const alpha = channel('alpha');
    const source = new MemorySource().addChannel(alpha); // a new channel, no posts yet
    const abort = new AbortController();
    let outcome: string | null = null;
    const live = runLive(context(t.db, { config: testConfig({ gapCheckMinutes: 0.002, queueLowWatermark: 1000 }), signal: abort.signal }), source, { channels: ['t.me/alpha'], catchupSource: source, onCatchupSettled: (o) => (outcome = o) });
    await waitFor('the catch-up', () => outcome !== null);
    expect(outcome).toBe('ok');
    source.dropConnection();
    source.post('t.me/alpha', makeMessage({ id: 1, date: new Date(), text: 'first post, made while the connection was down' }));
    source.restoreConnection();
    await new Promise((r) => setTimeout(r, 400)); // one reconnect check and several periodic ones
    abort.abort();
    await live;
    expect(await ids(t.db)).toEqual([1]);
  });
});

describeEachDatabase('review15: channel identity', (t) => {
  it('R8 a username taken over by another channel (different id) never overwrites the first channel\'s posts', async () => {
    const first: ResolvedChannel = { channelLink: 't.me/foo', channelId: '111', title: 'Foo tuition' };
    const second: ResolvedChannel = { channelLink: 't.me/foo', channelId: '222', title: 'Another channel now called foo' };
    const posts = (who: string) => [1, 2, 3].map((i) => makeMessage({ id: i, date: minutes(i), text: `${who} post ${i}` }));
    await runBackfill(context(t.db), new MemorySource().addChannel(first, posts('first')), backfillOptions({ channels: ['t.me/foo'] }));
    await runBackfill(context(t.db), new MemorySource().addChannel(second, posts('second')), backfillOptions({ channels: ['t.me/foo'] }));
    const texts = (await t.db.query<{ raw_text: string }>(`select raw_text from telegram_messages_raw order by raw_text`)).map((r) => r.raw_text);
    expect(texts).toEqual(expect.arrayContaining(['first post 1', 'first post 2', 'first post 3', 'second post 1', 'second post 2', 'second post 3']));
  });
});
