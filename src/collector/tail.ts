import { metrics } from '../metrics/index.ts';
import { retryTransient } from '../db/index.ts';
import { markDeleted, upsertChannel } from '../raw/index.ts';
import type { ChannelEvent, ChannelSource, ResolvedChannel } from '../telegram/index.ts';
import { sleep, type CollectorContext } from './context.ts';
import { writeBatch } from './ingest.ts';
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
}

export interface TailOptions {
  runId: number;
  /** how often progress rows and the run heartbeat are written */
  flushIntervalMs?: number;
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
  for (const channel of channels) await upsertChannel(ctx.db, channel);
  const counters = new Map<string, ChannelCounters>(
    channels.map((c) => [c.channelLink, { scanned: 0, inserted: 0, updated: 0, errors: 0, lastMessageId: null, lastMessageDate: null }]),
  );
  const stats: TailStats = { newMessages: 0, edits: 0, deletes: 0, errors: 0 };
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
        const channelLink = event.channel.channelLink;
        const n = await retryTransient(() => markDeleted(ctx.db, channelLink, event.messageIds), untilDatabaseIsBack(ctx));
        stats.deletes += event.messageIds.length;
        metrics.messagesIngested.inc({ channel: channelLink, kind: 'delete' }, n);
        ctx.log.info({ channel: channelLink, ids: event.messageIds, rows: n }, 'raw_tail_delete_ok');
        return;
      }
      const { channel, message } = event;
      const c = counters.get(channel.channelLink);
      // Hold this channel's events (the source waits for us) until the database takes the write: a database
      // outage delays messages, it never loses them.
      const written = await retryTransient(() => writeBatch(ctx, channel, [message], { enqueue, force: false, ...(event.kind === 'edit' ? { reason: 'edit' as const } : {}) }), untilDatabaseIsBack(ctx));
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
      ctx.onProgress?.({ phase: 'tail', channelLink: channel.channelLink, scanned: c?.scanned ?? 0, written: (c?.inserted ?? 0) + (c?.updated ?? 0), total: null, at: message.date });
    } catch (err) {
      stats.errors++;
      const link = event.channel?.channelLink;
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

  const subscription = await source.subscribe(channels, handle);
  ctx.log.info({ channels: channels.map((c) => c.channelLink), source: source.kind, pipeline_version: ctx.config.pipelineVersion }, 'raw_tail_start');
  let endedBySource = false;
  void subscription.ended.then(() => (endedBySource = !ctx.signal.aborted));
  const interval = options.flushIntervalMs ?? 5_000;
  while (!ctx.signal.aborted && !endedBySource) {
    await Promise.race([sleep(interval, ctx.signal), subscription.ended]);
    await flush();
  }
  await subscription.stop();
  await flush();
  return { stats, endedBySource };
}
