import type { AssignmentInput } from '../../src/assignments/index.ts';
import type { Queryable } from '../../src/db/index.ts';
import { extractRules, harden, loadExamples } from '../../src/extraction/index.ts';

export const EXAMPLES = loadExamples('test/fixtures/message_examples');

/** A real agency post from the fixtures (by agency and 0-based index). */
export function post(agency: string, index = 0): string {
  const found = EXAMPLES.filter((e) => e.agency === agency)[index];
  if (!found) throw new Error(`no fixture ${agency}#${index}`);
  return found.raw;
}

/** Insert one raw message (and its telegram_channels row) and return its id. */
export async function rawMessage(
  db: Queryable,
  m: { channel: string; messageId: number; text: string; date: Date; editDate?: Date | null; replyTo?: number | null; title?: string | null },
): Promise<number> {
  await db.query(
    `insert into telegram_channels (channel_link, agency_telegram_channel_name) values ($1, $2)
     on conflict (channel_link) do update set agency_telegram_channel_name = coalesce(excluded.agency_telegram_channel_name, telegram_channels.agency_telegram_channel_name)`,
    [m.channel, m.title ?? null],
  );
  const [row] = await db.query<{ id: number }>(
    `insert into telegram_messages_raw (channel_link, message_id, message_date, edit_date, raw_text, is_reply, message_json)
     values ($1, $2, $3, $4, $5, $6, jsonb_build_object('id', $2::bigint, 'reply_to_msg_id', $7::bigint))
     on conflict (channel_link, message_id) do update set raw_text = excluded.raw_text, edit_date = excluded.edit_date
     returning id`,
    [m.channel, m.messageId, m.date.toISOString(), m.editDate?.toISOString() ?? null, m.text, m.replyTo != null, m.replyTo ?? null],
  );
  return row!.id;
}

/** An extraction job row for a raw message (assignments reference it). */
export async function extractionRow(db: Queryable, rawId: number, version = 'v1'): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `insert into telegram_extractions (raw_id, pipeline_version, status, channel_link, message_id, message_date)
     select id, $2, 'processing', channel_link, message_id, message_date from telegram_messages_raw where id = $1
     on conflict (raw_id, pipeline_version) do update set status = 'processing'
     returning id`,
    [rawId, version],
  );
  return row!.id;
}

/** Raw post → rules extractor → hardening → the input the projection takes. */
export async function assignmentInput(
  db: Queryable,
  m: { channel: string; messageId: number; text: string; date: Date; editDate?: Date | null; title?: string | null },
  version = 'v1',
): Promise<AssignmentInput> {
  const rawId = await rawMessage(db, m);
  const extractionId = await extractionRow(db, rawId, version);
  const hardened = harden(extractRules(m.text, m.channel), m.text, m.channel);
  return {
    rawId,
    itemKey: '',
    extractionId,
    pipelineVersion: version,
    channelLink: m.channel,
    channelTitle: m.title ?? null,
    messageId: m.messageId,
    messageDate: m.date,
    editDate: m.editDate ?? null,
    rawText: m.text,
    canonical: hardened.canonical,
    signals: hardened.signals,
    meta: hardened.meta,
  };
}

export async function assignmentRows(db: Queryable) {
  return db.query<{
    id: number;
    agency_id: number;
    external_id: string;
    status: string;
    closed_reason: string | null;
    bump_count: number;
    message_id: number;
    raw_id: number;
    published_at: Date;
    source_last_seen: Date;
    academic_display_text: string | null;
    assignment_code: string | null;
    subjects_canonical: string[];
    levels: string[];
    rate_min: number | null;
    rate_max: number | null;
    duplicate_group_id: number | null;
    is_primary: boolean;
    freshness_tier: string | null;
  }>(
    `select id, agency_id, external_id, status, closed_reason, bump_count, message_id, raw_id, published_at, source_last_seen,
            academic_display_text, assignment_code, subjects_canonical, levels, rate_min::float8 as rate_min, rate_max::float8 as rate_max,
            duplicate_group_id, is_primary, freshness_tier
       from assignments order by id`,
  );
}
