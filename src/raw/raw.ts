import type { Database, Queryable } from '../db/index.ts';
import type { ResolvedChannel, SourceMessage } from '../telegram/index.ts';

/**
 * Advisory lock class per channel id: raw rows being written hold it shared; a deletion being recorded and a
 * channel's links being merged (adoptChannel) hold it exclusive. A write therefore sees every deletion and every
 * merge committed before it, and one committed after it sees the write.
 */
const CHANNEL_LOCK = `hashtext('tutordex.channel_identity')`;

/** One row of telegram_messages_raw as the collector writes it. */
export interface RawRow {
  channelLink: string;
  channelId: string | null;
  messageId: number;
  messageDate: Date;
  senderId: string | null;
  isForward: boolean;
  isReply: boolean;
  /** trimmed text; null when empty */
  rawText: string | null;
  entitiesJson: unknown[] | null;
  mediaJson: unknown | null;
  views: number | null;
  forwards: number | null;
  replyCount: number | null;
  editDate: Date | null;
  messageJson: Record<string, unknown>;
}

export function rawRowFromMessage(channel: ResolvedChannel, m: SourceMessage): RawRow {
  const trimmed = m.text.trim();
  return {
    channelLink: channel.channelLink,
    channelId: channel.channelId,
    messageId: m.id,
    messageDate: m.date,
    senderId: m.senderId,
    isForward: m.fwdFrom !== null,
    isReply: m.replyToMsgId !== null,
    rawText: trimmed === '' ? null : trimmed,
    entitiesJson: m.entities,
    mediaJson: m.media,
    views: m.views,
    forwards: m.forwards,
    replyCount: m.replyCount,
    editDate: m.editDate,
    messageJson: {
      id: m.id,
      date: m.date.toISOString(),
      edit_date: m.editDate?.toISOString() ?? null,
      sender_id: m.senderId === null ? null : Number(m.senderId),
      text: m.text,
      views: m.views,
      forwards: m.forwards,
      reply_to_msg_id: m.replyToMsgId,
      fwd_from: m.fwdFrom,
      entities: m.entities,
      media: m.media,
      is_service: m.isService,
    },
  };
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  /** rows whose stored snapshot was newer (later edit) and so kept its content */
  staleIgnored: number;
  /** message id → raw id of every row written */
  rawIds: Map<number, number>;
  /** raw ids of rows that existed and whose text this write changed (an edit): the only re-reads worth re-extracting */
  textChanged: Set<number>;
}

/**
 * Take the channels' shared write lock and return the link each channel id is stored under now: a channel
 * renamed and merged by another command since the writer resolved it (a tail running for hours) is written under
 * its current link, never under the old one.
 */
async function lockChannelsForWrite(db: Queryable, rows: readonly RawRow[]): Promise<Map<string, string>> {
  const channelIds = [...new Set(rows.map((r) => r.channelId).filter((id): id is string => id !== null))].sort();
  if (channelIds.length === 0) return new Map();
  // two statements: a statement reads the data as of its start, so the lock must be held before the read begins
  await db.query(`select pg_advisory_xact_lock_shared(${CHANNEL_LOCK}, hashtext(id)) from unnest($1::text[]) as ids(id)`, [channelIds]);
  const current = await db.query<{ channel_id: string; channel_link: string | null }>(
    `select ids.id as channel_id,
            (select c.channel_link from telegram_channels c where c.channel_id = ids.id order by c.updated_at desc limit 1) as channel_link
       from unnest($1::text[]) as ids(id)`,
    [channelIds],
  );
  return new Map(current.filter((c) => c.channel_link !== null).map((c) => [c.channel_id, c.channel_link!]));
}

/** Later rows win within one batch (Postgres refuses to touch one row twice in a statement). */
function dedupe(rows: readonly RawRow[]): RawRow[] {
  const byKey = new Map<string, RawRow>();
  for (const row of rows) {
    const key = `${row.channelLink}\u0000${row.messageId}`;
    const prev = byKey.get(key);
    if (!prev || (row.editDate?.getTime() ?? -Infinity) >= (prev.editDate?.getTime() ?? -Infinity)) byKey.set(key, row);
  }
  return [...byKey.values()];
}

/**
 * Insert or refresh raw messages, keyed by (channel_link, message_id), in one statement:
 * - first_seen_at is kept, last_seen_at refreshed;
 * - a snapshot older than the stored one (earlier edit_date) never replaces its content;
 * - deleted_at is never cleared, and a post whose deletion was reported before it was stored is stored deleted
 *   (markDeleted); call inside a transaction, which holds the channel's shared write lock until it commits;
 * - every distinct text goes into telegram_message_versions;
 * - rows whose stored text this write changed are reported (`textChanged`): only those need extracting again.
 */
export async function upsertRawMessages(db: Queryable, rows: readonly RawRow[]): Promise<UpsertResult> {
  if (rows.length === 0) return { inserted: 0, updated: 0, staleIgnored: 0, rawIds: new Map(), textChanged: new Set() };
  const linkOf = await lockChannelsForWrite(db, rows);
  const batch = dedupe(rows.map((r) => (r.channelId && linkOf.has(r.channelId) ? { ...r, channelLink: linkOf.get(r.channelId)! } : r)));
  const payload = batch.map((r) => ({
    channel_link: r.channelLink,
    channel_id: r.channelId,
    message_id: r.messageId,
    message_date: r.messageDate.toISOString(),
    sender_id: r.senderId,
    is_forward: r.isForward,
    is_reply: r.isReply,
    raw_text: r.rawText,
    entities_json: r.entitiesJson,
    media_json: r.mediaJson,
    views: r.views,
    forwards: r.forwards,
    reply_count: r.replyCount,
    edit_date: r.editDate?.toISOString() ?? null,
    message_json: r.messageJson,
  }));
  const result = await db.query<{ message_id: number; id: number; inserted: boolean; stale: boolean; text_changed: boolean }>(
    `with input as (
       select * from jsonb_to_recordset($1::jsonb) as i(
         channel_link text, channel_id text, message_id bigint, message_date timestamptz, sender_id text,
         is_forward boolean, is_reply boolean, raw_text text, entities_json jsonb, media_json jsonb,
         views integer, forwards integer, reply_count integer, edit_date timestamptz, message_json jsonb)
     ), deleted as (
       select i.channel_link, i.message_id, d.deleted_at
         from input i join telegram_message_deletions d on d.channel_id = i.channel_id and d.message_id = i.message_id
     ), before as (
       select r.channel_link, r.message_id, r.edit_date, r.raw_text
         from telegram_messages_raw r join input i using (channel_link, message_id)
     ), up as (
       insert into telegram_messages_raw as t (
         channel_link, channel_id, message_id, message_date, sender_id, is_forward, is_reply, raw_text,
         entities_json, media_json, views, forwards, reply_count, edit_date, message_json, deleted_at)
       select channel_link, channel_id, message_id, message_date, sender_id, is_forward, is_reply, raw_text,
              entities_json, media_json, views, forwards, reply_count, edit_date, message_json, d.deleted_at
         from input left join deleted d using (channel_link, message_id)
       on conflict (channel_link, message_id) do update set
         last_seen_at = now(),
         deleted_at = coalesce(t.deleted_at, excluded.deleted_at),
         channel_id = coalesce(excluded.channel_id, t.channel_id),
         views = coalesce(excluded.views, t.views),
         forwards = coalesce(excluded.forwards, t.forwards),
         reply_count = coalesce(excluded.reply_count, t.reply_count),
         message_date = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.message_date else t.message_date end,
         sender_id = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.sender_id else t.sender_id end,
         is_forward = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.is_forward else t.is_forward end,
         is_reply = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.is_reply else t.is_reply end,
         raw_text = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.raw_text else t.raw_text end,
         entities_json = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.entities_json else t.entities_json end,
         media_json = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.media_json else t.media_json end,
         message_json = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.message_json else t.message_json end,
         edit_date = case when t.edit_date is null or excluded.edit_date >= t.edit_date then excluded.edit_date else t.edit_date end
       returning t.id, t.channel_link, t.message_id, t.raw_text, (t.xmax = 0) as inserted
     ), versions as (
       insert into telegram_message_versions (raw_id, text_sha256, raw_text, edit_date)
       select up.id, encode(sha256(convert_to(coalesce(i.raw_text, ''), 'UTF8')), 'hex'), i.raw_text, i.edit_date
         from up join input i using (channel_link, message_id)
       on conflict (raw_id, text_sha256) do nothing
     )
     select up.message_id, up.id, up.inserted,
            coalesce(b.edit_date > i.edit_date or (b.edit_date is not null and i.edit_date is null), false) as stale,
            (b.message_id is not null and b.raw_text is distinct from up.raw_text) as text_changed
       from up join input i using (channel_link, message_id)
       left join before b using (channel_link, message_id)`,
    [payload],
  );
  const rawIds = new Map<number, number>();
  const textChanged = new Set<number>();
  let inserted = 0;
  let staleIgnored = 0;
  for (const r of result) {
    rawIds.set(r.message_id, r.id);
    if (r.inserted) inserted++;
    if (r.stale) staleIgnored++;
    if (r.text_changed) textChanged.add(r.id);
  }
  return { inserted, updated: result.length - inserted, staleIgnored, rawIds, textChanged };
}

/** Insert or refresh a channel row; known values are never replaced by nulls. */
export async function upsertChannel(db: Queryable, channel: ResolvedChannel): Promise<void> {
  await db.query(
    `insert into telegram_channels (channel_link, channel_id, agency_telegram_channel_name) values ($1, $2, $3)
     on conflict (channel_link) do update set
       channel_id = coalesce(excluded.channel_id, telegram_channels.channel_id),
       agency_telegram_channel_name = coalesce(excluded.agency_telegram_channel_name, telegram_channels.agency_telegram_channel_name),
       updated_at = now()`,
    [channel.channelLink, channel.channelId, channel.title],
  );
}

/** The Telegram id known for a channel link (e.g. the id behind `t.me/<username>`, or an alias), null when unknown. */
export async function channelIdForLink(db: Queryable, channelLink: string): Promise<string | null> {
  const rows = await db.query<{ channel_id: string }>(
    `select channel_id from telegram_channels where channel_link = $1 and channel_id is not null
     union all
     select channel_id from telegram_channel_aliases where alias_link = $1
     limit 1`,
    [channelLink],
  );
  return rows[0]?.channel_id ?? null;
}

/** Every channel the database knows: a channel row, or raw messages stored under that link. */
export async function knownChannelLinks(db: Queryable): Promise<string[]> {
  // The raw links by a walk down the (channel_link, …) index, one probe per channel: `select distinct` would read
  // every row of a raw log that holds millions.
  const rows = await db.query<{ channel_link: string }>(
    `with recursive raw(link) as (
       (select channel_link from telegram_messages_raw order by channel_link limit 1)
       union all
       select (select r.channel_link from telegram_messages_raw r where r.channel_link > raw.link order by r.channel_link limit 1)
         from raw where raw.link is not null)
     select link as channel_link from raw where link is not null
     union select channel_link from telegram_channels
     order by 1`,
  );
  return rows.map((r) => r.channel_link);
}

/**
 * Mark messages deleted (never un-deleted later) and remember the deletion for a post not stored yet, so that
 * the row written for it later is stored deleted (see upsertRawMessages). Returns how many stored rows it touched.
 */
export async function markDeleted(db: Database, channel: ResolvedChannel, messageIds: readonly number[], at = new Date()): Promise<number> {
  if (messageIds.length === 0) return 0;
  const id = channel.channelId;
  return db.transaction(async (tx) => {
    // The deletion's trigger closes the post's assignments under the duplicate-grouping lock (migration 015); a
    // worker takes that lock before the post's row, so take it here before the rows too, or the two deadlock.
    const groupingLock = () => tx.query(`select pg_advisory_xact_lock(hashtext('tutordex_duplicate_grouping'), 0)`);
    if (!id) {
      await groupingLock();
      const rows = await tx.query<{ id: number }>(
        `update telegram_messages_raw set deleted_at = coalesce(deleted_at, $3::timestamptz), last_seen_at = now()
          where channel_link = $1 and message_id = any($2::bigint[]) returning id`,
        [channel.channelLink, messageIds, at.toISOString()],
      );
      return rows.length;
    }
    // waits for writes of this channel in flight: after it, a row being written now is visible to the update
    // below, and a row written later sees the deletion
    await tx.query(`select pg_advisory_xact_lock(${CHANNEL_LOCK}, hashtext($1))`, [id]);
    await groupingLock();
    await tx.query(
      `insert into telegram_message_deletions (channel_id, message_id, deleted_at)
       select $1, m, $3::timestamptz from unnest($2::bigint[]) as ids(m)
       on conflict (channel_id, message_id) do nothing`,
      [id, messageIds, at.toISOString()],
    );
    // The post is this channel's by id, wherever it is stored. The link the caller knows may be stale (renamed
    // since, or taken over by another channel): rows without an id are matched under the channel's current link.
    const rows = await tx.query<{ id: number }>(
      `update telegram_messages_raw set deleted_at = coalesce(deleted_at, $3::timestamptz), last_seen_at = now()
        where message_id = any($2::bigint[])
          and (channel_id = $1 or (channel_id is null and channel_link = coalesce(
                (select c.channel_link from telegram_channels c where c.channel_id = $1 order by c.updated_at desc limit 1), $4)))
        returning id`,
      [id, messageIds, at.toISOString(), channel.channelLink],
    );
    return rows.length;
  });
}

/** Newest stored message date per channel (deleted rows included): the catch-up cursors. */
export async function latestMessageDates(db: Queryable, channelLinks: readonly string[]): Promise<Map<string, Date>> {
  const rows = await db.query<{ channel_link: string; latest: Date }>(
    `select l.link as channel_link,
            (select r.message_date from telegram_messages_raw r where r.channel_link = l.link
              order by r.message_date desc, r.message_id desc limit 1) as latest
       from unnest($1::text[]) as l(link)`,
    [channelLinks],
  );
  return new Map(rows.filter((r) => r.latest !== null).map((r) => [r.channel_link, r.latest]));
}

/** Highest stored message id per channel (deleted rows included): where a gap check reads from. */
export async function newestMessageIds(db: Queryable, channelLinks: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ channel_link: string; newest: number | string | null }>(
    `select l.link as channel_link,
            (select max(r.message_id) from telegram_messages_raw r where r.channel_link = l.link) as newest
       from unnest($1::text[]) as l(link)`,
    [channelLinks],
  );
  return new Map(rows.filter((r) => r.newest !== null).map((r) => [r.channel_link, Number(r.newest)]));
}

const isUsernameLink = (link: string) => !link.startsWith('t.me/c/');

/**
 * One identity per channel: Telegram's numeric id, with every link it was seen under kept as an alias
 * (telegram_channel_aliases). Call with the channel as a source resolved it, before writing anything for it;
 * returns the channel as it is to be stored. Rows are stored under one link per id – the username form when one is
 * known (its message links open for everyone), else `t.me/c/<id>` – and rows found under any other link of the
 * same id are merged into it (migration 013's merge_channel_link). A channel without a known id is stored as given.
 */
export async function adoptChannel(db: Database, channel: ResolvedChannel): Promise<ResolvedChannel> {
  const id = channel.channelId;
  if (!id) {
    await upsertChannel(db, channel);
    return channel;
  }
  return db.transaction(async (tx) => {
    // one adoption per channel id at a time (two collectors seeing the channel under its two links at once)
    await tx.query(`select pg_advisory_xact_lock(${CHANNEL_LOCK}, hashtext($1))`, [id]);
    // The link may hold another channel's posts (a username given up and taken by a new channel): those move to
    // their own channel's id link first, so the two channels' posts never share (link, message id).
    const [other] = await tx.query<{ channel_id: string }>(
      `select channel_id from telegram_channels where channel_link = $1 and channel_id is not null and channel_id <> $2
       union
       select channel_id from (select channel_id from telegram_messages_raw where channel_link = $1 and channel_id is not null and channel_id <> $2 limit 1) r
       limit 1`,
      [channel.channelLink, id],
    );
    if (other) {
      // the other channel's writes in flight (its tail still knows it by this link) must land before its rows move
      await tx.query(`select pg_advisory_xact_lock(${CHANNEL_LOCK}, hashtext($1))`, [other.channel_id]);
      await tx.query(`select merge_channel_link($1, $2)`, [channel.channelLink, `t.me/c/${other.channel_id.replace(/^-100/, '')}`]);
      await tx.query(`update telegram_channel_aliases set channel_id = $2 where alias_link = $1`, [
        `t.me/c/${other.channel_id.replace(/^-100/, '')}`,
        other.channel_id,
      ]);
    }
    await tx.query(
      `insert into telegram_channel_aliases (alias_link, channel_id) values ($1, $2)
       on conflict (alias_link) do update set channel_id = excluded.channel_id, last_seen_at = now()`,
      [channel.channelLink, id],
    );
    const known = await tx.query<{ channel_link: string }>(
      `select channel_link from telegram_channels where channel_id = $1
       union
       select a.alias_link from telegram_channel_aliases a where a.channel_id = $1
          and exists (select 1 from telegram_messages_raw r where r.channel_link = a.alias_link)
       union
       select distinct channel_link from telegram_messages_raw where channel_id = $1`,
      [id],
    );
    const links = known.map((k) => k.channel_link);
    // the username it was just seen under wins (a renamed channel moves to its new name); else a known one
    const preferred = isUsernameLink(channel.channelLink) ? channel.channelLink : (links.filter(isUsernameLink).sort()[0] ?? channel.channelLink);
    // rows stored before the id was known (an export without one) are this channel's from now on
    await tx.query(`update telegram_messages_raw set channel_id = $1 where channel_id is null and channel_link = any($2::text[])`, [
      id,
      [...new Set([...links, channel.channelLink])],
    ]);
    for (const link of links) {
      if (link !== preferred) await tx.query(`select merge_channel_link($1, $2)`, [link, preferred]);
    }
    const adopted = { ...channel, channelLink: preferred };
    await upsertChannel(tx, adopted);
    return adopted;
  });
}

/** Links as stored: an alias of a channel (another link of its id) is mapped to the link its rows are under. */
export async function storedLinksFor(db: Queryable, links: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ link: string; stored: string | null }>(
    `select l.link,
            (select c.channel_link from telegram_channel_aliases a join telegram_channels c on c.channel_id = a.channel_id
              where a.alias_link = l.link order by (c.channel_link = l.link) desc, c.updated_at desc limit 1) as stored
       from unnest($1::text[]) with ordinality as l(link, n) order by l.n`,
    [links],
  );
  return [...new Set(rows.map((r) => r.stored ?? r.link))];
}
