import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runImport } from '../src/collector/index.ts';
import { parseTimeZone } from '../src/config/index.ts';
import { upsertChannel } from '../src/raw/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { context } from './support/collector.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'desktop-export');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const options = (p: string, over: Partial<Parameters<typeof runImport>[1]> = {}) => ({
  path: p,
  channel: null,
  window: { since: null, until: null },
  enqueue: true,
  batchSize: 50,
  ...over,
});

describeEachDatabase('import (issue 15 #8, #9)', (t) => {
  const links = async () =>
    (await t.db.query<{ channel_link: string }>('select distinct channel_link from telegram_messages_raw order by 1')).map((r) => r.channel_link);

  it('a whole-account export: one chat picked by a username whose id the database knows; without --channel nothing is written', async () => {
    const account = path.join(FIXTURES, 'account', 'result.json');
    await expect(runImport(context(t.db), options(account))).rejects.toThrow(/holds 4 chats \(it is a whole-account export\); nothing was imported/);
    expect(await t.db.query('select count(*)::int as n from ingestion_runs')).toEqual([{ n: 0 }]);
    await upsertChannel(t.db, { channelLink: 't.me/gone_channel', channelId: '5555555555', title: 'Gone Channel' });
    const result = await runImport(context(t.db), options(account, { channel: 'https://t.me/Gone_Channel' }));
    expect(result).toMatchObject({ status: 'ok', totals: { total_new: 1, files_imported: 1, files_refused: 0 }, refused: [] });
    expect(await links()).toEqual(['t.me/gone_channel']);
  });

  it('a folder: a refused file (old export, no --timezone) writes nothing, the others are imported', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-import-'));
    dirs.push(dir);
    for (const [name, from] of [
      ['a', path.join(FIXTURES, 'folder', 'chat-a', 'result.json')],
      ['old', path.join(FIXTURES, 'old', 'result.json')],
    ] as const) {
      mkdirSync(path.join(dir, name));
      copyFileSync(from, path.join(dir, name, 'result.json'));
    }
    // a current export of the old chat's later posts, but with one message at the end an old exporter wrote
    writeFileSync(
      path.join(dir, 'mixed.json'),
      JSON.stringify({
        name: 'Tuition Gamma',
        type: 'private_channel',
        id: 7777777777,
        messages: [
          {
            id: 10,
            type: 'message',
            date: '2021-04-01T09:00:00',
            date_unixtime: '1617238800',
            from: 'Tuition Gamma',
            from_id: 'channel7777777777',
            text: 'fine',
            text_entities: [{ type: 'plain', text: 'fine' }],
          },
          { id: 11, type: 'message', date: '2021-04-01T10:00:00', from: 'Tuition Gamma', from_id: 'channel7777777777', text: 'no unixtime' },
        ],
      }),
    );
    const result = await runImport(context(t.db), options(dir));
    expect(result.files).toEqual([path.join(dir, 'a', 'result.json')]);
    expect(result.refused.map((r) => path.relative(dir, r.file))).toEqual(['mixed.json', 'old/result.json']);
    expect(result.totals).toMatchObject({ files_imported: 1, files_refused: 2, channels_done: 1 });
    expect(await links()).toEqual(['t.me/c/1111111111']);
    expect(await t.db.query(`select count(*)::int as n from telegram_channels where channel_id = '7777777777'`)).toEqual([{ n: 0 }]);

    const withZone = await runImport(context(t.db), options(dir, { timezone: parseTimeZone('Asia/Singapore') }));
    expect(withZone.refused).toEqual([]);
    const gamma = await t.db.query<{ message_id: number; message_date: Date }>(
      `select message_id, message_date from telegram_messages_raw where channel_link = 't.me/c/7777777777' order by 1`,
    );
    expect(gamma.map((m) => [m.message_id, m.message_date.toISOString()])).toEqual([
      [2, '2021-03-04T10:22:10.000Z'],
      [3, '2021-03-05T01:15:00.000Z'],
      [4, '2021-03-05T16:05:00.000Z'],
      [10, '2021-04-01T01:00:00.000Z'],
      [11, '2021-04-01T02:00:00.000Z'],
    ]);
  });
});
