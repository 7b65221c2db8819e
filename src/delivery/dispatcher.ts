import { clickTokenFor, clickUrl } from '../clicks/index.ts';
import type { Log } from '../collector/index.ts';
import type { QuietHours } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { metrics } from '../metrics/index.ts';
import { sleep } from '../sleep.ts';
import { BotError, type BotClient } from './bot-client.ts';
import { createFloodGate, DEFAULT_RETRY_AFTER_SECONDS } from './flood.ts';
import { announceGroupTakeover, DELIVERIES_CHANNEL, rearmBroadcast } from './outbox.ts';
import { buttonUrlFor, keyboardFor, loadAssignmentForMessage, renderAssignment, type FreshnessHours } from './render.ts';
import { inQuietHours, quietHoursEnd, sgtDay } from './schedule.ts';

export interface DispatchStats {
  sent: number;
  failed: number;
  retried: number;
  skipped: number;
  edited: number;
  deleted: number;
  uncertain: number;
}

export interface DispatcherOptions {
  db: Database;
  client: BotClient;
  log: Log;
  /** Who holds a 'sending' lease (host:pid:random); recorded on the row. */
  leaseOwner: string;
  /** Calls per row (sends) or per sync request before giving up on 5xx/network errors. */
  maxAttempts: number;
  /**
   * Re-sends allowed after a sendMessage that may have reached Telegram without a definite answer (a timeout, a
   * reset connection, a 5xx): each such re-send risks a duplicate. Then (or once maxAttempts is spent) the row is
   * 'uncertain' and never sent again. Default 0: at most once.
   */
  uncertainRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * Longest wait between tries while the Bot API cannot be reached (sends: only errors that prove the request never
   * got there – connection refused, DNS, TLS; edits and deletes: any network error or 502/503/504). Such tries do
   * not spend maxAttempts: an outage of any length delays rows, it never fails them (a row whose assignment closes
   * or expires meanwhile is skipped). Default 30000.
   */
  outageBackoffMaxMs?: number;
  /** A row 'sending' for longer than this is taken as interrupted mid-send (→ 'uncertain'). Default 90. */
  leaseSeconds?: number;
  /** Longest wait between rounds when no NOTIFY arrives. Default 1000. */
  idleMs?: number;
  freshness: FreshnessHours;
  /**
   * Clock for rendering (freshness labels), DM quiet hours, the DM daily limit's Singapore day, and when a
   * deferred row (retry backoff, quiet-hours hold) comes due: `not_before` is written and compared against this
   * clock, passed into the SQL. The sending lease, sent_at and sync timestamps use the database clock.
   */
  now?: () => Date;
  /**
   * DMs are not sent in this daily window (Singapore time): a DM that comes due inside it is held
   * (not_before = the window's end) and sent after. Broadcasts are not affected. Default null (off).
   */
  quietHours?: QuietHours | null;
  /** PUBLIC_BASE_URL: when set, message links go through `<base>/r/<token>` (click tracking). Default null. */
  publicBaseUrl?: string | null;
  /** Rows claimed per round (at most one per recipient). Default 16. */
  batchSize?: number;
}

export interface Dispatcher {
  runOnce(signal?: AbortSignal): Promise<DispatchStats>;
  /**
   * runOnce, then again whenever a deferred row (a flood pause, a retry backoff) comes due within `maxWaitMs`
   * (default 60 s): what a oneshot run calls before it exits. Rows due later stay pending for the next run.
   */
  flush(signal?: AbortSignal, maxWaitMs?: number): Promise<DispatchStats>;
  run(signal: AbortSignal): Promise<void>;
  reconcile(): Promise<number>;
}

interface SendRow {
  id: number;
  assignment_id: number;
  kind: 'broadcast' | 'dm';
  recipient: string;
  tutor_id: number | null;
  distance_km: number | null;
  attempts: number;
  error_json: { outage_tries?: number; uncertain_tries?: number } | null;
  assignment_status: string;
  tutor_active: boolean | null;
  dm_daily_limit: number | null;
}

interface SyncRow {
  id: number;
  assignment_id: number;
  recipient: string;
  telegram_message_id: number;
  message_html: string | null;
  /** the post link the message's button shows (null: sent before it was recorded) */
  shown_link: string | null;
  sync_action: 'edit' | 'delete';
  error_json: { attempt?: number; outage_tries?: number } | null;
  lease: Date;
}

/** The bot is under flood control (a 429's retry_after, this process's or another's) for `remainingMs` more. */
class Paused extends Error {
  constructor(
    readonly remainingMs: number,
    readonly retryAfterSeconds: number | null,
  ) {
    super(`Telegram flood control: the bot is paused for ${Math.ceil(remainingMs / 1000)} s`);
  }
}

export const emptyStats = (): DispatchStats => ({ sent: 0, failed: 0, retried: 0, skipped: 0, edited: 0, deleted: 0, uncertain: 0 });

/** Wait for every call to finish (none is left in flight), then surface the first failure. */
async function settleAll(work: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Edits and deletes: the Bot API (or the way to it) is down, as opposed to refusing this particular call. Repeating
 * one is harmless (an edit applied twice shows the same text; deleting a deleted message counts as done), so these
 * are retried without limit whether or not the request got through.
 */
const isOutage = (e: BotError) => e.kind === 'network' || (e.kind === 'server' && (e.code === 502 || e.code === 503 || e.code === 504));

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Drains the outbox. Per recipient only the head row (lowest id) is ever claimed, and each row is marked 'sending'
 * right before its own Bot API call, so a chat gets its messages in order and at most one is in flight.
 *
 * DM rules, checked when a DM reaches the head of its chat:
 * - quiet hours (`quietHours`, Singapore time): the DM is held – `not_before` = the window's end – and sent then;
 *   the chat's later rows wait behind it. Broadcasts are never held.
 * - daily limit (`tutors.dm_daily_limit`): a DM beyond the tutor's limit for the current Singapore calendar day is
 *   not sent: it is 'skipped' with error_json type 'daily_limit' (not deferred: a held-over backlog would reach the
 *   tutor a day late and crowd out the next day's fresh assignments). DMs 'sending', 'sent' or 'uncertain' count,
 *   by `send_day` (set with 'sending'); failed ones do not.
 */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const { db, client, log } = o;
  const leaseSeconds = o.leaseSeconds ?? 90;
  const idleMs = o.idleMs ?? 1000;
  const baseMs = o.backoffBaseMs ?? 1000;
  const maxMs = o.backoffMaxMs ?? 300_000;
  const batch = o.batchSize ?? 16;
  const now = o.now ?? (() => new Date());
  const quietHours = o.quietHours ?? null;
  const publicBaseUrl = o.publicBaseUrl ?? null;
  const maxAttempts = Math.max(1, o.maxAttempts);
  const uncertainRetries = Math.max(0, o.uncertainRetries ?? 0);
  const outageMaxMs = o.outageBackoffMaxMs ?? 30_000;
  const backoff = (attempt: number) => Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const outageBackoff = (tries: number) => Math.min(outageMaxMs, maxMs, baseMs * 2 ** Math.max(0, tries - 1));
  // Longest pause between taking a row ('sending') and starting its call: the call (up to the client's timeout)
  // must end before the lease does, or another dispatcher could take the row for a dead one while it is in flight.
  const maxStallMs = Math.max((leaseSeconds * 1000) / 2, (leaseSeconds - (client.timeoutSeconds ?? 30) - 5) * 1000);

  const flood = createFloodGate(db, client.botId ?? 'bot', 2 * (client.timeoutSeconds ?? 30) + 1);
  /**
   * This dispatcher holds the probe after a flood pause (flood.check): it sends one call, and the other rows – its
   * own and every other dispatcher's – wait until Telegram has answered it with something other than a 429 (a whole
   * batch retrying at the same instant would draw the next flood wait).
   */
  let probing = false;
  const probeAnswered = async () => {
    if (!probing) return;
    probing = false;
    await flood.probeAnswered(o.leaseOwner);
  };

  /**
   * Make one Bot API call unless the bot is paused. A 429 never spends an attempt and is not waited out in place
   * (retry_after can be hours, far past the sending lease): it pauses the whole bot (delivery_bot_pauses) for the
   * full retry_after and throws Paused; the caller hands its row back.
   */
  async function callBot<T>(method: string, fn: () => Promise<T>): Promise<T> {
    const known = flood.knownPauseMs();
    if (known > 0) throw new Paused(known, null);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      if (!(err instanceof BotError)) throw err;
      if (err.kind !== 'rate_limited') {
        if (err.reachedTelegram === 'yes') await probeAnswered(); // Telegram answered: not flood-limited any more
        throw err;
      }
      metrics.deliveryRateLimited.inc();
      const seconds = err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      probing = false; // pause() hands the probe back with the new pause
      const remainingMs = await flood.pause(seconds, method);
      log.warn({ method, retry_after: seconds, pause_ms: Math.round(remainingMs) }, 'delivery_rate_limited');
      throw new Paused(remainingMs, seconds);
    }
    await probeAnswered();
    return result;
  }

  async function reconcile(): Promise<number> {
    const rows = await db.query<{ id: number; kind: string; recipient: string; lease_owner: string | null }>(
      `update deliveries d
          set status = 'uncertain', error_json = $2::jsonb, updated_at = now(),
              sync_action = case when d.kind = 'broadcast' and a.status <> 'open' then 'delete' else d.sync_action end,
              sync_requested_at = case when d.kind = 'broadcast' and a.status <> 'open' then now() else d.sync_requested_at end
         from assignments a
        where a.id = d.assignment_id and d.status = 'sending' and coalesce(d.sending_started_at, '-infinity'::timestamptz) < now() - make_interval(secs => $1::float8)
       returning d.id, d.kind, d.recipient, d.lease_owner`,
      [
        leaseSeconds,
        {
          type: 'interrupted_mid_send',
          message: `still sending after ${leaseSeconds}s (a crash between the Bot API call and its record); not re-sent automatically`,
        },
      ],
    );
    for (const r of rows) {
      metrics.deliveries.inc({ kind: r.kind, outcome: 'uncertain' });
      log.warn(
        { delivery_id: Number(r.id), kind: r.kind, recipient: r.recipient, lease_owner: r.lease_owner, reason: 'interrupted_mid_send' },
        'delivery_uncertain',
      );
    }
    return rows.length;
  }

  async function claimSends(stats: DispatchStats, limit: number): Promise<{ rows: SendRow[]; touched: number }> {
    const at = now();
    return db.transaction(async (tx) => {
      const found = await tx.query<SendRow>(
        // The head (lowest id) of each recipient's unsent rows, found by a skip scan over the partial
        // (recipient, id) index: one probe per recipient, not a walk over every pending row (a DISTINCT ON made a
        // 10,000-message backlog to one channel quadratic).
        `with recursive recipients as (
           (select recipient from deliveries where status in ('pending', 'sending') order by recipient, id limit 1)
           union all
           select (select d.recipient from deliveries d
                    where d.status in ('pending', 'sending') and d.recipient > r.recipient
                    order by d.recipient, d.id limit 1)
             from recipients r where r.recipient is not null
         ), heads as (
           select (select d.id from deliveries d
                    where d.status in ('pending', 'sending') and d.recipient = r.recipient
                    order by d.recipient, d.id limit 1) as id
             from recipients r where r.recipient is not null
         )
         select d.id, d.assignment_id, d.kind, d.recipient, d.tutor_id, d.distance_km, d.attempts, d.error_json,
                a.status as assignment_status, t.active as tutor_active, t.dm_daily_limit
           from deliveries d
           join heads h on h.id = d.id
           join assignments a on a.id = d.assignment_id
           left join tutors t on t.id = d.tutor_id
          where d.status = 'pending' and (d.not_before is null or d.not_before <= $2::timestamptz)
          order by d.id
          limit $1
          for update of d skip locked`,
        [limit, at],
      );
      const send: SendRow[] = [];
      for (const r of found) {
        let reason: { type: string; message: string } | null = null;
        if (r.assignment_status !== 'open') reason = { type: 'assignment_not_open', message: `assignment is ${r.assignment_status}` };
        else if (r.kind === 'dm' && r.tutor_id == null) reason = { type: 'tutor_removed', message: 'the tutor was removed before the DM was sent' };
        else if (r.kind === 'dm' && r.tutor_active === false) reason = { type: 'tutor_inactive', message: 'tutor is inactive' };
        else if (r.kind === 'dm' && inQuietHours(at, quietHours)) {
          // Held, not skipped: the recipient's later rows stay behind it, so their order is kept.
          const until = quietHoursEnd(at, quietHours!);
          await tx.query(`update deliveries set not_before = $2, updated_at = now() where id = $1`, [r.id, until]);
          log.info(
            { delivery_id: Number(r.id), tutor_id: r.tutor_id == null ? null : Number(r.tutor_id), until: until.toISOString() },
            'delivery_dm_quiet_hours',
          );
          metrics.deliveries.inc({ kind: 'dm', outcome: 'held' });
          continue;
        } else if (r.kind === 'dm' && r.tutor_id != null && r.dm_daily_limit != null) {
          // The rows of one chat are sent one at a time (head of line), so this count cannot race another send to the same tutor.
          const day = sgtDay(at);
          const [c] = await tx.query<{ n: number }>(
            `select count(*)::int as n from deliveries
              where kind = 'dm' and tutor_id = $1 and send_day = $2::date and status in ('sending', 'sent', 'uncertain') and id <> $3`,
            [r.tutor_id, day, r.id],
          );
          const limit = Number(r.dm_daily_limit);
          if ((c?.n ?? 0) >= limit)
            reason = { type: 'daily_limit', message: `tutor already got ${c?.n ?? 0} DM(s) on ${day} (Singapore time); daily limit ${limit}` };
        }
        if (reason) {
          await tx.query(
            `update deliveries set status = 'skipped', error_json = $2::jsonb, sync_action = null, sync_requested_at = null, updated_at = now() where id = $1`,
            [r.id, reason],
          );
          stats.skipped++;
          metrics.deliveries.inc({ kind: r.kind, outcome: 'skipped' });
          metrics.suppressions.inc({ kind: r.kind, reason: reason.type });
        } else send.push({ ...r, id: Number(r.id), assignment_id: Number(r.assignment_id), tutor_id: r.tutor_id == null ? null : Number(r.tutor_id) });
      }
      // Rows are marked 'sending' one at a time right before their own call (processSend), not here: a crash
      // then leaves at most the one message in flight uncertain, not every row claimed with it.
      return { rows: send.map((r) => ({ ...r, attempts: r.attempts + 1 })), touched: found.length };
    });
  }

  /** Take the row for this call; false when another dispatcher took it first. A DM records its Singapore day (daily limit). */
  async function markSending(id: number): Promise<boolean> {
    const at = now();
    const rows = await db.query(
      `update deliveries set status = 'sending', sending_started_at = now(), lease_owner = $2, attempts = attempts + 1, updated_at = now(),
              send_day = case when kind = 'dm' then $4::date else send_day end
        where id = $1 and status = 'pending' and (not_before is null or not_before <= $3::timestamptz)
          -- what the claim checked may have changed since (the tutor removed or paused, the assignment closed):
          -- the row then stays pending and the next claim skips it with the reason
          and exists (select 1 from assignments a where a.id = deliveries.assignment_id and a.status = 'open')
          and (kind <> 'dm' or exists (select 1 from tutors t where t.id = deliveries.tutor_id and t.active))
        returning id`,
      [id, o.leaseOwner, at, sgtDay(at)],
    );
    return rows.length > 0;
  }

  /** The URL behind a message's link button: the post itself, or its click-tracking redirect when PUBLIC_BASE_URL is set. */
  async function linkTarget(
    deliveryId: number,
    assignmentId: number,
    messageLink: string | null,
    kind: 'broadcast' | 'dm',
    chatId: string,
    tutorId: number | null,
  ): Promise<string | null> {
    const url = buttonUrlFor(messageLink);
    if (!url || !publicBaseUrl) return url;
    const token = await clickTokenFor(db, { deliveryId, assignmentId, kind, chatId, tutorId, targetUrl: url });
    return clickUrl(publicBaseUrl, token);
  }

  async function processSend(r: SendRow, stats: DispatchStats): Promise<void> {
    let sent: { messageId: number; html: string; link: string | null } | null = null;
    let marked = false;
    try {
      const a = await loadAssignmentForMessage(db, r.assignment_id);
      if (!a) throw new Error(`assignment ${r.assignment_id} disappeared`);
      const html = renderAssignment(a, { kind: r.kind, distanceKm: r.distance_km == null ? null : Number(r.distance_km), now: now(), freshness: o.freshness });
      const keyboard = keyboardFor(r.kind, a.id, await linkTarget(r.id, a.id, a.messageLink, r.kind, r.recipient, r.tutor_id));
      const markedAt = performance.now();
      marked = await markSending(r.id);
      if (!marked) return;
      if (performance.now() - markedAt > maxStallMs) {
        // Stalled between taking the row and the call: another dispatcher may already have taken it for a dead
        // one (reconcile) and an operator may have re-sent it. Nothing was sent: hand it back, never call late.
        log.warn({ delivery_id: r.id, stalled_ms: Math.round(performance.now() - markedAt) }, 'delivery_send_stalled');
        await handBack(r, r.error_json);
        return;
      }
      const messageId = await callBot('sendMessage', () => client.send(r.recipient, html, keyboard));
      sent = { messageId, html, link: a.messageLink ?? null };
    } catch (err) {
      if (!marked && !(await markSending(r.id))) return; // failed before the call (rendering, database): retry like a 5xx
      if (err instanceof Paused) {
        // Nothing was delivered (a 429, or no call at all): back to pending until the pause ends, attempt not spent.
        const until = new Date(now().getTime() + err.remainingMs); // not_before runs on the dispatcher clock
        await handBack(
          r,
          {
            ...(r.error_json ?? {}),
            type: 'rate_limited',
            message: `Telegram flood control: the bot is paused until ${until.toISOString()}${err.retryAfterSeconds == null ? '' : ` (retry_after ${err.retryAfterSeconds} s)`}`,
          },
          until,
        );
        return;
      }
      await recordSendFailure(r, err, stats);
      return;
    }
    // Delivered: record it. Should the database refuse, retry a little; if it still fails the row stays
    // 'sending' and reconcile() marks it 'uncertain' – never back to 'pending' (that would send it twice).
    for (let attempt = 1; ; attempt++) {
      try {
        await db.transaction(async (tx) => {
          const [rec] = await tx.query<{ assignment_id: number; closed: boolean }>(
            `update deliveries d
                set status = 'sent', telegram_message_id = $2, message_html = $3, shown_link = $4, sent_at = now(), error_json = null, not_before = null, updated_at = now(),
                    sync_action = case when d.kind = 'broadcast' and a.status <> 'open' then 'delete' else d.sync_action end,
                    sync_requested_at = case when d.kind = 'broadcast' and a.status <> 'open' then now() else d.sync_requested_at end
               from assignments a
              where d.id = $1 and a.id = d.assignment_id and d.status in ('sending', 'uncertain')
             returning d.assignment_id, (d.kind = 'broadcast' and a.status <> 'open') as closed`,
            [r.id, sent.messageId, sent.html, sent.link],
          );
          // The assignment closed while this message was in flight: now that it is known to be in the chat (and
          // about to be deleted), another agency's open copy of the job may take the chat over.
          if (rec?.closed) await announceGroupTakeover(tx, [Number(rec.assignment_id)]);
        });
        break;
      } catch (err) {
        if (attempt >= 5) {
          log.error({ delivery_id: r.id, kind: r.kind, message_id: sent.messageId, error: errorMessage(err) }, 'delivery_record_failed');
          return;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
    stats.sent++;
    metrics.deliveries.inc({ kind: r.kind, outcome: 'sent' });
  }

  /**
   * Nothing was sent for this row (a 429, a stall before the call): back to 'pending', attempt not spent. Also from
   * 'uncertain' when it is still this dispatcher's (a stall made another one reconcile it): it was not sent.
   */
  async function handBack(r: SendRow, error: Record<string, unknown> | null, notBefore: Date | null = null): Promise<void> {
    await db.query(
      `update deliveries set status = 'pending', attempts = greatest(0, attempts - 1), lease_owner = null, not_before = $3, error_json = $4::jsonb, updated_at = now()
        where id = $1 and status in ('sending', 'uncertain') and lease_owner = $2`,
      [r.id, o.leaseOwner, notBefore, error],
    );
  }

  async function recordSendFailure(r: SendRow, err: unknown, stats: DispatchStats): Promise<void> {
    const e = err instanceof BotError ? err : null;
    const kind = e?.kind ?? 'internal';
    // Tries that may have delivered the message, carried across this row's later errors.
    const priorUncertain = r.error_json?.uncertain_tries ?? 0;
    const carried = priorUncertain > 0 ? { uncertain_tries: priorUncertain } : {};
    const error = {
      type: kind === 'internal' ? 'internal' : kind,
      message: errorMessage(err),
      ...(e?.code ? { code: e.code } : {}),
      ...(e ? { reached_telegram: e.reachedTelegram } : {}),
      ...carried,
    };
    if (e && e.reachedTelegram === 'no') {
      // Proven not to have reached Telegram (refused, DNS, TLS): nothing was sent and the row is not at fault,
      // so the try is handed back and the row waits out the outage.
      const tries = (r.error_json?.outage_tries ?? 0) + 1;
      const ms = outageBackoff(tries);
      await db.query(
        `update deliveries set status = 'pending', attempts = greatest(0, attempts - 1), not_before = $4::timestamptz + make_interval(secs => $2::float8),
                error_json = $3::jsonb, lease_owner = null, updated_at = now()
          where id = $1 and (status = 'sending' or (status = 'uncertain' and lease_owner = $5))`,
        [r.id, ms / 1000, { ...error, outage_tries: tries }, now(), o.leaseOwner],
      );
      stats.retried++;
      metrics.deliveries.inc({ kind: r.kind, outcome: 'retried' });
      log.warn({ delivery_id: r.id, kind: r.kind, outage_tries: tries, retry_in_ms: ms, error: error.message }, 'delivery_bot_api_unreachable');
      return;
    }
    if (e && e.reachedTelegram === 'maybe') {
      // The request may have been carried out (no idempotency key in the Bot API): another try risks a duplicate.
      const tries = priorUncertain + 1;
      if (tries <= uncertainRetries && r.attempts < maxAttempts) {
        const ms = backoff(r.attempts);
        await db.query(
          `update deliveries set status = 'pending', not_before = $4::timestamptz + make_interval(secs => $2::float8), error_json = $3::jsonb, updated_at = now()
            where id = $1 and status = 'sending'`,
          [r.id, ms / 1000, { ...error, uncertain_tries: tries }, now()],
        );
        stats.retried++;
        metrics.deliveries.inc({ kind: r.kind, outcome: 'retried' });
        log.warn(
          { delivery_id: r.id, kind: r.kind, attempt: r.attempts, uncertain_tries: tries, retry_in_ms: ms, error: error.message },
          'delivery_retry_uncertain',
        );
        return;
      }
      await markUncertain(r, { ...error, uncertain_tries: tries }, stats);
      return;
    }
    // Our own failures before the call (rendering, a database hiccup) are retried with backoff.
    const retryable = e == null;
    if (retryable && r.attempts < maxAttempts) {
      const ms = backoff(r.attempts);
      await db.query(
        `update deliveries set status = 'pending', not_before = $4::timestamptz + make_interval(secs => $2::float8), error_json = $3::jsonb, updated_at = now()
          where id = $1 and status = 'sending'`,
        [r.id, ms / 1000, error, now()],
      );
      stats.retried++;
      metrics.deliveries.inc({ kind: r.kind, outcome: 'retried' });
      log.warn({ delivery_id: r.id, kind: r.kind, attempt: r.attempts, retry_in_ms: ms, error: error.message }, 'delivery_retry');
      return;
    }
    if (e?.kind === 'forbidden' && r.kind === 'dm' && r.tutor_id != null) {
      await db.query(`update tutors set active = false, inactive_reason = 'blocked_bot', updated_at = now() where id = $1`, [r.tutor_id]);
      log.warn({ tutor_id: r.tutor_id }, 'tutor_blocked_bot');
    }
    if (priorUncertain > 0) {
      // Refused now, but an earlier try may have got through: 'failed' would claim it never arrived.
      await markUncertain(r, error, stats);
      return;
    }
    await db.query(
      `update deliveries set status = 'failed', error_json = $2::jsonb, sync_action = null, sync_requested_at = null, updated_at = now() where id = $1 and status = 'sending'`,
      [r.id, error],
    );
    stats.failed++;
    metrics.deliveries.inc({ kind: r.kind, outcome: 'failed' });
    log.error({ delivery_id: r.id, kind: r.kind, recipient: r.recipient, attempts: r.attempts, error: error.message }, 'delivery_failed');
  }

  /** The message may or may not have reached the chat: 'uncertain', never sent again (error_json type 'maybe_delivered'). */
  async function markUncertain(
    r: SendRow,
    error: { type: string; message: string; code?: number; uncertain_tries?: number },
    stats: DispatchStats,
  ): Promise<void> {
    const { type, message, ...rest } = error;
    const record = {
      type: 'maybe_delivered',
      message: `${message} – the message may have reached the chat; not sent again (DELIVERY_UNCERTAIN_RETRIES=${uncertainRetries})`,
      error: type,
      ...rest,
    };
    // A broadcast whose assignment has closed meanwhile carries the delete request for the operator.
    await db.query(
      `update deliveries d set status = 'uncertain', error_json = $2::jsonb, lease_owner = null, updated_at = now(),
              sync_action = case when d.kind = 'broadcast' and a.status <> 'open' then 'delete' else d.sync_action end,
              sync_requested_at = case when d.kind = 'broadcast' and a.status <> 'open' then now() else d.sync_requested_at end
         from assignments a
        where d.id = $1 and a.id = d.assignment_id and d.status = 'sending'`,
      [r.id, record],
    );
    stats.uncertain++;
    metrics.deliveries.inc({ kind: r.kind, outcome: 'uncertain' });
    log.warn(
      { delivery_id: r.id, kind: r.kind, recipient: r.recipient, attempts: r.attempts, reason: 'maybe_delivered', error: message },
      'delivery_uncertain',
    );
  }

  async function claimSyncs(limit: number): Promise<SyncRow[]> {
    return db.transaction(async (tx) => {
      const rows = await tx.query<Omit<SyncRow, 'lease'>>(
        `select id, assignment_id, recipient, telegram_message_id, message_html, shown_link, sync_action, error_json
           from deliveries
          where sync_action is not null and status = 'sent' and deleted_at is null and telegram_message_id is not null
            and coalesce(sync_requested_at, '-infinity'::timestamptz) <= now()
          order by sync_requested_at nulls first, id
          limit $1
          for update skip locked`,
        [limit],
      );
      if (rows.length === 0) return [];
      // The lease is a future sync_requested_at (ms precision, so it round-trips as a token); a new request resets it.
      const [lease] = await tx.query<{ lease: Date }>(`select date_trunc('milliseconds', now()) + make_interval(secs => $1::float8) as lease`, [leaseSeconds]);
      await tx.query(`update deliveries set sync_requested_at = $2, lease_owner = $3 where id = any($1::bigint[])`, [
        rows.map((r) => r.id),
        lease!.lease,
        o.leaseOwner,
      ]);
      return rows.map((r) => ({
        ...r,
        id: Number(r.id),
        assignment_id: Number(r.assignment_id),
        telegram_message_id: Number(r.telegram_message_id),
        lease: new Date(lease!.lease),
      }));
    });
  }

  async function processSync(r: SyncRow, stats: DispatchStats): Promise<void> {
    const action = r.sync_action;
    const metricKind = action;
    try {
      if (action === 'delete') {
        await callBot('deleteMessage', () => client.remove(r.recipient, r.telegram_message_id));
        const done = await db.query(
          `update deliveries set deleted_at = now(), sync_action = null, sync_requested_at = null, error_json = null, updated_at = now()
            where id = $1 and (sync_requested_at = $2 or sync_action = 'delete') returning id`,
          [r.id, r.lease],
        );
        if (done.length === 0) {
          // The assignment reopened while the message was being deleted (the request became an edit): the message
          // is gone, so it is sent again.
          await db.query(
            `update deliveries
                set ${rearmBroadcast('reannounced', 'the assignment reopened while its message was being deleted')}
              where id = $1 and status = 'sent' and deleted_at is null`,
            [r.id],
          );
          await db.query(`select pg_notify($1, 'new')`, [DELIVERIES_CHANNEL]);
        }
        stats.deleted++;
        metrics.deliveries.inc({ kind: metricKind, outcome: 'sent' });
        return;
      }
      const a = await loadAssignmentForMessage(db, r.assignment_id);
      if (!a) throw new Error(`assignment ${r.assignment_id} disappeared`);
      const html = renderAssignment(a, { kind: 'broadcast', now: now(), freshness: o.freshness });
      // the link alone may have changed (the assignment moved to its agency's remaining post)
      if (html !== r.message_html || (a.messageLink ?? null) !== r.shown_link) {
        const keyboard = keyboardFor('broadcast', a.id, await linkTarget(r.id, a.id, a.messageLink, 'broadcast', r.recipient, null));
        const outcome = await callBot('editMessageText', () => client.edit(r.recipient, r.telegram_message_id, html, keyboard));
        if (outcome === 'gone' && a.status === 'open') {
          // The message is not in the chat any more (a delete that reached Telegram although its answer was lost,
          // then the job reopened): the job is sent again. "Not found" is Telegram's own answer, so no duplicate.
          await db.query(
            `update deliveries
                set ${rearmBroadcast('reannounced', 'the message to edit was gone from the chat')}
              where id = $1 and sync_requested_at = $2`,
            [r.id, r.lease],
          );
          await db.query(`select pg_notify($1, 'new')`, [DELIVERIES_CHANNEL]);
          return;
        }
        stats.edited++;
        metrics.deliveries.inc({ kind: metricKind, outcome: 'sent' });
      }
      await db.query(
        `update deliveries
            set message_html = $2, shown_link = $4, error_json = null, updated_at = now(),
                sync_action = case when sync_requested_at = $3 then null else sync_action end,
                sync_requested_at = case when sync_requested_at = $3 then null else sync_requested_at end
          where id = $1`,
        [r.id, html, r.lease, a.messageLink ?? null],
      );
    } catch (err) {
      if (err instanceof Paused) {
        const waitSeconds = err.remainingMs / 1000; // sync_requested_at and the pause both run on the database clock
        await db.query(`update deliveries set sync_requested_at = now() + make_interval(secs => $3::float8) where id = $1 and sync_requested_at = $2`, [
          r.id,
          r.lease,
          waitSeconds,
        ]);
        return;
      }
      const e = err instanceof BotError ? err : null;
      const outage = e !== null && isOutage(e);
      const outageTries = outage ? (r.error_json?.outage_tries ?? 0) + 1 : 0;
      // an outage try is not this edit's fault: it does not spend the attempt budget
      const attempt = (r.error_json?.attempt ?? 0) + (outage ? 0 : 1);
      const error = { type: `${action}_${e?.kind ?? 'internal'}`, message: errorMessage(err), attempt, ...(outage ? { outage_tries: outageTries } : {}) };
      const retryable = e == null || e.kind === 'server' || e.kind === 'network';
      if (action === 'delete') {
        // The request changed while the delete was in the air (the job reopened: an edit now) and the delete may
        // have been carried out: the next edit must ask Telegram (it finds the message, or learns it is gone).
        await db.query(`update deliveries set message_html = null where id = $1 and sync_requested_at is distinct from $2 and sync_action = 'edit'`, [
          r.id,
          r.lease,
        ]);
      }
      if (outage || (retryable && attempt < maxAttempts)) {
        const ms = outage ? outageBackoff(outageTries) : backoff(attempt);
        await db.query(
          `update deliveries set sync_requested_at = now() + make_interval(secs => $3::float8), error_json = $4::jsonb, updated_at = now()
            where id = $1 and sync_requested_at = $2`,
          [r.id, r.lease, ms / 1000, error],
        );
        stats.retried++;
        metrics.deliveries.inc({ kind: metricKind, outcome: 'retried' });
        log.warn({ delivery_id: r.id, action, attempt, retry_in_ms: ms, error: error.message }, 'delivery_sync_retry');
        return;
      }
      await db.query(
        `update deliveries set sync_action = null, sync_requested_at = null, error_json = $3::jsonb, updated_at = now()
          where id = $1 and sync_requested_at = $2`,
        [r.id, r.lease, error],
      );
      stats.failed++;
      metrics.deliveries.inc({ kind: metricKind, outcome: 'failed' });
      log.error({ delivery_id: r.id, action, error: error.message }, 'delivery_sync_failed');
    }
  }

  async function runOnce(signal?: AbortSignal): Promise<DispatchStats> {
    const stats = emptyStats();
    stats.uncertain += await reconcile();
    while (!signal?.aborted) {
      const gate = await flood.check(o.leaseOwner); // another process's 429 counts too
      if (gate.state === 'paused') break;
      probing = gate.state === 'probe';
      const { rows, touched } = await claimSends(stats, probing ? 1 : batch);
      await settleAll(rows.map((r) => processSend(r, stats)));
      // While probing, a sync waits for the probe send's answer; it is the probe itself when no send is due.
      const syncs = signal?.aborted || (probing && rows.length > 0) ? [] : await claimSyncs(probing ? 1 : batch);
      await settleAll(syncs.map((r) => processSync(r, stats)));
      if (touched === 0 && syncs.length === 0) {
        if (probing) await flood.releaseProbe(o.leaseOwner); // nothing to probe with here: another dispatcher may
        probing = false;
        break;
      }
    }
    return stats;
  }

  /** Milliseconds until the nearest deferred row (retry backoff, quiet-hours hold, sync retry), or null. */
  async function nextDueMs(): Promise<number | null> {
    // not_before runs on the dispatcher clock, sync_requested_at on the database clock.
    const [r] = await db.query<{ ms: number | string | null }>(
      `select extract(epoch from least(
                (select min(not_before) from deliveries where status = 'pending' and not_before > $1::timestamptz) - $1::timestamptz,
                (select min(sync_requested_at) from deliveries where sync_action is not null and status = 'sent' and deleted_at is null and sync_requested_at > now()) - now()
              )) * 1000 as ms`,
      [now()],
    );
    return r?.ms == null ? null : Math.max(0, Number(r.ms));
  }

  async function run(signal: AbortSignal): Promise<void> {
    let wake: (() => void) | null = null;
    let notified = false;
    const unlisten = await db.listen(DELIVERIES_CHANNEL, () => {
      notified = true;
      wake?.();
    });
    try {
      while (!signal.aborted) {
        notified = false;
        let waitMs = idleMs;
        try {
          const stats = await runOnce(signal);
          if (stats.sent + stats.failed + stats.skipped + stats.edited + stats.deleted + stats.uncertain > 0) log.info({ ...stats }, 'delivery_round');
          const due = await nextDueMs();
          if (due != null) waitMs = Math.min(waitMs, Math.max(5, due));
        } catch (err) {
          log.error({ error: errorMessage(err) }, 'delivery_round_failed');
        }
        if (signal.aborted || notified) continue;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = null;
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          signal.addEventListener('abort', done, { once: true });
          wake = done;
        });
      }
    } finally {
      await unlisten().catch(() => {});
    }
  }

  async function flush(signal?: AbortSignal, maxWaitMs = 60_000): Promise<DispatchStats> {
    const total = emptyStats();
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const s = await runOnce(signal);
      for (const k of Object.keys(total) as (keyof DispatchStats)[]) total[k] += s[k];
      if (signal?.aborted) break;
      const due = await nextDueMs();
      if (due == null) break;
      if (Date.now() + due > deadline) {
        log.warn({ due_in_ms: Math.round(due) }, 'delivery_flush_left_pending');
        break;
      }
      await sleep(Math.max(5, due), signal);
    }
    return total;
  }

  return { runOnce, flush, run, reconcile };
}
