/**
 * A fake Telegram Bot API: a real HTTP server on 127.0.0.1 (random port) for tests and benchmarks.
 *
 *   const bot = await startFakeBotApi();
 *   createBotClient({ token: '123:abc', apiUrl: bot.url });   // grammY posts to `${url}/bot<token>/<method>`
 *   bot.failNext('sendMessage', { status: 429, retryAfter: 1 });  // script the next answer(s) of a method
 *   bot.failWhen((call) => call.chatId === '42' ? { status: 403 } : null);
 *   await bot.setOutage('refuse');              // the port is closed: connections refused, nothing reaches it
 *   bot.setOutage('drop');                      // (or true) every request is read, then its socket destroyed
 *   bot.misbehaveNext('sendMessage', { delayMs: 2000 });  // carried out, but answered late (after a client timeout)
 *   bot.misbehaveNext('sendMessage', { drop: true });     // carried out, then the connection reset, no answer
 *   bot.calls                                    // every request, refused ones included, in arrival order
 *   bot.messages('@chan')                        // what a chat currently shows
 *   bot.reset(); await bot.close();
 *
 * Methods: sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage, getMe, getUpdates,
 * answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo, setMyCommands (anything else answers 404 like
 * Telegram).
 *
 * Incoming updates for a bot under test (long polling):
 *   bot.pushMessage(42, '/start')               // a private-chat text message from user 42
 *   bot.pushMessage(-100, '/start', { chatType: 'group', fromId: 42 })
 *   bot.pushCallback(42, 'fb:filled:7', { messageId: 3 })   // a button press on message 3 of chat 42
 *   bot.pushUpdate({ ...anything })             // raw; update_id is assigned
 *   bot.updatesDelivered()                      // highest update_id handed out by getUpdates
 * getUpdates answers at once when updates are queued, else holds up to min(timeout, 250 ms).
 * Edits answer "message is not modified" / "message to edit not found" and deletes "message to delete not
 * found" as Telegram does. Any token is accepted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeBotCall {
  method: string;
  /** `chat_id` as sent (grammY sends what the caller passed: a number or a string). */
  chatId: string | number | null;
  body: Record<string, unknown>;
  /** Date.now() when the request arrived. */
  at: number;
  /** HTTP status answered (0: the connection was dropped without an answer, the call carried out or not). */
  status: number;
}

/** How a call that the Bot API carries out answers anyway: late (`delayMs`) or not at all (connection reset). */
export type FakeMisbehaviour = { delayMs: number } | { drop: true };

export interface FakeFailure {
  /** HTTP status and Telegram error_code: 429, 403, 400, 500, ... */
  status: number;
  /** 429: parameters.retry_after in seconds. */
  retryAfter?: number;
  description?: string;
}

export interface FakeMessage {
  messageId: number;
  text: string;
  replyMarkup: unknown;
}

export interface FakeBotApi {
  /** API root to give the client (no trailing slash). */
  readonly url: string;
  readonly calls: FakeBotCall[];
  /** Current (not deleted) messages of a chat, oldest first. */
  messages(chatId: string | number): FakeMessage[];
  /** The next `times` calls of `method` fail with `failure`. Queued failures are used in order. */
  failNext(method: string, failure: FakeFailure, times?: number): void;
  /** Fail any call for which `fn` returns a failure (checked after failNext); replaces the previous predicate. */
  failWhen(fn: ((call: FakeBotCall) => FakeFailure | null) | null): void;
  /**
   * 'drop' (or true): every request is read (so it did reach the server), then its connection destroyed without
   * an answer. 'refuse': the listening socket is closed, so connections are refused (no call arrives, none is
   * recorded) until the outage is switched off (false), which listens on the same port again.
   */
  setOutage(mode: boolean | 'drop' | 'refuse'): Promise<void>;
  /** The next `times` calls of `method` are carried out as usual, then answered late or their connection reset. */
  misbehaveNext(method: string, how: FakeMisbehaviour, times?: number): void;
  /** Queue a raw update for getUpdates; returns its update_id (assigned when missing). */
  pushUpdate(update: Record<string, unknown>): number;
  /** Queue a text message; a private chat by default (`fromId` defaults to the chat id). */
  pushMessage(chatId: number, text: string, opts?: { chatType?: 'private' | 'group' | 'supergroup' | 'channel'; fromId?: number; firstName?: string }): number;
  /** Queue a callback query (button press) on a message of a chat; the stored message's keyboard is included. */
  pushCallback(chatId: number, data: string, opts?: { messageId?: number; chatType?: 'private' | 'group' | 'supergroup' | 'channel'; fromId?: number }): number;
  /** Highest update_id returned by getUpdates so far (0 = none). */
  updatesDelivered(): number;
  /** Updates queued and not yet confirmed by a later getUpdates offset. */
  updatesQueued(): number;
  /** Last URL given to setWebhook (null after deleteWebhook). */
  webhookUrl(): string | null;
  /** Forget calls, messages, queued updates and scripted failures. */
  reset(): void;
  close(): Promise<void>;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

export async function startFakeBotApi(): Promise<FakeBotApi> {
  const calls: FakeBotCall[] = [];
  let chats = new Map<string, { next: number; messages: Map<number, FakeMessage> }>();
  let queued = new Map<string, FakeFailure[]>();
  let predicate: ((call: FakeBotCall) => FakeFailure | null) | null = null;
  let outage = false;
  let refusing = false;
  let misbehaving = new Map<string, FakeMisbehaviour[]>();
  const misbehaviourOf = new WeakMap<FakeBotCall, FakeMisbehaviour>();
  let updates: Array<Record<string, unknown> & { update_id: number }> = [];
  let nextUpdateId = 1;
  let delivered = 0;
  let webhook: string | null = null;
  let waiters: Array<() => void> = [];
  let nextCallbackId = 1;
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const chat = (id: unknown) => {
    const key = String(id);
    let c = chats.get(key);
    if (!c) chats.set(key, (c = { next: 1, messages: new Map() }));
    return c;
  };

  const reply = (res: ServerResponse, call: FakeBotCall | null, status: number, body: unknown) => {
    const how = call ? misbehaviourOf.get(call) : undefined;
    if (how && 'drop' in how) {
      res.socket?.destroy();
      return;
    }
    if (call) call.status = status;
    const send = () => {
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (how) setTimeout(send, how.delayMs);
    else send();
  };
  const fail = (res: ServerResponse, call: FakeBotCall | null, f: FakeFailure) =>
    reply(res, call, f.status, {
      ok: false,
      error_code: f.status,
      description: f.status === 429 ? `Too Many Requests: retry after ${f.retryAfter ?? 1}` : (f.description ?? DESCRIPTIONS[f.status] ?? `Error ${f.status}`),
      ...(f.status === 429 ? { parameters: { retry_after: f.retryAfter ?? 1 } } : {}),
    });
  const ok = (res: ServerResponse, call: FakeBotCall, result: unknown) => reply(res, call, 200, { ok: true, result });

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return {};
    const type = req.headers['content-type'] ?? '';
    if (type.includes('application/json')) return JSON.parse(text) as Record<string, unknown>;
    if (type.includes('x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0]!);
      const body: Record<string, unknown> = await readBody(req).catch(() => ({}));
      if (!match) return reply(res, null, 404, { ok: false, error_code: 404, description: 'Not Found' });
      const method = match[2]!;
      const chatId = (body.chat_id as string | number | undefined) ?? null;
      const call: FakeBotCall = { method, chatId, body, at: Date.now(), status: 0 };
      calls.push(call);
      const how = misbehaving.get(method)?.shift();
      if (how) misbehaviourOf.set(call, how);
      if (outage) {
        res.socket?.destroy();
        return;
      }
      const scripted = queued.get(method)?.shift() ?? predicate?.(call) ?? null;
      if (scripted) return fail(res, call, scripted);
      const now = Math.floor(Date.now() / 1000);
      switch (method) {
        case 'getMe':
          return ok(res, call, { id: 1, is_bot: true, first_name: 'Fake', username: 'fake_bot' });
        case 'sendMessage': {
          if (chatId == null || typeof body.text !== 'string' || body.text === '')
            return fail(res, call, { status: 400, description: 'Bad Request: message text is empty' });
          const c = chat(chatId);
          const m: FakeMessage = { messageId: c.next++, text: body.text, replyMarkup: body.reply_markup ?? null };
          c.messages.set(m.messageId, m);
          return ok(res, call, { message_id: m.messageId, date: now, chat: { id: chatId, type: 'private' }, text: m.text });
        }
        case 'editMessageText': {
          const m = chatId == null ? undefined : chat(chatId).messages.get(Number(body.message_id));
          if (!m) return fail(res, call, { status: 400, description: 'Bad Request: message to edit not found' });
          const markup = body.reply_markup ?? null;
          if (m.text === body.text && JSON.stringify(m.replyMarkup) === JSON.stringify(markup))
            return fail(res, call, {
              status: 400,
              description:
                'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
            });
          m.text = String(body.text);
          m.replyMarkup = markup;
          return ok(res, call, { message_id: m.messageId, date: now, chat: { id: chatId, type: 'private' }, text: m.text });
        }
        case 'editMessageReplyMarkup': {
          const m = chatId == null ? undefined : chat(chatId).messages.get(Number(body.message_id));
          if (!m) return fail(res, call, { status: 400, description: 'Bad Request: message to edit not found' });
          const markup = body.reply_markup ?? null;
          if (JSON.stringify(m.replyMarkup) === JSON.stringify(markup))
            return fail(res, call, {
              status: 400,
              description:
                'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
            });
          m.replyMarkup = markup;
          return ok(res, call, { message_id: m.messageId, date: now, chat: { id: chatId, type: 'private' }, text: m.text });
        }
        case 'answerCallbackQuery':
          if (typeof body.callback_query_id !== 'string' || body.callback_query_id === '')
            return fail(res, call, { status: 400, description: 'Bad Request: query is too old and response timeout expired or query ID is invalid' });
          return ok(res, call, true);
        case 'setWebhook':
          if (typeof body.url !== 'string')
            return fail(res, call, { status: 400, description: 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook' });
          webhook = body.url;
          return ok(res, call, true);
        case 'deleteWebhook':
          webhook = null;
          return ok(res, call, true);
        case 'getWebhookInfo':
          return ok(res, call, { url: webhook ?? '', has_custom_certificate: false, pending_update_count: updates.length });
        case 'setMyCommands':
          return ok(res, call, true);
        case 'getUpdates': {
          const offset = Number(body.offset ?? 0);
          if (offset > 0) updates = updates.filter((u) => u.update_id >= offset);
          const limit = Math.min(100, Math.max(1, Number(body.limit ?? 100) || 100));
          const holdMs = Math.min(250, Math.max(0, Number(body.timeout ?? 0) * 1000));
          if (updates.length === 0 && holdMs > 0) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                waiters = waiters.filter((w) => w !== done);
                resolve();
              }, holdMs);
              const done = () => {
                clearTimeout(timer);
                resolve();
              };
              waiters.push(done);
              res.once('close', done);
            });
          }
          if (res.writableEnded || res.destroyed) return;
          const batch = updates.slice(0, limit);
          if (batch.length > 0) delivered = Math.max(delivered, batch.at(-1)!.update_id);
          return ok(res, call, batch);
        }
        case 'deleteMessage': {
          const c = chatId == null ? undefined : chat(chatId);
          if (!c?.messages.delete(Number(body.message_id))) return fail(res, call, { status: 400, description: 'Bad Request: message to delete not found' });
          return ok(res, call, true);
        }
        default:
          return fail(res, call, { status: 404, description: 'Not Found' });
      }
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  async function setOutage(mode: boolean | 'drop' | 'refuse'): Promise<void> {
    outage = mode === true || mode === 'drop';
    if (mode === 'refuse' && !refusing) {
      refusing = true;
      wake();
      // Requests already being served are answered (a real outage refuses new connections; one that cut calls
      // in flight would be a reset, which the client rightly cannot tell from a call carried out): close() drops
      // idle kept-alive sockets now and the busy ones once their answer is out.
      await new Promise<void>((resolve) => {
        const stragglers = setTimeout(() => server.closeAllConnections(), 2000);
        server.close(() => (clearTimeout(stragglers), resolve()));
      });
      // let clients see their kept-alive connections close (else a reused one fails as a reset, not a refusal)
      await new Promise((r) => setTimeout(r, 50));
    } else if (mode !== 'refuse' && refusing) {
      refusing = false;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
  }

  function pushUpdate(update: Record<string, unknown>): number {
    const u = { ...update, update_id: typeof update.update_id === 'number' ? update.update_id : nextUpdateId++ };
    nextUpdateId = Math.max(nextUpdateId, u.update_id + 1);
    updates.push(u);
    wake();
    return u.update_id;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    messages: (chatId) => [...(chats.get(String(chatId))?.messages.values() ?? [])],
    failNext(method, failure, times = 1) {
      const list = queued.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(failure);
      queued.set(method, list);
    },
    failWhen(fn) {
      predicate = fn;
    },
    setOutage,
    misbehaveNext(method, how, times = 1) {
      const list = misbehaving.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(how);
      misbehaving.set(method, list);
    },
    pushUpdate,
    pushMessage(chatId, text, opts = {}) {
      const type = opts.chatType ?? 'private';
      const fromId = opts.fromId ?? chatId;
      return pushUpdate({
        [type === 'channel' ? 'channel_post' : 'message']: {
          message_id: nextUpdateId * 10,
          date: Math.floor(Date.now() / 1000),
          chat: type === 'private' ? { id: chatId, type, first_name: opts.firstName ?? 'Tutor' } : { id: chatId, type, title: 'Some chat' },
          ...(type === 'channel' ? {} : { from: { id: fromId, is_bot: false, first_name: opts.firstName ?? 'Tutor' } }),
          text,
          ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0]!.length }] } : {}),
        },
      });
    },
    pushCallback(chatId, data, opts = {}) {
      const type = opts.chatType ?? 'private';
      const messageId = opts.messageId ?? 1;
      const stored = chats.get(String(chatId))?.messages.get(messageId);
      return pushUpdate({
        callback_query: {
          id: String(nextCallbackId++),
          from: { id: opts.fromId ?? chatId, is_bot: false, first_name: 'Tutor' },
          chat_instance: `ci${chatId}`,
          data,
          message: {
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: type === 'private' ? { id: chatId, type, first_name: 'Tutor' } : { id: chatId, type, title: 'Some chat' },
            text: stored?.text ?? 'message',
            ...(stored?.replyMarkup ? { reply_markup: stored.replyMarkup } : {}),
          },
        },
      });
    },
    updatesDelivered: () => delivered,
    updatesQueued: () => updates.length,
    webhookUrl: () => webhook,
    reset() {
      updates = [];
      delivered = 0;
      webhook = null;
      wake();
      calls.length = 0;
      chats = new Map();
      queued = new Map();
      predicate = null;
      misbehaving = new Map();
      void setOutage(false);
    },
    close: () =>
      new Promise<void>((resolve) => {
        wake();
        if (refusing) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
