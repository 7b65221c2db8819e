import { adoptChannel, latestMessageDates } from '../raw/index.ts';
import type { ChannelSource, ResolvedChannel } from '../telegram/index.ts';
import type { CollectorContext } from './context.ts';
import { withRun } from './lifecycle.ts';
import { runCatchup } from './catchup.ts';
import { importLegacyStateFile } from './catchup-state.ts';
import { runTailLoop, type TailStats } from './tail.ts';

/** How the catch-up of a live run ended (`off`: none was run). */
export type CatchupOutcome = 'ok' | 'error' | 'cancelled' | 'off';

export interface LiveOptions {
  channels: string[];
  /**
   * The source the catch-up reads history through: a second Telegram session when one is configured, else the
   * tail's own source (reading history beside the updates on one session is safe). null = no catch-up (`tail`).
   */
  catchupSource: ChannelSource | null;
  lookbackHours?: number;
  /** an old catch-up state file (RECOVERY_CATCHUP_STATE_FILE), imported once if it names this database */
  legacyStateFile?: { path: string; databaseLocation: string } | null;
  /** called once when the catch-up has finished, failed or been cancelled (or at once with `off`) */
  onCatchupSettled?: (outcome: CatchupOutcome) => void;
}

class SourceEndedError extends Error {}

/**
 * `tutordex tail` (catchupSource null) and `tutordex live`: the tail, plus the automated catch-up running beside
 * it. The newest stored post of each channel is read before the tail writes anything (so a fresh post cannot
 * hide the gap) and the catch-up starts once the tail listens, reading up to that moment plus the overlap: from
 * then on the tail hears every post, and its gap checks fetch what a dropped connection lost.
 * A catch-up failure is logged and recorded (its channels in `error`, /health red); the tail goes on.
 */
export async function runLive(ctx: CollectorContext, source: ChannelSource, options: LiveOptions) {
  const channels: ResolvedChannel[] = [];
  for (const ref of options.channels) channels.push(await source.resolve(ref));
  const stored = new Map<string, ResolvedChannel>();
  for (const channel of channels) stored.set(channel.channelLink, await adoptChannel(ctx.db, channel));
  const storedLinks = [...stored.values()].map((c) => c.channelLink);
  const snapshot = await latestMessageDates(ctx.db, storedLinks);
  const runType = options.catchupSource ? 'live' : 'tail';
  const stats: TailStats & Record<string, unknown> = { newMessages: 0, edits: 0, deletes: 0, errors: 0, gapFilled: 0 };
  const catchupAbort = new AbortController();
  const stopCatchup = () => catchupAbort.abort();
  ctx.signal.addEventListener('abort', stopCatchup, { once: true });
  const catchupSource = options.catchupSource && ctx.config.recovery.enabled ? options.catchupSource : null;
  let settled = false;
  const settle = (outcome: CatchupOutcome) => {
    if (settled) return;
    settled = true;
    options.onCatchupSettled?.(outcome);
  };
  let catchup: Promise<unknown> = Promise.resolve();
  try {
    if (catchupSource && options.legacyStateFile) {
      await importLegacyStateFile(ctx.db, options.legacyStateFile.path, options.legacyStateFile.databaseLocation, ctx.log);
    }
    return await withRun(
      ctx,
      runType,
      storedLinks,
      { source: source.kind, catchup: Boolean(catchupSource), catchup_source: catchupSource?.kind ?? null, shared_session: catchupSource === source },
      async (runId, totals) => {
        const startCatchup = (listeningSince: Date) => {
          if (!catchupSource) return settle('off');
          const catchupCtx = { ...ctx, signal: catchupAbort.signal };
          catchup = runCatchup(catchupCtx, catchupSource, channels, { snapshot, listeningSince, lookbackHours: options.lookbackHours, stored }).then(
            (result) => settle(result.status),
            (err: Error) => {
              ctx.log.error({ error: err.message }, 'live_mode_catchup_failed');
              settle(catchupAbort.signal.aborted ? 'cancelled' : 'error');
            },
          );
        };
        const gapMinutes = ctx.config.recovery.gapCheckMinutes;
        const result = await runTailLoop(ctx, source, channels, {
          runId,
          onListening: startCatchup,
          gapCheckIntervalMs: gapMinutes > 0 ? gapMinutes * 60_000 : null,
          stored,
        });
        Object.assign(totals, result.stats);
        if (result.endedBySource) throw new SourceEndedError(`the ${source.kind} source ended the live subscription`);
      },
      stats,
    );
  } finally {
    stopCatchup();
    ctx.signal.removeEventListener('abort', stopCatchup);
    await catchup;
    settle('cancelled');
  }
}
