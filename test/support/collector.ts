import { loadConfig, type Config } from '../../src/config/index.ts';
import type { BackfillOptions, CollectorContext, Log } from '../../src/collector/index.ts';
import type { Database } from '../../src/db/index.ts';
import { makeMessage, MemorySource } from '../../src/telegram/memory.ts';
import type { ResolvedChannel } from '../../src/telegram/index.ts';

export const T0 = new Date('2026-03-01T00:00:00Z');
export const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

export function channel(name: string): ResolvedChannel & { channelId: string } {
  return {
    channelLink: `t.me/${name}`,
    channelId: String(1000 + [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 1_000_000, 7)),
    title: `${name} assignments`,
  };
}

/** A memory channel with posts 1..n, one minute apart starting at T0 + 1 min. */
export function sourceWith(channels: Record<string, number>): MemorySource {
  const source = new MemorySource();
  for (const [name, n] of Object.entries(channels)) {
    source.addChannel(
      channel(name),
      Array.from({ length: n }, (_, i) => makeMessage({ id: i + 1, date: minutes(i + 1), text: `  ${name} post ${i + 1}  ` })),
    );
  }
  return source;
}

export interface RecordingLog extends Log {
  lines: { level: string; event: string; fields: Record<string, unknown> }[];
}

export function recordingLog(): RecordingLog {
  const lines: RecordingLog['lines'] = [];
  const at = (level: string) => (fields: Record<string, unknown>, event: string) => lines.push({ level, event, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

export function testConfig(overrides: Partial<Config['recovery']> & { queue?: boolean; version?: string } = {}): CollectorContext['config'] {
  const base = loadConfig({ env: {}, envFile: null });
  const { queue, version, ...recovery } = overrides;
  return {
    pipelineVersion: version ?? 'v1',
    extractionQueueEnabled: queue ?? true,
    recovery: { ...base.recovery, checkIntervalSeconds: 0.02, baseBackoffSeconds: 0.01, ...recovery },
  };
}

export function context(
  db: Database,
  options: { config?: CollectorContext['config']; signal?: AbortSignal; log?: Log } = {},
): CollectorContext & { log: RecordingLog } {
  const log = (options.log as RecordingLog | undefined) ?? recordingLog();
  return { db, config: options.config ?? testConfig(), log, signal: options.signal ?? new AbortController().signal };
}

export async function rawRows(db: Database, channelLink?: string) {
  return db.query<{ message_id: number; raw_text: string | null; deleted_at: Date | null; edit_date: Date | null; first_seen_at: Date; last_seen_at: Date }>(
    `select message_id, raw_text, deleted_at, edit_date, first_seen_at, last_seen_at from telegram_messages_raw
      where $1::text is null or channel_link = $1::text order by channel_link, message_id`,
    [channelLink ?? null],
  );
}

export async function jobs(db: Database, version = 'v1') {
  return db.query<{ message_id: number; status: string; channel_link: string }>(
    'select message_id, status, channel_link from telegram_extractions where pipeline_version = $1 order by channel_link, message_id',
    [version],
  );
}

/** Options of a test backfill of @alpha, whole history, batches of 3, no retries (a failure fails at once). */
export const backfillOptions = (over: Partial<BackfillOptions> = {}): BackfillOptions => ({
  channels: ['t.me/alpha'],
  window: { since: null, until: null },
  maxMessages: null,
  batchSize: 3,
  forceEnqueue: false,
  channelAttempts: 1,
  restart: false,
  retryDelaySeconds: 0,
  ...over,
});
