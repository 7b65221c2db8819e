import { expect, it } from 'vitest';
import { loadCatchupCursors, runBackfill, runCatchup, runLive, writeBatch } from '../src/collector/index.ts';
import { adoptChannel, latestMessageDates, markDeleted } from '../src/raw/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import type { ResolvedChannel } from '../src/telegram/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { backfillOptions, channel, context, minutes, rawRows, sourceWith, testConfig } from './support/collector.ts';

/**
 * Adversarial review of "the collector never misses a post and never stores a channel twice".
 * Every test here describes the behaviour the guarantee promises; each one fails on the code as reviewed.
 */

function recentChannel(ch: ResolvedChannel, minutesAgo: number[]) {
  const now = Date.now();
  return new MemorySource().addChannel(
    ch,
    minutesAgo.map((ago, i) => makeMessage({ id: i + 1, date: new Date(now - ago * 60_000), text: `post ${i + 1}` })),
  );
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Posts 1 and 2 (an hour old) stored by a backfill, then `live` on @alpha without catch-up, listening (the run
 * row alone is written before the subscription: a reconnect before it would be unheard). `stop()` ends it.
 */
async function liveOnAlpha(db: Parameters<typeof rawRows>[0], gapCheckMinutes: number) {
  const alpha = channel('alpha');
  const source = recentChannel(alpha, [60, 50]);
  await runBackfill(context(db), source, backfillOptions());
  const abort = new AbortController();
  const ctx = context(db, { config: testConfig({ gapCheckMinutes }), signal: abort.signal });
  const live = runLive(ctx, source, { channels: ['t.me/alpha'], catchupSource: null });
  await waitFor('the tail to listen', () => ctx.log.lines.some((l) => l.event === 'raw_tail_start'));
  return { alpha, source, ctx, stop: async () => (abort.abort(), await live) };
}

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
    await expect(
      runCatchup(context(t.db, { config, signal: stop.signal }), source, [channel('alpha')], {
        snapshot: await latestMessageDates(t.db, ['t.me/alpha']),
        listeningSince: minutes(600),
      }),
    ).resolves.toMatchObject({ status: 'cancelled' });
    source.beforeYield = null;
    // the cursor claims the whole slice was read
    const cursor = (await loadCatchupCursors(t.db)).get('t.me/alpha')!;
    expect.soft({ status: cursor.status, readUntil: cursor.readUntil }).not.toEqual({ status: 'ok', readUntil: minutes(601) });

    // restart: the catch-up must still read 101..499
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], {
      snapshot: await latestMessageDates(t.db, ['t.me/alpha']),
      listeningSince: minutes(601),
    });
    expect(await ids(t.db)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
  });

  it('R3 a backfill of a recent window while TutorDex was down does not make the next catch-up skip the older part of the downtime', async () => {
    const source = sourceWith({ alpha: 600 });
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: null, until: minutes(101) } }));
    const config = testConfig({ chunkHours: 72, overlapMinutes: 1, queueLowWatermark: 100_000 });
    // first live run: catch-up to minute 200 (+1 overlap), ok; the tail stops right after
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], {
      snapshot: await latestMessageDates(t.db, ['t.me/alpha']),
      listeningSince: minutes(200),
    });
    expect((await loadCatchupCursors(t.db)).get('t.me/alpha')!.status).toBe('ok');
    // down from minute 201 to 601; meanwhile an operator backfills the last hour (posts 540..600)
    await runBackfill(context(t.db), source, backfillOptions({ window: { since: minutes(540), until: null } }));
    // next live run
    await runCatchup(context(t.db, { config }), source, [channel('alpha')], {
      snapshot: await latestMessageDates(t.db, ['t.me/alpha']),
      listeningSince: minutes(601),
    });
    expect(await ids(t.db)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1)); // 203..539 are never read
  });
});

describeEachDatabase('review15: gap checks', (t) => {
  it('R4 a gap check that fails after a reconnect is made good by a later check, even after a live post raised the newest id', async () => {
    const { source, ctx, stop } = await liveOnAlpha(t.db, 0);
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
    await stop();
    expect(await ids(t.db)).toEqual([1, 2, 3, 4]);
  });

  it('R6 live: a channel with nothing stored still has its lost posts fetched after a reconnect (and by the periodic check)', async () => {
    const alpha = channel('alpha');
    const source = new MemorySource().addChannel(alpha); // a new channel, no posts yet
    const abort = new AbortController();
    let outcome: string | null = null;
    const live = runLive(context(t.db, { config: testConfig({ gapCheckMinutes: 0.002, queueLowWatermark: 1000 }), signal: abort.signal }), source, {
      channels: ['t.me/alpha'],
      catchupSource: source,
      onCatchupSettled: (o) => (outcome = o),
    });
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

describeEachDatabase('review15: deletions', (t) => {
  it('R5 a delete that arrives while a gap check is reading the post is applied when the post is stored', async () => {
    const { source, stop } = await liveOnAlpha(t.db, 0);
    source.dropConnection();
    source.post('t.me/alpha', makeMessage({ id: 3, date: new Date(Date.now() - 5 * 60_000), text: 'Sec 3 A-Math at Bishan, $50/h' }));
    let deleted = false;
    source.beforeYield = async (_link, m) => {
      if (m.id === 3 && !deleted) {
        // the gap check has read post 3; before it is written, the agency deletes it and the tail hears of it
        deleted = true;
        source.delete('t.me/alpha', [3]);
        await source.settle();
      }
    };
    source.restoreConnection();
    await waitFor('the gap check to store post 3', async () => (await ids(t.db)).includes(3));
    await stop();
    expect(deleted).toBe(true);
    const row = (await rawRows(t.db)).find((r) => r.message_id === 3)!;
    expect(row.deleted_at).not.toBeNull();
  });

  it('R5 a delete and the first write of its post racing on separate connections: the post always ends deleted', async () => {
    const alpha = channel('alpha');
    const ctx = context(t.db);
    const n = 60;
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const m = makeMessage({ id: i + 1, date: minutes(i + 1), text: `post ${i + 1}` });
        const write = writeBatch(ctx, alpha, [m], { enqueue: true, force: false });
        const del = markDeleted(t.db, alpha, [i + 1]);
        return i % 2 === 0 ? Promise.all([write, del]) : Promise.all([del, write]);
      }),
    );
    const rows = await rawRows(t.db);
    expect(rows).toHaveLength(n);
    expect(rows.filter((r) => r.deleted_at === null).map((r) => r.message_id)).toEqual([]);
  });
});

describeEachDatabase('review15: channel identity', (t) => {
  it("R7 a channel renamed and merged by another command while live runs: the tail's next posts go under the new link", async () => {
    const { alpha, source, stop } = await liveOnAlpha(t.db, 60);
    // the agency renames @alpha to @alphanew; an operator backfills it by its new name (same channel id)
    await adoptChannel(t.db, { ...alpha, channelLink: 't.me/alphanew' });
    source.post('t.me/alpha', makeMessage({ id: 3, date: new Date(), text: 'posted after the rename' }));
    source.edit('t.me/alpha', 1, 'post 1 (edited after the rename)', new Date());
    source.delete('t.me/alpha', [2]);
    await source.settle();
    await stop();
    expect(await ids(t.db, 't.me/alpha')).toEqual([]);
    const rows = await rawRows(t.db, 't.me/alphanew');
    expect(rows.map((r) => [r.message_id, r.raw_text, r.deleted_at !== null])).toEqual([
      [1, 'post 1 (edited after the rename)', false],
      [2, 'post 2', true],
      [3, 'posted after the rename', false],
    ]);
  });

  it("R8 a username taken over by another channel (different id) never overwrites the first channel's posts", async () => {
    const first: ResolvedChannel = { channelLink: 't.me/foo', channelId: '111', title: 'Foo tuition' };
    const second: ResolvedChannel = { channelLink: 't.me/foo', channelId: '222', title: 'Another channel now called foo' };
    const posts = (who: string) => [1, 2, 3].map((i) => makeMessage({ id: i, date: minutes(i), text: `${who} post ${i}` }));
    await runBackfill(context(t.db), new MemorySource().addChannel(first, posts('first')), backfillOptions({ channels: ['t.me/foo'] }));
    await runBackfill(context(t.db), new MemorySource().addChannel(second, posts('second')), backfillOptions({ channels: ['t.me/foo'] }));
    const texts = (await t.db.query<{ raw_text: string }>(`select raw_text from telegram_messages_raw order by raw_text`)).map((r) => r.raw_text);
    expect(texts).toEqual(expect.arrayContaining(['first post 1', 'first post 2', 'first post 3', 'second post 1', 'second post 2', 'second post 3']));
  });
});
