import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queryable } from '../db/index.ts';

/**
 * One Prometheus registry per process. Modules increment these; the web server (issue 7) serves
 * `registry.metrics()`. Every metric defined here is emitted somewhere (a test checks each one moves).
 */
export const registry = new Registry();
let defaultsOn = false;

/** Process metrics (CPU, memory, event loop) – only for long-running commands. */
export function collectProcessMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: registry, prefix: 'tutordex_' });
}

export const metrics = {
  jobsProcessed: new Counter({
    name: 'tutordex_worker_jobs_total',
    help: 'Extraction jobs finished by the worker, by outcome (ok, skipped, failed, retried, released) and extractor',
    labelNames: ['pipeline_version', 'outcome', 'extractor'] as const,
    registers: [registry],
  }),
  jobSeconds: new Histogram({
    name: 'tutordex_worker_stage_seconds',
    help: 'Time per job stage (load_raw, extract, persist, side_effects, total)',
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300],
    registers: [registry],
  }),
  staleRequeued: new Counter({
    name: 'tutordex_worker_stale_requeued_total',
    help: 'Jobs found stuck in processing and put back to pending',
    registers: [registry],
  }),
  workerLoopErrors: new Counter({
    name: 'tutordex_worker_loop_errors_total',
    help: 'Claim or database errors the worker loop backed off from',
    registers: [registry],
  }),
  assignmentsWritten: new Counter({
    name: 'tutordex_assignments_written_total',
    help: 'Assignment projection writes by action (inserted, updated, bumped, closed, reopened, expired)',
    labelNames: ['action'] as const,
    registers: [registry],
  }),
  suppressions: new Counter({
    name: 'tutordex_side_effects_suppressed_total',
    help: 'Broadcasts/DMs not sent, by kind and reason',
    labelNames: ['kind', 'reason'] as const,
    registers: [registry],
  }),
  deliveries: new Counter({
    name: 'tutordex_deliveries_total',
    help: 'Bot API deliveries by kind (broadcast, dm, edit, delete) and outcome (sent, failed, retried, skipped, uncertain, held: a DM kept back by quiet hours)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  }),
  deliveryRateLimited: new Counter({
    name: 'tutordex_delivery_rate_limited_total',
    help: 'Bot API 429 answers (the call is retried after retry_after)',
    registers: [registry],
  }),
  linkClicks: new Counter({
    name: 'tutordex_link_clicks_total',
    help: 'Clicks through /r/<token> (PUBLIC_BASE_URL links), by the message kind (broadcast, dm)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  duplicatesGrouped: new Counter({
    name: 'tutordex_duplicates_grouped_total',
    help: 'Assignments added to a cross-agency duplicate group',
    registers: [registry],
  }),
  messagesIngested: new Counter({
    name: 'tutordex_messages_ingested_total',
    help: 'Raw messages written by the collector, by channel and kind (new, edit, seen_again, delete)',
    labelNames: ['channel', 'kind'] as const,
    registers: [registry],
  }),
  llmCalls: new Counter({
    name: 'tutordex_llm_calls_total',
    help: 'LLM extractions by model and whether the answer came from the reuse store',
    labelNames: ['model', 'reused'] as const,
    registers: [registry],
  }),
  llmTokens: new Counter({
    name: 'tutordex_llm_tokens_total',
    help: 'LLM tokens by kind (prompt, completion)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  llmErrors: new Counter({
    name: 'tutordex_llm_errors_total',
    help: 'LLM failures by type (llm_timeout, llm_http_5xx, llm_invalid_json, llm_circuit_open, …)',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  lastLoopAt: new Gauge({
    name: 'tutordex_worker_last_loop_timestamp_seconds',
    help: 'Unix time of the worker loop’s last successful round',
    registers: [registry],
  }),
};

let queueDb: Queryable | null = null;

/** Queue depth is read from the database at scrape time (every worker sees the same shared queue). */
export function bindQueueMetrics(db: Queryable): void {
  queueDb = db;
}

export const queueJobs = new Gauge({
  name: 'tutordex_queue_jobs',
  help: 'Extraction jobs by pipeline version and status (read at scrape time)',
  labelNames: ['pipeline_version', 'status'] as const,
  registers: [registry],
  async collect() {
    if (!queueDb) return;
    this.reset();
    const rows = await queueDb.query<{ v: string; s: string; n: number }>(
      'select pipeline_version as v, status as s, count(*)::int as n from telegram_extractions group by 1, 2',
    );
    for (const r of rows) this.set({ pipeline_version: r.v, status: r.s }, r.n);
  },
});

export const oldestPendingSeconds = new Gauge({
  name: 'tutordex_queue_oldest_pending_seconds',
  help: 'Age of the oldest claimable pending job (since it became pending), by pipeline version',
  labelNames: ['pipeline_version'] as const,
  registers: [registry],
  async collect() {
    if (!queueDb) return;
    this.reset();
    const rows = await queueDb.query<{ v: string; age: number }>(
      `select pipeline_version as v, extract(epoch from now() - min(coalesce(next_attempt_at, updated_at)))::float8 as age
         from telegram_extractions where status = 'pending' group by 1`,
    );
    for (const r of rows) this.set({ pipeline_version: r.v }, Math.max(0, r.age));
  },
});

export const catchupLagSeconds = new Gauge({
  name: 'tutordex_catchup_lag_seconds',
  help: 'Running catch-up: how far its slowest channel cursor is behind the catch-up target (0 when none runs)',
  registers: [registry],
  async collect() {
    if (!queueDb) return;
    const [row] = await queueDb.query<{ lag: number | null }>(
      `select extract(epoch from (r.meta ->> 'target_iso')::timestamptz - min(p.last_message_date))::float8 as lag
         from ingestion_runs r join ingestion_run_progress p on p.run_id = r.id
        where r.run_type = 'catchup' and r.status = 'running' and r.meta ? 'target_iso'
        group by r.id, r.meta order by r.id desc limit 1`,
    );
    this.set(Math.max(0, row?.lag ?? 0));
  },
});

/** Current value of a counter (sum over label sets matching `labels`), for tests and summaries. */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}
