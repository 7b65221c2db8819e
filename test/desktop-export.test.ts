import { once } from 'node:events';
import { chmodSync, copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { DesktopExportSource, HexEscapeFixer, mapExportMessage, type DesktopExportOptions } from '../src/telegram/desktop-export.ts';
import type { HistoryRequest, ResolvedChannel, SourceMessage } from '../src/telegram/types.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'desktop-export');
const FOLDER = path.join(FIXTURES, 'folder');
const CHAT_A = path.join(FOLDER, 'chat-a', 'result.json');
const CHAT_B = path.join(FOLDER, 'chat-b', 'result.json');
const ACCOUNT = path.join(FIXTURES, 'account', 'result.json');
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
      texts.set(channel.channelLink, (await collect(source, channel)).map((m) => m.media ?? m.text));
    }
    expect(texts.get('t.me/c/3333333333')).toEqual([
      'lounge post',
      {
        _: 'DesktopExportMedia',
        poll: {
          question: 'Which subject?', closed: false, total_voters: 2,
          answers: [{ text: 'Math', voters: 2, chosen: true }, { text: 'Art', voters: 0, chosen: false }],
        },
      },
    ]);
    expect(texts.get('t.me/c/42')).toEqual(['personal hello']);
    expect(texts.get('t.me/c/99')).toEqual([]);
    expect(texts.get('t.me/c/5555555555')).toEqual(['left behind']);
  });

  it('applies the window: since inclusive, until exclusive, maxId and minId exclusive', async () => {
    const ids = async (request: Partial<HistoryRequest>) =>
      (await historyOf(CHAT_B, {}, { ...ALL, ...request })).map((m) => m.id);
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
    await expect(source.resolve('t.me/c/1111111111')).rejects.toThrow(/channel t\.me\/c\/1111111111 is not in the export .*t\.me\/tuitionalpha "Tuition Alpha"/);
  });

  it('--channel with a path holding several chats is a UserError', async () => {
    for (const p of [FOLDER, ACCOUNT]) {
      const error = await readError(p, { channel: '@tuitionalpha' });
      expect(error.message).toMatch(/^--channel @tuitionalpha names one chat, but .* holds (2|4) chats \(t\.me\/c\//);
    }
  });

  it('an unknown channel is a UserError naming it and listing what the export contains', async () => {
    const source = new DesktopExportSource(FOLDER, {});
    await expect(source.resolve('@nosuchchannel')).rejects.toThrow(UserError);
    await expect(source.resolve('@nosuchchannel')).rejects.toThrow(
      'channel @nosuchchannel is not in the export ' + FOLDER + '; it contains t.me/c/1111111111 "Tuition Alpha", t.me/c/2222222222 "Tuition Beta"',
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
    expect((await readError(file)).message).toBe(
      `${file}: not a Telegram Desktop export: valid JSON, but it has no "messages" array and no "chats.list"`,
    );
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
    expect(() => mapExportMessage({ ...base, date_unixtime: undefined }, chat, 4)).toThrow(
      /^result\.json: malformed export: message id 9 \(messages\[4\]\): has no "date_unixtime"/,
    );
    expect(() => mapExportMessage({ ...base, date_unixtime: 'yesterday' }, chat)).toThrow(/message id 9 .*"date_unixtime" must be a string of epoch seconds/);
    expect(() => mapExportMessage({ ...base, edited_unixtime: '' }, chat)).toThrow(/"edited_unixtime" must be/);
  });

  it('rejects wrong types', () => {
    expect(() => mapExportMessage({ ...base, text_entities: [{ type: 'bold' }] }, chat)).toThrow(/text_entities\[0\] must be an object with string "type" and "text"/);
    expect(() => mapExportMessage({ ...base, reply_to_message_id: '3' }, chat)).toThrow(/"reply_to_message_id" must be an integer/);
    expect(() => mapExportMessage({ ...base, text: 5 }, chat)).toThrow(/"text" must be a string or an array/);
    expect(() => mapExportMessage('nope', chat, 0)).toThrow(/message at messages\[0\]: must be an object/);
  });

  it('keeps the extra fields of entities and ignores unknown from_id forms', () => {
    const m = mapExportMessage({
      ...base,
      from_id: 'bot5',
      text_entities: [
        { type: 'pre', text: 'x = 1', language: 'python' },
        { type: 'plain', text: ' ' },
        { type: 'mention_name', text: 'Ada', user_id: 99 },
        { type: 'custom_emoji', text: '🙂', document_id: '5368324170671202286' },
      ],
    }, chat);
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
        batch.push(`${id === 1 ? '' : ','}\n  {"id": ${id}, "type": "message", "date": "x", "date_unixtime": "${t}", "from_id": "channel123", ` +
          `"text": "post ${id} ${filler}\\x01", "text_entities": [{"type": "plain", "text": "post ${id} ${filler}\\x01"}]}`);
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
    const file = tmpFile('forum/result.json', JSON.stringify({
      name: 'SG Tuition Forum', type: 'private_supergroup', id: 2233445566,
      messages: [
        { id: 1, type: 'service', date: '2025-03-01T09:00:00', date_unixtime: '1740790800', actor: 'Admin', actor_id: 'user1', action: 'topic_created', title: 'Primary', text: '' },
        { id: 2, type: 'message', date: '2025-03-01T09:01:00', date_unixtime: '1740790860', from: 'Agency', from_id: 'user2', reply_to_message_id: 1, text: 'P5 Maths @ Bishan, $40/h, Tue eve' },
        { id: 3, type: 'message', date: '2025-03-01T09:02:00', date_unixtime: '1740790920', from: 'Tutor', from_id: 'user3', reply_to_message_id: 2, text: 'Is this still available?' },
        { id: 4, type: 'service', date: '2025-03-01T09:03:00', date_unixtime: '1740790980', actor: 'Admin', actor_id: 'user1', action: 'topic_created', title: 'Secondary', text: '' },
        { id: 5, type: 'message', date: '2025-03-01T09:04:00', date_unixtime: '1740791040', from: 'Agency', from_id: 'user2', reply_to_message_id: 4, text: 'Sec 3 A-Math @ Tampines, $50/h' },
        { id: 6, type: 'message', date: '2025-03-01T09:05:00', date_unixtime: '1740791100', from: 'Agency', from_id: 'user2', text: 'A post in General' },
      ],
    }));
    const messages = await historyOf(file);
    expect(messages.map((m) => [m.id, m.replyToMsgId])).toEqual([
      [2, null],
      [3, 2],
      [5, null],
      [6, null],
    ]);
  });
});
