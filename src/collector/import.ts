import type { TimeWindow, TimeZone } from '../config/index.ts';
import { adoptChannel, channelIdForLink } from '../raw/index.ts';
import { DesktopExportSource, type RefusedFile } from '../telegram/index.ts';
import { CancelledError, type CollectorContext } from './context.ts';
import { ingestHistory } from './ingest.ts';
import { withRun } from './lifecycle.ts';
import { upsertProgress } from './runs.ts';

export interface ImportOptions {
  path: string;
  /** the chat to import (id, username or exact name); needed for a whole-account export holding several */
  channel: string | null;
  /** the zone of the computer that wrote an old export (local-time dates, no date_unixtime) */
  timezone?: TimeZone | null;
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
  /** export files read, and left out (folders only: a lone file's problem fails the import) */
  files_imported: number;
  files_refused: number;
}

export interface ImportResult {
  runId: number;
  status: 'ok' | 'cancelled';
  totals: ImportTotals;
  files: string[];
  refused: RefusedFile[];
  folder: boolean;
}

/** `tutordex import`: a Telegram Desktop export (file or folder) → raw log (+ queue), streamed. */
export async function runImport(ctx: CollectorContext, options: ImportOptions): Promise<ImportResult> {
  const source = new DesktopExportSource(options.path, {
    channel: options.channel,
    channelIdOf: (link) => channelIdForLink(ctx.db, link),
    timezone: options.timezone ?? null,
    onProgress: options.onFileProgress,
  });
  // A first pass reads and checks every message without writing: a truncated, malformed or old (no --timezone)
  // export fails here, before anything is stored – in a folder, that file alone is refused – and the count gives
  // the progress display its total.
  const check = await source.check({ since: options.window.since, until: options.window.until, signal: ctx.signal });
  if (ctx.signal.aborted) throw new CancelledError();
  const channels = check.channels.map((c) => c.channel);
  const expected = new Map(check.channels.map((c) => [c.channel.channelLink, c.messages]));
  const meta = {
    path: options.path,
    since: options.window.since?.toISOString() ?? null,
    until: options.window.until?.toISOString() ?? null,
    enqueue: options.enqueue,
    timezone: options.timezone?.name ?? null,
    files: check.files,
    refused_files: check.refused,
  };
  const totals: ImportTotals = {
    total_scanned: 0,
    total_written: 0,
    total_new: 0,
    total_changed: 0,
    total_unchanged: 0,
    total_enqueued: 0,
    channels_done: 0,
    files_imported: check.files.length,
    files_refused: check.refused.length,
  };
  try {
    const run = await withRun(
      ctx,
      'import',
      channels.map((c) => c.channelLink),
      meta,
      async (runId, t) => {
        for (const channel of channels) {
          if (ctx.signal.aborted) throw new CancelledError();
          const stored = await adoptChannel(ctx.db, channel);
          const total = expected.get(channel.channelLink) ?? null;
          const onProgress = ctx.onProgress;
          const channelCtx = { ...ctx, onProgress: onProgress && ((e: Parameters<typeof onProgress>[0]) => onProgress({ ...e, total })) };
          const counters = await ingestHistory(
            channelCtx,
            source,
            channel,
            { since: options.window.since, until: options.window.until },
            {
              phase: 'import',
              batchSize: options.batchSize,
              maxMessages: null,
              enqueue: options.enqueue,
              forceEnqueue: false,
              storeAs: stored,
            },
          );
          if (ctx.signal.aborted) throw new CancelledError();
          await upsertProgress(ctx.db, runId, stored.channelLink, {
            scanned: counters.scanned,
            inserted: counters.inserted,
            updated: counters.updated,
            errors: 0,
            lastMessageId: counters.newest?.id ?? null,
            lastMessageDate: counters.newest?.date ?? null,
          });
          t.total_scanned += counters.scanned;
          t.total_written += counters.inserted + counters.updated;
          t.total_new += counters.inserted;
          t.total_changed += counters.changed;
          t.total_unchanged += counters.updated - counters.changed;
          t.total_enqueued += counters.enqueued;
          t.channels_done++;
        }
      },
      totals,
    );
    return { ...run, files: check.files, refused: check.refused, folder: check.folder };
  } finally {
    await source.close();
  }
}
