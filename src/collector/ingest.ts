import { metrics } from '../metrics/index.ts';
import { retryTransient } from '../db/index.ts';
import { enqueueMissingRawIds, enqueueRawIds } from '../queue/index.ts';
import { rawRowFromMessage, upsertRawMessages, type RawRow } from '../raw/index.ts';
import type { ChannelSource, HistoryRequest, ResolvedChannel, SourceMessage } from '../telegram/index.ts';
import type { CollectorContext, ProgressEvent } from './context.ts';

export interface IngestCounters {
  scanned: number;
  inserted: number;
  updated: number;
  /** of the updated rows, those whose text this pass changed (the rest were read again unchanged) */
  changed: number;
  enqueued: number;
  staleIgnored: number;
  /** newest and oldest message of the pass */
  newest: { id: number; date: Date } | null;
  oldest: { id: number; date: Date } | null;
}

export const emptyCounters = (): IngestCounters => ({
  scanned: 0,
  inserted: 0,
  updated: 0,
  changed: 0,
  enqueued: 0,
  staleIgnored: 0,
  newest: null,
  oldest: null,
});

export interface IngestOptions {
  phase: ProgressEvent['phase'];
  batchSize: number;
  /** stop after this many messages in this pass (null = no cap) */
  maxMessages: number | null;
  /** enqueue written rows (false when EXTRACTION_QUEUE_ENABLED=0 or --no-enqueue) */
  enqueue: boolean;
  /** re-enqueue every message read, changed or not (--force-enqueue) */
  forceEnqueue: boolean;
  /** the channel as stored (adoptChannel), when the source knows it under another link */
  storeAs?: ResolvedChannel;
  /** after each batch is durably written and enqueued */
  onBatch?: (batch: SourceMessage[], counters: IngestCounters) => Promise<void>;
}

/**
 * Write a batch of messages and enqueue the non-service ones: a message seen for the first time gets its job; one
 * whose text changed (an edit, live or missed) is re-enqueued whatever its job's status; one read again unchanged
 * (catch-up overlap, backfill resume, re-import, an edit event that left the text alone) only gets a job if it
 * has none, so a job being processed, or failed for good, is never reset. `force` re-enqueues them all.
 * `reason: 'edit'` marks a live edit event (metrics). Transient database errors are retried; a batch that
 * finally fails throws.
 */
export async function writeBatch(
  ctx: CollectorContext,
  channel: ResolvedChannel,
  messages: readonly SourceMessage[],
  options: { enqueue: boolean; force: boolean; reason?: 'edit' },
): Promise<{ inserted: number; updated: number; changed: number; staleIgnored: number; enqueued: number }> {
  const rows: RawRow[] = messages.map((m) => rawRowFromMessage(channel, m));
  const onRetry = (err: unknown, attempt: number, delayMs: number) =>
    ctx.log.warn({ channel: channel.channelLink, attempt, delay_ms: delayMs, error: (err as Error).message }, 'raw_write_retry');
  const version = ctx.config.pipelineVersion;
  // Upsert and enqueue commit together: after a failed enqueue the retry must see the text change again (an
  // edit already stored would look unchanged and never be extracted), and must not reset a job twice.
  const write = () =>
    ctx.db.transaction(async (tx) => {
      const result = await upsertRawMessages(tx, rows);
      if (!options.enqueue) return { result, enqueued: 0 };
      const rawIds = messages
        .filter((m) => !m.isService)
        .map((m) => result.rawIds.get(m.id))
        .filter((id): id is number => id !== undefined);
      const changed = rawIds.filter((id) => result.textChanged.has(id));
      const unchanged = rawIds.filter((id) => !result.textChanged.has(id));
      const edits = await enqueueRawIds(tx, version, changed, true, 'edit');
      const rest = options.force ? await enqueueRawIds(tx, version, unchanged, true) : await enqueueMissingRawIds(tx, version, unchanged);
      return { result, enqueued: edits + rest };
    });
  const { result, enqueued } = await retryTransient(write, { onRetry, signal: ctx.signal });
  metrics.messagesIngested.inc(
    { channel: channel.channelLink, kind: options.reason === 'edit' ? 'edit' : 'new' },
    options.reason === 'edit' ? result.inserted + result.updated : result.inserted,
  );
  if (options.reason !== 'edit' && result.updated > 0) metrics.messagesIngested.inc({ channel: channel.channelLink, kind: 'seen_again' }, result.updated);
  return { inserted: result.inserted, updated: result.updated, changed: result.textChanged.size, staleIgnored: result.staleIgnored, enqueued };
}

/**
 * Read one history pass of a channel into the raw log: batches of `batchSize` are upserted (and enqueued) as
 * they fill; nothing read is dropped — a batch that cannot be written fails the pass.
 */
export async function ingestHistory(
  ctx: CollectorContext,
  source: ChannelSource,
  channel: ResolvedChannel,
  request: HistoryRequest,
  options: IngestOptions,
  counters: IngestCounters = emptyCounters(),
): Promise<IngestCounters> {
  const stored = options.storeAs ?? channel;
  let buffer: SourceMessage[] = [];
  let pass = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    const written = await writeBatch(ctx, stored, batch, { enqueue: options.enqueue, force: options.forceEnqueue });
    counters.inserted += written.inserted;
    counters.updated += written.updated;
    counters.changed += written.changed;
    counters.staleIgnored += written.staleIgnored;
    counters.enqueued += written.enqueued;
    await options.onBatch?.(batch, counters);
    const last = batch[batch.length - 1]!;
    ctx.onProgress?.({
      phase: options.phase,
      channelLink: stored.channelLink,
      scanned: counters.scanned,
      written: counters.inserted + counters.updated,
      total: null,
      at: last.date,
    });
  };
  for await (const message of source.history(channel, { ...request, signal: ctx.signal })) {
    counters.scanned++;
    pass++;
    if (!counters.newest || message.id > counters.newest.id) counters.newest = { id: message.id, date: message.date };
    if (!counters.oldest || message.id < counters.oldest.id) counters.oldest = { id: message.id, date: message.date };
    buffer.push(message);
    if (buffer.length >= options.batchSize) await flush();
    if (options.maxMessages !== null && pass >= options.maxMessages) break;
    if (ctx.signal.aborted) break; // stop reading; what was read is still written below
  }
  await flush();
  return counters;
}
