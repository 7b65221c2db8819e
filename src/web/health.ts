import { failedCatchups } from '../collector/index.ts';
import type { Queryable } from '../db/index.ts';
import type { HealthResponse } from './api-types.ts';

export interface HealthOptions {
  /** a running tail/live run whose heartbeat is older than this is failing */
  tailHeartbeatMaxAgeSeconds: number;
  /** the oldest job waiting to be claimed may be this old */
  pendingMaxAgeSeconds: number;
  /** the database must answer within this */
  timeoutMs: number;
}

export const DEFAULT_HEALTH: HealthOptions = { tailHeartbeatMaxAgeSeconds: 180, pendingMaxAgeSeconds: 1800, timeoutMs: 3000 };

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Health of the whole pipeline, not a constant "ok" (docs/operations.md, "Health and metrics"): the database answers;
 * a running tail has a recent heartbeat; the oldest claimable job is not stuck; no channel's catch-up has failed. A
 * failing check names itself.
 */
export async function checkHealth(db: Queryable, options: HealthOptions = DEFAULT_HEALTH): Promise<HealthResponse> {
  const checks: HealthResponse['checks'] = [];
  let row: { tail_age: number | null; tail_runs: number; pending_age: number | null } | undefined;
  try {
    [row] = await withTimeout(
      db.query<{ tail_age: number | null; tail_runs: number; pending_age: number | null }>(
        `select (select extract(epoch from now() - max(heartbeat_at))::float8 from ingestion_runs where status = 'running' and run_type in ('tail', 'live')) as tail_age,
                (select count(*)::int from ingestion_runs where status = 'running' and run_type in ('tail', 'live')) as tail_runs,
                (select extract(epoch from now() - min(coalesce(next_attempt_at, updated_at)))::float8 from telegram_extractions
                  where status = 'pending' and (next_attempt_at is null or next_attempt_at <= now())) as pending_age`,
      ),
      options.timeoutMs,
    );
    checks.push({ name: 'database', ok: true, detail: 'answers' });
  } catch (err) {
    checks.push({ name: 'database', ok: false, detail: `unreachable: ${(err as Error).message.split('\n')[0]}` });
    return { ok: false, checks };
  }
  if (!row || row.tail_runs === 0) checks.push({ name: 'tail', ok: true, detail: 'no tail running in this database' });
  else if (row.tail_age === null || row.tail_age > options.tailHeartbeatMaxAgeSeconds) {
    checks.push({
      name: 'tail',
      ok: false,
      detail: `last heartbeat ${row.tail_age === null ? 'never' : `${Math.round(row.tail_age)} s ago`} (limit ${options.tailHeartbeatMaxAgeSeconds} s)`,
    });
  } else checks.push({ name: 'tail', ok: true, detail: `heartbeat ${Math.round(row.tail_age)} s ago` });
  if (row?.pending_age == null) checks.push({ name: 'queue', ok: true, detail: 'nothing waiting' });
  else if (row.pending_age > options.pendingMaxAgeSeconds) {
    checks.push({ name: 'queue', ok: false, detail: `oldest pending job waits ${Math.round(row.pending_age)} s (limit ${options.pendingMaxAgeSeconds} s)` });
  } else checks.push({ name: 'queue', ok: true, detail: `oldest pending job waits ${Math.round(row.pending_age)} s` });
  // A failed catch-up means the downtime's posts were never read: red until a catch-up of those channels succeeds.
  const failed = await failedCatchups(db).catch(() => null);
  if (failed === null) checks.push({ name: 'catchup', ok: false, detail: 'catch-up state unreadable' });
  else if (failed.length === 0) checks.push({ name: 'catchup', ok: true, detail: 'no failed catch-up' });
  else {
    const channels = failed.map((f) => f.channelLink);
    checks.push({
      name: 'catchup',
      ok: false,
      detail: `catch-up failed for ${channels.length} channel(s) (${channels.slice(0, 3).join(', ')}${channels.length > 3 ? ', …' : ''}): ${failed[0]!.lastError ?? 'unknown error'}; posts made while TutorDex was down are unread until it succeeds (fix the cause, then restart live)`,
    });
  }
  return { ok: checks.every((c) => c.ok), checks };
}
