import type { TimeWindow } from '../config/index.ts';
import { adoptChannel } from '../raw/index.ts';
import { DesktopExportSource } from '../telegram/index.ts';
import { CancelledError, type CollectorContext } from './context.ts';
import { ingestHistory } from './ingest.ts';
import { withRun } from './lifecycle.ts';
import { upsertProgress } from './runs.ts';

export interface ImportOptions {
  path: string;
  /** channel reference naming a single-chat export; default t.me/c/<id> from the file */
  channel: string | null;
  window: TimeWindow;
  enqueue: boolean;
  batchSize: number;
  onFileProgress?: (bytesRead: number, totalBytes: number, file: string) => void;
}

export interface ImportTotals extends Record<string, unknown> {
  total_scanned: number;
  total_written: number;
  /** of the written rows: stored for the first time, with a text this import changed, read again unchanged */
  total_new: number;
  total_changed: number;
  total_unchanged: number;
  total_enqueued: number;
  channels_done: number;
}

/** `tutordex import`: a Telegram Desktop export (file or folder) → raw log (+ queue), streamed. */
export async function runImport(ctx: CollectorContext, options: ImportOptions) {
  const source = new DesktopExportSource(options.path, { channel: options.channel, onProgress: options.onFileProgress });
  const channels = await source.listChannels();
  // A first pass reads and checks every message without writing: a truncated or malformed export fails here,
  // before anything is stored, and the count gives the progress display its total.
  const expected = new Map<string, number>();
  for (const channel of channels) {
    let n = 0;
    for await (const _ of source.history(channel, { since: options.window.since, until: options.window.until, signal: ctx.signal })) n++;
    expected.set(channel.channelLink, n);
  }
  if (ctx.signal.aborted) throw new CancelledError();
  const meta = { path: options.path, since: options.window.since?.toISOString() ?? null, until: options.window.until?.toISOString() ?? null, enqueue: options.enqueue };
  const totals: ImportTotals = { total_scanned: 0, total_written: 0, total_new: 0, total_changed: 0, total_unchanged: 0, total_enqueued: 0, channels_done: 0 };
  try {
    return await withRun(ctx, 'import', channels.map((c) => c.channelLink), meta, async (runId, t) => {
      for (const channel of channels) {
        if (ctx.signal.aborted) throw new CancelledError();
        const stored = await adoptChannel(ctx.db, channel);
        const total = expected.get(channel.channelLink) ?? null;
        const onProgress = ctx.onProgress;
        const channelCtx = { ...ctx, onProgress: onProgress && ((e: Parameters<typeof onProgress>[0]) => onProgress({ ...e, total })) };
        const counters = await ingestHistory(channelCtx, source, channel, { since: options.window.since, until: options.window.until }, {
          phase: 'import',
          batchSize: options.batchSize,
          maxMessages: null,
          enqueue: options.enqueue,
          forceEnqueue: false,
          storeAs: stored,
        });
        if (ctx.signal.aborted) throw new CancelledError();
        await upsertProgress(ctx.db, runId, stored.channelLink, { scanned: counters.scanned, inserted: counters.inserted, updated: counters.updated, errors: 0, lastMessageId: counters.newest?.id ?? null, lastMessageDate: counters.newest?.date ?? null });
        t.total_scanned += counters.scanned;
        t.total_written += counters.inserted + counters.updated;
        t.total_new += counters.inserted;
        t.total_changed += counters.changed;
        t.total_unchanged += counters.updated - counters.changed;
        t.total_enqueued += counters.enqueued;
        t.channels_done++;
      }
    }, totals);
  } finally {
    await source.close();
  }
}
