import { hostname } from 'node:os';
import { liveVersion, setLiveVersion } from '../assignments/index.ts';
import type { Log } from '../collector/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { createBotClient, createDispatcher, type BotClient, type DispatchStats } from '../delivery/index.ts';
import { ConfigError } from '../errors.ts';
import { createExtractor, type Extractor } from '../extraction/index.ts';
import { runWorker, type WorkerOptions, type WorkerSummary } from './worker.ts';

export interface WorkerFlags {
  pipelineVersion?: string;
  /** never write assignments or send anything, even for the live version (A/B, analysis) */
  analysisOnly?: boolean;
  broadcast?: boolean;
  dms?: boolean;
  oneshot?: boolean;
  maxJobs?: number;
  batchSize?: number;
  concurrency?: number;
  mode?: 'llm' | 'rules';
}

export interface WorkerServiceOptions {
  db: Database;
  config: Config;
  log: Log;
  signal: AbortSignal;
  flags: WorkerFlags;
  /** replace the Bot API client (tests point grammY at a fake server through TELEGRAM_BOT_API_URL instead) */
  botClient?: BotClient;
  extractor?: Extractor;
  onJob?: WorkerOptions['onJob'];
  intervals?: WorkerOptions['intervals'];
  now?: () => Date;
}

export interface WorkerServiceResult extends WorkerSummary {
  pipelineVersion: string;
  live: boolean;
  broadcast: boolean;
  dms: boolean;
  delivery: DispatchStats | null;
}

/** Resolve flags over configuration. Side effects are on only when a variable or flag says so (never implied). */
export function resolveWorkerSettings(config: Config, flags: WorkerFlags) {
  const pipelineVersion = flags.pipelineVersion?.trim() || config.pipelineVersion;
  const live = !flags.analysisOnly && pipelineVersion === config.pipelineVersion;
  const broadcast = live && (flags.broadcast ?? config.worker.broadcast);
  const dms = live && (flags.dms ?? config.worker.dms);
  if (broadcast || dms) {
    const what = broadcast ? 'broadcasting (EXTRACTION_WORKER_BROADCAST / --broadcast)' : 'DMs (EXTRACTION_WORKER_DMS / --dms)';
    if (!config.delivery.botToken) throw new ConfigError(`${what} needs TELEGRAM_BOT_TOKEN; set it, or run with --no-broadcast --no-dms`);
    if (broadcast && config.delivery.broadcastChatIds.length === 0)
      throw new ConfigError('broadcasting needs BROADCAST_CHAT_ID (the channel to post to); set it, or run with --no-broadcast');
  }
  return {
    pipelineVersion,
    live,
    broadcast,
    dms,
    oneshot: flags.oneshot ?? config.worker.oneshot,
    maxJobs: flags.maxJobs ?? config.worker.maxJobs,
    batchSize: flags.batchSize ?? config.worker.batchSize,
    concurrency: flags.concurrency ?? config.worker.concurrency,
    mode: flags.mode ?? config.extractionMode,
  };
}

/**
 * A run that takes jobs of the live lane must do everything the live workers do with them: a job it marks done is
 * never processed again, so an assignment it does not write, or a broadcast/DM it does not queue, is lost for
 * good. So on the live version `--analysis-only`, and `--no-broadcast`/`--no-dms` against an
 * EXTRACTION_WORKER_BROADCAST/_DMS that is on, are refused (a test or analysis run takes a version of its own).
 * The live version is the one the live workers recorded; before any has run, this configuration's version, unless
 * `--pipeline-version` names the lane explicitly (an A/B side, checked by `ab run` against the base configuration).
 */
export async function assertLiveLaneKept(db: Database, config: Config, flags: WorkerFlags, s: ReturnType<typeof resolveWorkerSettings>): Promise<void> {
  const recorded = await liveVersion(db);
  const lane = recorded ?? (flags.pipelineVersion?.trim() ? null : config.pipelineVersion);
  if (!s.live && s.pipelineVersion !== lane) return;
  const v = s.pipelineVersion;
  const own = 'a test or analysis run needs a version of its own (--pipeline-version OTHER)';
  if (flags.analysisOnly)
    throw new ConfigError(`--analysis-only on the live pipeline version ${v} would mark its jobs done with no assignment and nothing sent; ${own}`);
  if (!s.live)
    throw new ConfigError(
      `${v} is the live pipeline version (recorded by the live workers); a drain of it under EXTRACTION_PIPELINE_VERSION=${config.pipelineVersion} would mark its jobs done with no assignment and nothing sent`,
    );
  if (config.worker.broadcast && !s.broadcast)
    throw new ConfigError(
      `--no-broadcast on the live pipeline version ${v} would lose the broadcasts of the jobs it takes (EXTRACTION_WORKER_BROADCAST is on); ${own}`,
    );
  if (config.worker.dms && !s.dms)
    throw new ConfigError(`--no-dms on the live pipeline version ${v} would lose the DMs of the jobs it takes (EXTRACTION_WORKER_DMS is on); ${own}`);
}

/**
 * `tutordex worker`: the extraction worker plus, when broadcasts or DMs are on, the delivery dispatcher that
 * drains the outbox. A oneshot run flushes the outbox before it returns.
 */
export async function runWorkerService(o: WorkerServiceOptions): Promise<WorkerServiceResult> {
  const s = resolveWorkerSettings(o.config, o.flags);
  await assertLiveLaneKept(o.db, o.config, o.flags, s);
  const extractor = o.extractor ?? createExtractor(o.config, s.mode, { db: o.db });
  if (s.live) {
    const replaced = await setLiveVersion(o.db, s.pipelineVersion);
    if (replaced) o.log.warn({ previous: replaced, live: s.pipelineVersion }, 'worker_live_version_changed');
  }
  const dispatchAbort = new AbortController();
  const stopDispatch = () => dispatchAbort.abort();
  o.signal.addEventListener('abort', stopDispatch, { once: true });
  let dispatcher: ReturnType<typeof createDispatcher> | null = null;
  let dispatching: Promise<void> = Promise.resolve();
  if (s.broadcast || s.dms) {
    const client =
      o.botClient ??
      createBotClient({ token: o.config.delivery.botToken!, apiUrl: o.config.delivery.botApiUrl, timeoutSeconds: o.config.delivery.botTimeoutSeconds });
    dispatcher = createDispatcher({
      db: o.db,
      client,
      log: o.log,
      leaseOwner: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
      maxAttempts: o.config.delivery.maxAttempts,
      uncertainRetries: o.config.delivery.uncertainRetries,
      leaseSeconds: o.config.delivery.sendingLeaseSeconds,
      freshness: o.config.assignments.freshness,
      now: o.now,
      quietHours: o.config.delivery.dmQuietHours,
      publicBaseUrl: o.config.delivery.publicBaseUrl,
    });
    dispatching = dispatcher.run(dispatchAbort.signal).catch((err: Error) => o.log.error({ error: err.message }, 'delivery_dispatcher_failed'));
  }
  try {
    const summary = await runWorker({
      db: o.db,
      config: o.config,
      extractor,
      log: o.log,
      signal: o.signal,
      pipelineVersion: s.pipelineVersion,
      live: s.live,
      broadcast: s.broadcast,
      dms: s.dms,
      oneshot: s.oneshot,
      maxJobs: s.maxJobs,
      batchSize: s.batchSize,
      concurrency: s.concurrency,
      idleMs: Math.round(o.config.worker.idleSeconds * 1000),
      staleSeconds: o.config.worker.staleProcessingSeconds,
      now: o.now,
      intervals: o.intervals,
      onJob: o.onJob,
    });
    let delivery: DispatchStats | null = null;
    if (dispatcher) {
      stopDispatch();
      await dispatching;
      if (!o.signal.aborted) delivery = await dispatcher.flush(o.signal); // what the last jobs queued, short waits included
    }
    return { ...summary, pipelineVersion: s.pipelineVersion, live: s.live, broadcast: s.broadcast, dms: s.dms, delivery };
  } finally {
    stopDispatch();
    o.signal.removeEventListener('abort', stopDispatch);
    await dispatching;
  }
}
