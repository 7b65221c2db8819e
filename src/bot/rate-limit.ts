/**
 * Per-chat token buckets for bot commands and button presses: `perMinute` tokens refilled evenly, a burst of as
 * many. Over the limit the first update gets 'warn' (one "slow down" reply), the rest 'drop' (silence) until a
 * token is back. The table is bounded (least recently seen chats forgotten first), so a flood of distinct chats
 * cannot grow memory without limit.
 */
export type RateDecision = 'ok' | 'warn' | 'drop';

interface Bucket {
  tokens: number;
  at: number;
  warned: boolean;
}

export interface ChatRateLimiterOptions {
  perMinute: number;
  /** Most chats remembered at once (default 50 000). */
  maxChats?: number;
  now?: () => number;
}

export class ChatRateLimiter {
  private readonly buckets = new Map<number, Bucket>();
  private readonly capacity: number;
  private readonly perMs: number;
  private readonly maxChats: number;
  private readonly now: () => number;

  constructor(opts: ChatRateLimiterOptions) {
    if (!Number.isFinite(opts.perMinute) || opts.perMinute < 1) throw new RangeError('perMinute must be ≥ 1');
    this.capacity = opts.perMinute;
    this.perMs = opts.perMinute / 60_000;
    this.maxChats = Math.max(1, opts.maxChats ?? 50_000);
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  take(chatId: number): RateDecision {
    const now = this.now();
    let b = this.buckets.get(chatId);
    if (b) {
      this.buckets.delete(chatId);
      b.tokens = Math.min(this.capacity, b.tokens + Math.max(0, now - b.at) * this.perMs);
      b.at = now;
    } else b = { tokens: this.capacity, at: now, warned: false };
    this.buckets.set(chatId, b);
    if (this.buckets.size > this.maxChats) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.warned = false;
      return 'ok';
    }
    if (!b.warned) {
      b.warned = true;
      return 'warn';
    }
    return 'drop';
  }
}
