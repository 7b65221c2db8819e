import type { Queryable } from '../db/index.ts';

/** What a dispatcher may do now, by the bot-wide flood state (table delivery_bot_pauses). */
export type FloodState =
  /** no flood control: send as usual */
  | { state: 'open' }
  /** paused (or another dispatcher's probe call is out): send nothing for `remainingMs` (at least) */
  | { state: 'paused'; remainingMs: number }
  /** the pause is over and this dispatcher holds the probe: one call, then `probeAnswered()` */
  | { state: 'probe' };

/**
 * The bot-wide flood pause. Telegram's 429 retry_after applies to the bot, not to the chat or row that drew it,
 * so every dispatcher sharing the token waits it out in full before its next call, and after it exactly one
 * dispatcher sends one call first. Times are the database's, so dispatchers on machines whose clocks differ agree.
 */
export interface FloodGate {
  /** Record a 429: the bot is paused until at least the database's now + retryAfterSeconds. Returns the wait left. */
  pause(retryAfterSeconds: number, method: string): Promise<number>;
  /** Read the state, claiming the probe when the pause is over and nobody holds it (`owner`: this dispatcher). */
  check(owner: string): Promise<FloodState>;
  /** Telegram answered the probe with something other than a 429: everyone may send again. */
  probeAnswered(owner: string): Promise<void>;
  /** The probe holder found nothing to send: let another dispatcher take it. */
  releaseProbe(owner: string): Promise<void>;
  /** Milliseconds of pause this process knows of, without a query (checked before every call of a batch). */
  knownPauseMs(): number;
}

/** A 429 without retry_after is taken as this many seconds (Telegram always sends one; a proxy might not). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
/**
 * `probeLeaseSeconds`: a probe holder that has not answered after this long is taken for dead and replaced. The
 * probe is one Bot API call, which cannot outlive the client's timeout, so twice that timeout is enough (a fixed
 * minute stalled every dispatcher of the bot for that minute after one killed worker).
 */
export function createFloodGate(db: Queryable, botId: string, probeLeaseSeconds: number): FloodGate {
  // The pause as last read: its end on this process's monotonic clock.
  let knownUntil = 0;
  const remember = (remainingMs: number) => {
    knownUntil = performance.now() + Math.max(0, remainingMs);
  };
  return {
    async pause(retryAfterSeconds, method) {
      const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
      const [row] = await db.query<{ remaining_ms: number | string }>(
        `insert into delivery_bot_pauses as p (bot_id, paused_until, retry_after_seconds, method)
         values ($1, now() + make_interval(secs => $2::float8), $2, $3)
         on conflict (bot_id) do update
           set paused_until = greatest(p.paused_until, excluded.paused_until),
               retry_after_seconds = case when excluded.paused_until > p.paused_until then excluded.retry_after_seconds else p.retry_after_seconds end,
               method = case when excluded.paused_until > p.paused_until then excluded.method else p.method end,
               probe_pending = true, probe_owner = null, probe_until = null, updated_at = now()
         returning extract(epoch from paused_until - now()) * 1000 as remaining_ms`,
        [botId, seconds, method],
      );
      const remaining = Math.max(0, Number(row!.remaining_ms));
      remember(remaining);
      return remaining;
    },
    async check(owner) {
      const [row] = await db.query<{ paused_ms: number | string; probe_pending: boolean; probe_owner: string | null; probe_ms: number | string | null }>(
        `select extract(epoch from paused_until - now()) * 1000 as paused_ms, probe_pending, probe_owner,
                extract(epoch from probe_until - now()) * 1000 as probe_ms
           from delivery_bot_pauses where bot_id = $1`,
        [botId],
      );
      if (!row) {
        remember(0);
        return { state: 'open' };
      }
      const pausedMs = Number(row.paused_ms);
      if (pausedMs > 0) {
        remember(pausedMs);
        return { state: 'paused', remainingMs: pausedMs };
      }
      remember(0);
      if (!row.probe_pending) return { state: 'open' };
      const claimed = await db.query(
        `update delivery_bot_pauses set probe_owner = $2, probe_until = now() + make_interval(secs => $3::float8), updated_at = now()
          where bot_id = $1 and probe_pending and paused_until <= now()
            and (probe_owner is null or probe_owner = $2 or probe_until <= now())
         returning bot_id`,
        [botId, owner, probeLeaseSeconds],
      );
      if (claimed.length > 0) return { state: 'probe' };
      return { state: 'paused', remainingMs: Math.min(1000, Math.max(50, Number(row.probe_ms ?? 1000))) };
    },
    async probeAnswered(owner) {
      await db.query(
        `update delivery_bot_pauses set probe_pending = false, probe_owner = null, probe_until = null, updated_at = now() where bot_id = $1 and probe_owner = $2`,
        [botId, owner],
      );
    },
    async releaseProbe(owner) {
      await db.query(`update delivery_bot_pauses set probe_owner = null, probe_until = null, updated_at = now() where bot_id = $1 and probe_owner = $2`, [
        botId,
        owner,
      ]);
    },
    knownPauseMs() {
      return Math.max(0, knownUntil - performance.now());
    },
  };
}
