import { runEnqueue, type Log } from '../collector/index.ts';
import type { TimeWindow } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { UserError } from '../errors.ts';
import { runWorkerService } from '../worker/index.ts';
import type { Variant } from './variant.ts';

export interface AbRunOptions {
  db: Database;
  log: Log;
  signal: AbortSignal;
  variants: Variant[];
  channels: string[] | null;
  window: TimeWindow;
  maxMessages: number | null;
  /** recompute versions that already have results */
  force: boolean;
  /** one line per phase and a progress line while extracting */
  report: (line: string) => void;
}

export interface AbSideResult {
  version: string;
  enqueued: number;
  processed: number;
  ok: number;
  skipped: number;
  failed: number;
  reused: boolean;
}

/** Channels of the window: the given ones, else every channel with raw messages in it. */
export async function windowChannels(db: Database, channels: string[] | null, window: TimeWindow): Promise<string[]> {
  if (channels?.length) return channels;
  const rows = await db.query<{ channel_link: string }>(
    `select distinct channel_link from telegram_messages_raw
      where deleted_at is null and ($1::timestamptz is null or message_date >= $1::timestamptz) and ($2::timestamptz is null or message_date < $2::timestamptz)
      order by channel_link`,
    [window.since?.toISOString() ?? null, window.until?.toISOString() ?? null],
  );
  return rows.map((r) => r.channel_link);
}

/**
 * `tutordex ab run`: for each variant, enqueue the raw window for its version (Mode 3) and drain it (Mode 4).
 * The worker runs analysis-only for a non-live version, so an experiment cannot write assignments or send
 * anything, whatever the variant's settings say. Re-running resumes: jobs already ok are left alone unless
 * `force`.
 */
export async function runAb(o: AbRunOptions): Promise<AbSideResult[]> {
  const channels = await windowChannels(o.db, o.channels, o.window);
  if (channels.length === 0) throw new UserError('the window holds no raw messages (check --since/--until/--channels)');
  const results: AbSideResult[] = [];
  for (const v of o.variants) {
    if (o.signal.aborted) break;
    const ctx = { db: o.db, config: v.config, log: o.log, signal: o.signal };
    const enq = await runEnqueue(ctx, { channels, window: o.window, maxMessages: o.maxMessages, force: o.force, pageSize: 500 });
    const enqueued = Number(enq.totals.total_enqueued ?? 0);
    const scanned = Number(enq.totals.total_scanned ?? 0);
    if (scanned === 0) throw new UserError('the window holds no raw messages (check --since/--until/--channels)');
    o.report(
      `${v.label} ${v.version}: ${scanned} messages in the window, ${enqueued} to extract${enqueued === 0 ? ' (already done; --force recomputes)' : ''} · ${v.config.extractionMode}${v.config.extractionMode === 'llm' ? ` ${v.config.llm.model}` : ''}`,
    );
    let lastShown = 0;
    const started = Date.now();
    const run = await runWorkerService({
      db: o.db,
      config: v.config,
      log: o.log,
      signal: o.signal,
      flags: { pipelineVersion: v.version, analysisOnly: true, oneshot: true, broadcast: false, dms: false, mode: v.config.extractionMode },
      onJob: (_outcome, s) => {
        const done = s.outcomes.ok + s.outcomes.skipped + s.outcomes.failed;
        if (Date.now() - lastShown >= 2000 || done === enqueued) {
          lastShown = Date.now();
          o.report(
            `${v.label} ${v.version}: extracted ${done}/${enqueued} (${Math.round(done / Math.max(0.001, (Date.now() - started) / 1000))}/s, failed ${s.outcomes.failed})`,
          );
        }
      },
    });
    results.push({
      version: v.version,
      enqueued,
      processed: run.claimed,
      ok: run.outcomes.ok,
      skipped: run.outcomes.skipped,
      failed: run.outcomes.failed,
      reused: enqueued === 0,
    });
  }
  return results;
}
