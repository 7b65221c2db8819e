import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookCallback } from 'grammy';
import { createTutorBot, type TutorBot, type TutorBotOptions } from './bot.ts';

export const BOT_ALLOWED_UPDATES = ['message', 'callback_query'] as const;

export interface RunBotOptions extends TutorBotOptions {
  signal: AbortSignal;
  /** Set: webhook mode (Telegram posts to `url`; we listen on `port`, path of `url`). Null: long polling. */
  webhook?: { url: string; port: number; host?: string } | null;
  /** Long polling: seconds getUpdates waits for an update (default 30; tests use 1). */
  pollTimeoutSeconds?: number;
  /** Called once the bot takes updates (polling started, or the webhook is registered and listening). */
  onReady?: (info: { mode: 'polling' | 'webhook'; username: string; url?: string }) => void;
}

/** The secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token, derived from the bot token (never the token itself). */
export function webhookSecret(token: string): string {
  return createHash('sha256').update(`tutordex-webhook:${token}`).digest('hex');
}

/**
 * Run the tutor bot until `signal` aborts: long polling by default, or a webhook listener when `webhook` is
 * given (setWebhook with a secret token; requests without it are refused). Resolves with the bot (its stats).
 */
export async function runTutorBot(o: RunBotOptions): Promise<TutorBot> {
  const tb = createTutorBot(o);
  const { bot } = tb;
  if (o.signal.aborted) return tb;
  await bot.init();
  const username = bot.botInfo.username;

  if (!o.webhook) {
    const onAbort = () => void bot.stop().catch(() => {});
    o.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await bot.start({
        allowed_updates: [...BOT_ALLOWED_UPDATES],
        timeout: o.pollTimeoutSeconds ?? 30,
        onStart: () => o.onReady?.({ mode: 'polling', username }),
      });
    } finally {
      o.signal.removeEventListener('abort', onAbort);
    }
    return tb;
  }

  const secret = webhookSecret(o.token);
  const path = new URL(o.webhook.url).pathname || '/';
  const handle = webhookCallback(bot, 'http', { secretToken: secret, onTimeout: 'return', timeoutMilliseconds: 9_000 });
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    handle(req, res).catch((err: unknown) => {
      o.log.error({ error: err instanceof Error ? err.message : String(err) }, 'bot_webhook_failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.webhook!.port, o.webhook!.host ?? '0.0.0.0', () => resolve());
  });
  try {
    await bot.api.setWebhook(o.webhook.url, { secret_token: secret, allowed_updates: [...BOT_ALLOWED_UPDATES] });
    const port = (server.address() as AddressInfo).port;
    o.log.info({ port, path }, 'bot_webhook_listening');
    o.onReady?.({ mode: 'webhook', username, url: o.webhook.url });
    await new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      else o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return tb;
}
