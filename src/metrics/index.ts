import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    help: 'Bot API deliveries by kind (broadcast, dm, edit, delete) and outcome (sent, failed, retried, skipped, uncertain)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  }),
  deliveryRateLimited: new Counter({
    name: 'tutordex_delivery_rate_limited_total',
    help: 'Bot API 429 answers (the call is retried after retry_after)',
    registers: [registry],
  }),
  duplicatesGrouped: new Counter({
    name: 'tutordex_duplicates_grouped_total',
    help: 'Assignments added to a cross-agency duplicate group',
    registers: [registry],
  }),
  lastLoopAt: new Gauge({
    name: 'tutordex_worker_last_loop_timestamp_seconds',
    help: 'Unix time of the worker loop’s last successful round',
    registers: [registry],
  }),
};

/** Current value of a counter (sum over label sets matching `labels`), for tests and summaries. */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}
