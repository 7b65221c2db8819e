import { once } from 'node:events';
import { chmodSync, copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTimeZone } from '../src/config/index.ts';
import { UserError } from '../src/errors.ts';
import { DesktopExportSource, HexEscapeFixer, mapExportMessage, type DesktopExportOptions } from '../src/telegram/desktop-export.ts';
import type { HistoryRequest, ResolvedChannel, SourceMessage } from '../src/telegram/types.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'desktop-export');
const FOLDER = path.join(FIXTURES, 'folder');
const CHAT_A = path.join(FOLDER, 'chat-a', 'result.json');
const CHAT_B = path.join(FOLDER, 'chat-b', 'result.json');
const ACCOUNT = path.join(FIXTURES, 'account', 'result.json');
/** Telegram Desktop 2.x: local-time "date" / "edited" only, "text" arrays, no text_entities */
const OLD = path.join(FIXTURES, 'old', 'result.json');
const errorFixture = (name: string) => path.join(FIXTURES, 'errors', `${name}.json`);

const ALL: HistoryRequest = { since: null, until: null };
const at = (unixtime: number) => new Date(unixtime * 1000);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'desktop-export-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function tmpFile(name: string, content: string | Buffer): string {
  const file = path.join(tmp, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

async function collect(source: DesktopExportSource, channel: ResolvedChannel, request: HistoryRequest = ALL): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const m of source.history(channel, request)) out.push(m);
  return out;
}

async function historyOf(file: string, options: DesktopExportOptions = {}, request: HistoryRequest = ALL): Promise<SourceMessage[]> {
  const source = new DesktopExportSource(file, options);
  const [channel, ...rest] = await source.listChannels();
  expect(rest).toHaveLength(0);
  return collect(source, channel!, request);
}

/** Lists and reads every channel; resolves to the UserError that stopped it (fails the test if none). */
async function readError(file: string, options: DesktopExportOptions = {}): Promise<UserError> {
  try {
    const source = new DesktopExportSource(file, options);
    for (const channel of await source.listChannels()) await collect(source, channel);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).not.toContain('\n');
    return error as UserError;
  }
  throw new Error(`expected ${file} to fail`);
}

describe('listing channels', () => {
  it('finds the single-chat exports in a folder, sorted, skipping .json attachments that are not exports', async () => {
    const source = new DesktopExportSource(FOLDER, {});
    expect(await source.listChannels()).toEqual([
      { channelLink: 't.me/c/1111111111', channelId: '1111111111', title: 'Tuition Alpha' },
      { channelLink: 't.me/c/2222222222', channelId: '2222222222', title: 'Tuition Beta' },
    ]);
  });

  it('lists every chat of a full-account export (chats.list and left_chats.list), ignoring frequent_contacts', async () => {
    const source = new DesktopExportSource(ACCOUNT, {});
    expect(await source.listChannels()).toEqual([
      { channelLink: 't.me/c/3333333333', channelId: '3333333333', title: 'Tutors Lounge' },
      { channelLink: 't.me/c/42', channelId: '42', title: 'Some Admin' },
      { channelLink: 't.me/c/99', channelId: '99', title: null }, // saved messages: no name
      { channelLink: 't.me/c/5555555555', channelId: '5555555555', title: 'Gone Channel' },
    ]);
  });

  it('stops reading a single-chat file once the header is known, but reads on when "id" comes after "messages"', async () => {
    // the header comes first, so listing never reaches the truncated tail (history does)
    const truncated = new DesktopExportSource(errorFixture('truncated'), {});
    expect(await truncated.listChannels()).toEqual([{ channelLink: 't.me/c/6666666666', channelId: '6666666666', title: 'Cut Short' }]);
    const idLast = tmpFile('id-last-truncated.json', '{"name": "x", "type": "public_channel", "messages": [{"id": 1, "type": "mes');
    await expect(new DesktopExportSource(idLast, {}).listChannels()).rejects.toThrow(/ends unexpectedly at byte/);
  });

  it('merges the same chat exported into two files and reads both in file order', async () => {
    copyFileSync(CHAT_B, tmpFile('twice/1-january/result.json', ''));
    const later = readFileSync(CHAT_B, 'utf8').replaceAll('"id": 10', '"id": 20');
    tmpFile('twice/2-february/result.json', later);
    const source = new DesktopExportSource(path.join(tmp, 'twice'), {});
    const channels = await source.listChannels();
    expect(channels).toHaveLength(1);
    expect((await collect(source, channels[0]!)).map((m) => m.id)).toEqual([101, 102, 104, 105, 201, 202, 204, 205]);
  });
});

describe('history', () => {
  it('yields the messages of one chat oldest first, skipping service and unsupported entries', async () => {
    const messages = await historyOf(CHAT_A);
    expect(messages.map((m) => m.id)).toEqual([2, 3, 4, 5, 6, 7, 9, 10]);
    expect(messages.every((m) => !m.isService && m.views === null && m.forwards === null && m.replyCount === null)).toBe(true);
  });

  it('maps a plain-string text, with the date from date_unixtime (not the local-time "date")', async () => {
    const [hello] = await historyOf(CHAT_A);
    expect(hello).toEqual({
      id: 2,
      date: new Date('2024-01-01T00:01:00Z'), // "date" says 08:01, the exporting PC's local time
      editDate: null,
      text: 'Hello world',
      senderId: '-1001111111111',
      fwdFrom: null,
      replyToMsgId: null,
      entities: null,
      media: null,
      views: null,
      forwards: null,
      replyCount: null,
      isService: false,
    });
  });

  it('maps entity arrays with UTF-16 offsets, and editDate from edited_unixtime', async () => {
    const edited = (await historyOf(CHAT_A)).find((m) => m.id === 3)!;
    expect(edited.text).toBe('🎓 Need Math tutor, see https://example.test/a or here');
    expect(edited.editDate).toEqual(at(1704070000));
    expect(edited.entities).toEqual([
      { _: 'DesktopExportEntity', type: 'bold', offset: 8, length: 10, text: 'Math tutor' },
      { _: 'DesktopExportEntity', type: 'link', offset: 24, length: 22, text: 'https://example.test/a' },
      { _: 'DesktopExportEntity', type: 'text_link', offset: 50, length: 4, text: 'here', href: 'https://example.test/b' },
    ]);
    for (const e of edited.entities as { offset: number; length: number; text: string }[]) {
      expect(edited.text.slice(e.offset, e.offset + e.length)).toBe(e.text);
    }
  });

  it('maps forwards (named and hidden), replies and sender ids of users, channels and basic groups', async () => {
    const byId = new Map((await historyOf(CHAT_A)).map((m) => [m.id, m]));
    expect(byId.get(4)!.fwdFrom).toEqual({ _: 'DesktopExportForward', from_name: 'Other Channel' });
    expect(byId.get(5)!.fwdFrom).toEqual({ _: 'DesktopExportForward', from_name: null });
    expect(byId.get(5)!.replyToMsgId).toBe(3);
    expect(byId.get(5)!.senderId).toBe('42');
    expect(byId.get(4)!.senderId).toBe('-1001111111111');
    expect(byId.get(9)!.senderId).toBe('-777');
    expect(byId.get(9)!.entities).toEqual([{ _: 'DesktopExportEntity', type: 'italic', offset: 8, length: 7, text: 'ученики' }]);
  });

  it('maps a photo with caption and a document to DesktopExportMedia', async () => {
    const byId = new Map((await historyOf(CHAT_A)).map((m) => [m.id, m]));
    expect(byId.get(6)!.text).toBe('Photo caption');
    expect(byId.get(6)!.media).toEqual({ _: 'DesktopExportMedia', photo: 'photos/photo_1@01-01-2024_08-05-00.jpg', width: 1280, height: 720 });
    expect(byId.get(10)!.text).toBe('');
    expect(byId.get(10)!.media).toEqual({
      _: 'DesktopExportMedia',
      file: '(File not included. Change data exporting settings to download.)',
      thumbnail: '(File not included. Change data exporting settings to download.)',
      media_type: 'video_file',
      mime_type: 'video/mp4',
      duration_seconds: 12,
      width: 640,
      height: 360,
    });
  });

  it('turns \\xHH control escapes into characters, but keeps an escaped backslash followed by x41 literal', async () => {
    const control = (await historyOf(CHAT_A)).find((m) => m.id === 7)!;
    expect(control.text).toBe('A\u0001B\u001F C:\\x41 \\\u0002');
  });

  it('reads the same messages whatever the chunk size (escapes and UTF-8 sequences cut by chunk boundaries)', async () => {
    const expected = await historyOf(CHAT_A);
    for (const chunkSize of [1, 2, 3, 5, 7, 64]) {
      expect(await historyOf(CHAT_A, { chunkSize })).toEqual(expected);
    }
  });

  it('reads a chat whose "id" comes after "messages", and falls back to "text" without text_entities', async () => {
    const messages = await historyOf(CHAT_B);
    expect(messages.map((m) => m.id)).toEqual([101, 102, 104, 105]);
    const old = messages.find((m) => m.id === 104)!;
    expect(old.text).toBe('old export without text_entities: @tutor');
    expect(old.entities).toEqual([{ _: 'DesktopExportEntity', type: 'mention', offset: 34, length: 6, text: '@tutor' }]);
    expect(messages.find((m) => m.id === 102)!.text).toBe('second');
  });

  it('reads each chat of a full-account export separately', async () => {
    const source = new DesktopExportSource(ACCOUNT, { chunkSize: 16 });
    const texts = new Map<string, unknown[]>();
    for (const channel of await source.listChannels()) {
      texts.set(
        channel.channelLink,
        (await collect(source, channel)).map((m) => m.media ?? m.text),
      );
    }
    expect(texts.get('t.me/c/3333333333')).toEqual([
      'lounge post',
      {
        _: 'DesktopExportMedia',
        poll: {
          question: 'Which subject?',
          closed: false,
          total_voters: 2,
          answers: [
            { text: 'Math', voters: 2, chosen: true },
            { text: 'Art', voters: 0, chosen: false },
          ],
        },
      },
    ]);
    expect(texts.get('t.me/c/42')).toEqual(['personal hello']);
    expect(texts.get('t.me/c/99')).toEqual([]);
    expect(texts.get('t.me/c/5555555555')).toEqual(['left behind']);
  });

  it('applies the window: since inclusive, until exclusive, maxId and minId exclusive', async () => {
    const ids = async (request: Partial<HistoryRequest>) => (await historyOf(CHAT_B, {}, { ...ALL, ...request })).map((m) => m.id);
    // 102 is exactly at since (in), 105 exactly at until (out)
    expect(await ids({ since: at(1706745660), until: at(1706745780) })).toEqual([102, 104]);
    expect(await ids({ since: at(1706745661) })).toEqual([104, 105]);
    expect(await ids({ until: at(1706745660) })).toEqual([101]);
    expect(await ids({ maxId: 105, minId: 101 })).toEqual([102, 104]);
    expect(await ids({ maxId: null, minId: null })).toEqual([101, 102, 104, 105]);
  });

  it('stops when the signal aborts', async () => {
    const source = new DesktopExportSource(CHAT_A, { chunkSize: 16 });
    const [channel] = await source.listChannels();
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const m of source.history(channel!, { ...ALL, signal: controller.signal })) {
      seen.push(m.id);
      controller.abort();
    }
    expect(seen).toEqual([2]);
  });

  it('reports progress against the file size once the file has been read', async () => {
    const calls: [number, number, string][] = [];
    await historyOf(CHAT_A, { chunkSize: 256, onProgress: (read, total, file) => calls.push([read, total, file]) });
    const size = statSync(CHAT_A).size;
    expect(calls.at(-1)).toEqual([size, size, CHAT_A]);
  });
});

describe('channel identity', () => {
  it('without --channel, a chat is t.me/c/<id> and resolves from any form of its id', async () => {
    const source = new DesktopExportSource(CHAT_A, {});
    const expected = { channelLink: 't.me/c/1111111111', channelId: '1111111111', title: 'Tuition Alpha' };
    expect(await source.resolve('-1001111111111')).toEqual(expected);
    expect(await source.resolve('https://t.me/c/1111111111/55')).toEqual(expected);
  });

  it('--channel names the chat of a single-chat export', async () => {
    const source = new DesktopExportSource(CHAT_A, { channel: 'https://t.me/TuitionAlpha' });
    const expected = { channelLink: 't.me/tuitionalpha', channelId: '1111111111', title: 'Tuition Alpha' };
    expect(await source.listChannels()).toEqual([expected]);
    expect(await source.resolve('@tuitionalpha')).toEqual(expected);
    expect((await collect(source, expected)).map((m) => m.id)).toEqual([2, 3, 4, 5, 6, 7, 9, 10]);
    await expect(source.resolve('t.me/c/1111111111')).rejects.toThrow(
      /channel t\.me\/c\/1111111111 is not in the export .*t\.me\/tuitionalpha "Tuition Alpha"/,
    );
  });

  it('a username --channel with a path holding several chats, none of that name, lists them', async () => {
    for (const [p, n] of [
      [FOLDER, 2],
      [ACCOUNT, 4],
    ] as const) {
      const error = await new DesktopExportSource(p, { channel: '@tuitionalpha' }).listChannels().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserError);
      const [first, ...chats] = (error as Error).message.split('\n');
      expect(first).toBe(
        `--channel @tuitionalpha: no chat has that name, and a Telegram Desktop export does not record usernames (nor was t.me/tuitionalpha collected before); ${p} holds ${n} chats (name one by its id or its exact name):`,
      );
      expect(chats).toHaveLength(n);
    }
  });

  it('an unknown channel is a UserError naming it and listing what the export contains', async () => {
    const source = new DesktopExportSource(FOLDER, {});
    await expect(source.resolve('@nosuchchannel')).rejects.toThrow(UserError);
    await expect(source.resolve('@nosuchchannel')).rejects.toThrow(
      `channel @nosuchchannel is not in the export ${FOLDER}; it contains t.me/c/1111111111 "Tuition Alpha", t.me/c/2222222222 "Tuition Beta"`,
    );
  });

  it('subscribe() ends at once; close() is harmless', async () => {
    const source = new DesktopExportSource(CHAT_A, {});
    const subscription = await source.subscribe();
    await expect(subscription.ended).resolves.toBeUndefined();
    await subscription.stop();
    await source.close();
    expect(source.kind).toBe('desktop-export');
    expect(source.historyOrder).toBe('oldest-first');
  });
});

describe('broken exports are one-line UserErrors naming the file and the place', () => {
  it('a truncated file: ends unexpectedly at byte N', async () => {
    const file = errorFixture('truncated');
    const error = await readError(file);
    expect(error.message).toBe(`${file}: not complete JSON: it ends unexpectedly at byte ${statSync(file).size} (truncated export?)`);
  });

  it('a syntax error: line and column', async () => {
    const file = errorFixture('bad-syntax');
    expect((await readError(file)).message).toBe(`${file}: not valid JSON at line 8, column 4: expected ','`);
    // the same with chunk boundaries all over the place
    expect((await readError(file, { chunkSize: 3 })).message).toBe(`${file}: not valid JSON at line 8, column 4: expected ','`);
  });

  it('not UTF-8', async () => {
    const file = errorFixture('not-utf8');
    expect((await readError(file)).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid UTF-8 between bytes \\d+ and \\d+`));
    expect((await readError(file, { chunkSize: 4 })).message).toContain('not valid UTF-8 between bytes 13 and 20');
  });

  it('valid JSON that is not an export', async () => {
    const file = errorFixture('not-export');
    expect((await readError(file)).message).toBe(`${file}: not a Telegram Desktop export: valid JSON, but it has no "messages" array and no "chats.list"`);
    expect((await readError(errorFixture('messages-not-array'))).message).toContain('"messages" is not an array');
    expect((await readError(tmpFile('array.json', '[1, 2]'))).message).toContain('the top level is an array');
  });

  it('wrong types inside messages name the message', async () => {
    expect((await readError(errorFixture('wrong-id-type'))).message).toBe(
      `${errorFixture('wrong-id-type')}: malformed export: message at messages[1]: "id" must be an integer, got the string "2"`,
    );
    expect((await readError(errorFixture('entities-not-array'))).message).toBe(
      `${errorFixture('entities-not-array')}: malformed export: message id 5 (messages[0]): "text_entities" must be an array, got the string "bold"`,
    );
    const scalarMessage = tmpFile('scalar-message.json', '{"name": "x", "type": "public_channel", "id": 1, "messages": [7]}');
    expect((await readError(scalarMessage)).message).toContain('messages[0] must be an object');
    const badChatId = tmpFile('bad-chat-id.json', '{"name": "x", "type": "public_channel", "id": "1", "messages": []}');
    expect((await readError(badChatId)).message).toBe(`${badChatId}: "id" must be a positive integer (the bare chat id)`);
  });

  it('unreadable paths', async () => {
    const missing = path.join(tmp, 'missing', 'result.json');
    expect((await readError(missing)).message).toBe(`${missing}: no such file or folder`);
    expect((await readError(tmpFile('empty.json', ''))).message).toMatch(/empty\.json: the file is empty$/);
    mkdirSync(path.join(tmp, 'no-json'));
    expect((await readError(path.join(tmp, 'no-json'))).message).toMatch(/no-json: no \.json files in this folder/);
    tmpFile('only-attachments/files/a.json', '{"a": 1}');
    expect((await readError(path.join(tmp, 'only-attachments'))).message).toMatch(/only-attachments: no Telegram Desktop JSON export in this folder/);
  });

  it.skipIf(process.getuid?.() === 0)('a file without read permission', async () => {
    const file = tmpFile('locked.json', '{}');
    chmodSync(file, 0o000);
    expect((await readError(file)).message).toBe(`${file}: cannot read it (permission denied)`);
  });

  it('in a folder, a broken result.json is an error, not skipped', async () => {
    copyFileSync(errorFixture('truncated'), tmpFile('broken-folder/result.json', ''));
    expect((await readError(path.join(tmp, 'broken-folder'))).message).toMatch(/result\.json: not complete JSON/);
  });
});

describe('mapExportMessage', () => {
  const chat = { file: 'result.json', path: 'messages' };
  const base = { id: 9, type: 'message', date: '2024-01-01T08:00:00', date_unixtime: '1704067200' };

  it('maps a minimal message', () => {
    expect(mapExportMessage(base, chat)).toMatchObject({ id: 9, date: at(1704067200), text: '', entities: null, media: null, senderId: null });
  });

  it('needs a valid date_unixtime, and a valid edited_unixtime when there is one', () => {
    expect(() => mapExportMessage({ ...base, date_unixtime: undefined, date: undefined }, chat, 4)).toThrow(
      /^result\.json: malformed export: message id 9 \(messages\[4\]\): has neither "date_unixtime" nor "date"$/,
    );
    expect(() => mapExportMessage({ ...base, date_unixtime: 'yesterday' }, chat)).toThrow(/message id 9 .*"date_unixtime" must be a string of epoch seconds/);
    expect(() => mapExportMessage({ ...base, edited_unixtime: '' }, chat)).toThrow(/"edited_unixtime" must be/);
  });

  describe('issue 15 #9: old exports (local-time "date" / "edited", no *_unixtime)', () => {
    const old = { id: 9, type: 'message', date: '2021-03-04T18:22:10', from_id: 'channel7777777777', text: 'x' };
    const singapore = parseTimeZone('Asia/Singapore');

    it('without a time zone: refused with a reason naming --timezone (not "malformed")', () => {
      expect(() => mapExportMessage(old, chat, 2)).toThrow(
        new UserError(
          'result.json: an export from an old Telegram Desktop version: message id 9 (messages[2]) has "date" in local time and no "date_unixtime", ' +
            "and its dates are the exporting computer's local time; pass --timezone with that computer's time zone, e.g. --timezone Asia/Singapore or --timezone +08:00",
        ),
      );
      expect(() => mapExportMessage({ ...base, edited: '2024-01-01T09:00:00' }, chat)).toThrow(
        /has "edited" in local time and no "edited_unixtime", .*; pass --timezone/,
      );
    });

    it('with one: the local date and edit date are read in that zone', () => {
      const m = mapExportMessage({ ...old, edited: '2021-03-05T00:30:00' }, chat, 2, singapore);
      expect(m.date).toEqual(new Date('2021-03-04T10:22:10Z'));
      expect(m.editDate).toEqual(new Date('2021-03-04T16:30:00Z'));
      expect(mapExportMessage(old, chat, 2, parseTimeZone('-03:30')).date).toEqual(new Date('2021-03-04T21:52:10Z'));
      // the epoch seconds, where present, win over the local time whatever the zone
      expect(mapExportMessage(base, chat, 0, parseTimeZone('America/New_York')).date).toEqual(at(1704067200));
    });

    it('daylight saving time: each local time with the offset in force then (Europe/London)', () => {
      const london = parseTimeZone('Europe/London');
      const utc = (date: string) => mapExportMessage({ ...old, date }, chat, 0, london).date.toISOString();
      expect(utc('2021-01-15T12:00:00')).toBe('2021-01-15T12:00:00.000Z'); // GMT
      expect(utc('2021-07-01T12:00:00')).toBe('2021-07-01T11:00:00.000Z'); // BST
      expect(utc('2021-03-28T00:59:59')).toBe('2021-03-28T00:59:59.000Z'); // just before clocks go forward at 01:00 UTC
      expect(utc('2021-03-28T02:00:00')).toBe('2021-03-28T01:00:00.000Z'); // just after
      expect(utc('2021-03-28T01:30:00')).toBe('2021-03-28T01:30:00.000Z'); // never shown by a clock: the offset before
      expect(utc('2021-10-31T01:30:00')).toBe('2021-10-31T00:30:00.000Z'); // shown twice: the first time (BST)
      expect(utc('2021-10-31T02:00:00')).toBe('2021-10-31T02:00:00.000Z'); // GMT again
      expect(utc('2021-10-31T00:59:59')).toBe('2021-10-30T23:59:59.000Z');
    });

    it('an unreadable local date is malformed; exports before Telegram Desktop 2.4 wrote from_id as a bare user id', () => {
      for (const date of ['yesterday', '2021-02-30T10:00:00', '2021-03-04 18:22:10', '2021-03-04T18:22:10+08:00', 5]) {
        expect(() => mapExportMessage({ ...old, date }, chat, 0, singapore), String(date)).toThrow(
          /malformed export: message id 9 .*"date" must be a local time like 2021-03-04T18:22:10/,
        );
      }
      expect(mapExportMessage({ ...old, from_id: 123456789 }, chat, 0, singapore).senderId).toBe('123456789');
      expect(() => mapExportMessage({ ...old, from_id: 1.5 }, chat, 0, singapore)).toThrow(/"from_id" must be a string/);
    });
  });

  it('rejects wrong types', () => {
    expect(() => mapExportMessage({ ...base, text_entities: [{ type: 'bold' }] }, chat)).toThrow(
      /text_entities\[0\] must be an object with string "type" and "text"/,
    );
    expect(() => mapExportMessage({ ...base, reply_to_message_id: '3' }, chat)).toThrow(/"reply_to_message_id" must be an integer/);
    expect(() => mapExportMessage({ ...base, text: 5 }, chat)).toThrow(/"text" must be a string or an array/);
    expect(() => mapExportMessage('nope', chat, 0)).toThrow(/message at messages\[0\]: must be an object/);
  });

  it('keeps the extra fields of entities and ignores unknown from_id forms', () => {
    const m = mapExportMessage(
      {
        ...base,
        from_id: 'bot5',
        text_entities: [
          { type: 'pre', text: 'x = 1', language: 'python' },
          { type: 'plain', text: ' ' },
          { type: 'mention_name', text: 'Ada', user_id: 99 },
          { type: 'custom_emoji', text: '🙂', document_id: '5368324170671202286' },
        ],
      },
      chat,
    );
    expect(m.senderId).toBeNull();
    expect(m.text).toBe('x = 1 Ada🙂');
    expect(m.entities).toEqual([
      { _: 'DesktopExportEntity', type: 'pre', offset: 0, length: 5, text: 'x = 1', language: 'python' },
      { _: 'DesktopExportEntity', type: 'mention_name', offset: 6, length: 3, text: 'Ada', user_id: 99 },
      { _: 'DesktopExportEntity', type: 'custom_emoji', offset: 9, length: 2, text: '🙂', document_id: '5368324170671202286' },
    ]);
  });
});

describe('HexEscapeFixer', () => {
  const input = String.raw`"a\x01b\\x41c\\\x1Fd\u0041e\x4g\\"`;
  const expected = String.raw`"a\u0001b\\x41c\\\u001Fd\u0041e\x4g\\"`;

  it('rewrites \\xHH but not an escaped backslash followed by x', () => {
    const fixer = new HexEscapeFixer();
    expect(fixer.push(input) + fixer.end()).toBe(expected);
  });

  it('gives the same result however the text is split', () => {
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const fixer = new HexEscapeFixer();
        const out = fixer.push(input.slice(0, i)) + fixer.push(input.slice(i, j)) + fixer.push(input.slice(j)) + fixer.end();
        expect(out, `split at ${i}/${j}`).toBe(expected);
      }
    }
  });
});

describe('streaming', () => {
  it('reads a large export without holding it in memory', async () => {
    const file = path.join(tmp, 'large.json');
    const count = 200_000;
    const out = createWriteStream(file);
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    await write('{\n "name": "Big",\n "type": "public_channel",\n "id": 123,\n "messages": [');
    const filler = 'x'.repeat(40);
    for (let start = 1; start <= count; start += 1000) {
      const batch: string[] = [];
      for (let id = start; id < start + 1000; id++) {
        const t = 1704067200 + id;
        batch.push(
          `${id === 1 ? '' : ','}\n  {"id": ${id}, "type": "message", "date": "x", "date_unixtime": "${t}", "from_id": "channel123", ` +
            `"text": "post ${id} ${filler}\\x01", "text_entities": [{"type": "plain", "text": "post ${id} ${filler}\\x01"}]}`,
        );
      }
      await write(batch.join(''));
    }
    await write('\n ]\n}\n');
    out.end();
    await once(out, 'close');
    const size = statSync(file).size;

    const progress: number[] = [];
    const source = new DesktopExportSource(file, { onProgress: (read) => progress.push(read) });
    const [channel] = await source.listChannels();
    progress.length = 0;
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let seen = 0;
    let lastId = 0;
    for await (const m of source.history(channel!, ALL)) {
      seen++;
      lastId = m.id;
      if (seen % 2000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    }
    expect(seen).toBe(count);
    expect(lastId).toBe(count);
    console.log(`large export: ${(size / 1e6).toFixed(1)} MB file, peak heap growth ${(peak / 1e6).toFixed(1)} MB`);
    expect(peak).toBeLessThan(size * 0.5);
    // progress about every MiB, ending at the file size
    expect(progress.length).toBeGreaterThan(size / 2 ** 20 - 2);
    expect(progress.length).toBeLessThan(size / 2 ** 20 + 2);
    expect(progress.at(-1)).toBe(size);
  }, 30_000);
});

describe('forum groups (issue 15 #10)', () => {
  it('issue 15 #10: a post inside a forum topic is not a reply; a reply inside a topic still is', async () => {
    const file = tmpFile(
      'forum/result.json',
      JSON.stringify({
        name: 'SG Tuition Forum',
        type: 'private_supergroup',
        id: 2233445566,
        messages: [
          {
            id: 1,
            type: 'service',
            date: '2025-03-01T09:00:00',
            date_unixtime: '1740790800',
            actor: 'Admin',
            actor_id: 'user1',
            action: 'topic_created',
            title: 'Primary',
            text: '',
          },
          {
            id: 2,
            type: 'message',
            date: '2025-03-01T09:01:00',
            date_unixtime: '1740790860',
            from: 'Agency',
            from_id: 'user2',
            reply_to_message_id: 1,
            text: 'P5 Maths @ Bishan, $40/h, Tue eve',
          },
          {
            id: 3,
            type: 'message',
            date: '2025-03-01T09:02:00',
            date_unixtime: '1740790920',
            from: 'Tutor',
            from_id: 'user3',
            reply_to_message_id: 2,
            text: 'Is this still available?',
          },
          {
            id: 4,
            type: 'service',
            date: '2025-03-01T09:03:00',
            date_unixtime: '1740790980',
            actor: 'Admin',
            actor_id: 'user1',
            action: 'topic_created',
            title: 'Secondary',
            text: '',
          },
          {
            id: 5,
            type: 'message',
            date: '2025-03-01T09:04:00',
            date_unixtime: '1740791040',
            from: 'Agency',
            from_id: 'user2',
            reply_to_message_id: 4,
            text: 'Sec 3 A-Math @ Tampines, $50/h',
          },
          { id: 6, type: 'message', date: '2025-03-01T09:05:00', date_unixtime: '1740791100', from: 'Agency', from_id: 'user2', text: 'A post in General' },
        ],
      }),
    );
    const messages = await historyOf(file);
    expect(messages.map((m) => [m.id, m.replyToMsgId])).toEqual([
      [2, null],
      [3, 2],
      [5, null],
      [6, null],
    ]);
  });
});

describe('issue 15 #8: whole-account exports', () => {
  const LISTING = [
    '  3333333333  public_supergroup       "Tutors Lounge"  3 messages',
    '  42          personal_chat           "Some Admin"     1 message',
    '  99          saved_messages          (no name)        0 messages',
    '  5555555555  private_channel (left)  "Gone Channel"   1 message',
  ];
  const checkError = async (file: string, options: DesktopExportOptions = {}) => {
    const error = await new DesktopExportSource(file, options).check(ALL).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, 'expected a refusal').toBeInstanceOf(UserError);
    return (error as Error).message.split('\n');
  };

  it('without --channel, one holding several chats is refused with one line per chat and how to pick one', async () => {
    expect(await checkError(ACCOUNT)).toEqual([
      `${ACCOUNT} holds 4 chats (it is a whole-account export); nothing was imported: name the one to import with --channel 3333333333 (or --channel "Tutors Lounge"):`,
      ...LISTING,
    ]);
  });

  it('--channel picks one chat by any form of its id, or by its exact name', async () => {
    const gone = { channelLink: 't.me/c/5555555555', channelId: '5555555555', title: 'Gone Channel' };
    for (const ref of ['t.me/c/5555555555', 'https://t.me/c/5555555555/70', '-1005555555555', '5555555555', 'Gone Channel', ' Gone Channel ']) {
      const source = new DesktopExportSource(ACCOUNT, { channel: ref });
      const check = await source.check(ALL);
      expect(check.channels, ref).toEqual([{ channel: gone, messages: 1 }]);
      expect(check).toMatchObject({ files: [ACCOUNT], refused: [], folder: false });
      expect((await collect(source, gone)).map((m) => m.text)).toEqual(['left behind']);
    }
    const lounge = new DesktopExportSource(ACCOUNT, { channel: 'Tutors Lounge', chunkSize: 7 });
    expect((await lounge.check(ALL)).channels).toEqual([
      { channel: { channelLink: 't.me/c/3333333333', channelId: '3333333333', title: 'Tutors Lounge' }, messages: 2 },
    ]);
  });

  it('--channel @username picks the chat whose id is known for that username (the export itself never says)', async () => {
    const asked: string[] = [];
    const channelIdOf = async (link: string) => (asked.push(link), link === 't.me/tutorslounge' ? '3333333333' : null);
    const source = new DesktopExportSource(ACCOUNT, { channel: '@TutorsLounge', channelIdOf });
    const lounge = { channelLink: 't.me/tutorslounge', channelId: '3333333333', title: 'Tutors Lounge' };
    expect(await source.listChannels()).toEqual([lounge]);
    expect(asked).toEqual(['t.me/tutorslounge']);
    expect((await collect(source, lounge)).map((m) => m.id)).toEqual([2, 3]);
    // known, but as a chat that is not in this export
    const elsewhere = await checkError(ACCOUNT, { channel: 't.me/elsewhere', channelIdOf: async () => '8888888888' });
    expect(elsewhere[0]).toBe(
      `--channel t.me/elsewhere: t.me/elsewhere is chat id 8888888888 (known from earlier collection), which is not in the export; ${ACCOUNT} holds 4 chats (name one by its id or its exact name):`,
    );
  });

  it('an unknown --channel lists what is in the file', async () => {
    for (const [ref, problem] of [
      ['t.me/c/1234', 'no chat with id 1234'],
      ['Tutors lounge', 'no chat has that name'],
    ]) {
      expect(await checkError(ACCOUNT, { channel: ref })).toEqual([
        `--channel ${ref}: ${problem}; ${ACCOUNT} holds 4 chats (name one by its id or its exact name):`,
        ...LISTING,
      ]);
    }
  });

  it('two chats of the same name: refused, pick by id', async () => {
    const twins = tmpFile(
      'twins/result.json',
      JSON.stringify({
        about: 'Here is the data you requested.',
        chats: {
          about: 'This page lists all chats from this export.',
          list: [
            { name: 'SG Tutors', type: 'public_channel', id: 11, messages: [] },
            { name: 'SG Tutors', type: 'private_supergroup', id: 12, messages: [] },
          ],
        },
      }),
    );
    expect((await checkError(twins, { channel: 'SG Tutors' }))[0]).toMatch(/^--channel SG Tutors: 2 chats have that name; .* holds 2 chats/);
    expect((await new DesktopExportSource(twins, { channel: '12' }).check(ALL)).channels).toEqual([
      { channel: { channelLink: 't.me/c/12', channelId: '12', title: 'SG Tutors' }, messages: 0 },
    ]);
  });

  it('a single-chat export: a username names it (as before); an id or name must be its own', async () => {
    expect(await new DesktopExportSource(CHAT_A, { channel: 'Tuition Alpha' }).listChannels()).toEqual([
      { channelLink: 't.me/c/1111111111', channelId: '1111111111', title: 'Tuition Alpha' },
    ]);
    expect(await checkError(CHAT_A, { channel: 't.me/c/2222222222' })).toEqual([
      `--channel t.me/c/2222222222: no chat with id 2222222222; ${CHAT_A} holds 1 chat (name one by its id or its exact name):`,
      '  1111111111  public_channel  "Tuition Alpha"',
    ]);
    // a username known as another channel's is not this chat's
    expect((await checkError(CHAT_A, { channel: '@tuitionalpha', channelIdOf: async () => '2222222222' }))[0]).toMatch(
      /t\.me\/tuitionalpha is chat id 2222222222/,
    );
    // a single-chat export is imported without --channel (an account export holding one chat too)
    expect((await new DesktopExportSource(CHAT_A).check(ALL)).channels.map((c) => c.channel.channelLink)).toEqual(['t.me/c/1111111111']);
  });
});

describe('issue 15 #9: old exports, and a folder with files that cannot be read', () => {
  const singapore = parseTimeZone('Asia/Singapore');

  it('an old export is refused without --timezone, with the reason', async () => {
    expect((await readError(OLD)).message).toMatch(
      new RegExp(
        `^${OLD.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: an export from an old Telegram Desktop version: message id 2 \\(messages\\[1\\]\\) has "date" in local time and no "date_unixtime", .*; pass --timezone`,
      ),
    );
  });

  it('with --timezone it is read: dates in that zone, text arrays with entities, media', async () => {
    const messages = await historyOf(OLD, { timezone: singapore });
    expect(messages.map((m) => [m.id, m.date.toISOString(), m.editDate?.toISOString() ?? null])).toEqual([
      [2, '2021-03-04T10:22:10.000Z', null],
      [3, '2021-03-05T01:15:00.000Z', '2021-03-05T02:00:30.000Z'],
      [4, '2021-03-05T16:05:00.000Z', null], // past midnight in Singapore, the day before in UTC
    ]);
    const [, math, chem] = messages;
    expect(math!.text).toBe('Sec 2 E-Math @ Bedok, apply here');
    expect(math!.entities).toEqual([
      { _: 'DesktopExportEntity', type: 'bold', offset: 6, length: 6, text: 'E-Math' },
      { _: 'DesktopExportEntity', type: 'text_link', offset: 28, length: 4, text: 'here', href: 'https://example.test/apply' },
    ]);
    expect(math!.senderId).toBe('-1007777777777');
    expect(chem!.media).toEqual({ _: 'DesktopExportMedia', photo: 'photos/photo_1@06-03-2021_00-05-00.jpg', width: 1280, height: 960 });
    // the window applies to the converted dates
    expect((await historyOf(OLD, { timezone: singapore }, { since: new Date('2021-03-05T00:00:00Z'), until: null })).map((m) => m.id)).toEqual([3, 4]);
  });

  /** chat-a (current), the old export, and a current export of chat-b cut short after its header */
  function mixedFolder(name: string): string {
    const dir = path.join(tmp, name);
    copyFileSync(CHAT_A, tmpFile(`${name}/1-alpha/result.json`, ''));
    copyFileSync(OLD, tmpFile(`${name}/2-gamma/result.json`, ''));
    const beta = readFileSync(CHAT_B, 'utf8');
    tmpFile(
      `${name}/3-cut/result.json`,
      `{"name": "Tuition Delta", "type": "public_channel", "id": 4444444444, ${beta.slice(beta.indexOf('"messages"'), beta.indexOf('"id": 104'))}`,
    );
    return dir;
  }

  it('in a folder, each file that cannot be read is refused alone, with its reason; the others are read', async () => {
    const dir = mixedFolder('mixed');
    const [alpha, gamma, cut] = ['1-alpha', '2-gamma', '3-cut'].map((d) => path.join(dir, d, 'result.json')) as [string, string, string];
    const source = new DesktopExportSource(dir);
    const check = await source.check(ALL);
    expect(check.channels).toEqual([{ channel: { channelLink: 't.me/c/1111111111', channelId: '1111111111', title: 'Tuition Alpha' }, messages: 8 }]);
    expect(check.files).toEqual([alpha]);
    expect(check.refused.map((r) => r.file)).toEqual([gamma, cut]);
    expect(check.refused[0]!.reason).toMatch(/^.*2-gamma\/result\.json: an export from an old Telegram Desktop version: .*pass --timezone/);
    expect(check.refused[1]!.reason).toMatch(/3-cut\/result\.json: not complete JSON: it ends unexpectedly at byte \d+ \(truncated export\?\)$/);
    // history and the channel list leave the refused files out
    expect(await source.listChannels()).toEqual([check.channels[0]!.channel]);
    expect((await collect(source, check.channels[0]!.channel)).length).toBe(8);

    const withZone = await new DesktopExportSource(dir, { timezone: singapore }).check(ALL);
    expect(withZone.channels.map((c) => [c.channel.channelLink, c.messages])).toEqual([
      ['t.me/c/1111111111', 8],
      ['t.me/c/7777777777', 3],
    ]);
    expect(withZone.files).toEqual([alpha, gamma]);
    expect(withZone.refused.map((r) => r.file)).toEqual([cut]);
  });

  it('in a folder whose every export is refused, that is the error: one file its reason, several each', async () => {
    copyFileSync(OLD, tmpFile('only-old/ChatExport/result.json', ''));
    const one = await new DesktopExportSource(path.join(tmp, 'only-old')).check(ALL).then(
      () => null,
      (e: unknown) => e,
    );
    expect((one as Error).message).toMatch(/only-old\/ChatExport\/result\.json: an export from an old Telegram Desktop version: [^\n]*--timezone \+08:00$/);
    copyFileSync(errorFixture('truncated'), tmpFile('only-old/Other/result.json', ''));
    const two = await new DesktopExportSource(path.join(tmp, 'only-old')).check(ALL).then(
      () => null,
      (e: unknown) => e,
    );
    const lines = (two as Error).message.split('\n');
    expect(lines[0]).toBe(`${path.join(tmp, 'only-old')}: nothing imported: each of its 2 export files was refused:`);
    expect(lines.slice(1).map((l) => l.replace(/: .*/, ''))).toEqual([
      `  ${path.join(tmp, 'only-old/ChatExport/result.json')}`,
      `  ${path.join(tmp, 'only-old/Other/result.json')}`,
    ]);
  });

  it('a lone old file or a lone broken file is an error, not a refusal', async () => {
    await expect(new DesktopExportSource(OLD).check(ALL)).rejects.toThrow(/an export from an old Telegram Desktop version/);
    await expect(new DesktopExportSource(errorFixture('truncated')).check(ALL)).rejects.toThrow(/not complete JSON/);
  });
});
