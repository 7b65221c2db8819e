import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { parseChannelList, parseTimeZone, parseWindow, type Config } from '../config/index.ts';
import { collectStatus, runBackfill, runEnqueue, runImport, runLive, RUN_TYPES, type CollectorContext, type RunType } from '../collector/index.ts';
import { knownChannelLinks } from '../raw/index.ts';
import { runTutorCityPoller } from '../sources/index.ts';
import { ConfigError, UserError } from '../errors.ts';
import { formatQueueStats, withDatabase } from './commands.ts';
import { table } from './format.ts';
import { createProgress } from './progress.ts';
import { catchupSourceFor, createLogger, telegramSource, type CliIO } from './runtime.ts';
import { startDashboard } from './web-commands.ts';

export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

function channelsFrom(flag: string | undefined, config: Config): string[] {
  const fromFlag = flag === undefined ? [] : parseChannelList(flag);
  const channels = fromFlag.length > 0 ? fromFlag : config.channels;
  if (channels.length === 0) throw new UserError('no channels provided: set CHANNEL_LIST in .env or pass --channels');
  return channels;
}

/**
 * COLLECTOR_WAIT_FOR_TELEGRAM_CREDS: instead of exiting when credentials are missing (and a container
 * crash-looping), log once a minute until stopped. Returns false when the command should end.
 */
async function credentialsOrWait(
  config: Config,
  io: CliIO,
  log: { warn: (f: Record<string, unknown>, e: string) => void },
  signal: AbortSignal,
): Promise<boolean> {
  const t = config.telegram;
  if (io.telegramSource || (t.apiId !== null && t.apiHash !== null) || !t.waitForCredentials) return true;
  while (!signal.aborted) {
    log.warn(
      { missing: [t.apiId === null ? 'TELEGRAM_API_ID' : null, t.apiHash === null ? 'TELEGRAM_API_HASH' : null].filter(Boolean) },
      'collector_missing_telegram_credentials',
    );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return false;
}

function stateFile(config: Config, cwd: string): string {
  return path.resolve(cwd, config.env.values.RECOVERY_CATCHUP_STATE_FILE);
}

interface Shared {
  io: CliIO;
  getConfig: () => Config;
}

/** Open the database and run a collector command with logs, progress and cancellation wired in. */
async function withCollector<T>(shared: Shared, quietOnTty: boolean, fn: (ctx: CollectorContext, config: Config) => Promise<T>): Promise<T> {
  const config = shared.getConfig();
  const io = shared.io;
  // On a terminal the progress bar is the feedback; JSON info logs would tear it apart.
  const level = quietOnTty && io.errStream.isTTY && !config.env.origin.LOG_LEVEL ? 'warn' : config.logLevel;
  const log = createLogger(config, io, level);
  const progress = createProgress(io.errStream);
  const signal = io.signal ?? new AbortController().signal;
  try {
    return await withDatabase(config, (db) => fn({ db, config, log, signal, onProgress: (e) => progress.update(e) }, config));
  } finally {
    progress.end();
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function summary(io: CliIO, result: { runId: number; status: string; totals: Record<string, unknown> }): void {
  const parts = Object.entries(result.totals)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k.replace(/^total_/, '')}=${v as number}`);
  io.out(`run ${result.runId} ${result.status}: ${parts.join(' ')}`);
}

export function registerCollectorCommands(program: Command, shared: Shared): void {
  const { io } = shared;

  program
    .command('backfill')
    .description('read Telegram history into the raw log and enqueue it (resumes an interrupted run of the same window)')
    .option('--channels <list>', 'channels (comma-separated or JSON array); default CHANNEL_LIST')
    .option('--since <iso>', 'oldest message date, inclusive (ISO-8601 with Z or offset)')
    .option('--until <iso>', 'newest message date, exclusive')
    .option('--max-messages <n>', 'at most N messages per channel (0 = all)', intOption('--max-messages', 0))
    .option('--batch-size <n>', 'rows per write', intOption('--batch-size', 20, 1000), 200)
    .option('--channel-retries <n>', 'attempts per channel on Telegram trouble', intOption('--channel-retries', 1, 100), 3)
    .option('--force-enqueue', 're-queue jobs that are already ok')
    .option('--restart', 'ignore an unfinished checkpoint of this window and start from the top')
    .action(
      async (opts: {
        channels?: string;
        since?: string;
        until?: string;
        maxMessages?: number;
        batchSize: number;
        channelRetries: number;
        forceEnqueue?: boolean;
        restart?: boolean;
      }) => {
        const config = shared.getConfig();
        const channels = channelsFrom(opts.channels, config);
        const window = parseWindow(opts);
        await withCollector(shared, true, async (ctx) => {
          if (!(await credentialsOrWait(config, io, ctx.log, ctx.signal))) return;
          const source = telegramSource(config, io, 'collector', ctx.log);
          try {
            const result = await runBackfill(ctx, source, {
              channels,
              window,
              maxMessages: opts.maxMessages ? opts.maxMessages : null,
              batchSize: opts.batchSize,
              forceEnqueue: Boolean(opts.forceEnqueue),
              channelAttempts: opts.channelRetries,
              restart: Boolean(opts.restart),
            });
            summary(io, result);
          } finally {
            await source.close();
          }
        });
      },
    );

  for (const name of ['tail', 'live'] as const) {
    program
      .command(name)
      .description(
        name === 'tail' ? 'follow new, edited and deleted posts' : 'tail plus the automated catch-up of what was missed while down (production mode)',
      )
      .option('--channels <list>', 'channels (comma-separated or JSON array); default CHANNEL_LIST')
      .action(async (opts: { channels?: string }) => {
        const config = shared.getConfig();
        const channels = channelsFrom(opts.channels, config);
        await withCollector(shared, false, async (ctx) => {
          if (!(await credentialsOrWait(config, io, ctx.log, ctx.signal))) return;
          const source = telegramSource(config, io, 'collector', ctx.log);
          const catchupSource = name === 'live' && config.recovery.enabled ? catchupSourceFor(config, io, source, ctx.log) : null;
          const web = config.web.metricsPort === null ? null : await startDashboard(ctx.db, config, '127.0.0.1', config.web.metricsPort);
          if (web) io.err(`metrics: ${web.url}/metrics   health: ${web.url}/health`);
          // TUTORCITY_ENABLED: its API is polled beside the tail, into the same raw log and queue
          const stopPoller = new AbortController();
          const poller =
            name === 'live' && config.tutorcity.enabled
              ? runTutorCityPoller(ctx.db, config, {
                  signal: AbortSignal.any([ctx.signal, stopPoller.signal]),
                  onPoll: (r) => ctx.log.info({ ...r }, 'tutorcity_poll'),
                  onError: (err) => ctx.log.warn({ error: err.message }, 'tutorcity_poll_failed'),
                })
              : null;
          try {
            const result = await runLive(ctx, source, {
              channels,
              catchupSource,
              legacyStateFile: { path: stateFile(config, io.cwd), databaseLocation: ctx.db.location },
            });
            summary(io, result);
          } finally {
            stopPoller.abort();
            await poller;
            await source.close();
            if (catchupSource && catchupSource !== source) await catchupSource.close();
            await web?.close();
          }
        });
      });
  }

  program
    .command('enqueue')
    .description('enqueue extraction jobs from stored raw messages (no Telegram), for EXTRACTION_PIPELINE_VERSION')
    .option('--channels <list>', 'channels (comma-separated or JSON array); default CHANNEL_LIST, else every channel in the raw log')
    .option('--since <iso>', 'oldest message date, inclusive')
    .option('--until <iso>', 'newest message date, exclusive')
    .option('--max-messages <n>', 'at most N messages per channel (0 = all)', intOption('--max-messages', 0))
    .option('--page-size <n>', 'rows per statement', intOption('--page-size', 50, 5000), 500)
    .option('--force', 're-queue jobs that are already ok')
    .action(async (opts: { channels?: string; since?: string; until?: string; maxMessages?: number; pageSize: number; force?: boolean }) => {
      const config = shared.getConfig();
      const fromFlag = opts.channels === undefined ? [] : parseChannelList(opts.channels);
      const listed = fromFlag.length > 0 ? fromFlag : config.channels;
      const window = parseWindow(opts);
      await withCollector(shared, true, async (ctx) => {
        // A reparse reads the raw log, not Telegram: without a channel list, every channel it holds.
        const channels = listed.length > 0 ? listed : await knownChannelLinks(ctx.db);
        if (channels.length === 0) throw new UserError('the raw log is empty: nothing to enqueue (collect first: backfill, live or import)');
        const result = await runEnqueue(ctx, {
          channels,
          window,
          maxMessages: opts.maxMessages ? opts.maxMessages : null,
          force: Boolean(opts.force),
          pageSize: opts.pageSize,
        });
        summary(io, result);
      });
    });

  program
    .command('import')
    .description('import a Telegram Desktop export (result.json or a folder of them) into the raw log')
    .argument('<path>', 'result.json, or a folder of exports')
    .option(
      '--channel <ref>',
      'the chat to import: its id (t.me/c/<id>, -100<id>, <id>), exact name, or username (names a single-chat export; default t.me/c/<id> from the file)',
    )
    .option('--timezone <zone>', 'time zone of the computer that wrote an old export (dates without date_unixtime): IANA name or ±HH:MM')
    .option('--since <iso>', 'oldest message date, inclusive')
    .option('--until <iso>', 'newest message date, exclusive')
    .option('--enqueue', 'enqueue extraction jobs (default: EXTRACTION_QUEUE_ENABLED)')
    .option('--no-enqueue', 'only store raw messages')
    .option('--batch-size <n>', 'rows per write', intOption('--batch-size', 20, 5000), 500)
    .action(async (file: string, opts: { channel?: string; timezone?: string; since?: string; until?: string; enqueue?: boolean; batchSize: number }) => {
      const config = shared.getConfig();
      const window = parseWindow(opts);
      const timezone = opts.timezone === undefined ? null : parseTimeZone(opts.timezone);
      await withCollector(shared, true, async (ctx) => {
        const result = await runImport(ctx, {
          path: path.resolve(io.cwd, file),
          channel: opts.channel ?? null,
          timezone,
          window,
          enqueue: opts.enqueue ?? config.extractionQueueEnabled,
          batchSize: opts.batchSize,
        });
        summary(io, result);
        if (result.folder) {
          for (const f of result.files) io.out(`  imported: ${f}`);
          for (const r of result.refused) io.out(`  refused: ${r.reason}`);
        }
        // What was read is stored; the exit status tells a script that part of the folder was not.
        if (result.refused.length > 0) {
          const read = result.files.length + result.refused.length;
          throw new UserError(`${result.refused.length} of ${plural(read, 'export file')} refused (listed above); the others were imported`);
        }
      });
    });

  program
    .command('status')
    .description('the latest ingestion run (or one by id/type), per-channel progress, queue and catch-up state')
    .option('--run-id <n>', 'a run id', intOption('--run-id', 1))
    .option('--run-type <type>', `latest run of this type (${RUN_TYPES.join(', ')})`)
    .option('--json', 'machine-readable output')
    .action(async (opts: { runId?: number; runType?: string; json?: boolean }) => {
      if (opts.runType !== undefined && !RUN_TYPES.includes(opts.runType as RunType)) {
        throw new ConfigError(`--run-type must be one of ${RUN_TYPES.join(', ')}`);
      }
      const config = shared.getConfig();
      await withDatabase(config, async (db) => {
        const report = await collectStatus(db, { runId: opts.runId, runType: opts.runType as RunType | undefined, pipelineVersion: config.pipelineVersion });
        if (opts.json) return io.out(JSON.stringify(report, null, 2));
        if (!report.run) {
          throw new UserError(opts.runId !== undefined ? `no ingestion run with id ${opts.runId}` : 'no ingestion runs found');
        }
        const r = report.run;
        io.out(`run ${r.id}: ${r.runType} ${r.status}, started ${r.startedAt.toISOString()}${r.finishedAt ? `, finished ${r.finishedAt.toISOString()}` : ''}`);
        const totals = Object.entries(r.meta)
          .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
          .map(([k, v]) => `${k}=${String(v)}`);
        if (totals.length) io.out(`  ${totals.join(' ')}`);
        if (report.progress.length) {
          io.out('');
          io.out(
            table(
              ['channel', 'scanned', 'inserted', 'updated', 'errors', 'last id', 'last date'],
              report.progress.map((p) => [
                p.channelLink,
                p.scanned,
                p.inserted,
                p.updated,
                p.errors,
                p.lastMessageId ?? '',
                p.lastMessageDate?.toISOString() ?? '',
              ]),
            ),
          );
        }
        io.out('');
        io.out(`queue (${config.pipelineVersion}):`);
        io.out(formatQueueStats(report.queue));
        if (report.catchup.length > 0) {
          const c = report.catchup;
          const failed = c.filter((x) => x.status === 'error');
          io.out('');
          io.out(
            `catch-up: ${c.filter((x) => x.status === 'ok').length}/${c.length} channels caught up${failed.length ? `, ${failed.length} failed (last error: ${failed[0]!.lastError})` : ''}`,
          );
          io.out(
            table(
              ['channel', 'status', 'read until', 'target', 'updated'],
              c.map((x) => [x.channelLink, x.status, x.readUntil.toISOString(), x.target.toISOString(), x.updatedAt.toISOString()]),
            ),
          );
        }
      });
    });
}
