import { metrics } from '../metrics/index.ts';
import { retryTransient } from '../db/index.ts';
import { markDeleted, newestMessageIds, upsertChannel } from '../raw/index.ts';
import type { ChannelEvent, ChannelSource, ResolvedChannel } from '../telegram/index.ts';
import { sleep, type CollectorContext } from './context.ts';
import { tailCovered } from './catchup-state.ts';
import { ingestHistory, writeBatch } from './ingest.ts';

/** A gap check of a channel with nothing stored reads from this long before the tail began listening; a covered
 * instant is this long before the check (posts are dated by Telegram's clock, which may differ a little). */
const GAP_LOOKBACK_MS = 5 * 60_000;
import { heartbeat, upsertProgress } from './runs.ts';

interface ChannelCounters {
  scanned: number;
  inserted: number;
  updated: number;
  errors: number;
  lastMessageId: number | null;
  lastMessageDate: Date | null;
}

export interface TailStats {
  newMessages: number;
  edits: number;
  deletes: number;
  errors: number;
  /** posts found by gap checks that no update had brought (lost while the connection was down) */
  gapFilled: number;
}

export interface TailOptions {
  runId: number;
  /** how often progress rows and the run heartbeat are written */
  flushIntervalMs?: number;
  /** the subscription is live: from now on every event reaches the tail (the catch-up reads up to here) */
  onListening?: (at: Date) => void;
  /** how often to check each channel for posts above its newest stored id (null/0: only after reconnects) */
  gapCheckIntervalMs?: number | null;
  /** each channel as stored (adoptChannel), by the link the source knows it under; default: as the source has it */
  stored?: Map<string, ResolvedChannel>;
}

const untilDatabaseIsBack = (ctx: CollectorContext) => ({
  attempts: Number.POSITIVE_INFINITY,
  maxDelayMs: 30_000,
  signal: ctx.signal,
  onRetry: (err: unknown, attempt: number, delayMs: number) =>
    ctx.log.warn({ attempt, delay_ms: delayMs, error: (err as Error).message }, 'raw_tail_write_retry'),
});

/**
 * Live updates: new message → raw upsert + enqueue; edit → upsert + re-enqueue when the text changed; delete → deleted_at.
 * The source delivers one channel's events in order and waits for each, so an edit can never be applied before
 * the post it edits. A failing write is retried; one that still fails is counted and logged, never crashes
 * the tail. Runs until `ctx.signal` aborts or the source ends the subscription.
 */
export async function runTailLoop(
  ctx: CollectorContext,
  source: ChannelSource,
  channels: ResolvedChannel[],
  options: TailOptions,
): Promise<{ stats: TailStats; endedBySource: boolean }> {
  if (!options.stored) for (const channel of channels) await upsertChannel(ctx.db, channel);
  const storedAs = (c: ResolvedChannel) => options.stored?.get(c.channelLink) ?? c;
  const counters = new Map<string, ChannelCounters>(
    channels.map((c) => [storedAs(c).channelLink, { scanned: 0, inserted: 0, updated: 0, errors: 0, lastMessageId: null, lastMessageDate: null }]),
  );
  const stats: TailStats = { newMessages: 0, edits: 0, deletes: 0, errors: 0, gapFilled: 0 };
  const dirty = new Set<string>();
  const enqueue = ctx.config.extractionQueueEnabled;

  const handle = async (event: ChannelEvent): Promise<void> => {
    try {
      if (event.kind === 'delete') {
        if (!event.channel) {
          // Telegram names the chat of a deletion only for channels and supergroups; these ids belong elsewhere.
          ctx.log.info({ ids: event.messageIds }, 'raw_tail_delete_unknown_chat');
          return;
        }
        const stored = storedAs(event.channel);
        const channelLink = stored.channelLink;
        const n = await retryTransient(() => markDeleted(ctx.db, stored, event.messageIds), untilDatabaseIsBack(ctx));
        stats.deletes += event.messageIds.length;
        metrics.messagesIngested.inc({ channel: channelLink, kind: 'delete' }, n);
        ctx.log.info({ channel: channelLink, ids: event.messageIds, rows: n }, 'raw_tail_delete_ok');
        return;
      }
      const { message } = event;
      const channel = storedAs(event.channel);
      const c = counters.get(channel.channelLink);
      // Hold this channel's events (the source waits for us) until the database takes the write: a database
      // outage delays messages, it never loses them.
      const written = await retryTransient(
        () => writeBatch(ctx, channel, [message], { enqueue, force: false, ...(event.kind === 'edit' ? { reason: 'edit' as const } : {}) }),
        untilDatabaseIsBack(ctx),
      );
      if (c) {
        if (event.kind === 'new') c.scanned++;
        c.inserted += written.inserted;
        c.updated += written.updated;
        if (event.kind === 'new') {
          c.lastMessageId = message.id;
          c.lastMessageDate = message.date;
        }
        dirty.add(channel.channelLink);
      }
      if (event.kind === 'new') stats.newMessages++;
      else stats.edits++;
      ctx.onProgress?.({
        phase: 'tail',
        channelLink: channel.channelLink,
        scanned: c?.scanned ?? 0,
        written: (c?.inserted ?? 0) + (c?.updated ?? 0),
        total: null,
        at: message.date,
      });
    } catch (err) {
      stats.errors++;
      const link = event.channel ? storedAs(event.channel).channelLink : undefined;
      const c = link ? counters.get(link) : undefined;
      if (c && link) {
        c.errors++;
        dirty.add(link);
      }
      ctx.log.error({ channel: link ?? null, kind: event.kind, error: (err as Error).message }, `raw_tail_${event.kind}_failed`);
    }
  };

  const flush = async () => {
    await heartbeat(ctx.db, options.runId).catch(() => {});
    for (const link of [...dirty]) {
      dirty.delete(link);
      await upsertProgress(ctx.db, options.runId, link, counters.get(link)!).catch((err: Error) => {
        dirty.add(link);
        ctx.log.warn({ channel: link, error: err.message }, 'raw_tail_progress_failed');
      });
    }
  };

  /**
   * Updates lost while the connection was down are never replayed by Telegram. So after every reconnect, and
   * every `gapCheckIntervalMs` as a safety net, each channel's history is read above its *floor*: the newest id
   * known to have everything below it stored. The floor is taken when the tail begins listening and raised only by
   * a check that succeeded (a failed check, or a live post arriving meanwhile, never hides a lost one). A channel
   * with nothing stored is read from shortly before the tail began listening. One check at a time; a request
   * during a check runs once it ends. A successful check also tells the catch-up state how far the tail covers.
   */
  const floors = new Map<string, number | null>();
  let listeningAt = new Date();
  let checking: Promise<void> | null = null;
  let checkAgain: string | null = null;
  const checkGaps = (reason: 'reconnect' | 'interval'): void => {
    if (ctx.signal.aborted) return;
    if (checking) {
      checkAgain = reason;
      return;
    }
    checking = (async () => {
      for (let next: string | null = reason; next && !ctx.signal.aborted; next = checkAgain) {
        checkAgain = null;
        for (const channel of channels) {
          if (ctx.signal.aborted) break;
          const stored = storedAs(channel);
          const floor = floors.get(stored.channelLink) ?? null;
          const startedAt = new Date();
          try {
            const newestBefore = (await newestMessageIds(ctx.db, [stored.channelLink])).get(stored.channelLink) ?? null;
            const request =
              floor !== null ? { since: null, until: null, minId: floor } : { since: new Date(listeningAt.getTime() - GAP_LOOKBACK_MS), until: null };
            const found = await ingestHistory(ctx, source, channel, request, {
              phase: 'tail',
              batchSize: 100,
              maxMessages: null,
              enqueue,
              forceEnqueue: false,
              storeAs: stored,
            });
            if (ctx.signal.aborted) break; // cut short: the floor stays
            const reached = Math.max(newestBefore ?? 0, found.newest?.id ?? 0, floor ?? 0);
            if (reached > 0) floors.set(stored.channelLink, reached);
            await tailCovered(ctx.db, stored.channelLink, new Date(startedAt.getTime() - GAP_LOOKBACK_MS)).catch(() => {});
            stats.gapFilled += found.inserted;
            if (found.inserted > 0)
              ctx.log.warn({ channel: stored.channelLink, reason: next, above_id: floor, recovered: found.inserted }, 'raw_tail_gap_filled');
          } catch (err) {
            if (ctx.signal.aborted) break;
            stats.errors++;
            ctx.log.warn({ channel: stored.channelLink, reason: next, error: (err as Error).message }, 'raw_tail_gap_check_failed');
          }
        }
      }
    })().finally(() => (checking = null));
  };

  const initialFloors = await newestMessageIds(
    ctx.db,
    channels.map((c) => storedAs(c).channelLink),
  );
  for (const c of channels) floors.set(storedAs(c).channelLink, initialFloors.get(storedAs(c).channelLink) ?? null);
  const subscription = await source.subscribe(channels, handle, { onReconnected: () => checkGaps('reconnect') });
  ctx.log.info({ channels: channels.map((c) => storedAs(c).channelLink), source: source.kind, pipeline_version: ctx.config.pipelineVersion }, 'raw_tail_start');
  listeningAt = new Date();
  options.onListening?.(listeningAt);
  const gapTimer = options.gapCheckIntervalMs ? setInterval(() => checkGaps('interval'), options.gapCheckIntervalMs) : null;
  gapTimer?.unref();
  let endedBySource = false;
  void subscription.ended.then(() => (endedBySource = !ctx.signal.aborted));
  const interval = options.flushIntervalMs ?? 5_000;
  while (!ctx.signal.aborted && !endedBySource) {
    await Promise.race([sleep(interval, ctx.signal), subscription.ended]);
    await flush();
  }
  if (gapTimer) clearInterval(gapTimer);
  await subscription.stop();
  await checking;
  await flush();
  return { stats, endedBySource };
}
