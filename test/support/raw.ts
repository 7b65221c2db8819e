import type { Queryable } from '../../src/db/index.ts';

/** Insert raw messages directly (the collector's own writer is tested separately). Returns their ids. */
export async function insertRaw(db: Queryable, channelLink: string, messageIds: number[], options: { deleted?: boolean; date?: Date } = {}): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json, deleted_at)
     select $1, m, coalesce($3::timestamptz, now()) + make_interval(secs => m), 'post ' || m, jsonb_build_object('id', m), case when $2 then now() end
       from unnest($4::bigint[]) as m
     returning id`,
    [channelLink, options.deleted ?? false, options.date ?? null, messageIds],
  );
  return rows.map((r) => r.id);
}

export async function jobStatuses(db: Queryable, version: string): Promise<Record<number, string>> {
  const rows = await db.query<{ message_id: number; status: string }>(
    'select message_id, status from telegram_extractions where pipeline_version = $1 order by message_id',
    [version],
  );
  return Object.fromEntries(rows.map((r) => [r.message_id, r.status]));
}

export async function setStatus(db: Queryable, version: string, messageId: number, status: string): Promise<void> {
  await db.query('update telegram_extractions set status = $3 where pipeline_version = $1 and message_id = $2', [version, messageId, status]);
}
