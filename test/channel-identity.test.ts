import { expect, it } from 'vitest';
import { runBackfill, runEnqueue, runLive, writeBatch } from '../src/collector/index.ts';
import { adoptChannel } from '../src/raw/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import type { ResolvedChannel } from '../src/telegram/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { context, jobs, minutes, rawRows, testConfig } from './support/collector.ts';

/**
 * Issue 15 #7: one channel, one identity (Telegram's numeric id). An export without a username keys the channel
 * `t.me/c/<id>`, the live collector and `--channel @name` key it `t.me/<name>`: the same 208 posts became 416 rows.
 */

const ID = '1777000123';
const BY_ID: ResolvedChannel = { channelLink: `t.me/c/${ID}`, channelId: ID, title: 'Alpha Tuition' };
const BY_NAME: ResolvedChannel = { channelLink: 't.me/alphatuition', channelId: ID, title: 'Alpha Tuition' };
const posts = (n: number) => Array.from({ length: n }, (_, i) => makeMessage({ id: i + 1, date: minutes(i + 1), text: `P5 Math post ${i + 1} $40/h Bishan` }));
const sourceAs = (channel: ResolvedChannel, n: number) => new MemorySource().addChannel(channel, posts(n));
const backfill = (channel: string) => ({
  channels: [channel],
  window: { since: null, until: null },
  maxMessages: null,
  batchSize: 4,
  forceEnqueue: false,
  channelAttempts: 1,
  restart: false,
  retryDelaySeconds: 0,
});

describeEachDatabase('issue 15 #7: one identity per channel', (t) => {
  it('read first by id (an export), then by username (live, --channel @name): one set of rows, under the username', async () => {
    await runBackfill(context(t.db), sourceAs(BY_ID, 10), backfill(BY_ID.channelLink));
    expect(new Set((await rawRows(t.db)).map((r) => r.message_id)).size).toBe(10);
    await runBackfill(context(t.db), sourceAs(BY_NAME, 12), backfill(BY_NAME.channelLink));
    const rows = await t.db.query<{ channel_link: string; n: number }>(`select channel_link, count(*)::int as n from telegram_messages_raw group by 1`);
    expect(rows).toEqual([{ channel_link: 't.me/alphatuition', n: 12 }]);
    expect((await jobs(t.db)).map((j) => j.channel_link)).toEqual(Array(12).fill('t.me/alphatuition'));
    expect(await t.db.query(`select channel_link, channel_id from telegram_channels`)).toEqual([{ channel_link: 't.me/alphatuition', channel_id: ID }]);
    expect((await t.db.query<{ alias_link: string }>(`select alias_link from telegram_channel_aliases order by 1`)).map((a) => a.alias_link)).toEqual([
      't.me/alphatuition',
      `t.me/c/${ID}`,
    ]);

    // read again by id: stored under the username, nothing new
    await runBackfill(context(t.db), sourceAs(BY_ID, 12), backfill(BY_ID.channelLink));
    expect(await t.db.query(`select channel_link, count(*)::int as n from telegram_messages_raw group by 1`)).toEqual([
      { channel_link: 't.me/alphatuition', n: 12 },
    ]);
    // and the id form still names it where a channel is given (enqueue)
    const forced = await runEnqueue(context(t.db, { config: testConfig({ version: 'v2' }) }), {
      channels: [BY_ID.channelLink],
      window: { since: null, until: null },
      maxMessages: null,
      force: true,
      pageSize: 50,
    });
    expect(forced.totals).toEqual({ total_scanned: 12, total_enqueued: 12 });
  });

  it('the live collector, resolving @name, writes its posts where the export put the earlier ones', async () => {
    await runBackfill(context(t.db), sourceAs(BY_ID, 5), backfill(BY_ID.channelLink));
    const live = new MemorySource().addChannel(BY_NAME, posts(5));
    const abort = new AbortController();
    const run = runLive(context(t.db, { signal: abort.signal }), live, { channels: [BY_NAME.channelLink], catchupSource: null });
    while (!(await t.db.query(`select 1 from ingestion_runs where run_type = 'tail' and status = 'running'`)).length)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    live.post(BY_NAME.channelLink, makeMessage({ id: 6, date: minutes(6), text: 'Sec 3 A-Math $60/h Tampines' }));
    live.delete(BY_NAME.channelLink, [2]);
    await live.settle();
    abort.abort();
    await run;
    const rows = await t.db.query<{ channel_link: string; message_id: number; deleted: boolean }>(
      `select channel_link, message_id, deleted_at is not null as deleted from telegram_messages_raw order by message_id`,
    );
    expect(rows.map((r) => [r.channel_link, r.message_id, r.deleted])).toEqual([1, 2, 3, 4, 5, 6].map((id) => ['t.me/alphatuition', id, id === 2]));
  });

  it("rows already stored under both links (written before this fix) merge: one row per post, its versions kept, one job, assignments and progress moved, the copy's assignment closed", async () => {
    const ctx = context(t.db);
    // what the old code left: the same posts under both links, each with its job
    await writeBatch(ctx, BY_ID, posts(4), { enqueue: true, force: false });
    await writeBatch(
      ctx,
      BY_NAME,
      posts(3).map((m) => (m.id === 3 ? { ...m, text: `${m.text} (edited)`, editDate: minutes(30) } : m)),
      { enqueue: true, force: false },
    );
    await t.db.query(`insert into telegram_channels (channel_link, channel_id) values ($1, $3), ($2, $3)`, [BY_ID.channelLink, BY_NAME.channelLink, ID]);
    await t.db.query(`insert into agencies (channel_link, agency_display_name) values ($1, 'Alpha (by id)'), ($2, 'Alpha')`, [
      BY_ID.channelLink,
      BY_NAME.channelLink,
    ]);
    const raw = new Map(
      (await t.db.query<{ id: number; channel_link: string; message_id: number }>(`select id, channel_link, message_id from telegram_messages_raw`)).map(
        (r) => [`${r.channel_link}#${r.message_id}`, r.id],
      ),
    );
    // assignments made from the id copies of posts 1 (also under the name) and 4 (only under the id)
    for (const [messageId, code] of [
      [1, 'A1'],
      [4, 'A4'],
    ] as const) {
      await t.db.query(
        `insert into assignments (agency_id, external_id, raw_id, channel_link, message_id, message_link, status)
         values ((select id from agencies where channel_link = $1), $2, $3, $1, $4, null, 'open')`,
        [BY_ID.channelLink, code, raw.get(`${BY_ID.channelLink}#${messageId}`), messageId],
      );
    }
    await t.db.query(`insert into collector_catchup (channel_link, read_until, target, status) values ($1, $2, $3, 'ok')`, [
      BY_ID.channelLink,
      minutes(4),
      minutes(5),
    ]);

    const adopted = await adoptChannel(t.db, BY_NAME);
    expect(adopted.channelLink).toBe('t.me/alphatuition');
    const rows = await t.db.query<{ channel_link: string; message_id: number; raw_text: string; versions: number; jobs: number }>(
      `select r.channel_link, r.message_id, r.raw_text,
              (select count(*)::int from telegram_message_versions v where v.raw_id = r.id) as versions,
              (select count(*)::int from telegram_extractions e where e.raw_id = r.id) as jobs
         from telegram_messages_raw r order by r.message_id`,
    );
    expect(rows.map((r) => [r.channel_link, r.message_id, r.versions, r.jobs])).toEqual([
      ['t.me/alphatuition', 1, 1, 1],
      ['t.me/alphatuition', 2, 1, 1],
      ['t.me/alphatuition', 3, 2, 1], // the first text (from the id copy) and the edit
      ['t.me/alphatuition', 4, 1, 1], // only ever read by id: moved
    ]);
    expect(rows[2]!.raw_text).toContain('(edited)');
    const assignments = await t.db.query<{
      external_id: string;
      status: string;
      closed_reason: string | null;
      channel_link: string;
      message_link: string | null;
      agency: string;
    }>(
      `select a.external_id, a.status, a.closed_reason, a.channel_link, a.message_link, g.agency_display_name as agency
         from assignments a join agencies g on g.id = a.agency_id order by a.external_id`,
    );
    expect(assignments).toEqual([
      // the copy of post 1 was the same post as the one under the name: closed like a deleted duplicate
      {
        external_id: 'A1',
        status: 'closed',
        closed_reason: 'source_deleted',
        channel_link: 't.me/alphatuition',
        message_link: 'https://t.me/alphatuition/1',
        agency: 'Alpha',
      },
      {
        external_id: 'A4',
        status: 'open',
        closed_reason: null,
        channel_link: 't.me/alphatuition',
        message_link: 'https://t.me/alphatuition/4',
        agency: 'Alpha',
      },
    ]);
    expect(await t.db.query(`select channel_link from agencies where channel_link is not null`)).toEqual([{ channel_link: 't.me/alphatuition' }]);
    expect(await t.db.query(`select channel_link from telegram_channels`)).toEqual([{ channel_link: 't.me/alphatuition' }]);
    expect(await t.db.query(`select channel_link, status from collector_catchup`)).toEqual([{ channel_link: 't.me/alphatuition', status: 'ok' }]);
    expect(await t.db.query(`select distinct channel_link from telegram_extractions`)).toEqual([{ channel_link: 't.me/alphatuition' }]);
  });

  it('a renamed channel (new username, same id) moves its rows to the new name; a channel with no id is stored as given', async () => {
    await runBackfill(context(t.db), sourceAs(BY_NAME, 3), backfill(BY_NAME.channelLink));
    const renamed: ResolvedChannel = { ...BY_NAME, channelLink: 't.me/alphatuition_sg' };
    await runBackfill(context(t.db), sourceAs(renamed, 4), backfill(renamed.channelLink));
    expect(await t.db.query(`select channel_link, count(*)::int as n from telegram_messages_raw group by 1`)).toEqual([
      { channel_link: 't.me/alphatuition_sg', n: 4 },
    ]);
    const anonymous: ResolvedChannel = { channelLink: 't.me/betatutors', channelId: null, title: null };
    expect(await adoptChannel(t.db, anonymous)).toEqual(anonymous);
  });
});
