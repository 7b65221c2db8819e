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

export { sleep } from '../sleep.ts';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
