import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { Queryable } from '../db/index.ts';
import type { Log } from './context.ts';

/** Per-channel catch-up progress (table collector_catchup, migration 012). */
export type CatchupStatus = 'running' | 'ok' | 'error';

export interface CatchupCursor {
  channelLink: string;
  /** every post dated before this instant has been read into the raw log */
  readUntil: Date;
  /** where the current (or last) catch-up reads up to: the moment the tail began listening, plus overlap */
  target: Date;
  status: CatchupStatus;
  lastError: string | null;
  runId: number | null;
  startedAt: Date;
  updatedAt: Date;
}

interface CursorRow {
  channel_link: string;
  read_until: Date;
  target: Date;
  status: CatchupStatus;
  last_error: string | null;
  run_id: number | string | null;
  started_at: Date;
  updated_at: Date;
}

const toCursor = (r: CursorRow): CatchupCursor => ({
  channelLink: r.channel_link,
  readUntil: new Date(r.read_until),
  target: new Date(r.target),
  status: r.status,
  lastError: r.last_error,
  runId: r.run_id === null ? null : Number(r.run_id),
  startedAt: new Date(r.started_at),
  updatedAt: new Date(r.updated_at),
});

/** The catch-up rows of these channels (all channels when `channelLinks` is omitted), by channel. */
export async function loadCatchupCursors(db: Queryable, channelLinks?: readonly string[]): Promise<Map<string, CatchupCursor>> {
  const rows = channelLinks
    ? await db.query<CursorRow>(`select * from collector_catchup where channel_link = any($1::text[]) order by channel_link`, [channelLinks])
    : await db.query<CursorRow>(`select * from collector_catchup order by channel_link`);
  return new Map(rows.map((r) => [r.channel_link, toCursor(r)]));
}

/** Start (or resume) a catch-up: each channel is `running` from `readUntil` to `target`. */
export async function beginCatchup(db: Queryable, runId: number, channels: readonly { channelLink: string; readUntil: Date; target: Date }[]): Promise<void> {
  for (const c of channels) {
    await db.query(
      `insert into collector_catchup (channel_link, read_until, target, status, last_error, run_id, started_at, updated_at)
       values ($1, $2, $3, 'running', null, $4, now(), now())
       on conflict (channel_link) do update
         set read_until = excluded.read_until, target = excluded.target, status = 'running', last_error = null,
             run_id = excluded.run_id, started_at = now(), updated_at = now()`,
      [c.channelLink, c.readUntil, c.target, runId],
    );
  }
}

/** A slice is durably written: everything before `readUntil` is in. `ok` when the target is reached. */
export async function advanceCatchup(db: Queryable, channelLink: string, readUntil: Date): Promise<void> {
  await db.query(
    `update collector_catchup
        set read_until = greatest(read_until, $2::timestamptz),
            status = case when greatest(read_until, $2::timestamptz) >= target then 'ok' else status end,
            updated_at = now()
      where channel_link = $1`,
    [channelLink, readUntil],
  );
}

/** The catch-up failed: its unfinished channels are `error` with the reason (the next start resumes them). */
export async function failCatchup(db: Queryable, channelLinks: readonly string[], message: string): Promise<void> {
  await db.query(
    `update collector_catchup set status = 'error', last_error = $2, updated_at = now()
      where channel_link = any($1::text[]) and status <> 'ok'`,
    [channelLinks, message.slice(0, 1000)],
  );
}

/** Channels whose last catch-up failed (for /health and `tutordex status`). */
export async function failedCatchups(db: Queryable): Promise<CatchupCursor[]> {
  const rows = await db.query<CursorRow>(`select * from collector_catchup where status = 'error' order by updated_at desc, channel_link`);
  return rows.map(toCursor);
}

/**
 * Catch-up state used to be a JSON file in the working directory, shared by every database started there. Such a
 * file is read once, and only if it names this database (`database` equal to the database's location): its
 * unfinished cursors seed channels that have no row yet, then the file is renamed `<file>.imported`. A file
 * that does not name this database is left alone and never used. Returns how many cursors it seeded.
 */
export async function importLegacyStateFile(db: Queryable, file: string, databaseLocation: string, log: Log): Promise<number> {
  if (!existsSync(file)) return 0;
  let parsed: { database?: unknown; status?: unknown; target_iso?: unknown; cursors?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch {
    log.warn({ state_file: file }, 'recovery_state_file_ignored_unreadable');
    return 0;
  }
  if (parsed?.database !== databaseLocation) {
    log.warn({ state_file: file, reason: 'it does not name this database; catch-up state is kept in the database now' }, 'recovery_state_file_ignored');
    return 0;
  }
  let seeded = 0;
  const cursors = parsed.cursors && typeof parsed.cursors === 'object' ? (parsed.cursors as Record<string, unknown>) : {};
  const target = typeof parsed.target_iso === 'string' ? new Date(parsed.target_iso) : null;
  if (parsed.status === 'running' && target && !Number.isNaN(target.getTime())) {
    for (const [link, value] of Object.entries(cursors)) {
      const readUntil = typeof value === 'string' ? new Date(value) : null;
      if (!readUntil || Number.isNaN(readUntil.getTime())) continue;
      const inserted = await db.query(
        `insert into collector_catchup (channel_link, read_until, target, status) values ($1, $2, $3, 'running')
         on conflict (channel_link) do nothing returning channel_link`,
        [link, readUntil, target],
      );
      seeded += inserted.length;
    }
  }
  renameSync(file, `${file}.imported`);
  log.info({ state_file: file, seeded }, 'recovery_state_file_imported');
  return seeded;
}

/**
 * The tail has everything of this channel posted before `until` (a gap check succeeded): a finished catch-up's
 * `read_until` moves up to it, so the next start reads only what came after. An unfinished catch-up owns its row.
 */
export async function tailCovered(db: Queryable, channelLink: string, until: Date): Promise<void> {
  await db.query(
    `update collector_catchup set read_until = greatest(read_until, $2::timestamptz), target = greatest(target, $2::timestamptz), updated_at = now()
      where channel_link = $1 and status = 'ok'`,
    [channelLink, until],
  );
}
