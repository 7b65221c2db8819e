import { CancelledError, type CollectorContext } from './context.ts';
import { closeAbandonedRuns, createRun, finishRun, heartbeat, RUN_HEARTBEAT_MS, type RunType } from './runs.ts';

/**
 * Every command is a run: a row in ingestion_runs that ends `ok`, `error` (with the message) or `cancelled`
 * (SIGINT/SIGTERM), with the totals the command reached. A run is never left `running` by an exit we see; one
 * left `running` by an exit nobody saw (kill -9) stops heartbeating and is closed as abandoned by the next run.
 */
export async function withRun<T extends Record<string, unknown>>(
  ctx: CollectorContext,
  runType: RunType,
  channels: string[],
  meta: Record<string, unknown>,
  body: (runId: number, totals: T) => Promise<void>,
  initialTotals: T,
): Promise<{ runId: number; totals: T; status: 'ok' | 'cancelled' }> {
  const abandoned = await closeAbandonedRuns(ctx.db).catch(() => []);
  if (abandoned.length > 0) ctx.log.warn({ run_ids: abandoned }, 'ingestion_runs_abandoned');
  const runId = await createRun(ctx.db, runType, channels, { ...meta, pipeline_version: ctx.config.pipelineVersion });
  const totals = initialTotals;
  const started = Date.now();
  const beat = setInterval(() => void heartbeat(ctx.db, runId).catch(() => {}), RUN_HEARTBEAT_MS);
  beat.unref();
  try {
    await body(runId, totals);
    const status = ctx.signal.aborted ? 'cancelled' : 'ok';
    await finishRun(ctx.db, runId, status, { ...totals, total_ms: Date.now() - started });
    return { runId, totals, status };
  } catch (err) {
    const cancelled = err instanceof CancelledError || ctx.signal.aborted;
    await finishRun(ctx.db, runId, cancelled ? 'cancelled' : 'error', {
      ...totals,
      total_ms: Date.now() - started,
      ...(cancelled ? {} : { error: (err as Error).message }),
    }).catch(() => {});
    if (cancelled) return { runId, totals, status: 'cancelled' };
    throw err;
  } finally {
    clearInterval(beat);
  }
}
