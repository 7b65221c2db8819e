import type { Queryable } from '../db/index.ts';
import { stats, type QueueStatsRow } from '../queue/index.ts';
import { loadCatchupCursors, type CatchupCursor } from './catchup-state.ts';
import { getRun, latestRun, listProgress, type ProgressRow, type RunRow, type RunType } from './runs.ts';

export interface StatusReport {
  run: RunRow | null;
  progress: ProgressRow[];
  queue: QueueStatsRow[];
  /** catch-up state per channel (collector_catchup) */
  catchup: CatchupCursor[];
}

/** `tutordex status`: a run (latest, or by id/type), its per-channel progress, the queue of this version, catch-up state. */
export async function collectStatus(db: Queryable, options: { runId?: number; runType?: RunType; pipelineVersion: string }): Promise<StatusReport> {
  const run = options.runId !== undefined ? await getRun(db, options.runId) : await latestRun(db, options.runType);
  return {
    run,
    progress: run ? await listProgress(db, run.id) : [],
    queue: await stats(db, options.pipelineVersion),
    catchup: [...(await loadCatchupCursors(db)).values()],
  };
}
