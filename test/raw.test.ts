import { expect, it, describe } from 'vitest';
import { latestMessageDates, markDeleted, rawRowFromMessage, upsertChannel, upsertRawMessages } from '../src/raw/index.ts';
import { makeMessage } from '../src/telegram/memory.ts';
import { describeEachDatabase } from './support/databases.ts';
import { channel, minutes, rawRows } from './support/collector.ts';

const ch = channel('agencyone');

describe('raw row from a source message', () => {
  it('trims raw_text, keeps the untrimmed text in message_json and derives the flags', () => {
    const row = rawRowFromMessage(
      ch,
      makeMessage({
        id: 7,
        date: minutes(1),
        text: '  Sec 3 A-Math  ',
        fwdFrom: { _: 'MessageFwdHeader' },
        replyToMsgId: 3,
        senderId: '-1001234',
        views: 10,
        replyCount: 3,
        editDate: minutes(2),
      }),
    );
    expect(row).toMatchObject({
      channelLink: 't.me/agencyone',
      messageId: 7,
      rawText: 'Sec 3 A-Math',
      isForward: true,
      isReply: true,
      senderId: '-1001234',
      views: 10,
      replyCount: 3,
    });
    expect(row.messageJson).toMatchObject({ id: 7, text: '  Sec 3 A-Math  ', sender_id: -1001234, reply_to_msg_id: 3, edit_date: minutes(2).toISOString() });
    const bare = rawRowFromMessage(ch, makeMessage({ id: 8, date: minutes(1), text: '   ' }));
    expect(bare).toMatchObject({ rawText: null, isForward: false, isReply: false, entitiesJson: null, mediaJson: null });
  });
});

describeEachDatabase('raw log', (t) => {
  const write = (m: Parameters<typeof makeMessage>[0]) => upsertRawMessages(t.db, [rawRowFromMessage(ch, makeMessage(m))]);

  it('re-seeing a message keeps one row: first_seen_at kept, last_seen_at and counters refreshed', async () => {
    expect(await write({ id: 1, date: minutes(1), views: 5 })).toMatchObject({ inserted: 1, updated: 0 });
    const [before] = await rawRows(t.db);
    await new Promise((r) => setTimeout(r, 20));
    expect(await write({ id: 1, date: minutes(1), views: 9 })).toMatchObject({ inserted: 0, updated: 1 });
    const [after] = await t.db.query<{ views: number; first_seen_at: Date; last_seen_at: Date }>(
      'select views, first_seen_at, last_seen_at from telegram_messages_raw',
    );
    expect(after!.views).toBe(9);
    expect(after!.first_seen_at).toEqual(before!.first_seen_at);
    expect(after!.last_seen_at.getTime()).toBeGreaterThan(before!.last_seen_at.getTime());
  });

  it('an older snapshot never overwrites a newer edit; every distinct text is kept as a version', async () => {
    await write({ id: 1, date: minutes(1), text: 'original' });
    await write({ id: 1, date: minutes(1), text: 'edited once', editDate: minutes(5) });
    const stale = await write({ id: 1, date: minutes(1), text: 'original' }); // a backfill buffer flushed late
    expect(stale.staleIgnored).toBe(1);
    await write({ id: 1, date: minutes(1), text: 'edited once', editDate: minutes(5) }); // same text again: no new version
    const [row] = await rawRows(t.db);
    expect(row).toMatchObject({ raw_text: 'edited once', edit_date: minutes(5) });
    const versions = await t.db.query<{ raw_text: string }>('select raw_text from telegram_message_versions order by id');
    expect(versions.map((v) => v.raw_text)).toEqual(['original', 'edited once']);
    await write({ id: 1, date: minutes(1), text: 'edited twice', editDate: minutes(9) });
    expect((await rawRows(t.db))[0]!.raw_text).toBe('edited twice');
  });

  it('issue 14 #12: the upsert names the rows whose stored text it changed (new rows, re-reads, stale snapshots do not count)', async () => {
    const first = await write({ id: 1, date: minutes(1), text: 'original' });
    const id = first.rawIds.get(1)!;
    expect([...first.textChanged]).toEqual([]); // new, not changed
    expect([...(await write({ id: 1, date: minutes(1), text: 'original', views: 3 })).textChanged]).toEqual([]);
    expect([...(await write({ id: 1, date: minutes(1), text: 'edited', editDate: minutes(5) })).textChanged]).toEqual([id]);
    expect([...(await write({ id: 1, date: minutes(1), text: 'edited', editDate: minutes(6) })).textChanged]).toEqual([]); // an edit that kept the text
    expect([...(await write({ id: 1, date: minutes(1), text: 'original' })).textChanged]).toEqual([]); // an older snapshot
    expect([...(await write({ id: 1, date: minutes(1), text: 'original', editDate: minutes(9) })).textChanged]).toEqual([id]); // back to an earlier text
  });

  it('delete sets deleted_at; a later re-see never clears it', async () => {
    await write({ id: 1, date: minutes(1) });
    await write({ id: 2, date: minutes(2) });
    expect(await markDeleted(t.db, ch, [2, 99])).toBe(1);
    await write({ id: 2, date: minutes(2), views: 3 });
    const rows = await rawRows(t.db);
    expect(rows.map((r) => [r.message_id, r.deleted_at !== null])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it('one batch may carry the same message twice (the later edit wins)', async () => {
    const r = await upsertRawMessages(t.db, [
      rawRowFromMessage(ch, makeMessage({ id: 1, date: minutes(1), text: 'b', editDate: minutes(3) })),
      rawRowFromMessage(ch, makeMessage({ id: 1, date: minutes(1), text: 'a' })),
    ]);
    expect(r.inserted).toBe(1);
    expect((await rawRows(t.db))[0]!.raw_text).toBe('b');
  });

  it('channel rows keep known values; latest dates per channel include deleted rows', async () => {
    await upsertChannel(t.db, ch);
    await upsertChannel(t.db, { ...ch, title: null, channelId: null });
    expect(await t.db.query('select channel_link, channel_id, agency_telegram_channel_name from telegram_channels')).toEqual([
      { channel_link: ch.channelLink, channel_id: ch.channelId, agency_telegram_channel_name: ch.title },
    ]);
    await write({ id: 1, date: minutes(1) });
    await write({ id: 2, date: minutes(7) });
    await markDeleted(t.db, ch, [2]);
    const latest = await latestMessageDates(t.db, [ch.channelLink, 't.me/nothing_here']);
    expect([...latest.entries()]).toEqual([[ch.channelLink, minutes(7)]]);
  });
});
