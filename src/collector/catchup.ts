import { outstanding } from '../queue/index.ts';
import type { ChannelSource, ResolvedChannel } from '../telegram/index.ts';
import { CancelledError, sleep, type CollectorContext } from './context.ts';
import { ingestHistory } from './ingest.ts';
import { advanceCatchup, beginCatchup, failCatchup, loadCatchupCursors } from './catchup-state.ts';
import { withRun } from './lifecycle.ts';
import { upsertProgress } from './runs.ts';

export interface CatchupOptions {
  /** newest stored message per channel, taken before the tail wrote anything */
  snapshot: Map<string, Date>;
  /** when the tail began listening: the catch-up reads every post dated before this (plus the overlap) */
  listeningSince: Date;
  /** how far back a channel with nothing stored (and no catch-up row) starts */
  lookbackHours?: number;
  /** each channel as stored (adoptChannel), by the link the source knows it under; default: as the source has it */
  stored?: Map<string, ResolvedChannel>;
}

/**
 * Where a catch-up reads up to: past the moment the tail began listening by RECOVERY_CATCHUP_OVERLAP_MINUTES (at
 * least a minute), so a post made just before the restart, or dated a little off by clock skew, is read by one or
 * the other (both is harmless: writes are idempotent). A target short of that moment lost those posts for good.
 */
export function catchupTarget(listeningSince: Date, overlapMinutes: number): Date {
  return new Date(listeningSince.getTime() + Math.max(1, overlapMinutes) * 60_000);
}

export interface CatchupTotals extends Record<string, unknown> {
  slices: number;
  total_scanned: number;
  total_written: number;
  total_enqueued: number;
  target_iso: string;
}

/**
 * Read each channel from its cursor up to the target in slices of RECOVERY_CATCHUP_CHUNK_HOURS (each starting
 * RECOVERY_CATCHUP_OVERLAP_MINUTES early), one slice per channel per round, and start a round only when the
 * queue backlog of this pipeline version is at or under the watermark. Progress is durable in collector_catchup
 * after every slice: an unfinished channel resumes where it stopped; a finished one starts at its newest stored
 * post. A failure marks the unfinished channels `error` with the reason (and /health turns red).
 */
export async function runCatchup(ctx: CollectorContext, source: ChannelSource, channels: ResolvedChannel[], options: CatchupOptions) {
  const r = ctx.config.recovery;
  const storedAs = (c: ResolvedChannel) => options.stored?.get(c.channelLink) ?? c;
  const links = channels.map((c) => storedAs(c).channelLink);
  const target = catchupTarget(options.listeningSince, r.overlapMinutes);
  const fallback = new Date(options.listeningSince.getTime() - (options.lookbackHours ?? 168) * 3_600_000);
  const previous = await loadCatchupCursors(ctx.db, links);
  const cursors = new Map<string, Date>();
  for (const link of links) {
    const p = previous.get(link);
    const stored = options.snapshot.get(link);
    // An unfinished channel resumes where it stopped. A finished one starts where the tail's coverage is known to
    // reach (the tail advances read_until after every successful gap check), never at the newest stored post: a
    // backfill of a recent window during downtime would make that skip the older part of the downtime.
    cursors.set(link, p ? p.readUntil : (stored ?? fallback));
  }
  const totals: CatchupTotals = { slices: 0, total_scanned: 0, total_written: 0, total_enqueued: 0, target_iso: target.toISOString() };
  const meta = {
    target_iso: target.toISOString(),
    listening_since: options.listeningSince.toISOString(),
    chunk_hours: r.chunkHours,
    overlap_minutes: r.overlapMinutes,
    low_watermark: r.queueLowWatermark,
    source: source.kind,
  };
  let began = false;
  try {
    return await withRun(
      ctx,
      'catchup',
      links,
      meta,
      async (runId, t) => {
        await beginCatchup(
          ctx.db,
          runId,
          links.map((channelLink) => ({ channelLink, readUntil: cursors.get(channelLink)!, target })),
        );
        began = true;
        for (;;) {
          if (ctx.signal.aborted) throw new CancelledError();
          const backlog = await outstanding(ctx.db, ctx.config.pipelineVersion);
          if (backlog > r.queueLowWatermark) {
            ctx.log.info({ backlog, watermark: r.queueLowWatermark }, 'recovery_wait_queue');
            await sleep(r.checkIntervalSeconds * 1000, ctx.signal);
            continue;
          }
          let progressed = false;
          for (const channel of channels) {
            const stored = storedAs(channel);
            const cursor = cursors.get(stored.channelLink)!;
            if (cursor.getTime() >= target.getTime()) continue;
            const sliceEnd = new Date(Math.min(target.getTime(), cursor.getTime() + r.chunkHours * 3_600_000));
            const since = new Date(cursor.getTime() - r.overlapMinutes * 60_000);
            const counters = await readSlice(ctx, source, channel, stored, since, sliceEnd);
            // a slice cut short (history comes newest first) left older posts unread: never advance past them
            if (ctx.signal.aborted) throw new CancelledError();
            await upsertProgress(ctx.db, runId, stored.channelLink, {
              scanned: counters.scanned,
              inserted: counters.inserted,
              updated: counters.updated,
              errors: 0,
              lastMessageId: counters.newest?.id ?? null,
              lastMessageDate: counters.newest?.date ?? null,
            });
            t.slices++;
            t.total_scanned += counters.scanned;
            t.total_written += counters.inserted + counters.updated;
            t.total_enqueued += counters.enqueued;
            cursors.set(stored.channelLink, sliceEnd);
            await advanceCatchup(ctx.db, stored.channelLink, sliceEnd);
            progressed = true;
            if (ctx.signal.aborted) throw new CancelledError();
          }
          if (!progressed) break;
        }
        ctx.log.info({ target_iso: target.toISOString() }, 'recovery_catchup_done');
      },
      totals,
    );
  } catch (err) {
    const message = (err as Error).message;
    if (began) await failCatchup(ctx.db, links, message).catch(() => {});
    ctx.log.error({ error: message }, 'recovery_catchup_failed');
    throw err;
  }
}

async function readSlice(ctx: CollectorContext, source: ChannelSource, channel: ResolvedChannel, stored: ResolvedChannel, since: Date, until: Date) {
  const r = ctx.config.recovery;
  for (let attempt = 1; ; attempt++) {
    try {
      ctx.log.info({ channel: stored.channelLink, since: since.toISOString(), until: until.toISOString(), attempt }, 'recovery_catchup_window_start');
      return await ingestHistory(
        ctx,
        source,
        channel,
        { since, until },
        { phase: 'catchup', batchSize: 200, maxMessages: null, enqueue: ctx.config.extractionQueueEnabled, forceEnqueue: false, storeAs: stored },
      );
    } catch (err) {
      if (ctx.signal.aborted || attempt >= r.maxAttempts) throw err;
      const waitMs = Math.min(300_000, r.baseBackoffSeconds * 1000 * 2 ** (attempt - 1)) + 100 * attempt;
      ctx.log.warn({ channel: stored.channelLink, attempt, wait_ms: waitMs, error: (err as Error).message }, 'recovery_backfill_attempt_failed');
      await sleep(waitMs, ctx.signal);
    }
  }
}
