import { readFile } from 'node:fs/promises';
import bigInt from 'big-integer';
import { Api, TelegramClient } from 'telegram';
import type { IterMessagesParams } from 'telegram/client/messages.js';
import type { Entity, EntityLike } from 'telegram/define.js';
import type { EventBuilder } from 'telegram/events/common.js';
import { DeletedMessage, type DeletedMessageEvent } from 'telegram/events/DeletedMessage.js';
import { EditedMessage, type EditedMessageEvent } from 'telegram/events/EditedMessage.js';
import { NewMessage, Raw, type NewMessageEvent } from 'telegram/events/index.js';
import { FloodWaitError, RPCError } from 'telegram/errors/index.js';
import { Logger, LogLevel } from 'telegram/extensions/Logger.js';
import { UpdateConnectionState } from 'telegram/network/index.js';
import { StringSession } from 'telegram/sessions/index.js';
import { normalizeChannelRef } from '../config/channels.ts';
import { UserError } from '../errors.ts';
import { channelLinkForEntity, mapGramjsMessage } from './gramjs-map.ts';
import {
  TransientSourceError,
  type ChannelEvent,
  type ChannelSource,
  type HistoryRequest,
  type ResolvedChannel,
  type SourceMessage,
  type Subscription,
  type SubscriptionHooks,
} from './types.ts';

export type GramjsLog = (level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown>) => void;

/** The part of TelegramClient this source uses; tests pass a plain object. */
export interface GramjsClient {
  readonly connected: boolean | undefined;
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown>;
  destroy(): Promise<unknown>;
  invoke(request: Api.updates.GetState): Promise<unknown>;
  getEntity(entity: EntityLike): Promise<Entity>;
  getDialogs(params: { limit?: number }): Promise<unknown>;
  iterMessages(entity: EntityLike, params: Partial<IterMessagesParams>): AsyncIterable<unknown>;
  // GramJS types the callback per builder (NewMessage → NewMessageEvent, …)
  // biome-ignore lint/suspicious/noExplicitAny: the event type depends on the builder passed beside it
  addEventHandler(callback: (event: any) => void, builder: EventBuilder): void;
  removeEventHandler(callback: CallableFunction, builder: EventBuilder): void;
}

type EventCallback = Parameters<GramjsClient['addEventHandler']>[0];

export type GramjsClientFactory = (session: StringSession, apiId: number, apiHash: string) => GramjsClient;

export interface GramjsSourceOptions {
  apiId: number;
  apiHash: string;
  /** a StringSession string, or a text file holding one (written by `tutordex login --save`) */
  session: { kind: 'string'; value: string } | { kind: 'file'; path: string };
  /** a history page that takes longer than this is abandoned and the connection rebuilt (default 180) */
  fetchTimeoutSeconds?: number;
  log?: GramjsLog;
  clientFactory?: GramjsClientFactory;
  /** how often a subscription checks that the client is still connected (default 5) */
  reconnectCheckSeconds?: number;
  /** for tests: replaces the real waits of backoffs and FloodWaits */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A real client: GramJS reconnects by itself and sleeps through FloodWaits up to a minute; its own logging is off. */
export function newTelegramClient(session: StringSession, apiId: number, apiHash: string): TelegramClient {
  return new TelegramClient(session, apiId, apiHash, {
    connectionRetries: 5,
    autoReconnect: true,
    floodSleepThreshold: 60,
    baseLogger: new Logger(LogLevel.NONE),
  });
}

export const createTelegramClient: GramjsClientFactory = newTelegramClient;

// ---------------------------------------------------------------------------------------------------------------
// Errors, waits and retries

const NOT_LOGGED_IN = 'the Telegram session is not logged in; run tutordex login';
const MAX_TRANSIENT_TRIES = 6;
const MAX_FLOOD_WAITS = 5;
const DISCONNECT_GRACE_MS = 10_000;
/** Telegram's answers for a username or channel id that does not exist or that this account cannot see */
const NOT_FOUND_RPC = new Set([
  'USERNAME_NOT_OCCUPIED',
  'USERNAME_INVALID',
  'CHANNEL_INVALID',
  'CHANNEL_PRIVATE',
  'PEER_ID_INVALID',
  'CHAT_ID_INVALID',
  'CHANNEL_PUBLIC_GROUP_NA',
]);
/** GramJS's own (non-RPC) messages when an entity cannot be found */
const NOT_FOUND_MESSAGE = /No user has ".*" as username|Cannot find any entity|Could not find the input entity/;

type ErrorKind = 'flood' | 'unauthorized' | 'not-found' | 'transient' | 'fatal';

function classify(err: unknown): ErrorKind {
  if (err instanceof FloodWaitError) return 'flood';
  if (err instanceof UserError) return 'fatal';
  if (err instanceof TransientSourceError) return 'transient';
  if (err instanceof RPCError) {
    if (err.code === 401) return 'unauthorized';
    if (NOT_FOUND_RPC.has(err.errorMessage)) return 'not-found';
    const code = err.code ?? 0;
    return code >= 500 || code === 420 || code < 0 || /TIMEOUT/.test(err.errorMessage) ? 'transient' : 'fatal';
  }
  if (err instanceof Error && NOT_FOUND_MESSAGE.test(err.message)) return 'not-found';
  // programming errors are not worth retrying; anything else (sockets, "Not connected", timeouts) is
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) return 'fatal';
  return 'transient';
}

/** 1, 2, 4 … seconds, capped at 60 */
export const backoffSeconds = (attempt: number): number => Math.min(60, 2 ** Math.max(0, attempt - 1));

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A timer that does not keep the process alive. */
function unrefTimer(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------------------------
// Live events

/**
 * Calls `onEvent` for one channel at a time per channel, in arrival order: each channel has a promise chain, and
 * an event waits for the previous call of its channel to settle. A failing `onEvent` is logged, never rethrown.
 */
class OrderedDelivery {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly onEvent: (event: ChannelEvent) => Promise<void>,
    private readonly log: GramjsLog,
  ) {}

  push(event: ChannelEvent): void {
    const key = event.channel?.channelLink ?? '';
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.onEvent(event))
      .catch((err: unknown) => {
        this.log('error', 'telegram_event_handler_failed', { channel: event.channel?.channelLink ?? null, kind: event.kind, error: errorMessage(err) });
      });
    this.chains.set(key, next);
  }

  /** Settles when every event pushed so far has been handled (each chain's tail waits for its whole chain). */
  async drain(): Promise<void> {
    await Promise.all(this.chains.values());
  }
}

function channelIdOfPeer(peer: unknown): string | null {
  return peer instanceof Api.PeerChannel ? peer.channelId.toString() : null;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Telegram through GramJS (MTProto, a user session) as a ChannelSource.
 *
 * One client per source, connected lazily. GramJS sleeps through FloodWaits of up to 60 s itself; longer ones
 * reach us as FloodWaitError. Resolution retries on its own; history leaves retrying to its caller and only
 * classifies (FloodWait and timeouts → TransientSourceError). Secrets (api hash, session) never reach a log line
 * or an error message.
 */
export class GramjsSource implements ChannelSource {
  readonly kind = 'gramjs';
  readonly historyOrder = 'newest-first' as const;

  private client: GramjsClient | null = null;
  private authorised = false;
  private establishing: Promise<GramjsClient> | null = null;
  /** set when the watchdog dropped the connection; the next use waits for it before reconnecting */
  private dropping: Promise<unknown> | null = null;
  private closed = false;
  private dialogsLoaded = false;
  /** the session as read (from the option or the file), kept only to redact it */
  private sessionString = '';
  /** resolved entities by canonical link, and by the reference they were resolved from */
  private readonly entities = new Map<string, Entity>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly fetchTimeoutMs: number;

  constructor(private readonly options: GramjsSourceOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.fetchTimeoutMs = (options.fetchTimeoutSeconds ?? 180) * 1000;
  }

  /** Connect and check the session is logged in (otherwise this happens on first use). */
  async connect(): Promise<void> {
    await this.retrying('connect', {}, () => this.ready());
  }

  // --- connection ----------------------------------------------------------------------------------------------

  private log(level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown>): void {
    if (!this.options.log) return;
    const clean: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) clean[key] = typeof value === 'string' ? this.redact(value) : value;
    this.options.log(level, event, clean);
  }

  /** Belt and braces: GramJS errors do not quote credentials, but nothing we pass on may contain them. */
  private redact(text: string): string {
    let out = text;
    const secrets = [this.options.apiHash, this.sessionString, this.options.session.kind === 'string' ? this.options.session.value.trim() : ''];
    for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
    return out;
  }

  private async readSession(): Promise<string> {
    const session = this.options.session;
    if (session.kind === 'string') {
      if (session.value.trim() === '') throw new UserError(NOT_LOGGED_IN);
      return session.value.trim();
    }
    let text: string;
    try {
      text = await readFile(session.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`no Telegram session file at ${session.path}; run tutordex login --save to create it`);
      throw new UserError(`cannot read the Telegram session file ${session.path} (${code ?? 'error'})`);
    }
    if (text.trim() === '') throw new UserError(`the Telegram session file ${session.path} is empty; run tutordex login --save`);
    return text.trim();
  }

  private async buildClient(): Promise<GramjsClient> {
    this.sessionString = await this.readSession();
    let session: StringSession;
    try {
      session = new StringSession(this.sessionString);
    } catch {
      throw new UserError('the Telegram session string is not valid; run tutordex login to create a new one');
    }
    return (this.options.clientFactory ?? createTelegramClient)(session, this.options.apiId, this.options.apiHash);
  }

  /** The client, connected and logged in. Concurrent callers share one attempt. */
  private ready(): Promise<GramjsClient> {
    if (this.closed) return Promise.reject(new Error('the Telegram source is closed'));
    if (this.client?.connected && this.authorised && !this.dropping) return Promise.resolve(this.client);
    this.establishing ??= this.establish().finally(() => (this.establishing = null));
    return this.establishing;
  }

  private async establish(): Promise<GramjsClient> {
    if (this.dropping) {
      await this.dropping;
      this.dropping = null;
    }
    this.client ??= await this.buildClient();
    const client = this.client;
    if (!client.connected) {
      try {
        await client.connect();
      } catch (err) {
        throw this.connectionError(err);
      }
      // GramJS's connect() reports a failure by returning false, not by throwing
      if (!client.connected) throw new TransientSourceError('could not connect to Telegram');
    }
    if (!this.authorised) {
      try {
        await client.invoke(new Api.updates.GetState());
      } catch (err) {
        throw this.connectionError(err);
      }
      this.authorised = true;
    }
    return client;
  }

  private connectionError(err: unknown): Error {
    const kind = classify(err);
    if (kind === 'unauthorized') return new UserError(NOT_LOGGED_IN);
    if (err instanceof UserError || err instanceof TransientSourceError || err instanceof FloodWaitError) return err;
    const message = `could not connect to Telegram: ${this.redact(errorMessage(err))}`;
    return kind === 'fatal' ? new Error(message) : new TransientSourceError(message);
  }

  /** After a stalled request: drop the connection so the next use starts a fresh one. */
  private dropConnection(): void {
    const client = this.client;
    if (!client) return;
    // a wedged client may never finish disconnecting; do not let that block the next use for good
    this.dropping = Promise.race([client.disconnect().catch(() => undefined), unrefTimer(DISCONNECT_GRACE_MS)]);
  }

  /**
   * Run `operation`, waiting out FloodWaits (as long as Telegram asks) and retrying other transient failures
   * with backoff; after MAX_TRANSIENT_TRIES the last failure is thrown as a TransientSourceError.
   */
  private async retrying<T>(operation: string, fields: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
    let failures = 0;
    let floods = 0;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const kind = classify(err);
        if (kind === 'flood' && err instanceof FloodWaitError && floods++ < MAX_FLOOD_WAITS) {
          this.log('warn', 'telegram_flood_wait', { ...fields, operation, seconds: err.seconds });
          await this.sleep(err.seconds * 1000);
          continue;
        }
        if (kind === 'unauthorized') throw new UserError(NOT_LOGGED_IN);
        if (kind !== 'transient' && kind !== 'flood') throw err;
        failures++;
        const message = this.redact(errorMessage(err));
        if (failures >= MAX_TRANSIENT_TRIES) {
          throw new TransientSourceError(`Telegram ${operation} failed ${failures} times; last error: ${message}`);
        }
        const delay = backoffSeconds(failures);
        this.log('warn', 'telegram_retry', { ...fields, operation, attempt: failures, delay_seconds: delay, error: message });
        await this.sleep(delay * 1000);
      }
    }
  }

  // --- resolve -------------------------------------------------------------------------------------------------

  async resolve(channelRef: string): Promise<ResolvedChannel> {
    const ref = normalizeChannelRef(channelRef);
    const entity = await this.retrying('resolve', { channel: ref }, () => this.fetchEntity(ref));
    if (entity instanceof Api.ChannelForbidden) throw new UserError(`channel ${ref} is not accessible to this Telegram account (private or banned)`);
    if (!(entity instanceof Api.Channel)) throw new UserError(`${ref} is not a channel or supergroup`);
    const channel = channelLinkForEntity(entity);
    this.entities.set(channel.channelLink, entity);
    this.entities.set(ref, entity);
    return channel;
  }

  private async fetchEntity(ref: string): Promise<Entity> {
    const id = /^t\.me\/c\/(\d+)$/.exec(ref)?.[1];
    const client = await this.ready();
    const target: EntityLike = id ? new Api.PeerChannel({ channelId: bigInt(id) }) : ref.slice('t.me/'.length);
    try {
      return await client.getEntity(target);
    } catch (err) {
      if (classify(err) !== 'not-found') throw err;
      // A bare id carries no access hash: GramJS only finds the channel once the dialog list put it in its cache.
      if (id && !this.dialogsLoaded) {
        await client.getDialogs({});
        this.dialogsLoaded = true;
        return await client.getEntity(target).catch((again: unknown) => {
          throw classify(again) === 'not-found' ? this.notFound(ref, true) : again;
        });
      }
      throw this.notFound(ref, Boolean(id));
    }
  }

  private notFound(ref: string, byId: boolean): UserError {
    return new UserError(
      byId
        ? `channel ${ref} not found on Telegram (a channel known only by id must be one this account has joined)`
        : `channel ${ref} not found on Telegram (no channel has that username)`,
    );
  }

  private async entityFor(channel: ResolvedChannel): Promise<Entity> {
    const cached = this.entities.get(channel.channelLink);
    if (cached) return cached;
    await this.resolve(channel.channelLink);
    return this.entities.get(channel.channelLink)!;
  }

  // --- history -------------------------------------------------------------------------------------------------

  async *history(channel: ResolvedChannel, request: HistoryRequest): AsyncIterable<SourceMessage> {
    const entity = await this.entityFor(channel);
    if (request.signal?.aborted) return;
    const client = await this.ready().catch((err: unknown) => {
      throw this.historyError(err, channel);
    });
    const params: Partial<IterMessagesParams> = { reverse: false, maxId: request.maxId ?? 0, minId: request.minId ?? 0 };
    // offsetDate is whole seconds and exclusive; round up and let the date check below apply the exact bound
    if (request.until) params.offsetDate = Math.ceil(request.until.getTime() / 1000);
    const messages = client.iterMessages(entity, params)[Symbol.asyncIterator]();
    const until = request.until?.getTime() ?? null;
    const since = request.since?.getTime() ?? null;
    for (;;) {
      const step = await this.nextWithWatchdog(messages, channel, request.signal);
      if (step === 'aborted' || step.done) return;
      const message = step.value;
      if (!(message instanceof Api.Message || message instanceof Api.MessageService)) continue;
      const at = message.date * 1000;
      if (until !== null && at >= until) continue;
      if (since !== null && at < since) return;
      yield mapGramjsMessage(message);
    }
  }

  /** The next message, unless the page takes longer than fetchTimeoutSeconds or the caller aborts. */
  private async nextWithWatchdog(
    messages: AsyncIterator<unknown>,
    channel: ResolvedChannel,
    signal: AbortSignal | undefined,
  ): Promise<IteratorResult<unknown> | 'aborted'> {
    if (signal?.aborted) return 'aborted';
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const next = messages.next();
    next.catch(() => undefined); // once we stop waiting, a late failure must not become an unhandled rejection
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.fetchTimeoutMs)));
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const winner = await Promise.race([next, timeout, aborted]);
      if (winner === 'timeout') throw this.fetchTimedOut(channel);
      return winner;
    } catch (err) {
      throw this.historyError(err, channel);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private fetchTimedOut(channel: ResolvedChannel): TransientSourceError {
    const seconds = this.fetchTimeoutMs / 1000;
    this.log('warn', 'telegram_fetch_timeout', { channel: channel.channelLink, timeout_seconds: seconds });
    this.dropConnection();
    return new TransientSourceError(`reading the history of ${channel.channelLink} timed out after ${seconds} s; the connection will be rebuilt`);
  }

  private historyError(err: unknown, channel: ResolvedChannel): Error {
    const link = channel.channelLink;
    switch (classify(err)) {
      case 'flood': {
        const seconds = (err as FloodWaitError).seconds;
        this.log('warn', 'telegram_flood_wait', { channel: link, operation: 'history', seconds });
        return new TransientSourceError(`Telegram asked to wait ${seconds} s (FloodWait) before reading more of ${link}`, seconds);
      }
      case 'unauthorized':
        return new UserError(NOT_LOGGED_IN);
      case 'transient':
        return err instanceof TransientSourceError ? err : new TransientSourceError(`reading the history of ${link} failed: ${this.redact(errorMessage(err))}`);
      case 'not-found':
        return new UserError(`cannot read the history of ${link}: ${this.redact(errorMessage(err))}`);
      default:
        return err instanceof Error ? err : new Error(String(err));
    }
  }

  // --- live events ---------------------------------------------------------------------------------------------

  async subscribe(channels: ResolvedChannel[], onEvent: (event: ChannelEvent) => Promise<void>, hooks: SubscriptionHooks = {}): Promise<Subscription> {
    const client = await this.retrying('connect', {}, () => this.ready());
    const byId = new Map<string, ResolvedChannel>();
    for (const channel of channels) {
      const id = channel.channelId ?? (await this.resolve(channel.channelLink)).channelId;
      if (id) byId.set(id, channel); // events carry the caller's own ResolvedChannel objects
    }
    const delivery = new OrderedDelivery(onEvent, (level, event, fields) => this.log(level, event, fields));
    const handlers = this.eventHandlers(byId, delivery, hooks);
    for (const [callback, builder] of handlers) client.addEventHandler(callback, builder);
    this.log('info', 'telegram_subscribed', { channels: channels.map((c) => c.channelLink) });

    let endSubscription!: () => void;
    const ended = new Promise<void>((resolve) => (endSubscription = resolve));
    const supervisor = new ReconnectSupervisor({
      isConnected: () => this.closed || (Boolean(this.client?.connected) && !this.dropping),
      reconnect: async () => {
        await this.ready();
        hooks.onReconnected?.();
      },
      log: (level, event, fields) => this.log(level, event, fields),
      sleep: this.sleep,
      intervalMs: (this.options.reconnectCheckSeconds ?? 5) * 1000,
      onGiveUp: () => void subscription.stop(),
    });
    let stopping: Promise<void> | null = null;
    const subscription: Subscription = {
      ended,
      stop: () => {
        stopping ??= (async () => {
          supervisor.stop();
          for (const [callback, builder] of handlers) client.removeEventHandler(callback, builder);
          this.subscriptions.delete(subscription);
          await delivery.drain();
          endSubscription();
        })();
        return stopping;
      },
    };
    this.subscriptions.add(subscription);
    supervisor.start();
    return subscription;
  }

  private eventHandlers(byId: Map<string, ResolvedChannel>, delivery: OrderedDelivery, hooks: SubscriptionHooks): [EventCallback, EventBuilder][] {
    const guarded =
      <E>(kind: string, handle: (event: E) => void) =>
      (event: E) => {
        try {
          handle(event); // only maps and queues; GramJS awaits this, so it must not wait for onEvent
        } catch (err) {
          this.log('error', 'telegram_event_failed', { kind, error: errorMessage(err) });
        }
      };
    const onMessage = (kind: 'new' | 'edit') => (event: NewMessageEvent | EditedMessageEvent) => {
      const channel = byId.get(channelIdOfPeer(event.message.peerId) ?? '');
      if (channel) delivery.push({ kind, channel, message: mapGramjsMessage(event.message) });
    };
    const onDelete = (event: DeletedMessageEvent) => {
      const id = channelIdOfPeer(event.peer);
      // Telegram names the chat only for channels and supergroups; other deletions are passed on without one.
      const channel = id === null ? null : byId.get(id);
      if (channel !== undefined) delivery.push({ kind: 'delete', channel, messageIds: [...event.deletedIds] });
    };
    // GramJS reconnects by itself after a dropped socket and says so only through this pseudo-update; whatever
    // was posted while it was down is not replayed, so the subscriber is told to read it.
    const onConnectionState = (update: UpdateConnectionState) => {
      if (update.state === UpdateConnectionState.connected) {
        this.log('info', 'telegram_connection_restored', {});
        hooks.onReconnected?.();
      }
    };
    return [
      [guarded('connection', onConnectionState), new Raw({ types: [UpdateConnectionState] })],
      [guarded('new', onMessage('new')), new NewMessage({})],
      [guarded('edit', onMessage('edit')), new EditedMessage({})],
      [guarded('delete', onDelete), new DeletedMessage({})],
    ];
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    const client = this.client;
    this.client = null;
    this.authorised = false;
    if (client) await client.destroy().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface SupervisorOptions {
  isConnected: () => boolean;
  reconnect: () => Promise<unknown>;
  log: GramjsLog;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  intervalMs: number;
  /** a reconnect failed for a reason retrying cannot fix (the session was logged out) */
  onGiveUp: () => void;
}

/**
 * GramJS reconnects by itself after a dropped socket, but gives up after its retries (and the watchdog
 * disconnects on purpose). While a subscription lives, this checks every few seconds and reconnects with backoff.
 */
class ReconnectSupervisor {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly stopped = new AbortController();

  constructor(private readonly options: SupervisorOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopped.abort();
  }

  private async check(): Promise<void> {
    if (this.busy || this.stopped.signal.aborted || this.options.isConnected()) return;
    this.busy = true;
    try {
      await this.reconnect();
    } finally {
      this.busy = false;
    }
  }

  private async reconnect(): Promise<void> {
    const { log } = this.options;
    for (let attempt = 1; !this.stopped.signal.aborted; attempt++) {
      log('warn', 'telegram_reconnect', { attempt });
      try {
        await this.options.reconnect();
        log('info', 'telegram_reconnected', { attempt });
        return;
      } catch (err) {
        if (err instanceof UserError) {
          log('error', 'telegram_reconnect_gave_up', { attempt, error: err.message });
          this.options.onGiveUp();
          return;
        }
        const delay = backoffSeconds(attempt);
        log('warn', 'telegram_reconnect_failed', { attempt, retry_in_seconds: delay, error: errorMessage(err) });
        await this.options.sleep(delay * 1000, this.stopped.signal);
      }
    }
  }
}
