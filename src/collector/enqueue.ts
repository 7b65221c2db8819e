import type { TimeWindow } from '../config/index.ts';
import { retryTransient } from '../db/index.ts';
import { enqueueRawWindow, type RawWindowPage } from '../queue/index.ts';
import { storedLinksFor } from '../raw/index.ts';
import { CancelledError, type CollectorContext } from './context.ts';
import { withRun } from './lifecycle.ts';
import { upsertProgress } from './runs.ts';

export interface EnqueueOptions {
  channels: string[];
  window: TimeWindow;
  /** per channel; null = all */
  maxMessages: number | null;
  force: boolean;
  pageSize: number;
}

export interface EnqueueTotals extends Record<string, unknown> {
  total_scanned: number;
  total_enqueued: number;
}

/**
 * Mode 3, `tutordex enqueue`: raw rows of a window → jobs of the current pipeline version, with no Telegram
 * calls. One statement per page (keyset-paged in posting order), counting what the database accepted.
 */
export async function runEnqueue(ctx: CollectorContext, options: EnqueueOptions) {
  const meta = {
    since: options.window.since?.toISOString() ?? null,
    until: options.window.until?.toISOString() ?? null,
    page_size: options.pageSize,
    max_messages: options.maxMessages,
    force: options.force,
  };
  const totals: EnqueueTotals = { total_scanned: 0, total_enqueued: 0 };
  // a channel given by another of its links (t.me/c/<id> for one stored under its username) is found all the same
  const channels = await storedLinksFor(ctx.db, options.channels);
  return withRun(
    ctx,
    'enqueue',
    channels,
    meta,
    async (runId, t) => {
      for (const channelLink of channels) {
        const [{ n: total } = { n: 0 }] = await ctx.db.query<{ n: number }>(
          `select count(*) as n from telegram_messages_raw where channel_link = $1 and deleted_at is null
           and ($2::timestamptz is null or message_date >= $2::timestamptz) and ($3::timestamptz is null or message_date < $3::timestamptz)`,
          [channelLink, options.window.since?.toISOString() ?? null, options.window.until?.toISOString() ?? null],
        );
        const expected = options.maxMessages === null ? total : Math.min(total, options.maxMessages);
        let scanned = 0;
        let enqueued = 0;
        let after: RawWindowPage['last'] = null;
        while (options.maxMessages === null || scanned < options.maxMessages) {
          if (ctx.signal.aborted) throw new CancelledError();
          const limit = options.maxMessages === null ? options.pageSize : Math.min(options.pageSize, options.maxMessages - scanned);
          const page = await retryTransient(() =>
            enqueueRawWindow(ctx.db, {
              pipelineVersion: ctx.config.pipelineVersion,
              channelLink,
              since: options.window.since,
              until: options.window.until,
              after,
              limit,
              force: options.force,
            }),
          );
          scanned += page.scanned;
          enqueued += page.enqueued;
          t.total_scanned += page.scanned;
          t.total_enqueued += page.enqueued;
          if (page.last) after = page.last;
          ctx.onProgress?.({ phase: 'enqueue', channelLink, scanned, written: enqueued, total: expected, at: page.last?.date ?? null });
          if (page.scanned < limit) break;
        }
        await upsertProgress(ctx.db, runId, channelLink, {
          scanned,
          inserted: enqueued,
          updated: 0,
          errors: 0,
          lastMessageId: after?.messageId ?? null,
          lastMessageDate: after?.date ?? null,
        });
        ctx.log.info({ channel: channelLink, scanned, enqueued }, 'enqueue_channel_done');
      }
    },
    totals,
  );
}
