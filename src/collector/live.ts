import { latestMessageDates } from '../raw/index.ts';
import type { ChannelSource, ResolvedChannel } from '../telegram/index.ts';
import { type CollectorContext } from './context.ts';
import { withRun } from './lifecycle.ts';
import { runCatchup } from './catchup.ts';
import { runTailLoop, type TailStats } from './tail.ts';

export interface LiveOptions {
  channels: string[];
  /** catch-up reads through its own source (its own Telegram session); null = no catch-up (plain tail) */
  catchupSource: ChannelSource | null;
  stateFile: string;
  lookbackHours?: number;
}

class SourceEndedError extends Error {}

/**
 * `tutordex tail` (catchupSource null) and `tutordex live`: the tail, plus the automated catch-up running beside
 * it. The catch-up cursors are captured before the tail writes anything, so a fresh post cannot hide the gap.
 * A catch-up failure is logged and recorded; the tail goes on.
 */
export async function runLive(ctx: CollectorContext, source: ChannelSource, options: LiveOptions) {
  const channels: ResolvedChannel[] = [];
  for (const ref of options.channels) channels.push(await source.resolve(ref));
  const snapshot = await latestMessageDates(ctx.db, channels.map((c) => c.channelLink));
  const runType = options.catchupSource ? 'live' : 'tail';
  const stats: TailStats & Record<string, unknown> = { newMessages: 0, edits: 0, deletes: 0, errors: 0 };
  const catchupAbort = new AbortController();
  const stopCatchup = () => catchupAbort.abort();
  ctx.signal.addEventListener('abort', stopCatchup, { once: true });
  let catchup: Promise<unknown> = Promise.resolve();
  try {
    return await withRun(ctx, runType, channels.map((c) => c.channelLink), { source: source.kind, catchup: Boolean(options.catchupSource) }, async (runId, totals) => {
      if (options.catchupSource && ctx.config.recovery.enabled) {
        const catchupCtx = { ...ctx, signal: catchupAbort.signal };
        catchup = runCatchup(catchupCtx, options.catchupSource, channels, { stateFile: options.stateFile, snapshot, lookbackHours: options.lookbackHours }).catch(
          (err: Error) => ctx.log.error({ error: err.message }, 'live_mode_catchup_failed'),
        );
      }
      const result = await runTailLoop(ctx, source, channels, { runId });
      Object.assign(totals, result.stats);
      if (result.endedBySource) throw new SourceEndedError(`the ${source.kind} source ended the live subscription`);
    }, stats);
  } finally {
    stopCatchup();
    ctx.signal.removeEventListener('abort', stopCatchup);
    await catchup;
  }
}
