import path from 'node:path';
import type { Command } from 'commander';
import { runLive, type CatchupOutcome, type CollectorContext } from '../collector/index.ts';
import { scrubSecrets, startSource, type Config, type StartSource } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { UserError } from '../errors.ts';
import { collectProcessMetrics } from '../metrics/index.ts';
import { outstanding } from '../queue/index.ts';
import { knownChannelLinks } from '../raw/index.ts';
import { sleep } from '../sleep.ts';
import { isSampleChannel, SAMPLE_CHANNEL_PREFIX, sampleFeed } from '../telegram/sample-feed.ts';
import type { ChannelSource } from '../telegram/index.ts';
import { countTutors } from '../tutors/index.ts';
import { resolveWorkerSettings, runWorkerService } from '../worker/index.ts';
import { intOption } from './collector-commands.ts';
import { withDatabase } from './commands.ts';
import { startTutorBot } from './bot-command.ts';
import { catchupSourceFor, createLogger, telegramSource, type CliIO } from './runtime.ts';
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The sample and real data never share a database. The sample runs only on an empty database or one it seeded
 * itself (no other channel, no tutor), so it cannot reach real tutors or mix into real assignments; a real run
 * refuses a database the sample seeded, whose sample assignments would otherwise be shown to tutors as real.
 * Checked before anything is written.
 */
async function checkDatabaseFor(mode: StartSource, db: Database, config: Config): Promise<void> {
  const links = await knownChannelLinks(db);
  if (mode === 'sample') {
    const real = links.filter((l) => !isSampleChannel(l));
    const tutors = await countTutors(db);
    if (real.length === 0 && tutors === 0) return;
    const holds = [
      real.length > 0
        ? `${plural(real.length, 'channel')} that ${real.length === 1 ? 'is' : 'are'} not the sample's (${real.slice(0, 3).join(', ')}${real.length > 3 ? ', …' : ''})`
        : null,
      tutors > 0 ? plural(tutors, 'tutor') : null,
    ].filter(Boolean);
    throw new UserError(
      `the bundled sample feed only runs on an empty database or one it seeded itself: ${db.location} holds ${holds.join(' and ')}; give the sample an empty database (another TUTORDEX_DATA_DIR or DATABASE_URL), or finish the Telegram setup for a real run`,
    );
  }
  const sample = links.filter((l) => isSampleChannel(l) && !config.channels.includes(l));
  if (sample.length === 0) return;
  const fix =
    config.database.kind === 'pglite'
      ? `delete the embedded database (rm -r ${config.database.dataDir}) or set TUTORDEX_DATA_DIR to a new directory`
      : `point ${config.database.source} at an empty database`;
  throw new UserError(
    `${db.location} holds the bundled sample feed (${plural(sample.length, 'sample channel')}): a real run would mix sample assignments into what tutors see; ${fix}, then start again`,
  );
}

/**
 * `tutordex start` (what `npm start` runs): collector + worker in one process on the configured database. With a
 * complete Telegram setup it follows the real channels; with no Telegram setting at all it replays the bundled
 * sample of real agency posts as `t.me/sample_…` channels, with nothing sent, so a fresh install shows the whole
 * pipeline at work. A half-finished Telegram setup is an error.
 */
export function registerStartCommand(program: Command, shared: Shared): void {
  const { io } = shared;
  program
    .command('start')
    .description('run everything in one process: collector (Telegram, or the bundled sample feed) + worker + dashboard')
    .option('--no-sample', 'never run the sample feed (fail unless Telegram is configured)')
    .option('--replay-interval <ms>', 'sample feed: milliseconds between replayed posts', intOption('--replay-interval', 0, 3_600_000), 1500)
    .option('--port <n>', 'dashboard port on 127.0.0.1 (0 = any free port)', intOption('--port', 0, 65535), DEFAULT_WEB_PORT)
    .option('--no-web', 'do not serve the dashboard')
    .option('--exit-when-idle', 'stop once the sample feed is replayed and the queue is empty (smoke tests)')
    .action(async (opts: StartOptions) => {
      const config = shared.getConfig();
      const mode = startSource(config, { cwd: io.cwd, sampleAllowed: opts.sample !== false, injectedSource: io.telegramSource !== undefined });
      const quiet = !config.env.origin.LOG_LEVEL;
      const log = createLogger(config, io, quiet ? 'warn' : config.logLevel);
      const outer = io.signal ?? new AbortController().signal;
      const stop = new AbortController();
      const onStop = () => stop.abort();
      outer.addEventListener('abort', onStop, { once: true });
      // the sample runs only with no bot token, broadcasts or DMs configured; forced off here all the same
      const flags = mode === 'sample' ? { broadcast: false, dms: false } : {};
      const settings = resolveWorkerSettings(config, flags);
      collectProcessMetrics();
      try {
        await withDatabase(config, async (db) => {
          await checkDatabaseFor(mode, db, config);
          const feed = mode === 'sample' ? sampleFeed() : null;
          const source: ChannelSource = feed ? feed.source : telegramSource(config, io, 'collector', log);
          const catchupSource: ChannelSource | null = feed ? feed.source : config.recovery.enabled ? catchupSourceFor(config, io, source, log) : null;
          const channels = feed ? feed.channels : config.channels;
          const web = opts.web === false ? null : await startDashboard(db, config, '127.0.0.1', opts.port);
          io.out(`TutorDex is running on ${db.location}`);
          if (web) io.out(`  dashboard: ${web.url}/   health: ${web.url}/health   metrics: ${web.url}/metrics`);
          io.out(
            feed
              ? `  source: bundled sample feed: ${channels.length} sample channels (${SAMPLE_CHANNEL_PREFIX}…), ${feed.posts} real agency posts; nothing is sent (no broadcast, no DMs, no tutor bot). For Telegram set CHANNEL_LIST, TELEGRAM_API_ID, TELEGRAM_API_HASH and a session (tutordex login), on an empty database`
              : `  source: Telegram, ${channels.length} channel(s)`,
          );
          io.out(
            `  worker: ${settings.mode} extraction, version ${settings.pipelineVersion}, broadcast ${settings.broadcast ? 'on' : 'off'}, DMs ${settings.dms ? 'on' : 'off'}`,
          );
          io.out('  look: tutordex status · tutordex queue stats · tutordex tutors list   (Ctrl-C stops)');
          const ctx: CollectorContext = { db, config, log, signal: stop.signal };
          const legacyStateFile = { path: path.resolve(io.cwd, config.env.values.RECOVERY_CATCHUP_STATE_FILE), databaseLocation: db.location };
          let catchupOutcome: CatchupOutcome | null = null;
          let collectorDone = false;
          const collector = runLive(ctx, source, { channels, catchupSource, legacyStateFile, onCatchupSettled: (outcome) => (catchupOutcome = outcome) })
            .catch((err: Error) => {
              const message = scrubSecrets(err.message, config.secrets);
              log.error({ error: message }, 'start_collector_failed');
              io.err(`tutordex: collector stopped: ${message}`);
            })
            .finally(() => (collectorDone = true));
          const worker = runWorkerService({ db, config, log, signal: stop.signal, flags });
          // The tutor bot runs beside the rest whenever a bot token is configured; its failure stops only the bot.
          const tutorBot =
            config.delivery.botToken && !feed
              ? startTutorBot(db, config, log, stop.signal, (info) =>
                  io.out(`  tutor bot: @${info.username} (${info.mode === 'polling' ? 'long polling' : `webhook ${info.url}`})`),
                ).catch((err: Error) => {
                  const message = scrubSecrets(err.message, config.secrets);
                  log.error({ error: message }, 'start_bot_failed');
                  io.err(`tutordex: tutor bot stopped: ${message}`);
                })
              : null;
          // The catch-up reads the sample's history first; its live posts come after, so they cannot fill the queue
          // the catch-up waits on. Idle (`--exit-when-idle`) means collector, catch-up and worker all done: the
          // catch-up has settled, the sample (if any) is replayed, and the queue is empty.
          const caughtUp = () => collectorDone || catchupOutcome !== null;
          const replay = feed
            ? (async () => {
                while (!caughtUp() && !stop.signal.aborted) await sleep(50, stop.signal);
                return feed.replay(opts.replayInterval, stop.signal);
              })()
            : (async () => {
                while (!caughtUp() && !stop.signal.aborted) await sleep(200, stop.signal);
                return 0;
              })();
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
