import { createReadStream, type Dirent, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import Assembler from 'stream-json/core/assembler.js';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { jsonVerifier } from 'stream-json/core/utils/verifier.js';
import { normalizeChannelRef } from '../config/channels.ts';
import { parseWallTime, type TimeZone } from '../config/timezone.ts';
import { ConfigError, UserError } from '../errors.ts';
import type { ChannelSource, HistoryRequest, ResolvedChannel, SourceMessage, Subscription } from './types.ts';

/**
 * Telegram Desktop "Export chat history" (JSON) as a ChannelSource.
 *
 * `result.json` holds either one chat (`{name, type, id, messages: [...]}`) or a whole account
 * (`{about, ..., chats: {list: [chat, ...]}, left_chats: {list: [chat, ...]}, ...}`). Exports can be gigabytes, so
 * everything streams: bytes → strict UTF-8 decoding → `\xHH` fix-up → stream-json tokens → a walker that knows
 * where chats and messages sit and assembles one message object at a time.
 */

/**
 * Bytes per read. Everything parsed from one chunk is alive until its messages have been yielded, and larger
 * chunks let that garbage reach the old generation: on a 34 MB export the heap peaked 14 MB above baseline with
 * 64 KiB reads and 40 MB with 256 KiB, at the same speed.
 */
const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** onProgress is called about this often (and at the end of each file) */
const PROGRESS_STEP = 1024 * 1024;

/** Message keys that describe an attachment (photo, document, poll, location, contact, game, invoice). */
const MEDIA_KEYS = [
  'photo',
  'width',
  'height',
  'file',
  'thumbnail',
  'media_type',
  'mime_type',
  'duration_seconds',
  'sticker_emoji',
  'performer',
  'title',
  'poll',
  'location_information',
  'contact_information',
  'place_name',
  'address',
  // also written by the exporter for media, and by newer versions
  'self_destruct_period_seconds',
  'contact_vcard',
  'live_location_period_seconds',
  'game_title',
  'game_description',
  'game_link',
  'invoice_information',
  'file_name',
  'file_size',
  'photo_file_size',
  'thumbnail_file_size',
] as const;

const ENTITY_EXTRA_KEYS = ['href', 'user_id', 'language', 'document_id'] as const;

export interface DesktopExportOptions {
  /**
   * the chat to read: its id (`t.me/c/<id>`, `-100<id>`, the bare id), its username (`@name`, `t.me/name`: names
   * the chat of a single-chat export, or picks the chat whose id `channelIdOf` knows), or its exact name
   */
  channel?: string | null;
  /** the id of a channel known by this username link (`t.me/<name>`), e.g. from the database; exports never say */
  channelIdOf?: (channelLink: string) => Promise<string | null>;
  /** the zone of the computer that wrote an old export (dates in local time, no `date_unixtime`) */
  timezone?: TimeZone | null;
  /** called while an export file is read: about every MiB, and once its last byte has been read */
  onProgress?: (bytesRead: number, totalBytes: number, file: string) => void;
  /** bytes per read (default 64 KiB); tests use tiny sizes to put chunk boundaries everywhere */
  chunkSize?: number;
}

/** Where a message sits, for error messages: the file and the JSON path of its messages array. */
export interface ExportChatRef {
  file: string;
  /** `messages` for a single-chat export, `chats.list[3].messages` in an account export */
  path: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Message mapping

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** `date_unixtime` / `edited_unixtime`: epoch seconds as a decimal string (tolerate a plain number). */
function parseUnixtime(value: unknown): Date | null {
  let seconds: number;
  if (typeof value === 'string' && /^\d{1,12}$/.test(value)) seconds = Number(value);
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) seconds = value;
  else return null;
  return new Date(seconds * 1000);
}

/**
 * `user123` → `123`, `channel123` → `-100123`, `chat123` → `-123` (Telegram's marked peer ids); exports before
 * Telegram Desktop 2.4 wrote a user's bare id as a number.
 */
function senderIdOf(fromId: unknown): string | null {
  if (isInteger(fromId) && (fromId as number) > 0) return String(fromId);
  const match = typeof fromId === 'string' ? /^(user|channel|chat)(\d+)$/.exec(fromId) : null;
  if (!match) return null;
  const [, kind, id] = match;
  return kind === 'channel' ? `-100${id}` : kind === 'chat' ? `-${id}` : id!;
}

interface TextPart {
  type: string;
  text: string;
  source: JsonObject | null;
}

type Fail = (problem: string) => UserError;

function entityPart(value: unknown, label: string, fail: Fail): TextPart {
  if (!isObject(value) || typeof value.type !== 'string' || typeof value.text !== 'string') {
    throw fail(`${label} must be an object with string "type" and "text", got ${describe(value)}`);
  }
  return { type: value.type, text: value.text, source: value };
}

/** The message text as parts; `text_entities` is authoritative, `text` is the fallback for exports without it. */
function textParts(raw: JsonObject, fail: Fail): TextPart[] {
  const entities = raw.text_entities;
  if (entities !== undefined) {
    if (!Array.isArray(entities)) throw fail(`"text_entities" must be an array, got ${describe(entities)}`);
    return entities.map((e, i) => entityPart(e, `text_entities[${i}]`, fail));
  }
  const text = raw.text;
  if (text === undefined) return [];
  if (typeof text === 'string') return [{ type: 'plain', text, source: null }];
  if (!Array.isArray(text)) throw fail(`"text" must be a string or an array, got ${describe(text)}`);
  return text.map((p, i) => (typeof p === 'string' ? { type: 'plain', text: p, source: null } : entityPart(p, `text[${i}]`, fail)));
}

/** Non-plain parts as entities; offsets and lengths are UTF-16 code units of the full text, like MessageEntity. */
function entitiesOf(parts: TextPart[]): unknown[] | null {
  const entities: unknown[] = [];
  let offset = 0;
  for (const part of parts) {
    if (part.type !== 'plain') {
      const entity: JsonObject = { _: 'DesktopExportEntity', type: part.type, offset, length: part.text.length, text: part.text };
      for (const key of ENTITY_EXTRA_KEYS) if (part.source?.[key] !== undefined) entity[key] = part.source[key];
      entities.push(entity);
    }
    offset += part.text.length;
  }
  return entities.length > 0 ? entities : null;
}

function mediaOf(raw: JsonObject): unknown | null {
  const media: JsonObject = { _: 'DesktopExportMedia' };
  let found = false;
  for (const key of MEDIA_KEYS) {
    if (raw[key] !== undefined) {
      media[key] = raw[key];
      found = true;
    }
  }
  return found ? media : null;
}

/** The service message that opens a forum topic (its id is the topic's id). */
function isTopicRoot(raw: unknown): raw is { id: number } {
  return isObject(raw) && raw.type === 'service' && raw.action === 'topic_created' && isInteger(raw.id);
}

function optional(raw: JsonObject, key: string, ok: (v: unknown) => boolean, expected: string, fail: Fail): void {
  if (raw[key] !== undefined && !ok(raw[key])) throw fail(`"${key}" must be ${expected}, got ${describe(raw[key])}`);
}

const isStringOrNull = (v: unknown) => v === null || typeof v === 'string';
const isInteger = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * A message's date (`date_unixtime`, or `date` in local time) or edit date (`edited_unixtime`, or `edited`). The
 * epoch seconds are authoritative; the local time is read only when they are missing, which needs the time zone.
 */
function instantOf(raw: JsonObject, local: 'date' | 'edited', timezone: TimeZone | null, fail: Fail, oldExport: (problem: string) => UserError): Date | null {
  const unixKey = `${local}_unixtime`;
  if (raw[unixKey] !== undefined) {
    const date = parseUnixtime(raw[unixKey]);
    if (!date) throw fail(`"${unixKey}" must be a string of epoch seconds, got ${describe(raw[unixKey])}`);
    return date;
  }
  const text = raw[local];
  if (text === undefined) {
    if (local === 'edited') return null;
    throw fail('has neither "date_unixtime" nor "date"');
  }
  const wall = typeof text === 'string' ? parseWallTime(text) : null;
  if (!wall) throw fail(`"${local}" must be a local time like 2021-03-04T18:22:10, got ${describe(text)}`);
  if (!timezone) throw oldExport(`has "${local}" in local time and no "${unixKey}"`);
  return timezone.toUtc(wall);
}

/**
 * One exported message → SourceMessage. Pure; throws a UserError naming the file and the message when the
 * export is malformed, or is an old one (local-time dates only) and no `timezone` is given. Callers skip
 * `service` / `unsupported` entries before mapping (this maps any entry as a regular message).
 */
export function mapExportMessage(raw: unknown, chat: ExportChatRef, index?: number, timezone: TimeZone | null = null): SourceMessage {
  const which = () => {
    const at = index !== undefined ? `${chat.path}[${index}]` : chat.path;
    return isObject(raw) && isInteger(raw.id) ? `message id ${String(raw.id)} (${at})` : `message at ${at}`;
  };
  const fail: Fail = (problem) => new UserError(`${chat.file}: malformed export: ${which()}: ${problem}`);
  const oldExport = (problem: string) =>
    new UserError(
      `${chat.file}: an export from an old Telegram Desktop version: ${which()} ${problem}, and its dates are the exporting ` +
        `computer's local time; pass --timezone with that computer's time zone, e.g. --timezone Asia/Singapore or --timezone +08:00`,
    );
  if (!isObject(raw)) throw fail(`must be an object, got ${describe(raw)}`);
  if (!isInteger(raw.id)) throw fail(`"id" must be an integer, got ${describe(raw.id)}`);
  optional(raw, 'type', (v) => typeof v === 'string', 'a string', fail);
  optional(raw, 'from_id', (v) => isStringOrNull(v) || isInteger(v), 'a string', fail);
  optional(raw, 'forwarded_from', isStringOrNull, 'a string or null', fail);
  optional(raw, 'reply_to_message_id', isInteger, 'an integer', fail);

  const date = instantOf(raw, 'date', timezone, fail, oldExport)!;
  const editDate = instantOf(raw, 'edited', timezone, fail, oldExport);
  const parts = textParts(raw, fail);

  return {
    id: raw.id as number,
    date,
    editDate,
    text: parts.map((p) => p.text).join(''),
    senderId: senderIdOf(raw.from_id),
    fwdFrom: 'forwarded_from' in raw ? { _: 'DesktopExportForward', from_name: raw.forwarded_from ?? null } : null,
    replyToMsgId: (raw.reply_to_message_id as number | undefined) ?? null,
    entities: entitiesOf(parts),
    media: mediaOf(raw),
    views: null,
    forwards: null,
    replyCount: null,
    isService: false,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: bytes → checked, fixed text

/**
 * Telegram Desktop writes control characters inside strings as `\xHH`, which is not JSON; this rewrites them to
 * `\u00HH` as text streams through. An escaped backslash (`\\x41`) is left alone, and an escape cut by a chunk
 * boundary is held back until the next chunk. Backslashes only occur inside strings in JSON, so no string
 * tracking is needed: escapes are consumed pairwise from the start.
 */
export class HexEscapeFixer {
  private carry = '';

  push(text: string): string {
    const s = this.carry + text;
    this.carry = '';
    let out = '';
    let from = 0;
    for (let i = s.indexOf('\\'); i !== -1; i = s.indexOf('\\', i)) {
      if (i + 1 === s.length) return this.hold(out + s.slice(from, i), s.slice(i));
      if (s[i + 1] !== 'x') {
        i += 2; // `\n`, `\\`, `\"`, `\u`…: skip the escaped character whatever it is
        continue;
      }
      const hex = s.slice(i + 2, i + 4);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out += `${s.slice(from, i)}\\u00${hex}`;
        from = i + 4;
        i += 4;
      } else if (hex.length < 2 && /^[0-9a-fA-F]?$/.test(hex)) {
        return this.hold(out + s.slice(from, i), s.slice(i)); // `\x` or `\xH` at the end: wait for more
      } else {
        i += 2; // not a hex escape; the JSON parser will report it
      }
    }
    return out + s.slice(from);
  }

  /** End of input: whatever was held back goes out as is. */
  end(): string {
    const rest = this.carry;
    this.carry = '';
    return rest;
  }

  private hold(ready: string, rest: string): string {
    this.carry = rest;
    return ready;
  }
}

interface ReadOptions {
  chunkSize: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesRead: number, totalBytes: number, file: string) => void) | undefined;
}

/** fs errors → one-line UserErrors; anything else passes through untouched. */
function readError(error: unknown, file: string): unknown {
  if (error instanceof UserError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new UserError(`${file}: no such file or folder`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${file}: cannot read it (permission denied)`);
  if (code === 'EISDIR') return new UserError(`${file}: is a folder, not a file`);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new UserError(`${file}: cannot read it (${code}: ${(error as Error).message})`);
  }
  return error;
}

/** One file as text chunks: strictly UTF-8-decoded and `\xHH`-fixed. Stops early when the signal aborts. */
class FileText {
  bytesRead = 0;

  constructor(
    private readonly file: string,
    private readonly options: ReadOptions,
  ) {}

  async *chunks(): AsyncGenerator<string, void, undefined> {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const fixer = new HexEscapeFixer();
    let stream: ReturnType<typeof createReadStream> | null = null;
    try {
      const totalBytes = (await stat(this.file)).size;
      let reported = 0;
      stream = createReadStream(this.file, { highWaterMark: this.options.chunkSize });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const start = this.bytesRead;
        this.bytesRead += chunk.length;
        const text = this.decode(decoder, chunk, start);
        if (this.bytesRead - reported >= PROGRESS_STEP || this.bytesRead === totalBytes) {
          reported = this.bytesRead;
          this.options.onProgress?.(this.bytesRead, totalBytes, this.file);
        }
        yield fixer.push(text);
        if (this.options.signal?.aborted) return;
      }
      yield fixer.push(this.decode(decoder, null, this.bytesRead)) + fixer.end();
    } catch (error) {
      throw readError(error, this.file);
    } finally {
      stream?.destroy();
    }
  }

  private decode(decoder: TextDecoder, bytes: Buffer | null, start: number): string {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      // the bad sequence may have begun in the (at most 3) bytes held back from the previous chunk
      const where = bytes ? `between bytes ${Math.max(0, start - 3)} and ${start + bytes.length}` : `at its end (byte ${start})`;
      throw new UserError(`${this.file}: not valid UTF-8 ${where}; a Telegram Desktop JSON export is always UTF-8`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

/** stream-chain's end-of-input marker: a registered symbol, shared by every copy of the library. */
const END_OF_INPUT = Symbol.for('object-stream.none');

/** stream-json's core tokenizer fed by hand (no Node streams in between: it is called once per chunk). */
class Tokenizer {
  private readonly parse = jsonParser({ streamValues: false }); // packed keyValue/stringValue/numberValue only

  push(text: string): Token[] {
    return text === '' ? [] : Tokenizer.tokens(this.parse(text));
  }

  /** Throws when the input ended inside a value. */
  end(): Token[] {
    const flush = this.parse as unknown as (marker: symbol) => ReturnType<typeof this.parse>;
    return Tokenizer.tokens(flush(END_OF_INPUT));
  }

  private static tokens(out: ReturnType<ReturnType<typeof jsonParser>>): Token[] {
    return typeof out === 'symbol' ? [] : out.values;
  }
}

/**
 * Second pass over a file that failed to parse, with stream-json's verifier, which knows line and column. The
 * column counts UTF-16 characters of the fixed-up text (each `\xHH` before the error on that line adds 2).
 */
async function locateSyntaxError(file: string, chunkSize: number): Promise<{ line: number; column: number; reason: string } | null> {
  const verify = jsonVerifier();
  try {
    for await (const text of new FileText(file, { chunkSize }).chunks()) verify(text);
    (verify as unknown as (marker: symbol) => void)(END_OF_INPUT);
  } catch (error) {
    const e = error as Partial<{ line: number; pos: number; message: string }>;
    if (typeof e.line !== 'number' || typeof e.pos !== 'number') throw error;
    const reason = String(e.message)
      .replace(/^ERROR at .*?: /, '')
      .replace(/^Verifier (cannot parse input: )?/, '');
    return { line: e.line, column: e.pos, reason };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Walking the token stream

/** A chat header as found in the file; `path` is '' for a single-chat export, else e.g. `chats.list[3]`. */
interface ChatHeader {
  path: string;
  name: string | null;
  type: string | null;
  /** the bare id as written (decimal digits), null when the chat has none */
  id: string | null;
  /** entries in its `messages` (service messages included); null when the scan stopped before their end */
  messages: number | null;
}

type WalkEvent = { kind: 'chat'; header: ChatHeader } | { kind: 'message'; chatPath: string; index: number; raw: unknown };

interface WalkOptions {
  /** assemble the messages of this chat (others are skipped token by token) */
  wantMessages: (chatPath: string) => boolean;
  /** single-chat files: stop once the header and the start of `messages` have been seen */
  stopAtRootHeader: boolean;
}

/** The file is valid JSON but not shaped like an export; the scan adds the file name. */
class ShapeError extends Error {}

type Role = 'root' | 'section' | 'list' | 'chat' | 'messages' | 'other';
const HEADER_KEYS = new Set(['name', 'type', 'id']);

interface ChatState {
  path: string;
  /** raw header values: the scalar token, or 'container' when an object or array stood there */
  header: Map<string, Token | 'container'>;
  hasMessages: boolean;
  messageCount: number | null;
  reported: boolean;
}

interface Frame {
  role: Role;
  isArray: boolean;
  key: string | null;
  index: number;
  chat: ChatState | null;
  /** `chats` or `left_chats`, for frames inside one of those sections */
  section: string | null;
}

const newChat = (chatPath: string): ChatState => ({ path: chatPath, header: new Map(), hasMessages: false, messageCount: null, reported: false });
const newFrame = (role: Role, isArray: boolean, extra: Partial<Pick<Frame, 'chat' | 'section'>> = {}): Frame => ({
  role,
  isArray,
  key: null,
  index: 0,
  chat: null,
  section: null,
  ...extra,
});
const messagesPath = (chat: ChatState) => (chat.path === '' ? 'messages' : `${chat.path}.messages`);
const chatLabel = (chat: ChatState) => (chat.path === '' ? '' : `${chat.path}: `);

function headerOf(chat: ChatState): ChatHeader {
  const text = (key: string, expected: string): string | null => {
    const entry = chat.header.get(key);
    if (entry === undefined || (entry !== 'container' && entry.name === 'nullValue')) return null;
    if (entry !== 'container' && entry.name === 'stringValue') return entry.value;
    throw new ShapeError(`${chatLabel(chat)}"${key}" must be ${expected}`);
  };
  const id = chat.header.get('id');
  if (id !== undefined && (id === 'container' || id.name !== 'numberValue' || !/^\d+$/.test(id.value))) {
    throw new ShapeError(`${chatLabel(chat)}"id" must be a positive integer (the bare chat id)`);
  }
  return {
    path: chat.path,
    name: text('name', 'a string or null'),
    type: text('type', 'a string or null'),
    id: id === undefined ? null : BigInt(id.value).toString(),
    messages: chat.messageCount,
  };
}

/**
 * Follows the token stream with a stack of frames, one per open object/array, each knowing its role: the root,
 * a `chats`/`left_chats` section, its `list`, a chat in it, a chat's `messages`, or anything else (skipped).
 * Messages of wanted chats are assembled by stream-json's Assembler, one at a time.
 */
class ExportWalker {
  /** found an export's marker: a top-level `messages` array or a `chats.list` / `left_chats.list` array */
  recognised = false;
  stopped = false;
  private events: WalkEvent[] = [];
  private readonly stack: Frame[] = [];
  private readonly assembler = new Assembler();
  private assembling: { chatPath: string; index: number } | null = null;

  constructor(private readonly options: WalkOptions) {}

  takeEvents(): WalkEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  push(token: Token): void {
    if (this.assembling) {
      this.assemble(token);
      return;
    }
    switch (token.name) {
      case 'keyValue':
        this.top().key = token.value;
        return;
      case 'startObject':
      case 'startArray':
        this.open(token.name === 'startArray');
        return;
      case 'endObject':
      case 'endArray':
        this.close();
        return;
      default:
        this.scalar(token);
    }
  }

  /** End of a well-formed JSON document. */
  finish(): void {
    if (!this.recognised) {
      throw new ShapeError('not a Telegram Desktop export: valid JSON, but it has no "messages" array and no "chats.list"');
    }
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private assemble(token: Token): void {
    this.assembler.consume(token);
    if (!this.assembler.done) return;
    this.events.push({ kind: 'message', ...this.assembling!, raw: this.assembler.current });
    this.assembling = null;
    this.valueDone();
  }

  private open(isArray: boolean): void {
    if (this.stack.length === 0) {
      if (isArray) throw new ShapeError('not a Telegram Desktop export: the top level is an array, not an object');
      this.stack.push(newFrame('root', false, { chat: newChat('') }));
      return;
    }
    const parent = this.top();
    if (parent.role === 'messages') this.openMessage(parent, isArray);
    else this.stack.push(this.childFrame(parent, isArray));
  }

  /** The frame for an object/array opening inside `parent`, under `parent.key`. */
  private childFrame(parent: Frame, isArray: boolean): Frame {
    const key = parent.key;
    if (parent.role === 'root' || parent.role === 'chat') {
      const chat = parent.chat!;
      if (key === 'messages') {
        if (!isArray) throw new ShapeError(`not a Telegram Desktop export: ${chatLabel(chat)}"messages" is not an array`);
        chat.hasMessages = true;
        if (parent.role === 'root') this.recognised = true;
        this.checkRootHeader();
        return newFrame('messages', true, { chat });
      }
      if (key !== null && HEADER_KEYS.has(key)) chat.header.set(key, 'container');
      if (parent.role === 'root' && (key === 'chats' || key === 'left_chats') && !isArray) {
        return newFrame('section', false, { section: key });
      }
    } else if (parent.role === 'section' && key === 'list') {
      if (!isArray) throw new ShapeError(`not a Telegram Desktop export: "${parent.section}.list" is not an array`);
      this.recognised = true;
      return newFrame('list', true, { section: parent.section });
    } else if (parent.role === 'list') {
      const chatPath = `${parent.section}.list[${parent.index}]`;
      if (isArray) throw new ShapeError(`${chatPath} must be a chat object, got an array`);
      return newFrame('chat', false, { chat: newChat(chatPath) });
    }
    return newFrame('other', isArray);
  }

  private openMessage(parent: Frame, isArray: boolean): void {
    const chat = parent.chat!;
    if (isArray) throw new ShapeError(`malformed export: ${messagesPath(chat)}[${parent.index}] must be an object, got an array`);
    if (this.options.wantMessages(chat.path)) {
      this.assembling = { chatPath: chat.path, index: parent.index };
      this.assembler.consume({ name: 'startObject' });
    } else {
      this.stack.push(newFrame('other', false));
    }
  }

  private close(): void {
    const frame = this.stack.pop()!;
    if (frame.role === 'messages') frame.chat!.messageCount = frame.index;
    if (frame.role === 'chat') {
      if (!frame.chat!.hasMessages) throw new ShapeError(`${frame.chat!.path} has no "messages" array`);
      this.report(frame.chat!);
    }
    if (frame.role === 'root') {
      if (frame.chat!.hasMessages) this.report(frame.chat!);
      return;
    }
    this.valueDone();
  }

  private scalar(token: Token): void {
    if (this.stack.length === 0) throw new ShapeError('not a Telegram Desktop export: the top level is not an object');
    const parent = this.top();
    const key = parent.key;
    if (parent.role === 'messages') {
      throw new ShapeError(`malformed export: ${messagesPath(parent.chat!)}[${parent.index}] must be an object, got ${token.name.replace('Value', '')}`);
    }
    if (parent.role === 'root' || parent.role === 'chat') {
      if (key === 'messages') throw new ShapeError(`not a Telegram Desktop export: ${chatLabel(parent.chat!)}"messages" is not an array`);
      if (key !== null && HEADER_KEYS.has(key)) {
        parent.chat!.header.set(key, token);
        this.checkRootHeader();
      }
    } else if (parent.role === 'section' && key === 'list') {
      throw new ShapeError(`not a Telegram Desktop export: "${parent.section}.list" is not an array`);
    } else if (parent.role === 'list') {
      throw new ShapeError(`${parent.section}.list[${parent.index}] must be a chat object`);
    }
    this.valueDone();
  }

  /** After a value ends inside a container: arrays count it, objects forget its key. */
  private valueDone(): void {
    const parent = this.stack[this.stack.length - 1];
    if (!parent) return;
    if (parent.isArray) parent.index++;
    else parent.key = null;
  }

  /**
   * The exporter writes name, type and id before messages, but a reordered file keeps streaming until they are
   * known (saved messages and replies chats have no name).
   */
  private checkRootHeader(): void {
    const root = this.stack[0]!;
    const chat = root.chat!;
    if (!this.options.stopAtRootHeader || !chat.hasMessages || chat.reported) return;
    const type = chat.header.get('type');
    const nameless = type !== undefined && type !== 'container' && type.name === 'stringValue' && ['saved_messages', 'replies'].includes(type.value);
    if (chat.header.has('id') && type !== undefined && (chat.header.has('name') || nameless)) {
      this.report(chat);
      this.stopped = true;
    }
  }

  private report(chat: ChatState): void {
    if (chat.reported) return;
    chat.reported = true;
    this.events.push({ kind: 'chat', header: headerOf(chat) });
  }
}

/** One pass over one export file, yielding what the walker finds; every failure is a UserError naming the file. */
class ExportFileScan {
  private readonly walker: ExportWalker;

  constructor(
    private readonly file: string,
    walk: WalkOptions,
    private readonly read: ReadOptions,
  ) {
    this.walker = new ExportWalker(walk);
  }

  /** whether the file has shown itself to be an export (before any error) */
  get recognised(): boolean {
    return this.walker.recognised;
  }

  async *events(): AsyncGenerator<WalkEvent, void, undefined> {
    const source = new FileText(this.file, this.read);
    const tokenizer = new Tokenizer();
    for await (const text of source.chunks()) {
      let tokens: Token[];
      try {
        tokens = tokenizer.push(text);
      } catch (error) {
        throw await this.syntaxError(error, source.bytesRead);
      }
      this.walk(tokens);
      yield* this.walker.takeEvents();
      if (this.walker.stopped) return;
    }
    if (this.read.signal?.aborted) return;
    let tokens: Token[];
    try {
      tokens = tokenizer.end();
    } catch {
      throw new UserError(
        source.bytesRead === 0
          ? `${this.file}: the file is empty`
          : `${this.file}: not complete JSON: it ends unexpectedly at byte ${source.bytesRead} (truncated export?)`,
      );
    }
    this.walk(tokens);
    this.shape(() => this.walker.finish());
    yield* this.walker.takeEvents();
  }

  private walk(tokens: Token[]): void {
    this.shape(() => {
      for (const token of tokens) {
        this.walker.push(token);
        if (this.walker.stopped) return;
      }
    });
  }

  private shape(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof ShapeError) throw new UserError(`${this.file}: ${error.message}`);
      throw error;
    }
  }

  private async syntaxError(error: unknown, bytesRead: number): Promise<UserError> {
    const at = await locateSyntaxError(this.file, this.read.chunkSize);
    if (at) return new UserError(`${this.file}: not valid JSON at line ${at.line}, column ${at.column}: ${at.reason}`);
    return new UserError(`${this.file}: not valid JSON before byte ${bytesRead}: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files and chats

async function jsonFilesUnder(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw readError(error, dir);
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await jsonFilesUnder(full)));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.json')) files.push(full);
  }
  return files;
}

async function findExportFiles(root: string): Promise<{ files: string[]; folder: boolean }> {
  let info: Stats;
  try {
    info = await stat(root);
  } catch (error) {
    throw readError(error, root);
  }
  if (info.isFile()) return { files: [root], folder: false };
  if (!info.isDirectory()) throw new UserError(`${root}: not a file or a folder`);
  const files = (await jsonFilesUnder(root)).sort();
  if (files.length === 0) throw new UserError(`${root}: no .json files in this folder (expected a Telegram Desktop export, result.json)`);
  return { files, folder: true };
}

interface FoundChat {
  file: string;
  header: ChatHeader;
}

interface ListedChat {
  channel: ResolvedChannel;
  /** one chat can appear in several files (exports of different periods) */
  locations: FoundChat[];
}

/** An export file left out of an import, and why (one line, naming the file). */
export interface RefusedFile {
  file: string;
  reason: string;
}

/** What an import of the export reads, every message of it checked (see DesktopExportSource.check). */
export interface ExportCheck {
  /** the chats to import, each with the number of its messages in the window */
  channels: { channel: ResolvedChannel; messages: number }[];
  /** the export files they are read from */
  files: string[];
  /** files left out, with the reason; only ever non-empty for a folder (a lone file's problem is thrown) */
  refused: RefusedFile[];
  folder: boolean;
}

interface Listing {
  chats: ListedChat[];
  folder: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const isAccountChat = (chat: FoundChat) => chat.header.path !== '';

/** One line per chat, in columns: id, type, name, number of messages (when the scan counted them), file. */
function chatListing(groups: FoundChat[][], folder: string | null): string {
  const rows = groups.map((locations) => {
    const { header } = locations[0]!;
    const counts = locations.map((c) => c.header.messages);
    const messages = counts.every((n) => n !== null) ? plural(counts.reduce((a, b) => a! + b!, 0)!, 'message') : '';
    const left = locations.every((c) => c.header.path.startsWith('left_chats.')) ? ' (left)' : '';
    const files = folder === null ? '' : `in ${[...new Set(locations.map((c) => path.relative(folder, c.file)))].join(', ')}`;
    return [header.id ?? '(no id)', `${header.type ?? '(no type)'}${left}`, header.name === null ? '(no name)' : JSON.stringify(header.name), messages, files];
  });
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows
    .map(
      (r) =>
        `  ${r
          .map((cell, col) => cell.padEnd(widths[col]!))
          .join('  ')
          .trimEnd()}`,
    )
    .join('\n');
}

/** `--channel 3333333333 (or --channel "Tutors Lounge")` for the first chat with an id: how to pick one. */
function pickExample(groups: FoundChat[][]): string {
  const header = groups.find((g) => g[0]!.header.id !== null)?.[0]?.header;
  if (!header) return '--channel <exact name>';
  return `--channel ${header.id}${header.name ? ` (or --channel ${JSON.stringify(header.name)})` : ''}`;
}

function inWindow(message: SourceMessage, request: HistoryRequest): boolean {
  const time = message.date.getTime();
  if (request.since && time < request.since.getTime()) return false;
  if (request.until && time >= request.until.getTime()) return false;
  if (request.maxId != null && message.id >= request.maxId) return false;
  if (request.minId != null && message.id <= request.minId) return false;
  return true;
}

/** `type` decides: only regular messages are mapped; service and unsupported entries (and unknown kinds) are not. */
const isRegularMessage = (raw: unknown) => !isObject(raw) || raw.type === undefined || raw.type === 'message' || typeof raw.type !== 'string';

/**
 * A Telegram Desktop JSON export (a `result.json` file, or a folder searched recursively for `*.json` exports) as
 * a ChannelSource. History is read front to back, so it comes oldest first.
 *
 * In a folder, `.json` files that turn out not to be exports (documents saved from chats into `files/`) are
 * skipped; a file named `result.json` must be an export. An export file of a folder that cannot be read (broken,
 * or an old one without a time zone) is refused alone: its chats are left out and `check()` reports it; a lone
 * file's problem is thrown.
 */
export class DesktopExportSource implements ChannelSource {
  readonly kind = 'desktop-export';
  readonly historyOrder = 'oldest-first' as const;
  private readonly channelRef: string | null;
  private listing: Promise<Listing> | null = null;
  /** file → why it is left out, in the order found */
  private readonly refused = new Map<string, string>();

  constructor(
    readonly path: string,
    private readonly options: DesktopExportOptions = {},
  ) {
    this.channelRef = options.channel?.trim() || null;
  }

  /** The chats in the export, as channels (only the one `channel` names, when given). */
  async listChannels(): Promise<ResolvedChannel[]> {
    return (await this.chats()).chats.filter((c) => this.readable(c)).map((c) => c.channel);
  }

  async resolve(channelRef: string): Promise<ResolvedChannel> {
    const link = normalizeChannelRef(channelRef);
    const chats = (await this.chats()).chats.filter((c) => this.readable(c));
    const hit = chats.find((c) => c.channel.channelLink === link);
    if (hit) return hit.channel;
    const contents =
      chats.length === 0
        ? 'it contains no chats'
        : `it contains ${listSummary(chats.map((c) => `${c.channel.channelLink} ${JSON.stringify(c.channel.title ?? '')}`))}`;
    throw new UserError(`channel ${channelRef} is not in the export ${this.path}; ${contents}`);
  }

  /**
   * What `tutordex import` reads: the chats (a whole-account export holding several needs `channel` to pick one)
   * and every one of their messages mapped once, so that a broken or old file fails here, before anything is
   * written. In a folder such a file is refused alone; when nothing is left, or for a lone file, it is thrown.
   */
  async check(request: HistoryRequest): Promise<ExportCheck> {
    const { chats, folder } = await this.chats();
    if (this.channelRef === null && chats.length > 1 && chats.some((c) => c.locations.some(isAccountChat))) {
      const groups = chats.map((c) => c.locations);
      throw new UserError(
        `${this.path} holds ${chats.length} chats (${folder ? 'with' : 'it is'} a whole-account export); nothing was imported: ` +
          `name the one to import with ${pickExample(groups)}:\n${chatListing(groups, folder ? this.path : null)}`,
      );
    }
    const byFile = new Map<string, Map<string, string>>(); // file → chat path → channel link
    for (const chat of chats) {
      for (const { file, header } of chat.locations) byFile.set(file, (byFile.get(file) ?? new Map()).set(header.path, chat.channel.channelLink));
    }
    const counted = new Map<string, Map<string, number>>(); // file → channel link → messages in the window
    for (const [file, paths] of byFile) {
      if (this.refused.has(file)) continue;
      const counts = new Map<string, number>();
      try {
        for await (const { chatPath, message } of this.messagesIn(file, new Set(paths.keys()), request.signal)) {
          const link = paths.get(chatPath)!;
          if (inWindow(message, request)) counts.set(link, (counts.get(link) ?? 0) + 1);
        }
      } catch (error) {
        if (!folder || !(error instanceof UserError)) throw error;
        this.refused.set(file, error.message);
        continue;
      }
      if (request.signal?.aborted) break;
      counted.set(file, counts);
    }
    const channels = chats
      .filter((c) => this.readable(c))
      .map((c) => ({
        channel: c.channel,
        messages: [...counted.values()].reduce((n, counts) => n + (counts.get(c.channel.channelLink) ?? 0), 0),
      }));
    if (channels.length === 0 && this.refused.size > 0) throw this.nothingLeft();
    return { channels, files: [...counted.keys()], refused: [...this.refused].map(([file, reason]) => ({ file, reason })), folder };
  }

  async *history(channel: ResolvedChannel, request: HistoryRequest): AsyncGenerator<SourceMessage, void, undefined> {
    const chat = (await this.chats()).chats.find((c) => c.channel.channelLink === channel.channelLink);
    if (!chat) throw new UserError(`channel ${channel.channelLink} is not in the export ${this.path}`);
    for (const [file, chatPaths] of groupByFile(chat.locations)) {
      if (this.refused.has(file)) continue;
      for await (const { message } of this.messagesIn(file, chatPaths, request.signal)) {
        if (inWindow(message, request)) yield message;
      }
      if (request.signal?.aborted) return;
    }
  }

  /** An export has no live events: the subscription is over before it starts. */
  async subscribe(): Promise<Subscription> {
    return { ended: Promise.resolve(), stop: async () => {} };
  }

  async close(): Promise<void> {}

  private readOptions(signal?: AbortSignal): ReadOptions {
    return { chunkSize: this.options.chunkSize ?? DEFAULT_CHUNK_SIZE, signal, onProgress: this.options.onProgress };
  }

  private readable(chat: ListedChat): boolean {
    return chat.locations.some((l) => !this.refused.has(l.file));
  }

  /** The regular messages of some chats of one file, mapped, in file order. */
  private async *messagesIn(
    file: string,
    chatPaths: Set<string>,
    signal?: AbortSignal,
  ): AsyncGenerator<{ chatPath: string; message: SourceMessage }, void, undefined> {
    const scan = new ExportFileScan(file, { wantMessages: (p) => chatPaths.has(p), stopAtRootHeader: false }, this.readOptions(signal));
    // Forum groups: a post inside a topic carries the topic's root (a "topic_created" service message) as
    // reply_to_message_id; that is where it was posted, not a reply (which would be skipped).
    const topics = new Map<string, Set<number>>();
    for await (const event of scan.events()) {
      if (signal?.aborted) return;
      if (event.kind !== 'message') continue;
      if (isTopicRoot(event.raw)) topics.set(event.chatPath, (topics.get(event.chatPath) ?? new Set()).add(event.raw.id));
      if (!isRegularMessage(event.raw)) continue;
      const ref = { file, path: event.chatPath === '' ? 'messages' : `${event.chatPath}.messages` };
      const mapped = mapExportMessage(event.raw, ref, event.index, this.options.timezone ?? null);
      const inTopic = mapped.replyToMsgId !== null && (topics.get(event.chatPath)?.has(mapped.replyToMsgId) ?? false);
      yield { chatPath: event.chatPath, message: inTopic ? { ...mapped, replyToMsgId: null } : mapped };
    }
  }

  private chats(): Promise<Listing> {
    this.listing ??= this.scanChats();
    return this.listing;
  }

  private async scanChats(): Promise<Listing> {
    const { files, folder } = await findExportFiles(this.path);
    const found: FoundChat[] = [];
    let exports = 0;
    for (const file of files) {
      let chats: FoundChat[] | null;
      try {
        chats = await this.chatsIn(file, folder && path.basename(file).toLowerCase() !== 'result.json');
      } catch (error) {
        if (!folder || !(error instanceof UserError)) throw error;
        this.refused.set(file, error.message);
        continue;
      }
      if (chats === null) continue;
      exports++;
      found.push(...chats);
    }
    if (exports === 0) {
      if (this.refused.size > 0) throw this.nothingLeft();
      throw new UserError(`${this.path}: no Telegram Desktop JSON export in this folder (looked at ${files.length} .json files)`);
    }
    return { chats: await this.identify(found, folder), folder };
  }

  /** The chats of one file; null when `lenient` and the file is not an export at all. */
  private async chatsIn(file: string, lenient: boolean): Promise<FoundChat[] | null> {
    const scan = new ExportFileScan(file, { wantMessages: () => false, stopAtRootHeader: true }, this.readOptions());
    const chats: FoundChat[] = [];
    try {
      for await (const event of scan.events()) if (event.kind === 'chat') chats.push({ file, header: event.header });
    } catch (error) {
      if (lenient && !scan.recognised && error instanceof UserError) return null;
      throw error;
    }
    return chats;
  }

  /** Found chats → channels: merged by chat id, keyed `t.me/c/<id>`; `--channel` picks one of them. */
  private async identify(found: FoundChat[], folder: boolean): Promise<ListedChat[]> {
    const groups = new Map<string, FoundChat[]>();
    for (const chat of found) {
      const key = chat.header.id ?? `${chat.file}#${chat.header.path}`;
      groups.set(key, [...(groups.get(key) ?? []), chat]);
    }
    if (this.channelRef !== null) return [await this.select([...groups.values()], folder)];
    const listed: ListedChat[] = [];
    for (const locations of groups.values()) {
      const { header, file } = locations[0]!;
      if (header.id === null) {
        const reason = `${file}: the chat ${header.path === '' ? '' : `at ${header.path} `}has no "id"; name it with --channel`;
        if (!folder) throw new UserError(reason);
        this.refused.set(file, `${reason} (importing this file on its own)`);
        continue;
      }
      listed.push({ channel: { channelLink: `t.me/c/${header.id}`, channelId: header.id, title: header.name }, locations });
    }
    if (listed.length === 0 && this.refused.size > 0) throw this.nothingLeft();
    return listed;
  }

  /**
   * The chat `--channel` names: by id (any form), by username (the chat of a single-chat export, whose username
   * the export does not record; or the chat whose id `channelIdOf` knows for it), or by its exact name. Picked by
   * username it is stored under that link, else under `t.me/c/<id>`.
   */
  private async select(groups: FoundChat[][], folder: boolean): Promise<ListedChat> {
    const ref = this.channelRef!;
    const idOf = (g: FoundChat[]) => g[0]!.header.id;
    const chosen = (locations: FoundChat[], link: string | null): ListedChat => {
      const { header, file } = locations[0]!;
      const id = header.id ?? (link === null ? null : (/^t\.me\/c\/(\d+)$/.exec(link)?.[1] ?? null));
      if (link === null && header.id === null) {
        throw new UserError(`${file}: the chat ${JSON.stringify(header.name)} has no "id"; name it with --channel t.me/<username> instead`);
      }
      return { channel: { channelLink: link ?? `t.me/c/${header.id}`, channelId: id, title: header.name }, locations };
    };
    const notFound = (problem: string) => {
      const refused = [...this.refused.values()].map((reason) => `\n  refused: ${reason}`).join('');
      const holds =
        groups.length === 0
          ? 'holds no chats'
          : `holds ${plural(groups.length, 'chat')} (name one by its id or its exact name):\n${chatListing(groups, folder ? this.path : null)}`;
      return new UserError(`--channel ${ref}: ${problem}; ${this.path} ${holds}${refused}`);
    };
    let link: string | null = null;
    try {
      link = normalizeChannelRef(ref);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error; // not a link or an id: a name
    }
    const named = groups.filter((g) => g.some((c) => c.header.name === ref));
    const numericId = link === null ? null : (/^t\.me\/c\/(\d+)$/.exec(link)?.[1] ?? null);
    if (link !== null && numericId !== null) {
      const hit = groups.find((g) => idOf(g) === numericId);
      if (hit) return chosen(hit, link);
      if (groups.length === 1 && idOf(groups[0]!) === null) return chosen(groups[0]!, link); // it names an id-less chat
      throw notFound(`no chat with id ${numericId}`);
    }
    if (link !== null) {
      const knownId = (await this.options.channelIdOf?.(link)) ?? null;
      if (knownId !== null) {
        const hit = groups.find((g) => idOf(g) === knownId);
        if (hit) return chosen(hit, link);
        throw notFound(`${link} is chat id ${knownId} (known from earlier collection), which is not in the export`);
      }
      if (groups.length === 1) return chosen(groups[0]!, link); // the one chat of the export, under the username it is given
      if (named.length === 1) return chosen(named[0]!, null);
      throw notFound(`no chat has that name, and a Telegram Desktop export does not record usernames (nor was ${link} collected before)`);
    }
    if (named.length === 1) return chosen(named[0]!, null);
    if (named.length > 1) throw notFound(`${named.length} chats have that name`);
    throw notFound('no chat has that name');
  }

  private nothingLeft(): UserError {
    const reasons = [...this.refused.values()];
    if (reasons.length === 1) return new UserError(reasons[0]!);
    return new UserError(`${this.path}: nothing imported: each of its ${reasons.length} export files was refused:\n${reasons.map((r) => `  ${r}`).join('\n')}`);
  }
}

function listSummary(items: string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

function groupByFile(locations: FoundChat[]): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>();
  for (const { file, header } of locations) byFile.set(file, (byFile.get(file) ?? new Set()).add(header.path));
  return byFile;
}
