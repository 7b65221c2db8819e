import type { Queryable } from '../db/index.ts';

export type RunType = 'backfill' | 'tail' | 'live' | 'catchup' | 'enqueue' | 'import';
export const RUN_TYPES: readonly RunType[] = ['backfill', 'tail', 'live', 'catchup', 'enqueue', 'import'];
export type RunStatus = 'running' | 'ok' | 'error' | 'cancelled';

export interface RunRow {
  id: number;
  runType: RunType;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
  channels: string[] | null;
  meta: Record<string, unknown>;
}

export interface ProgressCounts {
  scanned: number;
  inserted: number;
  updated: number;
  errors: number;
  lastMessageId?: number | null;
  lastMessageDate?: Date | null;
}

export interface ProgressRow extends Required<ProgressCounts> {
  channelLink: string;
  updatedAt: Date;
}

export async function createRun(db: Queryable, runType: RunType, channels: string[], meta: Record<string, unknown>): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `insert into ingestion_runs (run_type, status, channels, meta, heartbeat_at) values ($1, 'running', $2::jsonb, $3::jsonb, now()) returning id`,
    [runType, channels, meta],
  );
  return row!.id;
}

/** End a run; `meta` is merged into what the run already recorded. Only a running run is finished. */
export async function finishRun(db: Queryable, runId: number, status: Exclude<RunStatus, 'running'>, meta: Record<string, unknown>): Promise<void> {
  await db.query(`update ingestion_runs set status = $2, finished_at = now(), meta = meta || $3::jsonb where id = $1 and status = 'running'`, [
    runId,
    status,
    meta,
  ]);
}

export async function heartbeat(db: Queryable, runId: number): Promise<void> {
  await db.query(`update ingestion_runs set heartbeat_at = now() where id = $1`, [runId]);
}

/** Every run heartbeats this often while its process is alive (the tail also beats on each flush). */
export const RUN_HEARTBEAT_MS = 30_000;
/** A `running` run whose last heartbeat is older than this belongs to a process that died unseen (kill -9, OOM, power loss). */
export const RUN_ABANDONED_AFTER_SECONDS = 300;

/**
 * Close runs left `running` by a process that ended without seeing its own exit: status `error`, finished at the
 * last heartbeat, `meta.abandoned`. Returns the ids closed.
 */
export async function closeAbandonedRuns(db: Queryable, olderThanSeconds = RUN_ABANDONED_AFTER_SECONDS): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `update ingestion_runs set status = 'error', finished_at = coalesce(heartbeat_at, started_at),
            meta = meta || jsonb_build_object('abandoned', true, 'error', 'abandoned: no heartbeat for ' || $1::int || ' s (process killed?)')
      where status = 'running' and coalesce(heartbeat_at, started_at) < now() - make_interval(secs => $1::int)
      returning id`,
    [olderThanSeconds],
  );
  return rows.map((r) => Number(r.id));
}

/** Record a channel's counts for a run (values are totals, not increments); known last id/date are never nulled. */
export async function upsertProgress(db: Queryable, runId: number, channelLink: string, c: ProgressCounts): Promise<void> {
  await db.query(
    `insert into ingestion_run_progress (run_id, channel_link, scanned_count, inserted_count, updated_count, error_count, last_message_id, last_message_date)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (run_id, channel_link) do update set
       scanned_count = excluded.scanned_count, inserted_count = excluded.inserted_count,
       updated_count = excluded.updated_count, error_count = excluded.error_count,
       last_message_id = coalesce(excluded.last_message_id, ingestion_run_progress.last_message_id),
       last_message_date = coalesce(excluded.last_message_date, ingestion_run_progress.last_message_date),
       updated_at = now()`,
    [runId, channelLink, c.scanned, c.inserted, c.updated, c.errors, c.lastMessageId ?? null, c.lastMessageDate?.toISOString() ?? null],
  );
}

function toRun(r: Record<string, unknown>): RunRow {
  return {
    id: r.id as number,
    runType: r.run_type as RunType,
    status: r.status as RunStatus,
    startedAt: r.started_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? null,
    heartbeatAt: (r.heartbeat_at as Date | null) ?? null,
    channels: (r.channels as string[] | null) ?? null,
    meta: (r.meta as Record<string, unknown>) ?? {},
  };
}

export async function getRun(db: Queryable, runId: number): Promise<RunRow | null> {
  const [row] = await db.query('select * from ingestion_runs where id = $1', [runId]);
  return row ? toRun(row) : null;
}

export async function latestRun(db: Queryable, runType?: RunType): Promise<RunRow | null> {
  const [row] = await db.query('select * from ingestion_runs where $1::text is null or run_type = $1::text order by started_at desc, id desc limit 1', [
    runType ?? null,
  ]);
  return row ? toRun(row) : null;
}

export async function listProgress(db: Queryable, runId: number): Promise<ProgressRow[]> {
  const rows = await db.query<Record<string, unknown>>('select * from ingestion_run_progress where run_id = $1 order by channel_link', [runId]);
  return rows.map((r) => ({
    channelLink: r.channel_link as string,
    scanned: r.scanned_count as number,
    inserted: r.inserted_count as number,
    updated: r.updated_count as number,
    errors: r.error_count as number,
    lastMessageId: (r.last_message_id as number | null) ?? null,
    lastMessageDate: (r.last_message_date as Date | null) ?? null,
    updatedAt: r.updated_at as Date,
  }));
}
