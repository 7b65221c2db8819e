import type { TimeWindow } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { adoptChannel } from '../raw/index.ts';
import { TransientSourceError, type ChannelSource, type ResolvedChannel, type SourceMessage } from '../telegram/index.ts';
import { CancelledError, sleep, type CollectorContext } from './context.ts';
import { emptyCounters, ingestHistory, type IngestCounters } from './ingest.ts';
import { withRun } from './lifecycle.ts';
import { upsertProgress } from './runs.ts';

export interface BackfillOptions {
  channels: string[];
  window: TimeWindow;
  /** per channel; null = whole window */
  maxMessages: number | null;
  batchSize: number;
  forceEnqueue: boolean;
  /** attempts per channel for transient source failures (FloodWait, timeouts, disconnects) */
  channelAttempts: number;
  /** ignore an unfinished checkpoint and read the window from the top again */
  restart: boolean;
  /** base pause between attempts, seconds (FloodWait uses what Telegram asks for) */
  retryDelaySeconds?: number;
}

export interface BackfillTotals extends Record<string, unknown> {
  total_scanned: number;
  total_written: number;
  total_enqueued: number;
  channels_done: number;
  resumed_channels: string[];
}

interface Checkpoint {
  id: number;
  topMessageId: number | null;
  cursorMessageId: number | null;
  completedAt: Date | null;
  scanned: number;
}

const windowKey = (w: TimeWindow) => `${w.since?.toISOString() ?? '-'}..${w.until?.toISOString() ?? '-'}`;

async function openCheckpoint(db: Queryable, channelLink: string, w: TimeWindow, runId: number, restart: boolean): Promise<Checkpoint> {
  const key = windowKey(w);
  const [row] = await db.query<Record<string, unknown>>(
    `insert into backfill_checkpoints (channel_link, since_at, until_at, window_key, run_id) values ($1, $2, $3, $4, $5)
     on conflict (channel_link, window_key) do update set
       run_id = excluded.run_id, updated_at = now(),
       -- a finished window, or an explicit restart, starts from the top again
       top_message_id = case when backfill_checkpoints.completed_at is not null or $6 then null else backfill_checkpoints.top_message_id end,
       cursor_message_id = case when backfill_checkpoints.completed_at is not null or $6 then null else backfill_checkpoints.cursor_message_id end,
       scanned_count = case when backfill_checkpoints.completed_at is not null or $6 then 0 else backfill_checkpoints.scanned_count end,
       written_count = case when backfill_checkpoints.completed_at is not null or $6 then 0 else backfill_checkpoints.written_count end,
       completed_at = null
     returning id, top_message_id, cursor_message_id, completed_at, scanned_count`,
    [channelLink, w.since?.toISOString() ?? null, w.until?.toISOString() ?? null, key, runId, restart],
  );
  return {
    id: row!.id as number,
    topMessageId: (row!.top_message_id as number | null) ?? null,
    cursorMessageId: (row!.cursor_message_id as number | null) ?? null,
    completedAt: (row!.completed_at as Date | null) ?? null,
    scanned: row!.scanned_count as number,
  };
}

async function advanceCheckpoint(db: Queryable, id: number, at: { top: number | null; cursor: number; counters: IngestCounters }): Promise<void> {
  await db.query(
    `update backfill_checkpoints set
       top_message_id = coalesce(top_message_id, $2), cursor_message_id = $3,
       scanned_count = $4, written_count = $5, updated_at = now()
     where id = $1`,
    [id, at.top, at.cursor, at.counters.scanned, at.counters.inserted + at.counters.updated],
  );
}

async function completeCheckpoint(db: Queryable, id: number): Promise<void> {
  await db.query('update backfill_checkpoints set completed_at = now(), updated_at = now() where id = $1', [id]);
}

/**
 * One channel of a backfill, newest → oldest, checkpointed after every written batch. An unfinished checkpoint
 * of the same window is resumed: below its cursor, and (for an open-ended window) above the newest id the
 * interrupted run had seen. Transient source failures are retried from the checkpoint.
 */
export async function backfillChannel(
  ctx: CollectorContext,
  source: ChannelSource,
  channel: ResolvedChannel,
  runId: number,
  options: BackfillOptions,
  /** the channel as stored (adoptChannel); the source is asked for `channel` */
  stored: ResolvedChannel = channel,
): Promise<{ counters: IngestCounters; resumed: boolean }> {
  const enqueue = ctx.config.extractionQueueEnabled;
  const ingestOptions = { phase: 'backfill' as const, batchSize: options.batchSize, enqueue, forceEnqueue: options.forceEnqueue, storeAs: stored };
  const counters = emptyCounters();
  const report = () =>
    upsertProgress(ctx.db, runId, stored.channelLink, {
      scanned: counters.scanned,
      inserted: counters.inserted,
      updated: counters.updated,
      errors: 0,
      lastMessageId: counters.oldest?.id ?? null,
      lastMessageDate: counters.oldest?.date ?? null,
    });

  if (source.historyOrder === 'oldest-first') {
    await ingestHistory(
      ctx,
      source,
      channel,
      { since: options.window.since, until: options.window.until },
      { ...ingestOptions, maxMessages: options.maxMessages, onBatch: report },
      counters,
    );
    await report();
    return { counters, resumed: false };
  }

  const cp = await openCheckpoint(ctx.db, stored.channelLink, options.window, runId, options.restart);
  const resumed = cp.cursorMessageId !== null;
  // Above `top` (only when resuming an open-ended window), then below `cursor`; both are durable.
  let above = resumed && options.window.until === null ? cp.topMessageId : null;
  let top = cp.topMessageId;
  let cursor = cp.cursorMessageId;
  const remaining = () => (options.maxMessages === null ? null : Math.max(0, options.maxMessages - counters.scanned));
  for (let attempt = 1; ; attempt++) {
    try {
      if (above !== null) {
        const request = { since: options.window.since, until: null, minId: above };
        await ingestHistory(ctx, source, channel, request, { ...ingestOptions, maxMessages: remaining(), onBatch: report }, counters);
        above = null;
      }
      const request = { since: options.window.since, until: options.window.until, maxId: cursor };
      const onBatch = async (batch: SourceMessage[]) => {
        top ??= batch[0]!.id;
        cursor = Math.min(cursor ?? Infinity, ...batch.map((m) => m.id));
        await advanceCheckpoint(ctx.db, cp.id, { top, cursor, counters });
        await report();
      };
      await ingestHistory(ctx, source, channel, request, { ...ingestOptions, maxMessages: remaining(), onBatch }, counters);
      if (ctx.signal.aborted) {
        await report();
        return { counters, resumed }; // what was read is written; the run ends cancelled
      }
      const capped = options.maxMessages !== null && counters.scanned >= options.maxMessages;
      if (!capped) await completeCheckpoint(ctx.db, cp.id);
      await report();
      return { counters, resumed };
    } catch (err: unknown) {
      if (err instanceof CancelledError || ctx.signal.aborted || !(err instanceof TransientSourceError) || attempt >= options.channelAttempts) throw err;
      const waitSeconds = err.retryAfterSeconds ?? (options.retryDelaySeconds ?? 5) * attempt;
      ctx.log.warn(
        { channel: channel.channelLink, attempt, max_attempts: options.channelAttempts, wait_seconds: waitSeconds, error: err.message },
        'raw_backfill_channel_retry',
      );
      await sleep(waitSeconds * 1000, ctx.signal);
    }
  }
}

/** `tutordex backfill`: Telegram history → raw log (+ queue), channel by channel, as one run. */
export async function runBackfill(ctx: CollectorContext, source: ChannelSource, options: BackfillOptions) {
  const meta = {
    source: source.kind,
    since: options.window.since?.toISOString() ?? null,
    until: options.window.until?.toISOString() ?? null,
    batch_size: options.batchSize,
    max_messages: options.maxMessages,
    force_enqueue: options.forceEnqueue,
    extraction_queue_enabled: ctx.config.extractionQueueEnabled,
  };
  const totals: BackfillTotals = { total_scanned: 0, total_written: 0, total_enqueued: 0, channels_done: 0, resumed_channels: [] };
  // Resolve every channel before writing anything: an unknown channel fails the command, not half a run.
  const channels: ResolvedChannel[] = [];
  for (const ref of options.channels) channels.push(await source.resolve(ref));
  const stored: ResolvedChannel[] = [];
  for (const channel of channels) stored.push(await adoptChannel(ctx.db, channel));
  return withRun(
    ctx,
    'backfill',
    stored.map((c) => c.channelLink),
    meta,
    async (runId, t) => {
      for (const [i, channel] of channels.entries()) {
        if (ctx.signal.aborted) throw new CancelledError();
        const as = stored[i]!;
        ctx.log.info({ channel: as.channelLink, run_id: runId }, 'raw_backfill_channel_start');
        const { counters, resumed } = await backfillChannel(ctx, source, channel, runId, options, as);
        if (ctx.signal.aborted) {
          t.total_scanned += counters.scanned;
          t.total_written += counters.inserted + counters.updated;
          t.total_enqueued += counters.enqueued;
          throw new CancelledError();
        }
        t.total_scanned += counters.scanned;
        t.total_written += counters.inserted + counters.updated;
        t.total_enqueued += counters.enqueued;
        if (resumed) t.resumed_channels.push(as.channelLink);
        t.channels_done++;
        ctx.log.info(
          { channel: as.channelLink, scanned: counters.scanned, written: counters.inserted + counters.updated, enqueued: counters.enqueued, resumed },
          'raw_backfill_channel_done',
        );
      }
    },
    totals,
  );
}
