import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { format } from 'node:util';
import createDebug from 'debug';
import pino from 'pino';
import { scrubSecrets, type Config } from '../config/index.ts';
import type { Log } from '../collector/index.ts';
import { UserError } from '../errors.ts';
import { GramjsSource, type ChannelSource } from '../telegram/index.ts';

export type SourcePurpose = 'collector' | 'catchup';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** raw stderr for progress bars and logs */
  errStream: { isTTY?: boolean; columns?: number; write(s: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Replace the Telegram source (tests use the in-memory source). */
  telegramSource?: (purpose: SourcePurpose, config: Config) => ChannelSource;
  /** Aborts long-running commands (SIGINT/SIGTERM in the real CLI). */
  signal?: AbortSignal;
}

/**
 * Libraries' own debug output (grammY's `DEBUG=grammy*` prints failed requests with the bot token in the URL) goes
 * through the same scrubbing as our logs. The `debug` package is shared by every library that uses it.
 */
export function scrubDebugOutput(secrets: readonly string[], errStream: CliIO['errStream']): void {
  createDebug.log = (...args: unknown[]) => errStream.write(`${scrubSecrets(format(...args), secrets)}\n`);
}

/** JSON logs on stderr, with every configured secret scrubbed from every line. */
export function createLogger(config: Config, io: CliIO, level?: string): Log & { flush?: () => void } {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      io.errStream.write(scrubSecrets(chunk.toString('utf8'), config.secrets));
      done();
    },
  });
  return pino({ level: level ?? config.logLevel, base: { app: 'tutordex' }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
}

/**
 * The source the catch-up reads through. A second session (SESSION_STRING_RECOVERY, or an existing
 * TG_SESSION_RECOVERY file) keeps its history reads off the tail's connection; without one – the default
 * single-login setup, `tutordex login --save` – the catch-up shares the tail's source, which is safe: reading
 * history beside the update stream on one session is what Telegram clients do.
 */
export function catchupSourceFor(config: Config, io: CliIO, tailSource: ChannelSource, log: Log): ChannelSource {
  const t = config.telegram;
  const ownSession = t.recoverySessionString !== null || existsSync(path.resolve(io.cwd, t.recoverySessionFile));
  return ownSession ? telegramSource(config, io, 'catchup', log) : tailSource;
}

/**
 * The Telegram source for a purpose: the collector's session (SESSION_STRING or the TG_SESSION file), or for
 * 'catchup' the second session (SESSION_STRING_RECOVERY or the TG_SESSION_RECOVERY file); see catchupSourceFor.
 */
export function telegramSource(config: Config, io: CliIO, purpose: SourcePurpose, log: Log): ChannelSource {
  if (io.telegramSource) return io.telegramSource(purpose, config);
  const t = config.telegram;
  const missing = [t.apiId === null ? 'TELEGRAM_API_ID' : null, t.apiHash === null ? 'TELEGRAM_API_HASH' : null].filter(Boolean);
  if (missing.length > 0) {
    throw new UserError(`missing Telegram credentials: set ${missing.join(' and ')} (from my.telegram.org), then create a session with tutordex login`);
  }
  const sessionString = purpose === 'catchup' ? t.recoverySessionString : t.sessionString;
  const sessionFile = purpose === 'catchup' ? t.recoverySessionFile : t.sessionFile;
  return new GramjsSource({
    apiId: t.apiId!,
    apiHash: t.apiHash!,
    session: sessionString ? { kind: 'string', value: sessionString } : { kind: 'file', path: path.resolve(io.cwd, sessionFile) },
    log: (level, event, fields) => log[level](fields, event),
  });
}
