import path from 'node:path';
import type { Command } from 'commander';
import { runLive, type CollectorContext } from '../collector/index.ts';
import { scrubSecrets, type Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { collectProcessMetrics } from '../metrics/index.ts';
import { outstanding } from '../queue/index.ts';
import { sleep } from '../sleep.ts';
import { sampleFeed } from '../telegram/sample-feed.ts';
import type { ChannelSource } from '../telegram/index.ts';
import { resolveWorkerSettings, runWorkerService } from '../worker/index.ts';
import { intOption } from './collector-commands.ts';
import { withDatabase } from './commands.ts';
import { startTutorBot } from './bot-command.ts';
import { createLogger, telegramSource, type CliIO } from './runtime.ts';
import { DEFAULT_WEB_PORT, startDashboard } from './web-commands.ts';

interface Shared {
  io: CliIO;
  getConfig: () => Config;
}

interface StartOptions {
  exitWhenIdle?: boolean;
  port: number;
  web?: boolean;
  replayInterval: number;
  sample?: boolean;
}

export interface StartStatus {
  raw: number;
  pending: number;
  processing: number;
  ok: number;
  skipped: number;
  failed: number;
  open: number;
  sent: number;
}

/** The numbers of the live one-line summary. */
export async function startStatus(db: Database, version: string): Promise<StartStatus> {
  const [r] = await db.query<StartStatus>(
    `select (select count(*) from telegram_messages_raw)::int as raw,
            count(*) filter (where e.status = 'pending')::int as pending,
            count(*) filter (where e.status = 'processing')::int as processing,
            count(*) filter (where e.status = 'ok')::int as ok,
            count(*) filter (where e.status = 'skipped')::int as skipped,
            count(*) filter (where e.status = 'failed')::int as failed,
            (select count(*) from assignments where status = 'open')::int as open,
            (select count(*) from deliveries where status = 'sent')::int as sent
       from telegram_extractions e where e.pipeline_version = $1`,
    [version],
  );
  return r!;
}

export const formatStatus = (s: StartStatus) =>
  `raw ${s.raw} · queue pending ${s.pending} processing ${s.processing} ok ${s.ok} skipped ${s.skipped} failed ${s.failed} · open assignments ${s.open} · delivered ${s.sent}`;

function hasTelegramCredentials(config: Config): boolean {
  const t = config.telegram;
  return t.apiId !== null && t.apiHash !== null && config.channels.length > 0;
}

/**
 * `tutordex start` (what `npm start` runs): collector + worker in one process on the configured database. With
 * Telegram credentials and CHANNEL_LIST it follows the real channels; otherwise it replays the bundled sample
 * of real agency posts as channels, so a fresh install shows the whole pipeline at work.
 */
export function registerStartCommand(program: Command, shared: Shared): void {
  const { io } = shared;
  program
    .command('start')
    .description('run everything in one process: collector (Telegram, or the bundled sample feed) + worker + dashboard')
    .option('--no-sample', 'never fall back to the sample feed (fail without Telegram credentials)')
    .option('--replay-interval <ms>', 'sample feed: milliseconds between replayed posts', intOption('--replay-interval', 0, 3_600_000), 1500)
    .option('--port <n>', 'dashboard port on 127.0.0.1 (0 = any free port)', intOption('--port', 0, 65535), DEFAULT_WEB_PORT)
    .option('--no-web', 'do not serve the dashboard')
    .option('--exit-when-idle', 'stop once the sample feed is replayed and the queue is empty (smoke tests)')
    .action(async (opts: StartOptions) => {
      const config = shared.getConfig();
      const quiet = !config.env.origin.LOG_LEVEL;
      const log = createLogger(config, io, quiet ? 'warn' : config.logLevel);
      const outer = io.signal ?? new AbortController().signal;
      const stop = new AbortController();
      const onStop = () => stop.abort();
      outer.addEventListener('abort', onStop, { once: true });
      const settings = resolveWorkerSettings(config, {});
      collectProcessMetrics();
      try {
        await withDatabase(config, async (db) => {
          const useTelegram = io.telegramSource !== undefined || hasTelegramCredentials(config) || opts.sample === false;
          const feed = useTelegram ? null : sampleFeed();
          const source: ChannelSource = feed ? feed.source : telegramSource(config, io, 'collector', log);
          const catchupSource: ChannelSource | null = feed ? feed.source : config.recovery.enabled ? telegramSource(config, io, 'catchup', log) : null;
          const channels = feed ? feed.channels : config.channels;
          const web = opts.web === false ? null : await startDashboard(db, config, '127.0.0.1', opts.port);
          io.out(`TutorDex is running on ${db.location}`);
          if (web) io.out(`  dashboard: ${web.url}/   health: ${web.url}/health   metrics: ${web.url}/metrics`);
          io.out(
            feed
              ? `  source: bundled sample feed (${channels.length} agency channels of real posts; set TELEGRAM_API_ID, TELEGRAM_API_HASH and CHANNEL_LIST for Telegram)`
              : `  source: Telegram, ${channels.length} channel(s)`,
          );
          io.out(
            `  worker: ${settings.mode} extraction, version ${settings.pipelineVersion}, broadcast ${settings.broadcast ? 'on' : 'off'}, DMs ${settings.dms ? 'on' : 'off'}`,
          );
          io.out('  look: tutordex status · tutordex queue stats · tutordex tutors list   (Ctrl-C stops)');
          const ctx: CollectorContext = { db, config, log, signal: stop.signal };
          const collector = runLive(ctx, source, { channels, catchupSource, stateFile: path.resolve(io.cwd, config.env.values.RECOVERY_CATCHUP_STATE_FILE) }).catch((err: Error) => {
            log.error({ error: err.message }, 'start_collector_failed');
            io.err(`tutordex: collector stopped: ${err.message}`);
          });
          const worker = runWorkerService({ db, config, log, signal: stop.signal, flags: {} });
          // The tutor bot runs beside the rest whenever a bot token is configured; its failure stops only the bot.
          const tutorBot = config.delivery.botToken
            ? startTutorBot(db, config, log, stop.signal, (info) => io.out(`  tutor bot: @${info.username} (${info.mode === 'polling' ? 'long polling' : `webhook ${info.url}`})`)).catch((err: Error) => {
                const message = scrubSecrets(err.message, config.secrets);
                log.error({ error: message }, 'start_bot_failed');
                io.err(`tutordex: tutor bot stopped: ${message}`);
              })
            : null;
          const replay = feed ? feed.replay(opts.replayInterval, stop.signal) : new Promise<number>(() => {});
          let replayed = false;
          void replay.then(() => (replayed = true));

          let last = '';
          const tty = Boolean(io.errStream.isTTY);
          while (!stop.signal.aborted) {
            await sleep(tty || opts.exitWhenIdle ? 1000 : 5000, stop.signal);
            const status = await startStatus(db, settings.pipelineVersion).catch(() => null);
            if (!status) continue;
            const line = formatStatus(status);
            if (tty) io.errStream.write(`\r\x1b[2K${line}`);
            else if (line !== last) io.err(line);
            last = line;
            if (opts.exitWhenIdle && replayed && (await outstanding(db, settings.pipelineVersion)) === 0) {
              await sleep(200);
              if ((await outstanding(db, settings.pipelineVersion)) === 0) stop.abort();
            }
          }
          if (tty) io.errStream.write('\n');
          await collector;
          const result = await worker;
          await tutorBot;
          if (feed) await source.close();
          await web?.close();
          io.out(`stopped · ${formatStatus(await startStatus(db, settings.pipelineVersion))} · worker jobs ok ${result.outcomes.ok}`);
        });
      } finally {
        outer.removeEventListener('abort', onStop);
      }
    });
}
