import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/index.ts';
import { collectProcessMetrics } from '../metrics/index.ts';
import { runMaintenance, runWorkerService, type WorkerFlags, type WorkerServiceResult } from '../worker/index.ts';
import { intOption } from './collector-commands.ts';
import { withDatabase } from './commands.ts';
import { createLogger, type CliIO } from './runtime.ts';
import { startDashboard } from './web-commands.ts';

interface Shared {
  io: CliIO;
  getConfig: () => Config;
}

function mode(value: string): 'llm' | 'rules' {
  if (value !== 'llm' && value !== 'rules') throw new InvalidArgumentError('--mode must be llm or rules');
  return value;
}

export function formatWorkerResult(r: WorkerServiceResult): string {
  const o = r.outcomes;
  const parts = [
    `worker ${r.exit}: claimed=${r.claimed} ok=${o.ok} skipped=${o.skipped} failed=${o.failed} retried=${o.retried} released=${o.released}`,
    `version=${r.pipelineVersion}${r.live ? ' (live)' : ' (drain: queue rows only)'}`,
    `broadcast=${r.broadcast ? 'on' : 'off'} dms=${r.dms ? 'on' : 'off'}`,
  ];
  if (r.delivery) parts.push(`delivered=${r.delivery.sent} delivery_failed=${r.delivery.failed}`);
  return parts.join(' · ');
}

export function registerWorkerCommands(program: Command, shared: Shared): void {
  const { io } = shared;
  program
    .command('worker')
    .description('process extraction jobs of a pipeline version: extract → assignments → broadcast/DMs (Mode 4 with --oneshot)')
    .option('--pipeline-version <version>', 'queue lane to drain (default EXTRACTION_PIPELINE_VERSION; any other version only fills its queue rows)')
    .option('--analysis-only', 'never write assignments or send anything, even for the live version')
    .option('--broadcast', 'post new assignments to BROADCAST_CHAT_ID (default EXTRACTION_WORKER_BROADCAST)')
    .option('--no-broadcast', 'no broadcasts')
    .option('--dms', 'DM matching tutors (default EXTRACTION_WORKER_DMS)')
    .option('--no-dms', 'no DMs')
    .option('--oneshot', 'exit 0 once no job of this version is pending or processing')
    .option('--max-jobs <n>', 'stop claiming after N jobs; what was claimed is finished', intOption('--max-jobs', 1))
    .option('--batch-size <n>', 'jobs per claim', intOption('--batch-size', 1, 1000))
    .option('--concurrency <n>', 'jobs processed at once', intOption('--concurrency', 1, 256))
    .option('--mode <mode>', 'llm or rules (default EXTRACTION_MODE)', mode)
    .action(async (opts: WorkerFlags) => {
      const config = shared.getConfig();
      const log = createLogger(config, io);
      const signal = io.signal ?? new AbortController().signal;
      collectProcessMetrics();
      await withDatabase(config, async (db) => {
        const web = config.web.metricsPort === null ? null : await startDashboard(db, config, '127.0.0.1', config.web.metricsPort);
        if (web) io.err(`metrics: ${web.url}/metrics   health: ${web.url}/health`);
        try {
          const result = await runWorkerService({ db, config, log, signal, flags: opts });
          io.out(formatWorkerResult(result));
        } finally {
          await web?.close();
        }
      });
    });

  program
    .command('expire')
    .description('re-tier open assignments by source age and expire the old ones (the live worker also does this every 5 minutes)')
    .option('--dry-run', 'only count what would expire')
    .action(async (opts: { dryRun?: boolean }) => {
      const config = shared.getConfig();
      await withDatabase(config, async (db) => {
        const r = await runMaintenance(db, config, { touchBroadcasts: config.worker.broadcast, dryRun: opts.dryRun });
        io.out(
          opts.dryRun
            ? `would expire ${r.expired} assignment(s) older than ${config.assignments.freshness.expireHours} h`
            : `expired ${r.expired} · re-tiered ${r.retiered} · broadcast edits queued ${r.broadcastEdits} · broadcast deletes queued ${r.broadcastDeletes}`,
        );
      });
    });
}
