import { loadConfig, type Config } from '../../src/config/index.ts';
import type { Database, Queryable } from '../../src/db/index.ts';
import { RulesExtractor, type Extractor } from '../../src/extraction/index.ts';
import { claim, enqueueRawIds } from '../../src/queue/index.ts';
import { processJob, runWorkerService, type WorkerFlags, type WorkerServiceOptions } from '../../src/worker/index.ts';
import { recordingLog } from './collector.ts';
import { rawMessage } from './assignments.ts';
import { assertNoSecrets } from './secrets.ts';

export const VERSION = 'v1';

/** Configuration as the worker sees it, from environment variables (no .env file). DM quiet hours are off (tests must not depend on the hour). */
export function workerConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      EXTRACTION_PIPELINE_VERSION: VERSION,
      EXTRACTION_WORKER_IDLE_S: '0.05',
      EXTRACTION_BACKOFF_BASE_S: '0',
      EXTRACTION_BACKOFF_MAX_S: '0',
      DM_QUIET_HOURS: 'off',
      ...env,
    },
    envFile: null,
  });
}

/** Store posts as raw messages (fresh: minutes old) and enqueue them. Returns raw ids in order. */
export async function postAndEnqueue(
  db: Database,
  posts: { channel: string; messageId: number; text: string; date?: Date; title?: string; replyTo?: number }[],
  options: { version?: string; force?: boolean; reason?: 'edit' } = {},
): Promise<number[]> {
  const ids: number[] = [];
  for (const p of posts) ids.push(await rawMessage(db, { ...p, date: p.date ?? new Date(Date.now() - 5 * 60_000) }));
  await enqueueRawIds(db, options.version ?? VERSION, ids, options.force ?? false, options.reason ?? null);
  return ids;
}

/** Run the worker service to completion (oneshot unless told otherwise). */
export async function drain(db: Database, config: Config, flags: WorkerFlags = {}, extra: Partial<WorkerServiceOptions> = {}) {
  const log = recordingLog();
  const result = await runWorkerService({
    db,
    config,
    log,
    signal: extra.signal ?? new AbortController().signal,
    flags: { oneshot: true, ...flags },
    intervals: { staleMs: 50, heartbeatMs: 50, maintenanceMs: 60_000 },
    ...extra,
  });
  assertNoSecrets('worker log', JSON.stringify(log.lines));
  return { result, log };
}

export async function jobRows(db: Database, version = VERSION) {
  return db.query<{
    message_id: number;
    channel_link: string;
    status: string;
    error_json: { type: string } | null;
    meta: Record<string, unknown>;
    canonical_json: unknown;
  }>(
    `select message_id, channel_link, status, error_json, meta, canonical_json from telegram_extractions where pipeline_version = $1 order by channel_link, message_id`,
    [version],
  );
}

/** Environment of a real `tutordex worker` child process on a test database, posting to a fake Bot API. */
export function workerProcessEnv(databaseUrl: string, botUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    EXTRACTION_PIPELINE_VERSION: VERSION,
    TELEGRAM_BOT_TOKEN: '123456:fake-token',
    TELEGRAM_BOT_API_URL: botUrl,
    BROADCAST_CHAT_ID: '@tutordex_test',
    LOG_LEVEL: 'warn',
    DM_QUIET_HOURS: 'off',
    ...extra,
  };
}

/**
 * The rules extractor behind a gate (the project's Extractor interface, nothing patched): each extract() call
 * announces itself and then waits until the test opens the gate. `entered(n)` resolves once n calls are waiting.
 */
export function gatedExtractor(): { extractor: Extractor; entered: (n?: number) => Promise<void>; open: () => void } {
  const inner = new RulesExtractor();
  let waiting = 0;
  const watchers: { n: number; resolve: () => void }[] = [];
  let opened!: () => void;
  const gate = new Promise<void>((resolve) => (opened = resolve));
  const notify = () => {
    for (const w of watchers.splice(0))
      if (waiting >= w.n) w.resolve();
      else watchers.push(w);
  };
  return {
    extractor: {
      kind: 'rules',
      async extract(text, context) {
        waiting++;
        notify();
        await gate;
        return inner.extract(text, context);
      },
    },
    entered: (n = 1) =>
      new Promise<void>((resolve) => {
        watchers.push({ n, resolve });
        notify();
      }),
    open: () => opened(),
  };
}

/** Run the worker only (no dispatcher): every queued job of VERSION, live with side effects on, with the given clock. */
export async function workOnly(db: Database, config: Config, now: () => Date = () => new Date()): Promise<void> {
  const deps = { db, config, extractor: new RulesExtractor(), live: true, broadcastOn: true, dmsOn: true, now, signal: new AbortController().signal };
  for (;;) {
    const jobs = await claim(db, VERSION, 10);
    if (jobs.length === 0) return;
    for (const job of jobs) await processJob(job, deps);
  }
}

/** The collector hearing that a post was deleted (what markDeleted writes). */
export const deletePost = (db: Queryable, channel: string, messageId: number) =>
  db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = $1 and message_id = $2`, [channel, messageId]);
