import type { Command } from 'commander';
import { runTutorBot, type TutorBot } from '../bot/index.ts';
import type { Log } from '../collector/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { UserError } from '../errors.ts';
import { withDatabase } from './commands.ts';
import { createLogger, type CliIO } from './runtime.ts';
import { startDashboard } from './web-commands.ts';

interface Shared {
  io: CliIO;
  getConfig: () => Config;
}

/** Start the tutor bot on an open database (used by `bot` and `start`); resolves when `signal` aborts. */
export function startTutorBot(
  db: Database,
  config: Config,
  log: Log,
  signal: AbortSignal,
  onReady?: (info: { mode: 'polling' | 'webhook'; username: string; url?: string }) => void,
): Promise<TutorBot> {
  if (!config.delivery.botToken) throw new UserError('the tutor bot needs TELEGRAM_BOT_TOKEN (from @BotFather)', 2);
  return runTutorBot({
    db,
    token: config.delivery.botToken,
    apiUrl: config.delivery.botApiUrl,
    log,
    signal,
    commandsPerMinute: config.bot.commandsPerMinute,
    feedbackFilledThreshold: config.bot.feedbackFilledThreshold,
    webhook: config.bot.webhookUrl ? { url: config.bot.webhookUrl, port: config.bot.webhookPort } : null,
    onReady,
  });
}

export function registerBotCommand(program: Command, shared: Shared): void {
  const { io } = shared;
  program
    .command('bot')
    .description('the tutor-facing Telegram bot: /start, preferences, /preview, DM feedback buttons (long polling, or a webhook with TELEGRAM_WEBHOOK_URL)')
    .action(async () => {
      const config = shared.getConfig();
      if (!config.delivery.botToken) throw new UserError('the tutor bot needs TELEGRAM_BOT_TOKEN (from @BotFather)', 2);
      const log = createLogger(config, io);
      const signal = io.signal ?? new AbortController().signal;
      await withDatabase(config, async (db) => {
        const web = config.web.metricsPort === null ? null : await startDashboard(db, config, '127.0.0.1', config.web.metricsPort);
        if (web) io.err(`metrics: ${web.url}/metrics   health: ${web.url}/health`);
        const tb = await startTutorBot(db, config, log, signal, (info) =>
          io.out(
            info.mode === 'polling'
              ? `tutor bot @${info.username} is running (long polling) on ${db.location}   (Ctrl-C stops)`
              : `tutor bot @${info.username} is running (webhook ${info.url}, listening on port ${config.bot.webhookPort}) on ${db.location}   (Ctrl-C stops)`,
          ),
        );
        await web?.close();
        const s = tb.stats;
        io.out(`tutor bot stopped · updates ${s.updates} · ignored ${s.ignored} · rate-limited ${s.rateLimited} · errors ${s.errors}`);
      });
    });
}
