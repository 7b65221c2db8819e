import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runBackfill, runImport, runLive, writeBatch } from '../src/collector/index.ts';
import { adoptChannel, rawRowFromMessage, upsertRawMessages } from '../src/raw/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import type { ResolvedChannel } from '../src/telegram/index.ts';
import { describeEachDatabase, describePostgres } from './support/databases.ts';
import { backfillOptions, channel, context, minutes, type rawRows, testConfig } from './support/collector.ts';

/**
 * Adversarial review of "a post that its agency deleted is never stored as live (and so never extracted or
 * published), whatever the timing; and a channel's posts are always stored under one link per channel id, even
 * when the channel is renamed and merged while a `live` tail is running". Each test states what the guarantee
 * promises and failed on the code as reviewed. (Its D1/D1b – a delete made while the connection or TutorDex was
 * down is never heard of – are a Telegram limit, README "Known limits".)
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const recent = (id: number, minutesAgo: number, text = `post ${id}`) => makeMessage({ id, date: new Date(Date.now() - minutesAgo * 60_000), text });

/** `live` on @alpha (no catch-up), posts 1..3 stored by a backfill first; resolves once the tail listens. */
async function liveOn(db: Parameters<typeof rawRows>[0], source: MemorySource, link: string) {
  const abort = new AbortController();
  const ctx = context(db, { config: testConfig({ gapCheckMinutes: 0 }), signal: abort.signal });
  const live = runLive(ctx, source, { channels: [link], catchupSource: null });
  await waitFor('the tail to listen', () => ctx.log.lines.some((l) => l.event === 'raw_tail_start'));
  return { ctx, stop: async () => (abort.abort(), await live) };
}

describeEachDatabase('review-del: rows stored without a channel id', (t) => {
  it('D2 an id-less export imported, then live, then a rename merge: a delete heard by the tail reaches the merged rows', async () => {
    // an old single-chat export (no "id" in it), imported under the username before the channel was ever collected
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-review-del-'));
    dirs.push(dir);
    const at = (i: number) => new Date(Date.now() - (60 - i) * 60_000);
    writeFileSync(
      path.join(dir, 'result.json'),
      JSON.stringify({
        name: 'alpha assignments',
        type: 'public_channel',
        messages: [1, 2].map((i) => ({
          id: i,
          type: 'message',
          date: at(i).toISOString().slice(0, 19),
          date_unixtime: String(Math.floor(at(i).getTime() / 1000)),
          from: 'alpha assignments',
          text: `P5 Math post ${i} $40/h Bishan`,
          text_entities: [{ type: 'plain', text: `P5 Math post ${i} $40/h Bishan` }],
        })),
      }),
    );
    await runImport(context(t.db), {
      path: path.join(dir, 'result.json'),
      channel: 't.me/alpha',
      window: { since: null, until: null },
      enqueue: true,
      batchSize: 50,
    });
    expect((await t.db.query<{ n: number }>(`select count(*)::int as n from telegram_messages_raw where channel_id is null`))[0]!.n).toBe(2);

    // live on @alpha (now known by id), then the agency renames to @alphanew and an operator collects it by that name
    const alpha = channel('alpha');
    const source = new MemorySource().addChannel(
      alpha,
      [1, 2].map((i) => makeMessage({ id: i, date: at(i), text: `P5 Math post ${i} $40/h Bishan` })),
    );
    const { stop } = await liveOn(t.db, source, 't.me/alpha');
    await adoptChannel(t.db, { ...alpha, channelLink: 't.me/alphanew' });
    source.delete('t.me/alpha', [1]);
    await source.settle();
    await stop();
    const rows = await t.db.query<{ channel_link: string; message_id: number; deleted: boolean }>(
      `select channel_link, message_id, deleted_at is not null as deleted from telegram_messages_raw order by 1, 2`,
    );
    expect(rows).toEqual([
      { channel_link: 't.me/alphanew', message_id: 1, deleted: true },
      { channel_link: 't.me/alphanew', message_id: 2, deleted: false },
    ]);
  });
});

describePostgres('review-del: a username taken over while the first channel is being written', (t) => {
  it("D3 a write of the old owner in flight while another channel adopts its username: the old owner's post is not left under the taken link (and overwritten)", async () => {
    const first: ResolvedChannel = { channelLink: 't.me/foo', channelId: '111', title: 'Foo tuition' };
    const second: ResolvedChannel = { channelLink: 't.me/foo', channelId: '222', title: 'Another channel now called foo' };
    const posts = (who: string, n: number) =>
      Array.from({ length: n }, (_, i) => makeMessage({ id: i + 1, date: minutes(i + 1), text: `${who} post ${i + 1}` }));
    await runBackfill(context(t.db), new MemorySource().addChannel(first, posts('first', 3)), backfillOptions({ channels: ['t.me/foo'] }));

    // the first channel's tail (or gap check) writes its post 4, under its shared write lock, and has not committed yet
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const inside = new Promise<void>((r) => (written = r));
    const write = t.db.transaction(async (tx) => {
      await upsertRawMessages(tx, [rawRowFromMessage(first, makeMessage({ id: 4, date: minutes(4), text: 'first post 4' }))]);
      written();
      await gate;
    });
    await inside;
    // meanwhile the username is taken by another channel and collected: adoptChannel moves the first one's rows away
    const other = await t.connect(2);
    const adoption = adoptChannel(other, second);
    const settledFirst = await Promise.race([adoption.then(() => 'adopted'), new Promise((r) => setTimeout(() => r('blocked'), 1000))]);
    expect(settledFirst).toBe('blocked'); // the adoption waits for the old owner's write in flight (its channel lock)
    release();
    await write;
    await adoption;
    // right after: the first channel's post 4 sits under the link that is now the second channel's (two links for id 111)
    expect
      .soft(await t.db.query(`select distinct channel_link from telegram_messages_raw where channel_id = '111' order by 1`))
      .toEqual([{ channel_link: 't.me/c/111' }]);
    // the new owner's `live` (adopted above) writes its posts: its tail, gap check or catch-up (no new adoption)
    await writeBatch(context(other), await adoption, posts('second', 4), { enqueue: true, force: false });

    const rows = await t.db.query<{ channel_link: string; channel_id: string; message_id: number; raw_text: string }>(
      `select channel_link, channel_id, message_id, raw_text from telegram_messages_raw order by channel_id, message_id`,
    );
    expect(rows).toEqual([
      ...[1, 2, 3, 4].map((i) => ({ channel_link: 't.me/c/111', channel_id: '111', message_id: i, raw_text: `first post ${i}` })),
      ...[1, 2, 3, 4].map((i) => ({ channel_link: 't.me/foo', channel_id: '222', message_id: i, raw_text: `second post ${i}` })),
    ]);
  });
});

describeEachDatabase('review-del: beside the guarantee', (t) => {
  it("S1 after a username takeover, a delete heard by the old owner's tail does not delete the new owner's post of the same id", async () => {
    const first: ResolvedChannel = { channelLink: 't.me/foo', channelId: '111', title: 'Foo tuition' };
    const second: ResolvedChannel = { channelLink: 't.me/foo', channelId: '222', title: 'Another channel now called foo' };
    const posts = (who: string) => [1, 2].map((i) => recent(i, 60 - i, `${who} post ${i}`));
    const source = new MemorySource().addChannel(first, posts('first'));
    await runBackfill(context(t.db), source, backfillOptions({ channels: ['t.me/foo'] }));
    const { stop } = await liveOn(t.db, source, 't.me/foo');
    // the username passes to another channel, which an operator collects
    await runBackfill(context(t.db), new MemorySource().addChannel(second, posts('second')), backfillOptions({ channels: ['t.me/foo'] }));
    source.delete('t.me/foo', [2]); // the first channel (the tail follows it by id) deletes its post 2
    await source.settle();
    await stop();
    const rows = await t.db.query<{ channel_id: string; message_id: number; deleted: boolean }>(
      `select channel_id, message_id, deleted_at is not null as deleted from telegram_messages_raw order by 1, 2`,
    );
    expect(rows).toEqual([
      { channel_id: '111', message_id: 1, deleted: false },
      { channel_id: '111', message_id: 2, deleted: true },
      { channel_id: '222', message_id: 1, deleted: false },
      { channel_id: '222', message_id: 2, deleted: false },
    ]);
  });
});
