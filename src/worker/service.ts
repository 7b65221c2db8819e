import { hostname } from 'node:os';
import { setLiveVersion } from '../assignments/index.ts';
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
    if (broadcast && config.delivery.broadcastChatIds.length === 0) throw new ConfigError('broadcasting needs BROADCAST_CHAT_ID (the channel to post to); set it, or run with --no-broadcast');
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
 * `tutordex worker`: the extraction worker plus, when broadcasts or DMs are on, the delivery dispatcher that
 * drains the outbox. A oneshot run flushes the outbox before it returns.
 */
export async function runWorkerService(o: WorkerServiceOptions): Promise<WorkerServiceResult> {
  const s = resolveWorkerSettings(o.config, o.flags);
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
    const client = o.botClient ?? createBotClient({ token: o.config.delivery.botToken!, apiUrl: o.config.delivery.botApiUrl });
    dispatcher = createDispatcher({
      db: o.db,
      client,
      log: o.log,
      leaseOwner: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
      maxAttempts: o.config.delivery.maxAttempts,
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
      if (!o.signal.aborted) delivery = await dispatcher.runOnce(); // flush what the last jobs queued
    }
    return { ...summary, pipelineVersion: s.pipelineVersion, live: s.live, broadcast: s.broadcast, dms: s.dms, delivery };
  } finally {
    stopDispatch();
    o.signal.removeEventListener('abort', stopDispatch);
    await dispatching;
  }
}
