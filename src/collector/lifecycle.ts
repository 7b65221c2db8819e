import { CancelledError, type CollectorContext } from './context.ts';
import { createRun, finishRun, type RunType } from './runs.ts';

/**
 * Every command is a run: a row in ingestion_runs that ends `ok`, `error` (with the message) or `cancelled`
 * (SIGINT/SIGTERM), with the totals the command reached. A run is never left `running` by an exit we see.
 */
export async function withRun<T extends Record<string, unknown>>(
  ctx: CollectorContext,
  runType: RunType,
  channels: string[],
  meta: Record<string, unknown>,
  body: (runId: number, totals: T) => Promise<void>,
  initialTotals: T,
): Promise<{ runId: number; totals: T; status: 'ok' | 'cancelled' }> {
  const runId = await createRun(ctx.db, runType, channels, { ...meta, pipeline_version: ctx.config.pipelineVersion });
  const totals = initialTotals;
  const started = Date.now();
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
  }
}
