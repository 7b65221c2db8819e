import type { Queryable } from '../db/index.ts';
import type { ClaimedJob, JobRef, JobResult, JobFailure, JobSkip, QueueStatsRow, RetryPolicy, JobStatus } from './types.ts';

/**
 * The extraction queue. One named function per operation, each one SQL statement; batch operations send all
 * their jobs in one statement. Every write to a claimed job is fenced by (id, attempt, status = processing), so
 * a worker whose job was requeued meanwhile (stale sweep, re-enqueue of an edit) cannot overwrite the newer run.
 */

export interface EnqueueInput {
  pipelineVersion: string;
  channelLink: string;
  messageIds: readonly (string | number)[];
  force?: boolean;
}

/** One job per (raw row, version); see enqueue_telegram_extractions. Returns rows inserted or reset. */
export async function enqueue(db: Queryable, input: EnqueueInput): Promise<number> {
  const ids = input.messageIds.map((id) => String(id).trim()).filter((id) => id !== '');
  if (ids.length === 0) return 0;
  const [row] = await db.query<{ n: number }>('select enqueue_telegram_extractions($1, $2, $3::text[], $4) as n', [
    input.pipelineVersion,
    input.channelLink,
    ids,
    input.force ?? false,
  ]);
  return row?.n ?? 0;
}

/**
 * Enqueue raw rows by their raw ids (the collector's path after a batch upsert). `reason` is recorded in the
 * job's meta: 'edit' for a changed source post; otherwise 'force' when forced (an operator reparse, which never
 * has side effects) or 'new'.
 */
export async function enqueueRawIds(
  db: Queryable,
  pipelineVersion: string,
  rawIds: readonly number[],
  force = false,
  reason: 'edit' | null = null,
): Promise<number> {
  if (rawIds.length === 0) return 0;
  const [row] = await db.query<{ n: number }>('select enqueue_raw_ids($1, $2::bigint[], $3, $4) as n', [pipelineVersion, rawIds, force, reason]);
  return row?.n ?? 0;
}

/**
 * Create the jobs of these raw rows that do not exist yet; an existing job (processing, failed, ok…) is left
 * alone. For messages read again with unchanged text: only a new text, or a forced enqueue, re-enqueues.
 */
export async function enqueueMissingRawIds(db: Queryable, pipelineVersion: string, rawIds: readonly number[]): Promise<number> {
  if (rawIds.length === 0) return 0;
  const [row] = await db.query<{ n: number }>('select enqueue_raw_ids($1, $2::bigint[], false, null, true) as n', [pipelineVersion, rawIds]);
  return row?.n ?? 0;
}

export interface RawWindowPage {
  scanned: number;
  enqueued: number;
  /** keyset cursor to continue from; null when the page was empty */
  last: { date: Date; messageId: number } | null;
}

/** Enqueue the next page of a channel's raw rows in a window, after a keyset cursor (one statement). */
export async function enqueueRawWindow(
  db: Queryable,
  input: { pipelineVersion: string; channelLink: string; since: Date | null; until: Date | null; after: RawWindowPage['last']; limit: number; force: boolean },
): Promise<RawWindowPage> {
  const [row] = await db.query<{ out_scanned: number; out_enqueued: number; out_last_date: Date | null; out_last_id: number | null }>(
    'select * from enqueue_raw_window($1, $2, $3, $4, $5, $6, $7, $8)',
    [
      input.pipelineVersion,
      input.channelLink,
      input.since?.toISOString() ?? null,
      input.until?.toISOString() ?? null,
      input.after?.date.toISOString() ?? null,
      input.after?.messageId ?? null,
      input.limit,
      input.force,
    ],
  );
  return {
    scanned: row?.out_scanned ?? 0,
    enqueued: row?.out_enqueued ?? 0,
    last: row?.out_last_date && row.out_last_id !== null ? { date: row.out_last_date, messageId: row.out_last_id } : null,
  };
}

interface ExtractionRow {
  id: number;
  raw_id: number;
  pipeline_version: string;
  channel_link: string | null;
  message_id: number | null;
  message_date: Date | null;
  meta: Record<string, unknown> | null;
  created_at: Date;
}

function toJob(row: ExtractionRow): ClaimedJob {
  const meta = row.meta ?? {};
  return {
    id: row.id,
    rawId: row.raw_id,
    pipelineVersion: row.pipeline_version,
    channelLink: row.channel_link,
    messageId: row.message_id,
    messageDate: row.message_date,
    attempt: Number(meta.attempt ?? 1),
    meta,
    createdAt: row.created_at,
  };
}

/** Claim up to `limit` pending jobs of one version, oldest first (FOR UPDATE SKIP LOCKED). */
export async function claim(db: Queryable, pipelineVersion: string, limit: number): Promise<ClaimedJob[]> {
  const rows = await db.query<ExtractionRow>('select * from claim_telegram_extractions($1, $2) order by created_at, id', [pipelineVersion, limit]);
  return rows.map(toJob);
}

/** Mark jobs ok with their canonical output. Returns the ids actually completed (fenced). */
export async function complete(db: Queryable, results: readonly JobResult[]): Promise<number[]> {
  if (results.length === 0) return [];
  const rows = await db.query<{ id: number }>(
    `update telegram_extractions e
        set status = 'ok', canonical_json = r.canonical, error_json = null, next_attempt_at = null,
            meta = e.meta || coalesce(r.meta, '{}'::jsonb) || jsonb_build_object('finished_at', now()),
            llm_model = coalesce(r.llm_model, e.llm_model), updated_at = now()
       from jsonb_to_recordset($1::jsonb) as r(id bigint, attempt integer, canonical jsonb, meta jsonb, llm_model text)
      where e.id = r.id and e.status = 'processing' and (e.meta ->> 'attempt')::integer = r.attempt
      returning e.id`,
    [results.map((r) => ({ id: r.id, attempt: r.attempt, canonical: r.canonical, meta: r.meta ?? null, llm_model: r.llmModel ?? null }))],
  );
  return rows.map((r) => r.id);
}

/** Seconds to wait before attempt `attempt + 1`: base · 2^(attempt-1), capped. */
export function backoffSeconds(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.backoffMaxSeconds, policy.backoffBaseSeconds * 2 ** Math.max(0, attempt - 1));
}

export interface FailOutcome {
  /** back to pending for another attempt */
  retried: number[];
  /** terminal */
  failed: number[];
}

/**
 * Record failures. A transient failure with attempts left goes back to `pending` and is not claimed again
 * before its backoff has passed; anything else becomes `failed` with the error kept in error_json.
 */
export async function fail(db: Queryable, failures: readonly JobFailure[], policy: RetryPolicy): Promise<FailOutcome> {
  if (failures.length === 0) return { retried: [], failed: [] };
  // The budget counts attempts since the last (re-)enqueue: attempt − attempt_base.
  const rows = await db.query<{ id: number; status: JobStatus }>(
    `with f as (
       select r.*, e.id as job_id,
              r.attempt - coalesce((e.meta ->> 'attempt_base')::integer, 0) as used
         from jsonb_to_recordset($1::jsonb) as r(id bigint, attempt integer, transient boolean, error jsonb, meta jsonb)
         join telegram_extractions e on e.id = r.id
     ), d as (
       select f.*, (f.transient and f.used < $2::integer) as retry,
              least($4::double precision, $3::double precision * power(2, greatest(0, f.used - 1))) as delay
         from f
     )
     update telegram_extractions e
        set status = case when d.retry then 'pending' else 'failed' end,
            next_attempt_at = case when d.retry then now() + make_interval(secs => d.delay) else null end,
            error_json = d.error,
            meta = e.meta || coalesce(d.meta, '{}'::jsonb)
                   || jsonb_build_object('last_error_type', d.error ->> 'type', 'failed_at', now()),
            updated_at = now()
       from d
      where e.id = d.id and e.status = 'processing' and (e.meta ->> 'attempt')::integer = d.attempt
      returning e.id, e.status`,
    [
      failures.map((f) => ({ id: f.id, attempt: f.attempt, transient: f.transient, error: f.error, meta: f.meta ?? null })),
      policy.maxAttempts,
      policy.backoffBaseSeconds,
      policy.backoffMaxSeconds,
    ],
  );
  return {
    retried: rows.filter((r) => r.status === 'pending').map((r) => r.id),
    failed: rows.filter((r) => r.status === 'failed').map((r) => r.id),
  };
}

/** Mark jobs skipped (not an assignment, empty, deleted…) with the reason in meta. */
export async function skip(db: Queryable, skips: readonly JobSkip[]): Promise<number[]> {
  if (skips.length === 0) return [];
  const rows = await db.query<{ id: number }>(
    `update telegram_extractions e
        set status = 'skipped', error_json = null, next_attempt_at = null,
            meta = e.meta || coalesce(r.meta, '{}'::jsonb) || jsonb_build_object('skip_reason', r.reason, 'finished_at', now()),
            updated_at = now()
       from jsonb_to_recordset($1::jsonb) as r(id bigint, attempt integer, reason text, meta jsonb)
      where e.id = r.id and e.status = 'processing' and (e.meta ->> 'attempt')::integer = r.attempt
      returning e.id`,
    [skips.map((s) => ({ id: s.id, attempt: s.attempt, reason: s.reason, meta: s.meta ?? null }))],
  );
  return rows.map((r) => r.id);
}

/**
 * Give claimed jobs back untouched (shutdown, LLM breaker open): `pending` again and the attempt that claimed
 * them is not counted, so an outage never spends a job's budget.
 */
export async function release(db: Queryable, jobs: readonly JobRef[], reason: string): Promise<number[]> {
  if (jobs.length === 0) return [];
  const rows = await db.query<{ id: number }>(
    `update telegram_extractions e
        set status = 'pending', updated_at = now(),
            meta = e.meta || jsonb_build_object('attempt', greatest(0, r.attempt - 1), 'released_at', now(), 'release_reason', $2::text)
       from jsonb_to_recordset($1::jsonb) as r(id bigint, attempt integer)
      where e.id = r.id and e.status = 'processing' and (e.meta ->> 'attempt')::integer = r.attempt
      returning e.id`,
    [jobs.map((j) => ({ id: j.id, attempt: j.attempt })), reason],
  );
  return rows.map((r) => r.id);
}

/**
 * Jobs left `processing` for longer than this (their worker went quiet) go back to `pending` (one version, or
 * every version when null); the `staleLimit`-th time one is found stale it is failed with stale_requeue_limit.
 */
export async function requeueStale(
  db: Queryable,
  olderThanSeconds: number,
  pipelineVersion: string | null,
  staleLimit: number,
): Promise<{ requeued: number; failed: number }> {
  const [row] = await db.query<{ requeued: number; failed: number }>('select * from requeue_stale_extractions_for($1, $2, $3)', [
    Math.max(0, Math.floor(olderThanSeconds)),
    pipelineVersion,
    staleLimit,
  ]);
  return { requeued: row?.requeued ?? 0, failed: row?.failed ?? 0 };
}

/** Refresh the claims of jobs still being worked on, so no stale sweep takes them (fenced). Returns the ids still held. */
export async function heartbeat(db: Queryable, jobs: readonly JobRef[]): Promise<number[]> {
  if (jobs.length === 0) return [];
  const rows = await db.query<{ id: number }>(
    `update telegram_extractions e set updated_at = now()
       from jsonb_to_recordset($1::jsonb) as r(id bigint, attempt integer)
      where e.id = r.id and e.status = 'processing' and (e.meta ->> 'attempt')::integer = r.attempt
      returning e.id`,
    [jobs.map((j) => ({ id: j.id, attempt: j.attempt }))],
  );
  return rows.map((r) => r.id);
}

/** Counts by pipeline version × status, with the oldest job of each group. */
export async function stats(db: Queryable, pipelineVersion?: string): Promise<QueueStatsRow[]> {
  const rows = await db.query<{ pipeline_version: string; status: JobStatus; n: number; oldest: Date | null }>(
    `select pipeline_version, status, count(*) as n, min(created_at) as oldest
       from telegram_extractions
      where $1::text is null or pipeline_version = $1::text
      group by pipeline_version, status
      order by pipeline_version, status`,
    [pipelineVersion ?? null],
  );
  return rows.map((r) => ({ pipelineVersion: r.pipeline_version, status: r.status, count: r.n, oldestCreatedAt: r.oldest }));
}

/** Jobs of this version still pending or processing (oneshot workers exit when this reaches 0). */
export async function outstanding(db: Queryable, pipelineVersion: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*) as n from telegram_extractions where pipeline_version = $1 and status in ('pending', 'processing')`,
    [pipelineVersion],
  );
  return row?.n ?? 0;
}
