import type { Config } from '../../config/index.ts';
import type { Database, Queryable } from '../../db/index.ts';
import { markStillListed } from '../../assignments/index.ts';
import { enqueueMissingRawIds, enqueueRawIds } from '../../queue/index.ts';
import { markDeleted, upsertRawMessages, type RawRow } from '../../raw/index.ts';
import { sleep } from '../../sleep.ts';
import { recordMessageId, recordsFrom, recordText, TutorCityResponseSchema, type TutorCityRecord, type TutorCityRow } from './record.ts';

/** Where TutorCity's records live in the raw log: one "channel" of its own, never a Telegram one. */
export const TUTORCITY_CHANNEL: { channelLink: string; channelId: null; title: string } = { channelLink: 'tutorcity.sg', channelId: null, title: 'TutorCity' };

/** The poll could not read the feed (nothing was written). */
export class TutorCityError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'http' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

export interface FetchOptions {
  apiUrl: string;
  limit: number;
  timeoutSeconds: number;
  signal?: AbortSignal;
}

/** GET the feed, check its shape (zod), return its rows. Any failure is one TutorCityError line. */
export async function fetchTutorCityRows(o: FetchOptions): Promise<TutorCityRow[]> {
  const url = new URL(o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/`);
  url.searchParams.set('limit', String(o.limit));
  const timeout = AbortSignal.timeout(o.timeoutSeconds * 1000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let body: unknown;
  try {
    const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
    if (!res.ok) throw new TutorCityError('http', `TutorCity answered HTTP ${res.status} for ${url.origin}${url.pathname}`);
    const text = await res.text();
    if (text.length > 20_000_000) throw new TutorCityError('malformed', 'TutorCity answered more than 20 MB');
    try {
      body = JSON.parse(text);
    } catch {
      throw new TutorCityError('malformed', 'TutorCity answered something that is not JSON');
    }
  } catch (err) {
    if (err instanceof TutorCityError) throw err;
    if (timeout.aborted) throw new TutorCityError('timeout', `TutorCity did not answer within ${o.timeoutSeconds} s`);
    if (o.signal?.aborted) throw err;
    throw new TutorCityError(
      'unreachable',
      `TutorCity is unreachable (${url.origin}): ${(err as Error).cause ? String(((err as Error).cause as Error).message ?? (err as Error).cause) : (err as Error).message}`,
    );
  }
  const parsed = TutorCityResponseSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TutorCityError('malformed', `TutorCity's answer has an unexpected shape at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.all_assignments_data;
}

export interface PollResult {
  rows: number;
  assignments: number;
  inserted: number;
  changed: number;
  enqueued: number;
  /** records no longer in the feed, marked deleted (their assignments close) */
  gone: number;
  /** false when the feed was full (rows = limit): records beyond its page cannot be told from gone ones */
  completeFeed: boolean;
}

/**
 * The raw-log id each record is stored under now. A record's first listing is its code's id; a record listed
 * again after it left the feed (and its row was marked deleted, closing the assignment) is a new listing, like
 * an agency re-posting a job: a new id, which the worker matches to the closed assignment by code and reopens.
 */
async function currentIds(db: Queryable, records: readonly TutorCityRecord[]): Promise<Map<string, number>> {
  const rows = await db.query<{ message_id: number; code: string; deleted: boolean }>(
    `select message_id, message_json -> 'record' ->> 'code' as code, deleted_at is not null as deleted
       from telegram_messages_raw where channel_link = $1 and message_json -> 'record' ->> 'code' = any($2::text[])`,
    [TUTORCITY_CHANNEL.channelLink, records.map((r) => r.code)],
  );
  const ids = new Map<string, number>();
  for (const r of records) {
    const stored = rows.filter((x) => x.code === r.code);
    const live = stored.find((x) => !x.deleted);
    ids.set(r.code, live ? Number(live.message_id) : recordMessageId(stored.length === 0 ? r.code : `${r.code}#${stored.length}`));
  }
  return ids;
}

function rawRowOf(r: TutorCityRecord, messageId: number, at: Date): RawRow {
  return {
    channelLink: TUTORCITY_CHANNEL.channelLink,
    channelId: null,
    messageId,
    messageDate: at,
    senderId: null,
    isForward: false,
    isReply: false,
    rawText: recordText(r),
    entitiesJson: null,
    mediaJson: null,
    views: null,
    forwards: null,
    replyCount: null,
    // every poll is a fresh snapshot of the record: a changed record replaces the stored text
    editDate: at,
    messageJson: { source: 'tutorcity', source_title: TUTORCITY_CHANNEL.title, url: r.url, record: r, fetched_at: at.toISOString() },
  };
}

/**
 * One poll: fetch the feed, then in one transaction store each record in the raw log (a reparse never calls the
 * API again), enqueue new and changed ones (the worker maps them without an LLM), keep listed ones fresh, and
 * mark records that left the feed deleted, which closes their assignments – only when the feed was not full
 * (a full page may just have pushed older records off) and not empty (an empty answer is not trusted to mean
 * "everything is filled").
 */
export async function pollTutorCity(db: Database, config: Config, o: { signal?: AbortSignal; now?: () => Date } = {}): Promise<PollResult> {
  const c = config.tutorcity;
  const rows = await fetchTutorCityRows({ apiUrl: c.apiUrl, limit: c.limit, timeoutSeconds: c.timeoutSeconds, signal: o.signal });
  const records = recordsFrom(rows);
  const at = (o.now ?? (() => new Date()))();
  const completeFeed = rows.length < c.limit;
  return db
    .transaction(async (tx) => {
      const idOf = await currentIds(tx, records);
      const written = records.length
        ? await upsertRawMessages(
            tx,
            records.map((r) => rawRowOf(r, idOf.get(r.code)!, at)),
          )
        : null;
      const ids = written ? [...written.rawIds.values()] : [];
      const changed = ids.filter((id) => written!.textChanged.has(id));
      let enqueued = 0;
      if (config.extractionQueueEnabled) {
        enqueued += await enqueueRawIds(tx, config.pipelineVersion, changed, true, 'edit');
        enqueued += await enqueueMissingRawIds(
          tx,
          config.pipelineVersion,
          ids.filter((id) => !written!.textChanged.has(id)),
        );
      }
      await markStillListed(tx, ids, at);
      return { inserted: written?.inserted ?? 0, changed: changed.length, enqueued, listed: new Set(idOf.values()) };
    })
    .then(async ({ listed, ...stored }) => {
      // then the records that left the feed (a crash between the two steps is made good by the next poll)
      let gone = 0;
      if (completeFeed && records.length > 0) {
        // only rows this poll's answer is newer than: a record another poll (live's, and a `poll --once` beside
        // it) listed after this one fetched is not gone, just not in this older answer
        const live = await db.query<{ message_id: number }>(
          `select message_id from telegram_messages_raw
            where channel_link = $1 and deleted_at is null and coalesce((message_json ->> 'fetched_at')::timestamptz, '-infinity') < $2::timestamptz`,
          [TUTORCITY_CHANNEL.channelLink, at.toISOString()],
        );
        const vanished = live.map((s) => Number(s.message_id)).filter((m) => !listed.has(m));
        if (vanished.length) gone = await markDeleted(db, TUTORCITY_CHANNEL, vanished, at);
      }
      return { rows: rows.length, assignments: records.length, ...stored, gone, completeFeed };
    });
}

/** Poll every TUTORCITY_POLL_SECONDS until the signal aborts; a failed poll is logged and retried next time. */
export async function runTutorCityPoller(
  db: Database,
  config: Config,
  o: { signal: AbortSignal; onPoll?: (r: PollResult) => void; onError?: (err: Error) => void; intervalSeconds?: number },
): Promise<void> {
  while (!o.signal.aborted) {
    try {
      o.onPoll?.(await pollTutorCity(db, config, { signal: o.signal }));
    } catch (err) {
      if (o.signal.aborted) break;
      o.onError?.(err as Error);
    }
    await sleep((o.intervalSeconds ?? config.tutorcity.pollSeconds) * 1000, o.signal).catch(() => {});
  }
}
