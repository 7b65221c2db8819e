import type { Queryable } from '../db/index.ts';

/**
 * The bot-wide flood pause (table delivery_bot_pauses). Telegram's 429 retry_after applies to the bot, not the one
 * chat or row that drew it, so every dispatcher sharing the token waits it out in full before its next call.
 */
export interface FloodGate {
  /** Record a 429: the bot is paused until at least `at + retryAfterSeconds`. Returns the pause's end. */
  pause(at: Date, retryAfterSeconds: number, method: string): Promise<Date>;
  /** The end of the pause in force at `at`, or null. Reads the database (other processes' 429s count). */
  pausedUntil(at: Date): Promise<Date | null>;
  /** The end of the pause this process knows of, without a query (checked before every call). */
  knownPauseUntil(at: Date): Date | null;
}

/** A 429 without retry_after is taken as this many seconds (Telegram always sends one; a proxy might not). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export function createFloodGate(db: Queryable, botId: string): FloodGate {
  let known: Date | null = null;
  const remember = (d: Date | null) => {
    if (d && (!known || d > known)) known = d;
  };
  return {
    async pause(at, retryAfterSeconds, method) {
      const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
      const [row] = await db.query<{ paused_until: Date }>(
        `insert into delivery_bot_pauses as p (bot_id, paused_until, retry_after_seconds, method)
         values ($1, $2::timestamptz + make_interval(secs => $3::float8), $3, $4)
         on conflict (bot_id) do update
           set paused_until = greatest(p.paused_until, excluded.paused_until),
               retry_after_seconds = case when excluded.paused_until > p.paused_until then excluded.retry_after_seconds else p.retry_after_seconds end,
               method = case when excluded.paused_until > p.paused_until then excluded.method else p.method end,
               updated_at = now()
         returning paused_until`,
        [botId, at, seconds, method],
      );
      const until = new Date(row!.paused_until);
      remember(until);
      return until;
    },
    async pausedUntil(at) {
      const [row] = await db.query<{ paused_until: Date }>(`select paused_until from delivery_bot_pauses where bot_id = $1 and paused_until > $2::timestamptz`, [botId, at]);
      const until = row ? new Date(row.paused_until) : null;
      remember(until);
      return until && until > at ? until : null;
    },
    knownPauseUntil(at) {
      return known && known > at ? known : null;
    },
  };
}
