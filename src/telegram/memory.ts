import { UserError } from '../errors.ts';
import type { ChannelEvent, ChannelSource, HistoryRequest, ResolvedChannel, SourceMessage, Subscription, SubscriptionHooks } from './types.ts';

/** Build a SourceMessage with defaults (tests and fakes). */
export function makeMessage(fields: Partial<SourceMessage> & { id: number; date: Date }): SourceMessage {
  return {
    editDate: null,
    text: `message ${fields.id}`,
    senderId: null,
    fwdFrom: null,
    replyToMsgId: null,
    entities: null,
    media: null,
    views: null,
    forwards: null,
    replyCount: null,
    isService: false,
    ...fields,
  };
}

interface MemoryChannel {
  channel: ResolvedChannel;
  /** current state by id (edits replace, deletes remove) */
  messages: Map<number, SourceMessage>;
}

/**
 * An in-memory Telegram: channels with histories, live events pushed by the test, and faults to inject
 * (history that fails or stalls). History semantics follow Telegram's: newest first, `until` exclusive,
 * `since` inclusive, `maxId` / `minId` exclusive.
 */
export class MemorySource implements ChannelSource {
  readonly kind = 'memory';
  readonly historyOrder = 'newest-first' as const;
  private readonly channels = new Map<string, MemoryChannel>();
  private readonly subscribers = new Set<{ links: Set<string>; deliver: (e: ChannelEvent) => void; hooks: SubscriptionHooks }>();
  /** false between dropConnection() and restoreConnection(): live events are lost, as Telegram's are */
  private connected = true;
  private readonly inFlight = new Set<Promise<void>>();
  /** history calls made, for assertions */
  readonly historyCalls: { channelLink: string; request: Omit<HistoryRequest, 'signal'> }[] = [];
  /** fault injection: called before each message history() yields; throw to fail, await to stall */
  beforeYield: ((channelLink: string, message: SourceMessage, index: number) => Promise<void> | void) | null = null;
  closed = false;

  addChannel(channel: ResolvedChannel, messages: SourceMessage[] = []): this {
    this.channels.set(channel.channelLink, { channel, messages: new Map(messages.map((m) => [m.id, m])) });
    return this;
  }

  private get(link: string): MemoryChannel {
    const c = this.channels.get(link);
    if (!c) throw new UserError(`channel ${link} not found on Telegram`);
    return c;
  }

  async resolve(channelRef: string): Promise<ResolvedChannel> {
    return this.get(channelRef).channel;
  }

  async *history(channel: ResolvedChannel, request: HistoryRequest): AsyncIterable<SourceMessage> {
    const { signal, ...rest } = request;
    this.historyCalls.push({ channelLink: channel.channelLink, request: rest });
    const sorted = [...this.get(channel.channelLink).messages.values()].sort((a, b) => b.id - a.id);
    let index = 0;
    for (const m of sorted) {
      if (signal?.aborted) return;
      if (request.maxId != null && m.id >= request.maxId) continue;
      if (request.minId != null && m.id <= request.minId) return;
      if (request.until && m.date.getTime() >= request.until.getTime()) continue;
      if (request.since && m.date.getTime() < request.since.getTime()) return;
      await this.beforeYield?.(channel.channelLink, m, index++);
      yield m;
    }
  }

  async subscribe(channels: ResolvedChannel[], onEvent: (event: ChannelEvent) => Promise<void>, hooks: SubscriptionHooks = {}): Promise<Subscription> {
    const chains = new Map<string, Promise<void>>();
    let stop!: () => void;
    const ended = new Promise<void>((resolve) => (stop = resolve));
    const sub = {
      links: new Set(channels.map((c) => c.channelLink)),
      hooks,
      deliver: (event: ChannelEvent) => {
        const key = event.channel?.channelLink ?? '';
        const next = (chains.get(key) ?? Promise.resolve()).then(() => onEvent(event)).catch(() => {});
        chains.set(key, next);
        this.inFlight.add(next);
        void next.finally(() => this.inFlight.delete(next));
      },
    };
    this.subscribers.add(sub);
    return {
      ended,
      stop: async () => {
        this.subscribers.delete(sub);
        await Promise.all(chains.values());
        stop();
      },
    };
  }

  /** Wait until every delivered event has been handled. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** The connection drops: posts, edits and deletes still happen on the channel, but no subscriber hears of them. */
  dropConnection(): void {
    this.connected = false;
  }

  /** The connection is back: subscribers are told (and nothing missed is replayed, as with Telegram). */
  restoreConnection(): void {
    this.connected = true;
    for (const s of this.subscribers) s.hooks.onReconnected?.();
  }

  private emit(event: ChannelEvent): void {
    if (!this.connected) return;
    for (const s of this.subscribers) {
      if (event.channel === null || s.links.has(event.channel.channelLink)) s.deliver(event);
    }
  }

  /** A new post appears on the channel (and is announced to subscribers). */
  post(link: string, message: SourceMessage, options: { silent?: boolean } = {}): void {
    const c = this.get(link);
    c.messages.set(message.id, message);
    if (!options.silent) this.emit({ kind: 'new', channel: c.channel, message });
  }

  edit(link: string, id: number, text: string, editDate: Date, options: { silent?: boolean } = {}): void {
    const c = this.get(link);
    const old = c.messages.get(id);
    if (!old) throw new Error(`no message ${id} in ${link}`);
    const message = { ...old, text, editDate };
    c.messages.set(id, message);
    if (!options.silent) this.emit({ kind: 'edit', channel: c.channel, message });
  }

  delete(link: string, ids: number[], options: { silent?: boolean; anonymous?: boolean } = {}): void {
    const c = this.get(link);
    for (const id of ids) c.messages.delete(id);
    if (!options.silent) this.emit({ kind: 'delete', channel: options.anonymous ? null : c.channel, messageIds: ids });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
