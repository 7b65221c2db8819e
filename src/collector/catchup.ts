import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { outstanding } from '../queue/index.ts';
import type { ChannelSource, ResolvedChannel } from '../telegram/index.ts';
import { CancelledError, sleep, type CollectorContext } from './context.ts';
import { ingestHistory } from './ingest.ts';
import { withRun } from './lifecycle.ts';
import { upsertProgress } from './runs.ts';

/** The catch-up state file (the seed's format), written atomically after every slice. */
export interface CatchupState {
  version: 1;
  created_at: string;
  pipeline_version: string;
  /** now − target lag at the latest (re)start */
  target_iso: string;
  /** per channel: everything before this instant has been read */
  cursors: Record<string, string>;
  status: 'running' | 'ok';
  last_update_at: string;
  errors: { ts: number; error: string }[];
}

export function loadCatchupState(file: string): CatchupState | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null; // missing or corrupt: start a fresh state
  }
  const s = parsed as Partial<CatchupState>;
  if (!s || typeof s !== 'object' || typeof s.cursors !== 'object' || s.cursors === null || (s.status !== 'running' && s.status !== 'ok')) return null;
  return s as CatchupState;
}

export function saveCatchupState(file: string, state: CatchupState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ ...state, last_update_at: new Date().toISOString() }, null, 2)}\n`);
  renameSync(tmp, file);
}

export interface CatchupOptions {
  stateFile: string;
  /** newest stored message per channel, taken before the tail wrote anything */
  snapshot: Map<string, Date>;
  /** how far back a channel with nothing stored starts */
  lookbackHours?: number;
  now?: () => Date;
}

/**
 * Build the state for this start: the target is always recomputed (now − lag), so downtime since an earlier
 * catch-up is covered too; cursors of an unfinished state are kept, new channels start at their newest stored
 * message (or the lookback).
 */
export function initialCatchupState(ctx: CollectorContext, channels: ResolvedChannel[], previous: CatchupState | null, options: CatchupOptions): CatchupState {
  const now = (options.now ?? (() => new Date()))();
  const target = new Date(now.getTime() - ctx.config.recovery.targetLagMinutes * 60_000);
  const fallback = new Date(now.getTime() - (options.lookbackHours ?? 168) * 3_600_000);
  const resume = previous?.status === 'running' ? previous.cursors : {};
  const cursors: Record<string, string> = {};
  for (const c of channels) {
    const kept = resume[c.channelLink];
    const stored = options.snapshot.get(c.channelLink);
    cursors[c.channelLink] = kept ?? (stored ?? fallback).toISOString();
  }
  return {
    version: 1,
    created_at: previous?.status === 'running' ? previous.created_at : now.toISOString(),
    pipeline_version: ctx.config.pipelineVersion,
    target_iso: target.toISOString(),
    cursors,
    status: 'running',
    last_update_at: now.toISOString(),
    errors: previous?.status === 'running' ? previous.errors : [],
  };
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
 * queue backlog of this pipeline version is at or under the watermark. Progress is durable in the state file.
 */
export async function runCatchup(ctx: CollectorContext, source: ChannelSource, channels: ResolvedChannel[], options: CatchupOptions) {
  const r = ctx.config.recovery;
  const state = initialCatchupState(ctx, channels, loadCatchupState(options.stateFile), options);
  saveCatchupState(options.stateFile, state);
  const target = new Date(state.target_iso);
  const totals: CatchupTotals = { slices: 0, total_scanned: 0, total_written: 0, total_enqueued: 0, target_iso: state.target_iso };
  const meta = { target_iso: state.target_iso, chunk_hours: r.chunkHours, overlap_minutes: r.overlapMinutes, low_watermark: r.queueLowWatermark, state_file: options.stateFile };
  try {
    return await withRun(ctx, 'catchup', channels.map((c) => c.channelLink), meta, async (runId, t) => {
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
          const cursor = new Date(state.cursors[channel.channelLink]!);
          if (cursor.getTime() >= target.getTime()) continue;
          const sliceEnd = new Date(Math.min(target.getTime(), cursor.getTime() + r.chunkHours * 3_600_000));
          const since = new Date(cursor.getTime() - r.overlapMinutes * 60_000);
          const counters = await readSlice(ctx, source, channel, since, sliceEnd);
          await upsertProgress(ctx.db, runId, channel.channelLink, { scanned: counters.scanned, inserted: counters.inserted, updated: counters.updated, errors: 0, lastMessageId: counters.newest?.id ?? null, lastMessageDate: counters.newest?.date ?? null });
          t.slices++;
          t.total_scanned += counters.scanned;
          t.total_written += counters.inserted + counters.updated;
          t.total_enqueued += counters.enqueued;
          state.cursors[channel.channelLink] = sliceEnd.toISOString();
          saveCatchupState(options.stateFile, state);
          progressed = true;
          if (ctx.signal.aborted) throw new CancelledError();
        }
        if (!progressed) break;
      }
      state.status = 'ok';
      saveCatchupState(options.stateFile, state);
      ctx.log.info({ target_iso: state.target_iso }, 'recovery_catchup_done');
    }, totals);
  } catch (err) {
    state.errors.push({ ts: Math.floor(Date.now() / 1000), error: (err as Error).message.slice(0, 500) });
    saveCatchupState(options.stateFile, state);
    ctx.log.error({ error: (err as Error).message }, 'recovery_catchup_failed');
    throw err;
  }
}

async function readSlice(ctx: CollectorContext, source: ChannelSource, channel: ResolvedChannel, since: Date, until: Date) {
  const r = ctx.config.recovery;
  for (let attempt = 1; ; attempt++) {
    try {
      ctx.log.info({ channel: channel.channelLink, since: since.toISOString(), until: until.toISOString(), attempt }, 'recovery_catchup_window_start');
      return await ingestHistory(ctx, source, channel, { since, until }, { phase: 'catchup', batchSize: 200, maxMessages: null, enqueue: ctx.config.extractionQueueEnabled, forceEnqueue: false });
    } catch (err) {
      if (ctx.signal.aborted || attempt >= r.maxAttempts) throw err;
      const waitMs = Math.min(300_000, r.baseBackoffSeconds * 1000 * 2 ** (attempt - 1)) + 100 * attempt;
      ctx.log.warn({ channel: channel.channelLink, attempt, wait_ms: waitMs, error: (err as Error).message }, 'recovery_backfill_attempt_failed');
      await sleep(waitMs, ctx.signal);
    }
  }
}
