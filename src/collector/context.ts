import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';

export interface Log {
  info(fields: Record<string, unknown>, event: string): void;
  warn(fields: Record<string, unknown>, event: string): void;
  error(fields: Record<string, unknown>, event: string): void;
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

/** What a long command reports while it works; the CLI renders it (bar on a TTY, lines otherwise). */
export interface ProgressEvent {
  phase: 'backfill' | 'import' | 'enqueue' | 'catchup' | 'tail';
  channelLink: string;
  /** messages read (or raw rows scanned) so far in this channel */
  scanned: number;
  /** rows written or jobs enqueued so far */
  written: number;
  /** expected total when known (enqueue knows it; Telegram history does not) */
  total: number | null;
  /** the date of the message just processed, when there is one */
  at: Date | null;
}

export interface CollectorContext {
  db: Database;
  config: Pick<Config, 'pipelineVersion' | 'extractionQueueEnabled' | 'recovery'>;
  log: Log;
  signal: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/** Resolve after `ms`, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
