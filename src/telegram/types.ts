/**
 * Where channel messages come from. Three implementations: GramJS (MTProto user session), Telegram Desktop
 * export files, and an in-memory source for tests. The collector only ever talks to this interface.
 */

/** A channel after resolution: canonical link (see config/channels.ts) plus what Telegram says about it. */
export interface ResolvedChannel {
  /** `t.me/<username>` lower-case, or `t.me/c/<id>` for channels without a username */
  channelLink: string;
  /** the bare positive Telegram id as a decimal string (no -100 prefix), when known */
  channelId: string | null;
  title: string | null;
}

/**
 * One message, already mapped from the source's own shape. JSON-ish fields (`entities`, `media`, `fwdFrom`) are
 * plain JSON values: objects carry a `_` key with the TL type name; dates are ISO strings; bytes are base64.
 */
export interface SourceMessage {
  id: number;
  /** when it was posted (UTC) */
  date: Date;
  /** last edit, null if never edited */
  editDate: Date | null;
  /** the text (or media caption) exactly as posted, untrimmed; '' when none */
  text: string;
  /** sender peer id as a decimal string (channel posts: the marked -100… id), null if unknown */
  senderId: string | null;
  /** forward header, null when not a forward */
  fwdFrom: unknown | null;
  replyToMsgId: number | null;
  entities: unknown[] | null;
  media: unknown | null;
  views: number | null;
  forwards: number | null;
  /** discussion comment count */
  replyCount: number | null;
  /** service message (pin, join, title change…): stored, never enqueued as an assignment */
  isService: boolean;
}

export interface HistoryRequest {
  /** inclusive lower bound on the message date */
  since: Date | null;
  /** exclusive upper bound on the message date */
  until: Date | null;
  /** only messages with id < maxId (exclusive); null = no bound */
  maxId?: number | null;
  /** only messages with id > minId (exclusive); null = no bound */
  minId?: number | null;
  signal?: AbortSignal;
}

export type ChannelEvent =
  | { kind: 'new'; channel: ResolvedChannel; message: SourceMessage }
  | { kind: 'edit'; channel: ResolvedChannel; message: SourceMessage }
  /** channel is null when the source cannot tell which chat the deletion belongs to */
  | { kind: 'delete'; channel: ResolvedChannel | null; messageIds: number[] };

export interface Subscription {
  /** resolves when the subscription ends for good (stopped, or the source gave up reconnecting) */
  readonly ended: Promise<void>;
  stop(): Promise<void>;
}

export interface SubscriptionHooks {
  /**
   * The connection came back after a drop. Telegram does not replay what was posted meanwhile (GramJS's
   * catch-up is a stub), so the caller reads the history it missed.
   */
  onReconnected?: () => void;
}

export interface ChannelSource {
  /** Short name for logs and run meta: gramjs, desktop-export, memory. */
  readonly kind: string;
  /**
   * Order of `history()`: Telegram reads newest first (so a backfill can stop at `since` and checkpoint the
   * oldest id written); an export file is read front to back, oldest first.
   */
  readonly historyOrder: 'newest-first' | 'oldest-first';
  /** Resolve a canonical channel reference (see normalizeChannelRef). Unknown channel → UserError naming it. */
  resolve(channelRef: string): Promise<ResolvedChannel>;
  /** Messages of one channel in the window, in `historyOrder`. */
  history(channel: ResolvedChannel, request: HistoryRequest): AsyncIterable<SourceMessage>;
  /**
   * Live events for these channels. `onEvent` is awaited; the source delivers the events of one channel in the
   * order Telegram sent them and does not call `onEvent` again for that channel until the previous call settled.
   */
  subscribe(channels: ResolvedChannel[], onEvent: (event: ChannelEvent) => Promise<void>, hooks?: SubscriptionHooks): Promise<Subscription>;
  close(): Promise<void>;
}

/** An error worth retrying (network, timeout, FloodWait); `retryAfterSeconds` when the source says how long. */
export class TransientSourceError extends Error {
  readonly retryAfterSeconds: number | null;
  constructor(message: string, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'TransientSourceError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
