import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import type { EventBuilder } from 'telegram/events/common.js';
import { DeletedMessage, DeletedMessageEvent } from 'telegram/events/DeletedMessage.js';
import { EditedMessage, EditedMessageEvent } from 'telegram/events/EditedMessage.js';
import { NewMessage, NewMessageEvent, Raw } from 'telegram/events/index.js';
import { UpdateConnectionState } from 'telegram/network/index.js';
import { FloodWaitError, RPCError } from 'telegram/errors/index.js';
import { AuthKey } from 'telegram/crypto/AuthKey.js';
import { StringSession } from 'telegram/sessions/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import {
  askFromTerminal,
  channelLinkForEntity,
  GramjsSource,
  mapGramjsMessage,
  runLogin,
  toJson,
  TransientSourceError,
  type ChannelEvent,
  type GramjsClient,
  type GramjsSourceOptions,
  type LoginClient,
  type ResolvedChannel,
  type SourceMessage,
} from '../src/telegram/index.ts';

const API_HASH = '0123456789abcdef0123456789abcdef';
const SESSION = await (async () => {
  // a well-formed StringSession, like the one `tutordex login` prints
  const session = new StringSession('');
  session.setDC(2, '149.154.167.51', 443);
  const key = new AuthKey();
  await key.setKey(Buffer.alloc(256, 7));
  session.setAuthKey(key);
  return session.save();
})();
const CHANNEL_ID = 1234567890;
const OTHER_ID = 2222222222;
const T0 = 1_700_000_000; // a unix time in seconds

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gramjs-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const peer = (channelId: number = CHANNEL_ID) => new Api.PeerChannel({ channelId: bigInt(channelId) });

function post(fields: Partial<Api.Message> & { id: number }): Api.Message {
  return new Api.Message({ peerId: peer(), date: T0 + fields.id, message: `post ${fields.id}`, ...fields });
}

function channelEntity(fields: { id?: number; username?: string; title?: string; usernames?: Api.Username[] } = {}): Api.Channel {
  return new Api.Channel({
    id: bigInt(fields.id ?? CHANNEL_ID),
    title: fields.title ?? 'Tuition Channel',
    photo: new Api.ChatPhotoEmpty(),
    date: T0,
    broadcast: true,
    ...(fields.username !== undefined ? { username: fields.username } : {}),
    ...(fields.usernames ? { usernames: fields.usernames } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe('toJson', () => {
  it('turns TL objects into plain JSON with a `_` type name and no GramJS internals', () => {
    const fwd = new Api.MessageFwdHeader({ fromId: new Api.PeerChannel({ channelId: bigInt('9007199254740993') }), date: T0, channelPost: 7 });
    expect(toJson(fwd)).toEqual({
      _: 'MessageFwdHeader',
      fromId: { _: 'PeerChannel', channelId: '9007199254740993' },
      date: T0,
      channelPost: 7,
    });
  });

  it('encodes bytes as base64, Dates as ISO strings, arrays recursively, and guards cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    expect(
      toJson({
        b: Buffer.from([1, 2, 3]),
        u: new Uint8Array([255]),
        d: new Date(Date.UTC(2024, 0, 2)),
        list: [bigInt(5), 10n, null, undefined],
        cyclic,
        twice: [shared, shared],
      }),
    ).toEqual({
      b: 'AQID',
      u: '/w==',
      d: '2024-01-02T00:00:00.000Z',
      list: ['5', '10', null, null],
      cyclic: { name: 'a', self: '[Circular]' },
      twice: [{ x: 1 }, { x: 1 }],
    });
  });

  it('is deterministic and idempotent', () => {
    const message = post({ id: 1, entities: [new Api.MessageEntityBold({ offset: 0, length: 4 })] });
    const once = toJson(message);
    expect(JSON.stringify(toJson(message))).toBe(JSON.stringify(once));
    expect(toJson(once)).toEqual(once);
  });

  it('drops the client back-references GramJS attaches to messages', () => {
    const message = post({ id: 1 });
    const fakeClient: Record<string, unknown> = { apiHash: API_HASH };
    fakeClient.self = fakeClient;
    Object.assign(message, { _client: fakeClient, _chat: channelEntity(), _sender: channelEntity() });
    const json = toJson(message) as Record<string, unknown>;
    expect(json._).toBe('Message');
    expect(Object.keys(json).filter((k) => k.startsWith('_') && k !== '_')).toEqual([]);
    for (const key of ['CONSTRUCTOR_ID', 'SUBCLASS_OF_ID', 'classType', 'originalArgs', 'className']) expect(json).not.toHaveProperty(key);
    expect(JSON.stringify(json)).not.toContain(API_HASH);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('mapGramjsMessage', () => {
  const base: Omit<SourceMessage, 'id' | 'date' | 'text'> = {
    editDate: null,
    senderId: `-100${CHANNEL_ID}`,
    fwdFrom: null,
    replyToMsgId: null,
    entities: null,
    media: null,
    views: null,
    forwards: null,
    replyCount: null,
    isService: false,
  };

  it('maps a plain channel post (sender = the marked channel id, text untrimmed)', () => {
    const m = mapGramjsMessage(new Api.Message({ id: 10, peerId: peer(), date: T0, message: '  Tutor needed: P5 Math \n' }));
    expect(m).toEqual({ ...base, id: 10, date: new Date(T0 * 1000), text: '  Tutor needed: P5 Math \n' });
  });

  it('maps the sender from fromId: users, chats and channels', () => {
    const from = (fromId: Api.TypePeer) => mapGramjsMessage(post({ id: 1, fromId })).senderId;
    expect(from(new Api.PeerUser({ userId: bigInt(42) }))).toBe('42');
    expect(from(new Api.PeerChat({ chatId: bigInt(77) }))).toBe('-77');
    expect(from(new Api.PeerChannel({ channelId: bigInt(OTHER_ID) }))).toBe(`-100${OTHER_ID}`);
    expect(mapGramjsMessage(new Api.Message({ id: 1, peerId: new Api.PeerUser({ userId: bigInt(5) }), date: T0, message: '' })).senderId).toBeNull();
  });

  it('maps a forwarded post', () => {
    const m = mapGramjsMessage(
      post({
        id: 11,
        fwdFrom: new Api.MessageFwdHeader({
          fromId: new Api.PeerChannel({ channelId: bigInt(OTHER_ID) }),
          date: T0 - 60,
          channelPost: 99,
          postAuthor: 'Admin',
        }),
      }),
    );
    expect(m.fwdFrom).toEqual({
      _: 'MessageFwdHeader',
      fromId: { _: 'PeerChannel', channelId: String(OTHER_ID) },
      date: T0 - 60,
      channelPost: 99,
      postAuthor: 'Admin',
    });
  });

  it('maps a reply and an edit', () => {
    const m = mapGramjsMessage(post({ id: 12, replyTo: new Api.MessageReplyHeader({ replyToMsgId: 11 }), editDate: T0 + 3600 }));
    expect(m.replyToMsgId).toBe(11);
    expect(m.editDate).toEqual(new Date((T0 + 3600) * 1000));
    expect(mapGramjsMessage(post({ id: 13 })).editDate).toBeNull();
  });

  it('issue 15 #10: a post in a forum topic is not a reply (replyToMsgId is the topic); a reply inside a topic is', () => {
    const inTopic = mapGramjsMessage(post({ id: 20, replyTo: new Api.MessageReplyHeader({ forumTopic: true, replyToMsgId: 7 }) }));
    expect(inTopic.replyToMsgId).toBeNull();
    const replyInTopic = mapGramjsMessage(post({ id: 21, replyTo: new Api.MessageReplyHeader({ forumTopic: true, replyToMsgId: 20, replyToTopId: 7 }) }));
    expect(replyInTopic.replyToMsgId).toBe(20);
  });

  it('maps a photo with a caption: media as JSON, bytes as base64, no client fields', () => {
    const photo = new Api.Photo({
      id: bigInt('5012345678901234567'),
      accessHash: bigInt('-8012345678901234567'),
      fileReference: Buffer.from('file-ref'),
      date: T0,
      sizes: [new Api.PhotoStrippedSize({ type: 'i', bytes: Buffer.from([1, 2, 3, 4]) }), new Api.PhotoSize({ type: 'x', w: 800, h: 600, size: 51234 })],
      dcId: 5,
    });
    const message = post({ id: 14, message: 'Caption: Sec 3 Chemistry', media: new Api.MessageMediaPhoto({ photo }) });
    Object.assign(message, { _client: { session: SESSION } });
    const m = mapGramjsMessage(message);
    expect(m.text).toBe('Caption: Sec 3 Chemistry');
    expect(m.media).toEqual({
      _: 'MessageMediaPhoto',
      photo: {
        _: 'Photo',
        id: '5012345678901234567',
        accessHash: '-8012345678901234567',
        fileReference: Buffer.from('file-ref').toString('base64'),
        date: T0,
        sizes: [
          { _: 'PhotoStrippedSize', type: 'i', bytes: 'AQIDBA==' },
          { _: 'PhotoSize', type: 'x', w: 800, h: 600, size: 51234 },
        ],
        dcId: 5,
      },
    });
    expect(JSON.stringify(m)).not.toContain(SESSION);
  });

  it('maps a service message: isService, empty text', () => {
    const m = mapGramjsMessage(
      new Api.MessageService({
        id: 15,
        peerId: peer(),
        date: T0,
        action: new Api.MessageActionPinMessage(),
        replyTo: new Api.MessageReplyHeader({ replyToMsgId: 14 }),
      }),
    );
    expect(m).toEqual({ ...base, id: 15, date: new Date(T0 * 1000), text: '', replyToMsgId: 14, isService: true });
  });

  it('maps entities', () => {
    const m = mapGramjsMessage(
      post({
        id: 16,
        message: 'Rate: $40/h, see link',
        entities: [new Api.MessageEntityBold({ offset: 0, length: 4 }), new Api.MessageEntityTextUrl({ offset: 17, length: 4, url: 'https://example.com' })],
      }),
    );
    expect(m.entities).toEqual([
      { _: 'MessageEntityBold', offset: 0, length: 4 },
      { _: 'MessageEntityTextUrl', offset: 17, length: 4, url: 'https://example.com' },
    ]);
    expect(mapGramjsMessage(post({ id: 17, entities: [] })).entities).toBeNull();
  });

  it('maps views, forwards and the comment count', () => {
    const m = mapGramjsMessage(post({ id: 18, views: 1234, forwards: 5, replies: new Api.MessageReplies({ replies: 3, repliesPts: 100, comments: true }) }));
    expect([m.views, m.forwards, m.replyCount]).toEqual([1234, 5, 3]);
  });
});

describe('channelLinkForEntity', () => {
  it('uses the username, lower-cased', () => {
    expect(channelLinkForEntity(channelEntity({ username: 'FooChan', title: 'Foo' }))).toEqual({
      channelLink: 't.me/foochan',
      channelId: String(CHANNEL_ID),
      title: 'Foo',
    });
  });

  it('uses t.me/c/<id> for a channel without a username', () => {
    expect(channelLinkForEntity(channelEntity())).toEqual({ channelLink: `t.me/c/${CHANNEL_ID}`, channelId: String(CHANNEL_ID), title: 'Tuition Channel' });
  });

  it('uses the first active entry of `usernames` when `username` is empty', () => {
    const usernames = [
      new Api.Username({ username: 'OldName', active: false }),
      new Api.Username({ username: 'Tutors_SG', active: true, editable: true }),
      new Api.Username({ username: 'third', active: true }),
    ];
    expect(channelLinkForEntity(channelEntity({ usernames })).channelLink).toBe('t.me/tutors_sg');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A fake GramJS client

type Handler = [(event: unknown) => void, EventBuilder];

class FakeClient implements GramjsClient {
  connected: boolean | undefined = false;
  readonly calls: string[] = [];
  readonly handlers: Handler[] = [];
  /** username or bare channel id → entity */
  readonly known = new Map<string, Api.Channel>();
  /** channel ids GramJS cannot find until the dialogs were loaded */
  readonly needsDialogs = new Set<string>();
  dialogsLoaded = false;
  connectImpl: () => Promise<void> = async () => void (this.connected = true);
  invokeImpl: (request: unknown) => Promise<unknown> = async () => ({});
  getEntityFailure: (() => Error) | null = null;
  iterMessagesImpl: (params: Record<string, unknown>) => AsyncIterable<unknown> = async function* () {};
  readonly iterParams: Record<string, unknown>[] = [];

  async connect() {
    this.calls.push('connect');
    await this.connectImpl();
    return this.connected;
  }
  async disconnect() {
    this.calls.push('disconnect');
    this.connected = false;
  }
  async destroy() {
    this.calls.push('destroy');
    this.connected = false;
  }
  invoke(request: unknown) {
    this.calls.push('invoke');
    return this.invokeImpl(request);
  }
  async getEntity(target: unknown): Promise<Api.Channel> {
    this.calls.push('getEntity');
    if (this.getEntityFailure) throw this.getEntityFailure();
    const key = target instanceof Api.PeerChannel ? target.channelId.toString() : String(target).toLowerCase();
    const entity = this.known.get(key);
    if (entity && (!this.needsDialogs.has(key) || this.dialogsLoaded)) return entity;
    if (target instanceof Api.PeerChannel) throw new Error(`Could not find the input entity for ${JSON.stringify(target)}.`);
    throw new Error(`No user has "${String(target)}" as username`);
  }
  async getDialogs() {
    this.calls.push('getDialogs');
    this.dialogsLoaded = true;
    return [];
  }
  iterMessages(_entity: unknown, params: Record<string, unknown>) {
    this.iterParams.push(params);
    return this.iterMessagesImpl(params);
  }
  addEventHandler(callback: (event: unknown) => void, builder: EventBuilder) {
    this.handlers.push([callback, builder]);
  }
  removeEventHandler(callback: CallableFunction, builder: EventBuilder) {
    const i = this.handlers.findIndex(([c, b]) => c === callback && b === builder);
    if (i >= 0) this.handlers.splice(i, 1);
  }
  /** What GramJS does with an update: every handler whose builder makes this kind of event gets it. */
  emit(event: NewMessageEvent | DeletedMessageEvent) {
    const builderFor = event instanceof EditedMessageEvent ? EditedMessage : event instanceof NewMessageEvent ? NewMessage : DeletedMessage;
    for (const [callback, builder] of [...this.handlers]) if (builder.constructor === builderFor) callback(event);
  }
  /** GramJS's connection pseudo-update, given to the Raw handlers whose own filter takes it (as GramJS does). */
  emitConnectionState(state: number) {
    const update = new UpdateConnectionState(state);
    for (const [callback, builder] of [...this.handlers]) {
      if (!(builder instanceof Raw)) continue;
      void builder.resolve(this as never); // GramJS resolves a builder before its first dispatch (Raw's is synchronous)
      if (builder.filter(update as never)) callback(update);
    }
  }
}

interface Harness {
  source: GramjsSource;
  client: FakeClient;
  logs: { level: string; event: string; fields: Record<string, unknown> }[];
  sleeps: number[];
}

function harness(options: Partial<GramjsSourceOptions> = {}): Harness {
  const logs: Harness['logs'] = [];
  const sleeps: number[] = [];
  const client = new FakeClient();
  const source = new GramjsSource({
    apiId: 12345,
    apiHash: API_HASH,
    session: { kind: 'string', value: SESSION },
    log: (level, event, fields) => logs.push({ level, event, fields }),
    sleep: async (ms) => void sleeps.push(ms),
    clientFactory: () => client,
    ...options,
  });
  return { source, client, logs, sleeps };
}

async function collect(iterable: AsyncIterable<SourceMessage>): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const m of iterable) out.push(m);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

const allLogText = (h: Harness) => JSON.stringify(h.logs);

describe('GramjsSource: session and connection', () => {
  it('reads a session file; a missing or empty one asks for tutordex login', async () => {
    const file = path.join(tmp, 'missing.session');
    const missing = await failure(harness({ session: { kind: 'file', path: file } }).source.connect());
    expect(missing).toBeInstanceOf(UserError);
    expect(missing.message).toContain('tutordex login');

    writeFileSync(file, '\n');
    const empty = await failure(harness({ session: { kind: 'file', path: file } }).source.connect());
    expect(empty).toBeInstanceOf(UserError);
    expect(empty.message).toContain('tutordex login');

    writeFileSync(file, `${SESSION}\n`);
    let received: StringSession | null = null;
    const h = harness({ session: { kind: 'file', path: file }, clientFactory: (session) => ((received = session), new FakeClient()) });
    await h.source.connect();
    await received!.load(); // what TelegramClient.connect() does first
    expect(received!.save()).toBe(SESSION);
  });

  it('an unauthorised session is a UserError saying to run tutordex login', async () => {
    const h = harness();
    h.client.invokeImpl = async () => {
      throw new RPCError('AUTH_KEY_UNREGISTERED', new Api.updates.GetState(), 401);
    };
    const err = await failure(h.source.connect());
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('the Telegram session is not logged in; run tutordex login');
    const empty = await failure(harness({ session: { kind: 'string', value: ' ' } }).source.connect());
    expect(empty.message).toContain('run tutordex login');
  });

  it('retries a failing connect with backoff, then gives up with a TransientSourceError', async () => {
    const h = harness();
    h.client.connectImpl = async () => {
      throw new Error(`socket closed (api hash ${API_HASH})`);
    };
    const err = await failure(h.source.connect());
    expect(err).toBeInstanceOf(TransientSourceError);
    expect(h.sleeps).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(err.message).not.toContain(API_HASH);
    expect(allLogText(h)).not.toContain(API_HASH);
  });
});

describe('GramjsSource: resolve', () => {
  it('resolves a username to its canonical link and a bare id to t.me/c/<id>', async () => {
    const h = harness();
    h.client.known.set('foochan', channelEntity({ username: 'FooChan', title: 'Foo' }));
    h.client.known.set(String(OTHER_ID), channelEntity({ id: OTHER_ID, title: 'No Username' }));
    h.client.needsDialogs.add(String(OTHER_ID));
    expect(await h.source.resolve('t.me/foochan')).toEqual({ channelLink: 't.me/foochan', channelId: String(CHANNEL_ID), title: 'Foo' });
    expect(await h.source.resolve(`t.me/c/${OTHER_ID}`)).toEqual({ channelLink: `t.me/c/${OTHER_ID}`, channelId: String(OTHER_ID), title: 'No Username' });
    expect(h.client.calls.filter((c) => c === 'getDialogs')).toHaveLength(1);
  });

  it('an unknown username is a UserError naming it', async () => {
    const h = harness();
    const err = await failure(h.source.resolve('t.me/nosuchchannel'));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('t.me/nosuchchannel');
    const byId = await failure(h.source.resolve('t.me/c/999'));
    expect(byId).toBeInstanceOf(UserError);
    expect(byId.message).toContain('t.me/c/999');
  });

  it('waits out a FloodWait, then retries', async () => {
    const h = harness();
    h.client.known.set('foochan', channelEntity({ username: 'foochan' }));
    const getEntity = h.client.getEntity.bind(h.client);
    let floods = 1;
    h.client.getEntity = async (target) => {
      if (floods-- > 0) throw new FloodWaitError({ capture: 75, request: new Api.contacts.ResolveUsername({ username: 'foochan' }) });
      return getEntity(target);
    };
    expect((await h.source.resolve('t.me/foochan')).channelLink).toBe('t.me/foochan');
    expect(h.sleeps).toEqual([75_000]);
    expect(h.logs).toContainEqual({ level: 'warn', event: 'telegram_flood_wait', fields: expect.objectContaining({ seconds: 75, channel: 't.me/foochan' }) });
  });

  it('rejects a user account', async () => {
    const h = harness();
    h.client.getEntity = async () => new Api.User({ id: bigInt(1), username: 'someone' }) as unknown as Api.Channel;
    const err = await failure(h.source.resolve('t.me/someone'));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('t.me/someone');
  });
});

describe('GramjsSource: history', () => {
  const channel: ResolvedChannel = { channelLink: 't.me/foochan', channelId: String(CHANNEL_ID), title: 'Foo' };

  function withMessages(h: Harness, messages: unknown[]): void {
    h.client.known.set('foochan', channelEntity({ username: 'foochan' }));
    h.client.iterMessagesImpl = async function* () {
      yield* messages;
    };
  }

  it('reads newest first within [since, until), passing the bounds to iterMessages', async () => {
    const h = harness();
    const at = (id: number, seconds: number) => post({ id, date: T0 + seconds });
    withMessages(h, [
      at(9, 100),
      at(8, 50),
      new Api.MessageEmpty({ id: 7 }),
      new Api.MessageService({ id: 6, peerId: peer(), date: T0 + 40, action: new Api.MessageActionPinMessage() }),
      at(5, 30),
      at(4, 10),
      at(3, 5),
    ]);
    const got = await collect(h.source.history(channel, { since: new Date((T0 + 10) * 1000), until: new Date((T0 + 50) * 1000 + 500), maxId: 100, minId: 1 }));
    expect(got.map((m) => [m.id, m.isService])).toEqual([
      [8, false],
      [6, true],
      [5, false],
      [4, false],
    ]);
    expect(h.client.iterParams).toEqual([{ reverse: false, maxId: 100, minId: 1, offsetDate: T0 + 51 }]);
    await collect(h.source.history(channel, { since: null, until: null }));
    expect(h.client.iterParams[1]).toEqual({ reverse: false, maxId: 0, minId: 0 });
  });

  it('a stalled page times out: TransientSourceError, the client is disconnected and reconnected on next use', async () => {
    const h = harness({ fetchTimeoutSeconds: 0.05 });
    h.client.known.set('foochan', channelEntity({ username: 'foochan' }));
    h.client.iterMessagesImpl = async function* () {
      yield post({ id: 2 });
      await new Promise(() => {}); // never answers
    };
    const got: number[] = [];
    const err = await failure(
      (async () => {
        for await (const m of h.source.history(channel, { since: null, until: null })) got.push(m.id);
      })(),
    );
    expect(got).toEqual([2]);
    expect(err).toBeInstanceOf(TransientSourceError);
    expect(err.message).toContain('timed out');
    expect(h.client.calls).toContain('disconnect');
    expect(h.logs.map((l) => l.event)).toContain('telegram_fetch_timeout');

    const connectsBefore = h.client.calls.filter((c) => c === 'connect').length;
    h.client.iterMessagesImpl = async function* () {
      yield post({ id: 1 });
    };
    expect((await collect(h.source.history(channel, { since: null, until: null }))).map((m) => m.id)).toEqual([1]);
    expect(h.client.calls.filter((c) => c === 'connect').length).toBe(connectsBefore + 1);
  });

  it('a FloodWait becomes a TransientSourceError carrying the seconds', async () => {
    const h = harness();
    h.client.known.set('foochan', channelEntity({ username: 'foochan' }));
    h.client.iterMessagesImpl = async function* () {
      yield post({ id: 3 });
      throw new FloodWaitError({
        capture: 420,
        request: new Api.messages.GetHistory({
          peer: new Api.InputPeerEmpty(),
          offsetId: 0,
          offsetDate: 0,
          addOffset: 0,
          limit: 100,
          maxId: 0,
          minId: 0,
          hash: bigInt(0),
        }),
      });
    };
    const err = await failure(collect(h.source.history(channel, { since: null, until: null })));
    expect(err).toBeInstanceOf(TransientSourceError);
    expect((err as TransientSourceError).retryAfterSeconds).toBe(420);
    expect(h.logs).toContainEqual({ level: 'warn', event: 'telegram_flood_wait', fields: expect.objectContaining({ seconds: 420 }) });
  });

  it('stops when the signal aborts, even while a page is pending', async () => {
    const h = harness();
    h.client.known.set('foochan', channelEntity({ username: 'foochan' }));
    const controller = new AbortController();
    h.client.iterMessagesImpl = async function* () {
      yield post({ id: 5 });
      setTimeout(() => controller.abort(), 10);
      await new Promise(() => {});
    };
    const got = await collect(h.source.history(channel, { since: null, until: null, signal: controller.signal }));
    expect(got.map((m) => m.id)).toEqual([5]);
  });
});

describe('GramjsSource: subscribe', () => {
  const foo: ResolvedChannel = { channelLink: 't.me/foochan', channelId: String(CHANNEL_ID), title: 'Foo' };
  const bar: ResolvedChannel = { channelLink: `t.me/c/${OTHER_ID}`, channelId: String(OTHER_ID), title: 'Bar' };
  const newEvent = (m: Api.Message) => new NewMessageEvent(m, new Api.UpdateNewChannelMessage({ message: m, pts: 1, ptsCount: 1 }));
  const editEvent = (m: Api.Message) => new EditedMessageEvent(m, new Api.UpdateEditChannelMessage({ message: m, pts: 1, ptsCount: 1 }));

  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('maps new, edit and delete events of the subscribed channels and ignores other chats', async () => {
    const h = harness();
    const events: ChannelEvent[] = [];
    const sub = await h.source.subscribe([foo, bar], async (e) => void events.push(e));
    h.client.emit(newEvent(post({ id: 1, message: 'hello' })));
    h.client.emit(editEvent(post({ id: 1, message: 'hello!', editDate: T0 + 99 })));
    h.client.emit(new DeletedMessageEvent([1, 2], peer(OTHER_ID)));
    h.client.emit(new DeletedMessageEvent([3], undefined)); // a private chat: Telegram does not say which
    h.client.emit(newEvent(post({ id: 1, peerId: peer(333) }))); // a channel nobody subscribed to
    h.client.emit(new DeletedMessageEvent([4], peer(333)));
    await sub.stop();
    // order is only promised within one channel
    const of = (channel: ResolvedChannel | null) => events.filter((e) => e.channel === channel);
    expect(of(foo)).toEqual([
      { kind: 'new', channel: foo, message: expect.objectContaining({ id: 1, text: 'hello', editDate: null }) },
      { kind: 'edit', channel: foo, message: expect.objectContaining({ id: 1, text: 'hello!', editDate: new Date((T0 + 99) * 1000) }) },
    ]);
    expect(of(bar)).toEqual([{ kind: 'delete', channel: bar, messageIds: [1, 2] }]);
    expect(of(null)).toEqual([{ kind: 'delete', channel: null, messageIds: [3] }]);
    expect(events).toHaveLength(4); // nothing from the channel nobody subscribed to
  });

  it('delivers one channel at a time in order, other channels meanwhile; a failing handler is logged', async () => {
    const h = harness();
    const gate = deferred();
    const log: string[] = [];
    const sub = await h.source.subscribe([foo, bar], async (e) => {
      const name = e.kind === 'delete' ? `del` : `${e.channel.title}:${e.message.id}`;
      log.push(`start ${name}`);
      if (name === 'Foo:1') await gate.promise;
      if (name === 'Foo:2') throw new Error('database down');
      log.push(`end ${name}`);
    });
    h.client.emit(newEvent(post({ id: 1 })));
    h.client.emit(newEvent(post({ id: 2 })));
    h.client.emit(newEvent(post({ id: 3 })));
    h.client.emit(newEvent(post({ id: 1, peerId: peer(OTHER_ID) })));
    await tick();
    expect(log).toEqual(['start Foo:1', 'start Bar:1', 'end Bar:1']);
    gate.resolve();
    await tick();
    expect(log).toEqual(['start Foo:1', 'start Bar:1', 'end Bar:1', 'end Foo:1', 'start Foo:2', 'start Foo:3', 'end Foo:3']);
    expect(h.logs).toContainEqual({
      level: 'error',
      event: 'telegram_event_handler_failed',
      fields: { channel: 't.me/foochan', kind: 'new', error: 'database down' },
    });
    await sub.stop();
  });

  it('stop() waits for pending calls, removes the handlers and resolves ended', async () => {
    const h = harness();
    const gate = deferred();
    let handled = 0;
    const sub = await h.source.subscribe([foo], async () => {
      await gate.promise;
      handled++;
    });
    expect(h.client.handlers).toHaveLength(4);
    h.client.emit(newEvent(post({ id: 1 })));
    let stopped = false;
    const stopping = sub.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    await sub.ended;
    expect(handled).toBe(1);
    expect(h.client.handlers).toHaveLength(0);
    h.client.emit(newEvent(post({ id: 2 })));
    expect(handled).toBe(1);
  });

  it('issue 15 #3: tells the subscriber each time GramJS says the connection is back (its own reconnects), not when it drops', async () => {
    const h = harness();
    let reconnected = 0;
    const sub = await h.source.subscribe([foo], async () => {}, { onReconnected: () => reconnected++ });
    h.client.emitConnectionState(UpdateConnectionState.disconnected);
    h.client.emitConnectionState(UpdateConnectionState.broken);
    expect(reconnected).toBe(0);
    h.client.emitConnectionState(UpdateConnectionState.connected);
    expect(reconnected).toBe(1);
    h.client.emit(newEvent(post({ id: 1 }))); // a message is not a connection state
    expect(reconnected).toBe(1);
    await sub.stop();
    h.client.emitConnectionState(UpdateConnectionState.connected);
    expect(reconnected).toBe(1);
  });

  it('reconnects a dropped client with backoff (and tells the subscriber)', async () => {
    const h = harness({ reconnectCheckSeconds: 0.01 });
    let reconnected = 0;
    const sub = await h.source.subscribe([foo], async () => {}, { onReconnected: () => reconnected++ });
    let failures = 2;
    h.client.connectImpl = async () => {
      if (failures-- > 0) throw new Error('ECONNRESET');
      h.client.connected = true;
    };
    h.client.connected = false;
    for (let i = 0; i < 100 && !h.client.connected; i++) await tick();
    expect(h.client.connected).toBe(true);
    expect(h.logs.filter((l) => l.event === 'telegram_reconnect').map((l) => l.fields.attempt)).toEqual([1, 2, 3]);
    expect(h.sleeps).toEqual([1000, 2000]);
    expect(h.logs.map((l) => l.event)).toContain('telegram_reconnected');
    expect(reconnected).toBe(1);
    await sub.stop();
  });

  it('ends the subscription when the session was logged out', async () => {
    const h = harness({ reconnectCheckSeconds: 0.01 });
    const sub = await h.source.subscribe([foo], async () => {});
    h.client.connectImpl = async () => {
      throw new RPCError('SESSION_REVOKED', new Api.updates.GetState(), 401);
    };
    h.client.connected = false;
    await sub.ended;
    expect(h.client.handlers).toHaveLength(0);
    expect(h.logs.map((l) => l.event)).toContain('telegram_reconnect_gave_up');
  });

  it('close() stops subscriptions and destroys the client', async () => {
    const h = harness();
    const sub = await h.source.subscribe([foo], async () => {});
    await h.source.close();
    await sub.ended;
    expect(h.client.calls).toContain('destroy');
  });
});

describe('GramjsSource: secrets', () => {
  it('never puts the api hash or the session into a log line or an error', async () => {
    const h = harness({ fetchTimeoutSeconds: 0.02, reconnectCheckSeconds: 0.01 });
    const leak = () => new Error(`failure with ${API_HASH} and ${SESSION}`);
    const errors: Error[] = [];
    h.client.getEntityFailure = leak;
    errors.push(await failure(h.source.resolve('t.me/foochan')));
    h.client.getEntityFailure = null;
    h.client.known.set('foochan', channelEntity({ username: 'foochan' }));
    h.client.iterMessagesImpl = async function* () {
      yield post({ id: 1 });
      throw leak();
    };
    const channel = await h.source.resolve('t.me/foochan');
    errors.push(await failure(collect(h.source.history(channel, { since: null, until: null }))));
    const sub = await h.source.subscribe([channel], async () => {
      throw leak();
    });
    h.client.emit(new NewMessageEvent(post({ id: 2 }), new Api.UpdateNewChannelMessage({ message: post({ id: 2 }), pts: 1, ptsCount: 1 })));
    let connectFailures = 1;
    h.client.connectImpl = async () => {
      if (connectFailures-- > 0) throw leak();
      h.client.connected = true;
    };
    h.client.connected = false;
    for (let i = 0; i < 100 && !h.client.connected; i++) await new Promise((r) => setTimeout(r, 5));
    await sub.stop();
    errors.push(await failure(harnessWithFailingAuth().source.connect()));

    expect(errors.every((e) => e instanceof Error)).toBe(true);
    expect(h.logs.length).toBeGreaterThan(3);
    for (const text of [...errors.map((e) => `${e.message} ${e.stack}`), allLogText(h)]) {
      expect(text).not.toContain(API_HASH);
      expect(text).not.toContain(SESSION);
    }
  });

  function harnessWithFailingAuth(): Harness {
    const h = harness();
    h.client.invokeImpl = async () => {
      throw new RPCError(`AUTH_KEY_UNREGISTERED ${API_HASH}`, new Api.updates.GetState(), 401);
    };
    return h;
  }
});

// ---------------------------------------------------------------------------------------------------------------

describe('runLogin', () => {
  function fakeLoginClient(options: { password?: boolean; rejectFirstCode?: boolean } = {}) {
    const client: LoginClient & { destroyed: boolean; savedWith: string } = {
      destroyed: false,
      savedWith: '',
      session: { save: () => client.savedWith },
      async start(params) {
        const phone = typeof params.phoneNumber === 'function' ? await params.phoneNumber() : params.phoneNumber;
        let code = await params.phoneCode(true);
        if (options.rejectFirstCode) {
          await params.onError(new Error('PHONE_CODE_INVALID'));
          code = await params.phoneCode(true);
        }
        const password = options.password ? await params.password!('my hint') : '';
        client.savedWith = `session-for-${phone}-${code}-${password}`;
      },
      async destroy() {
        client.destroyed = true;
      },
    };
    return client;
  }

  it('asks for the phone, the code and the 2FA password (secret), saves the session with mode 0600', async () => {
    const file = path.join(tmp, 'login', 'tg.session');
    const asked: [string, boolean][] = [];
    const answers = ['+65 9123 4567 ', '12345', 'pa ss'];
    const printed: string[] = [];
    const client = fakeLoginClient({ password: true });
    const session = await runLogin({
      apiId: 1,
      apiHash: API_HASH,
      ask: async (q, o) => (asked.push([q, Boolean(o?.secret)]), answers.shift()!),
      print: (l) => printed.push(l),
      saveTo: file,
      clientFactory: () => client,
    });
    expect(session).toBe('session-for-+65 9123 4567-12345-pa ss');
    expect(asked.map(([q, secret]) => [q.split(' (')[0], secret])).toEqual([
      ['Phone number', false],
      ['Login code', false],
      ['Two-step verification password', true],
    ]);
    expect(asked[2]![0]).toContain('my hint');
    expect(readFileSync(file, 'utf8')).toBe(`${session}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(printed).toContain(session);
    expect(printed.join('\n')).toContain('SESSION_STRING');
    expect(printed.join('\n')).not.toContain(API_HASH);
    expect(client.destroyed).toBe(true);
  });

  it('tightens an existing file to 0600 and reports rejected codes', async () => {
    const file = path.join(tmp, 'existing.session');
    writeFileSync(file, 'old', { mode: 0o644 });
    const printed: string[] = [];
    const answers = ['+6512345678', '11111', '22222'];
    await runLogin({
      apiId: 1,
      apiHash: API_HASH,
      ask: async () => answers.shift()!,
      print: (l) => printed.push(l),
      saveTo: file,
      clientFactory: () => fakeLoginClient({ rejectFirstCode: true }),
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('session-for-+6512345678-22222-\n');
    expect(printed).toContain('Telegram: PHONE_CODE_INVALID');
  });

  it('gives up after five rejected answers', async () => {
    const client: LoginClient = {
      session: { save: () => '' },
      async start(params) {
        for (;;) if (await params.onError(new Error('PHONE_CODE_INVALID'))) throw new Error('AUTH_USER_CANCEL');
      },
      destroy: async () => undefined,
    };
    const printed: string[] = [];
    const err = await failure(runLogin({ apiId: 1, apiHash: API_HASH, ask: async () => '1', print: (l) => printed.push(l), clientFactory: () => client }));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('Telegram login failed after 5 attempts: PHONE_CODE_INVALID');
    expect(printed.filter((l) => l === 'Telegram: PHONE_CODE_INVALID')).toHaveLength(5);
  });

  it('a cancelled question cancels the login with a UserError', async () => {
    const client: LoginClient = {
      session: { save: () => '' },
      async start(params) {
        try {
          await params.phoneCode();
        } catch {
          // GramJS swallows errors from the code callback and reports "Code is empty" to onError
        }
        if (await params.onError(new Error('Code is empty'))) throw new Error('AUTH_USER_CANCEL');
      },
      destroy: async () => undefined,
    };
    const err = await failure(
      runLogin({
        apiId: 1,
        apiHash: API_HASH,
        ask: async () => Promise.reject(new UserError('Telegram login cancelled')),
        print: () => {},
        clientFactory: () => client,
      }),
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('Telegram login cancelled');
  });
});

describe('askFromTerminal', () => {
  function terminal() {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    let written = '';
    output.on('data', (chunk: Buffer) => (written += chunk.toString()));
    return { input, output, written: () => written };
  }

  it('echoes normal answers and hides secret ones', async () => {
    const t = terminal();
    const ask = askFromTerminal(t.input, t.output);
    const phone = ask('Phone: ');
    t.input.write('+6512345678\r');
    expect(await phone).toBe('+6512345678');
    const password = ask('Password: ', { secret: true });
    t.input.write(' hunter2 \r');
    expect(await password).toBe(' hunter2 ');
    expect(t.written()).toContain('Phone: ');
    expect(t.written()).toContain('+6512345678');
    expect(t.written()).toContain('Password: ');
    expect(t.written()).not.toContain('hunter2');
  });
});
