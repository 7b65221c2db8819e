import { setMaxListeners } from 'node:events';
import type { Log } from '../collector/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Extractor } from '../extraction/index.ts';
import { metrics } from '../metrics/index.ts';
import { claim, heartbeat, outstanding, release, requeueStale, waitForWork, type ClaimedJob } from '../queue/index.ts';
import { sleep } from '../sleep.ts';
import { processJob, type JobOutcome } from './job.ts';
import { runMaintenance } from './maintenance.ts';

export interface WorkerOptions {
  db: Database;
  config: Config;
  extractor: Extractor;
  log: Log;
  signal: AbortSignal;
  pipelineVersion: string;
  /** writes assignments and may have side effects (the live version); false = a drain that only fills its queue rows */
  live: boolean;
  broadcast: boolean;
  dms: boolean;
  oneshot: boolean;
  /** stop claiming after this many jobs (0 = no limit); what was claimed is finished, nothing is left processing */
  maxJobs: number;
  batchSize: number;
  concurrency: number;
  idleMs: number;
  staleSeconds: number;
  now?: () => Date;
  /** intervals of the periodic tasks (tests shorten them); the heartbeat defaults to a quarter of the stale window, at most 30 s */
  intervals?: { staleMs?: number; heartbeatMs?: number; maintenanceMs?: number };
  onJob?: (outcome: JobOutcome, summary: WorkerSummary) => void;
}

export interface WorkerSummary {
  claimed: number;
  outcomes: Record<JobOutcome, number>;
  exit: 'drained' | 'max_jobs' | 'stopped' | 'running';
  startedAt: Date;
}

const emptyOutcomes = (): Record<JobOutcome, number> => ({ ok: 0, skipped: 0, failed: 0, retried: 0, released: 0, lost: 0 });

/**
 * The extraction worker (Mode 4 and live processing). Claims jobs of one pipeline version and runs up to
 * `concurrency` at once. Wakes on NOTIFY, not a sleep loop. Stops claiming while the LLM breaker is open, so an
 * outage does not spend the queue's attempts. A failed claim or database outage is logged and retried with backoff,
 * never an exit (docs/queue.md, "The worker loop"). On abort, or once max-jobs were claimed, it finishes (or
 * releases) what it holds and returns; nothing stays `processing`. Jobs in flight are heartbeated on a timer of their
 * own, so a long job keeps its claim even while every slot is busy and the loop only waits.
 */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const now = o.now ?? (() => new Date());
  const summary: WorkerSummary = { claimed: 0, outcomes: emptyOutcomes(), exit: 'running', startedAt: now() };
  const buffer: ClaimedJob[] = [];
  const inflight = new Map<number, Promise<void>>();
  const held = new Map<number, ClaimedJob>();
  const jobAbort = new AbortController();
  // every in-flight job waits on this signal (an LLM call or a retry sleep): above ~10 jobs Node would warn of a leak
  setMaxListeners(2 * o.concurrency + 10, jobAbort.signal);
  const onAbort = () => jobAbort.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const staleMs = o.intervals?.staleMs ?? 60_000;
  const heartbeatMs = o.intervals?.heartbeatMs ?? (o.staleSeconds > 0 ? Math.min(30_000, (o.staleSeconds * 1000) / 4) : 30_000);
  const maintenanceMs = o.intervals?.maintenanceMs ?? 300_000;
  let lastStale = 0;
  let lastMaintenance = 0;
  let errorStreak = 0;
  const deps = { db: o.db, config: o.config, extractor: o.extractor, live: o.live, broadcastOn: o.broadcast, dmsOn: o.dms, now, signal: jobAbort.signal };

  const start = (job: ClaimedJob) => {
    const started = performance.now();
    held.set(job.id, job);
    const p = processJob(job, deps)
      .catch((err: unknown) => {
        o.log.error({ job_id: job.id, raw_id: job.rawId, error: (err as Error).message }, 'worker_job_error');
        return 'lost' as JobOutcome; // the stale sweep gives it back
      })
      .then((outcome) => {
        summary.outcomes[outcome]++;
        metrics.jobsProcessed.inc({ pipeline_version: o.pipelineVersion, outcome, extractor: o.extractor.kind });
        metrics.jobSeconds.observe({ stage: 'total' }, (performance.now() - started) / 1000);
        o.onJob?.(outcome, summary);
      })
      .finally(() => {
        inflight.delete(job.id);
        held.delete(job.id);
      });
    inflight.set(job.id, p);
  };

  // Independent of the claim loop, which may be waiting on busy slots, a breaker or a database outage.
  const beatStop = new AbortController();
  const beating = (async () => {
    while (!beatStop.signal.aborted) {
      await sleep(heartbeatMs, beatStop.signal);
      // claimed jobs still waiting in the buffer for a slot are ours too
      const ours = [...held.values(), ...buffer];
      if (beatStop.signal.aborted || ours.length === 0) continue;
      try {
        await heartbeat(o.db, ours);
      } catch (err) {
        o.log.warn({ error: (err as Error).message, jobs: ours.length }, 'worker_heartbeat_failed');
      }
    }
  })();

  /** Until a job finishes or the next periodic task is due. */
  const waitForSlot = () => raceWait(inflight.values(), o.signal, (signal) => sleep(staleMs, signal));

  const periodic = async () => {
    const t = Date.now();
    if (o.staleSeconds > 0 && t - lastStale >= staleMs) {
      lastStale = t;
      const limit = o.config.worker.staleRequeueLimit;
      const swept = await requeueStale(o.db, o.staleSeconds, o.pipelineVersion, limit);
      if (swept.requeued > 0) {
        metrics.staleRequeued.inc(swept.requeued);
        o.log.warn({ count: swept.requeued, older_than_s: o.staleSeconds }, 'worker_requeued_stale_jobs');
      }
      if (swept.failed > 0) o.log.error({ count: swept.failed, stale_requeue_limit: limit }, 'worker_failed_stale_jobs_at_limit');
    }
    if (o.live && t - lastMaintenance >= maintenanceMs) {
      lastMaintenance = t;
      const m = await runMaintenance(o.db, o.config, { now: now(), touchBroadcasts: o.broadcast });
      if (m.retiered + m.expired > 0) o.log.info({ ...m }, 'worker_freshness');
    }
  };

  o.log.info(
    {
      pipeline_version: o.pipelineVersion,
      live: o.live,
      broadcast: o.broadcast,
      dms: o.dms,
      oneshot: o.oneshot,
      max_jobs: o.maxJobs,
      batch_size: o.batchSize,
      concurrency: o.concurrency,
      extractor: o.extractor.kind,
    },
    'worker_start',
  );

  try {
    while (!o.signal.aborted) {
      while (inflight.size < o.concurrency && buffer.length > 0) start(buffer.shift()!);
      try {
        await periodic();
        if (inflight.size >= o.concurrency) {
          await waitForSlot();
          continue;
        }
        if (o.maxJobs > 0 && summary.claimed >= o.maxJobs) {
          if (inflight.size === 0) {
            summary.exit = 'max_jobs';
            break;
          }
          await waitForSlot();
          continue;
        }
        const breaker = o.extractor.breaker;
        if (breaker?.isOpen()) {
          const waitMs = Math.min(Math.max(breaker.retryInMs(), 50), 5_000);
          o.log.warn({ retry_in_ms: breaker.retryInMs() }, 'worker_paused_llm_breaker_open');
          await raceWait(inflight.values(), o.signal, (signal) => sleep(waitMs, signal));
          continue;
        }
        const room = o.maxJobs > 0 ? Math.min(o.batchSize, o.maxJobs - summary.claimed) : o.batchSize;
        const jobs = await claim(o.db, o.pipelineVersion, room);
        errorStreak = 0;
        metrics.lastLoopAt.set(Date.now() / 1000);
        if (jobs.length > 0) {
          summary.claimed += jobs.length;
          buffer.push(...jobs);
          continue;
        }
        if (inflight.size > 0) {
          await raceWait(inflight.values(), o.signal, (signal) => waitForWork(o.db, o.pipelineVersion, { timeoutMs: o.idleMs, signal }));
          continue;
        }
        if (o.oneshot && (await outstanding(o.db, o.pipelineVersion)) === 0) {
          summary.exit = 'drained';
          break;
        }
        await waitForWork(o.db, o.pipelineVersion, { timeoutMs: o.idleMs, signal: o.signal });
      } catch (err) {
        // A failed claim (database restarting, network) is not a reason to exit
        errorStreak++;
        metrics.workerLoopErrors.inc();
        // capped at 5 s: a long outage must not leave the worker asleep for long after Postgres is back (the
        // first query after a restart can still fail on a connection of the old server and extend the streak)
        const delay = Math.min(5_000, 250 * 2 ** Math.min(errorStreak, 5));
        o.log.warn({ error: (err as Error).message, retry_in_ms: delay, streak: errorStreak }, 'worker_loop_error');
        await sleep(delay, o.signal);
      }
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    if (summary.exit === 'running') summary.exit = 'stopped';
    if (buffer.length > 0) {
      const unstarted = buffer.splice(0);
      await releaseWithRetry(o, unstarted);
      summary.outcomes.released += unstarted.length;
    }
    await Promise.allSettled(inflight.values());
    beatStop.abort();
    await beating;
  }
  o.log.info({ ...summary.outcomes, claimed: summary.claimed, exit: summary.exit }, 'worker_stop');
  return summary;
}

/**
 * Wait until a job finishes or `wait` ends, whichever is first; the wait is cancelled once the race is decided.
 * (Racing a plain sleep left its timer and its listener on the worker's signal behind on every job completion.)
 */
async function raceWait(inflight: Iterable<Promise<void>>, outer: AbortSignal, wait: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const scope = new AbortController();
  const stop = () => scope.abort();
  if (outer.aborted) scope.abort();
  else outer.addEventListener('abort', stop, { once: true });
  try {
    await Promise.race([...inflight, wait(scope.signal)]);
  } finally {
    outer.removeEventListener('abort', stop);
    scope.abort();
  }
}

async function releaseWithRetry(o: WorkerOptions, jobs: ClaimedJob[]): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await release(o.db, jobs, 'shutdown');
      return;
    } catch (err) {
      o.log.warn({ error: (err as Error).message, attempt }, 'worker_release_retry');
      await sleep(200 * attempt);
    }
  }
  o.log.error({ jobs: jobs.map((j) => j.id) }, 'worker_release_failed_stale_sweep_will_requeue');
}
