import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import Assembler from 'stream-json/core/assembler.js';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { jsonVerifier } from 'stream-json/core/utils/verifier.js';
import { normalizeChannelRef } from '../config/channels.ts';
import { UserError } from '../errors.ts';
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
  'photo', 'width', 'height', 'file', 'thumbnail', 'media_type', 'mime_type', 'duration_seconds', 'sticker_emoji',
  'performer', 'title', 'poll', 'location_information', 'contact_information', 'place_name', 'address',
  // also written by the exporter for media, and by newer versions
  'self_destruct_period_seconds', 'contact_vcard', 'live_location_period_seconds', 'game_title', 'game_description',
  'game_link', 'invoice_information', 'file_name', 'file_size', 'photo_file_size', 'thumbnail_file_size',
] as const;

const ENTITY_EXTRA_KEYS = ['href', 'user_id', 'language', 'document_id'] as const;

export interface DesktopExportOptions {
  /** names the channel of a single-chat export (any form normalizeChannelRef accepts) */
  channel?: string | null;
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

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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

/** `user123` → `123`, `channel123` → `-100123`, `chat123` → `-123` (Telegram's marked peer ids). */
function senderIdOf(fromId: unknown): string | null {
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
 * One exported message → SourceMessage. Pure; throws a UserError naming the file and the message when the
 * export is malformed. Callers skip `service` / `unsupported` entries before mapping (this maps any entry as a
 * regular message).
 */
export function mapExportMessage(raw: unknown, chat: ExportChatRef, index?: number): SourceMessage {
  const fail: Fail = (problem) => {
    const at = index !== undefined ? `${chat.path}[${index}]` : chat.path;
    const which = isObject(raw) && isInteger(raw.id) ? `message id ${String(raw.id)} (${at})` : `message at ${at}`;
    return new UserError(`${chat.file}: malformed export: ${which}: ${problem}`);
  };
  if (!isObject(raw)) throw fail(`must be an object, got ${describe(raw)}`);
  if (!isInteger(raw.id)) throw fail(`"id" must be an integer, got ${describe(raw.id)}`);
  optional(raw, 'type', (v) => typeof v === 'string', 'a string', fail);
  optional(raw, 'from_id', isStringOrNull, 'a string', fail);
  optional(raw, 'forwarded_from', isStringOrNull, 'a string or null', fail);
  optional(raw, 'reply_to_message_id', isInteger, 'an integer', fail);

  const date = parseUnixtime(raw.date_unixtime);
  if (!date) {
    throw fail(raw.date_unixtime === undefined
      ? 'has no "date_unixtime" (exports from old Telegram Desktop versions lack it; export again with a current one)'
      : `"date_unixtime" must be a string of epoch seconds, got ${describe(raw.date_unixtime)}`);
  }
  const editDate = raw.edited_unixtime === undefined ? null : parseUnixtime(raw.edited_unixtime);
  if (raw.edited_unixtime !== undefined && !editDate) {
    throw fail(`"edited_unixtime" must be a string of epoch seconds, got ${describe(raw.edited_unixtime)}`);
  }
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
    const reason = String(e.message).replace(/^ERROR at .*?: /, '').replace(/^Verifier (cannot parse input: )?/, '');
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
}

type WalkEvent =
  | { kind: 'chat'; header: ChatHeader }
  | { kind: 'message'; chatPath: string; index: number; raw: unknown };

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

const newChat = (chatPath: string): ChatState => ({ path: chatPath, header: new Map(), hasMessages: false, reported: false });
const newFrame = (role: Role, isArray: boolean, extra: Partial<Pick<Frame, 'chat' | 'section'>> = {}): Frame =>
  ({ role, isArray, key: null, index: 0, chat: null, section: null, ...extra });
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
    if (this.assembling) return this.assemble(token);
    switch (token.name) {
      case 'keyValue':
        this.top().key = token.value;
        return;
      case 'startObject':
      case 'startArray':
        return this.open(token.name === 'startArray');
      case 'endObject':
      case 'endArray':
        return this.close();
      default:
        return this.scalar(token);
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
    if (parent.role === 'messages') return this.openMessage(parent, isArray);
    this.stack.push(this.childFrame(parent, isArray));
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
      throw new UserError(source.bytesRead === 0
        ? `${this.file}: the file is empty`
        : `${this.file}: not complete JSON: it ends unexpectedly at byte ${source.bytesRead} (truncated export?)`);
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
  let entries;
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
  let info;
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

const chatSummary = (chat: FoundChat) =>
  `${chat.header.id === null ? '(no id)' : `t.me/c/${chat.header.id}`} ${JSON.stringify(chat.header.name ?? '')} in ${chat.file}`;

function listSummary(items: string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
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
 * skipped; a file named `result.json` must be an export.
 */
export class DesktopExportSource implements ChannelSource {
  readonly kind = 'desktop-export';
  readonly historyOrder = 'oldest-first' as const;
  private readonly channelRef: string | null;
  private readonly channelLink: string | null;
  private listing: Promise<ListedChat[]> | null = null;

  constructor(
    readonly path: string,
    private readonly options: DesktopExportOptions = {},
  ) {
    this.channelRef = options.channel?.trim() || null;
    this.channelLink = this.channelRef === null ? null : normalizeChannelRef(this.channelRef);
  }

  /** The chats in the export, as channels. */
  async listChannels(): Promise<ResolvedChannel[]> {
    return (await this.chats()).map((c) => c.channel);
  }

  async resolve(channelRef: string): Promise<ResolvedChannel> {
    const link = normalizeChannelRef(channelRef);
    const chats = await this.chats();
    const hit = chats.find((c) => c.channel.channelLink === link);
    if (hit) return hit.channel;
    const contents = chats.length === 0
      ? 'it contains no chats'
      : `it contains ${listSummary(chats.map((c) => `${c.channel.channelLink} ${JSON.stringify(c.channel.title ?? '')}`))}`;
    throw new UserError(`channel ${channelRef} is not in the export ${this.path}; ${contents}`);
  }

  async *history(channel: ResolvedChannel, request: HistoryRequest): AsyncGenerator<SourceMessage, void, undefined> {
    const chat = (await this.chats()).find((c) => c.channel.channelLink === channel.channelLink);
    if (!chat) throw new UserError(`channel ${channel.channelLink} is not in the export ${this.path}`);
    for (const [file, chatPaths] of groupByFile(chat.locations)) {
      const scan = new ExportFileScan(file, { wantMessages: (p) => chatPaths.has(p), stopAtRootHeader: false }, this.readOptions(request.signal));
      // Forum groups: a post inside a topic carries the topic's root (a "topic_created" service message) as
      // reply_to_message_id; that is where it was posted, not a reply (which would be skipped).
      const topics = new Set<number>();
      for await (const event of scan.events()) {
        if (request.signal?.aborted) return;
        if (event.kind !== 'message') continue;
        if (isTopicRoot(event.raw)) topics.add(event.raw.id);
        if (!isRegularMessage(event.raw)) continue;
        const ref = { file, path: event.chatPath === '' ? 'messages' : `${event.chatPath}.messages` };
        const mapped = mapExportMessage(event.raw, ref, event.index);
        const message = mapped.replyToMsgId !== null && topics.has(mapped.replyToMsgId) ? { ...mapped, replyToMsgId: null } : mapped;
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

  private chats(): Promise<ListedChat[]> {
    this.listing ??= this.scanChats();
    return this.listing;
  }

  private async scanChats(): Promise<ListedChat[]> {
    const { files, folder } = await findExportFiles(this.path);
    const found: FoundChat[] = [];
    let exports = 0;
    for (const file of files) {
      const chats = await this.chatsIn(file, folder && path.basename(file).toLowerCase() !== 'result.json');
      if (chats === null) continue;
      exports++;
      found.push(...chats);
    }
    if (exports === 0) throw new UserError(`${this.path}: no Telegram Desktop JSON export in this folder (looked at ${files.length} .json files)`);
    return this.identify(found);
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

  /** Found chats → channels: merged by chat id; `--channel` names the one chat of a single-chat export. */
  private identify(found: FoundChat[]): ListedChat[] {
    const groups = new Map<string, FoundChat[]>();
    for (const chat of found) {
      const key = chat.header.id ?? `${chat.file}#${chat.header.path}`;
      groups.set(key, [...(groups.get(key) ?? []), chat]);
    }
    if (this.channelLink !== null) {
      const [only, ...rest] = [...groups.values()];
      if (!only || rest.length > 0) {
        const held = groups.size === 0 ? 'no chats' : `${groups.size} chats (${listSummary([...groups.values()].map((g) => chatSummary(g[0]!)))})`;
        throw new UserError(`--channel ${this.channelRef} names one chat, but ${this.path} holds ${held}; leave --channel out to collect them by their t.me/c/<id> links`);
      }
      const header = only[0]!.header;
      const linkId = /^t\.me\/c\/(\d+)$/.exec(this.channelLink)?.[1] ?? null;
      return [{ channel: { channelLink: this.channelLink, channelId: header.id ?? linkId, title: header.name }, locations: only }];
    }
    return [...groups.values()].map((locations) => {
      const { header, file } = locations[0]!;
      if (header.id === null) {
        throw new UserError(`${file}: the chat ${header.path === '' ? '' : `at ${header.path} `}has no "id"; name it with --channel`);
      }
      return { channel: { channelLink: `t.me/c/${header.id}`, channelId: header.id, title: header.name }, locations };
    });
  }
}

function groupByFile(locations: FoundChat[]): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>();
  for (const { file, header } of locations) byFile.set(file, (byFile.get(file) ?? new Set()).add(header.path));
  return byFile;
}
