import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Config } from './config.ts';
import type { EnvName } from './env.ts';

export type StartSource = 'telegram' | 'sample';

export interface StartSourceOptions {
  /** where relative session files are looked up */
  cwd: string;
  /** `--no-sample`: Telegram or nothing */
  sampleAllowed: boolean;
  /** a Telegram source handed in by the caller (tests): it stands for API id, hash and session */
  injectedSource?: boolean;
}

/**
 * What `tutordex start` follows: Telegram when its setup is complete, the bundled sample feed only when no part of
 * a Telegram setup is set (no channel, API id/hash or session, and no bot token, broadcasts or DMs). Anything in
 * between is a setup begun and not finished: it fails naming what is missing rather than replaying the sample
 * into that setup's database, broadcast channel and tutors.
 */
export function startSource(config: Config, o: StartSourceOptions): StartSource {
  const t = config.telegram;
  const origin = config.env.origin;
  const named = (name: EnvName) => origin[name] ?? name;
  const sessionFile = path.resolve(o.cwd, t.sessionFile);
  const hasSession = o.injectedSource || t.sessionString !== null || existsSync(sessionFile);

  const set: string[] = [];
  if (o.injectedSource) set.push('an injected Telegram source');
  if (config.channels.length > 0) set.push(named('CHANNEL_LIST'));
  for (const name of ['TELEGRAM_API_ID', 'TELEGRAM_API_HASH', 'SESSION_STRING', 'TG_SESSION', 'SESSION_STRING_RECOVERY', 'TG_SESSION_RECOVERY'] as const) {
    if (origin[name]) set.push(origin[name]);
  }
  if (!origin.TG_SESSION && t.sessionString === null && existsSync(sessionFile)) set.push(`the session file ${t.sessionFile}`);
  if (config.delivery.botToken !== null) set.push(named('TELEGRAM_BOT_TOKEN'));
  if (config.worker.broadcast) set.push(named('EXTRACTION_WORKER_BROADCAST'));
  if (config.worker.dms) set.push(named('EXTRACTION_WORKER_DMS'));

  const missing = [
    config.channels.length === 0 ? 'CHANNEL_LIST' : null,
    !o.injectedSource && t.apiId === null ? 'TELEGRAM_API_ID' : null,
    !o.injectedSource && t.apiHash === null ? 'TELEGRAM_API_HASH' : null,
    hasSession ? null : `a session (SESSION_STRING, or the TG_SESSION file ${t.sessionFile}: tutordex login --save writes it)`,
  ].filter((m): m is string => m !== null);

  if (missing.length === 0) return 'telegram';
  if (set.length === 0) {
    if (o.sampleAllowed) return 'sample';
    throw new ConfigError(`Telegram is not configured (--no-sample); missing: ${missing.join(', ')}`);
  }
  throw new ConfigError(
    `Telegram is only partly configured (set: ${set.join(', ')}); missing: ${missing.join(', ')}. The bundled sample feed runs only when no Telegram setting is set.`,
  );
}
