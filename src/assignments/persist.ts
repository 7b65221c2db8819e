import type { Queryable } from '../db/index.ts';
import {
  agencyDisplayName,
  buildContentRow,
  CONTENT_COLUMNS,
  DISPLAY_COLUMNS,
  isBlank,
  messageLink,
  stableJson,
  UNION_COLUMNS,
  verifiedCode,
  type ContentColumn,
  type ContentRow,
} from './row.ts';
import { likeness, type JobShape } from './items.ts';
import type { AssignmentInput, AssignmentStatus, PersistAction, PersistResult } from './types.ts';

interface StoredRow extends ContentRow {
  id: number;
  external_id: string;
  status: AssignmentStatus;
  closed_reason: string | null;
  raw_id: number | null;
  published_at: Date | null;
  source_last_seen: Date | null;
  bump_count: number;
}

const CONTENT_NAMES = Object.keys(CONTENT_COLUMNS) as ContentColumn[];
const SELECT_STORED = `select id, external_id, status, closed_reason, raw_id, published_at, source_last_seen, bump_count,
  ${CONTENT_NAMES.map((c) => (CONTENT_COLUMNS[c] === 'float8' ? `${c}::float8 as ${c}` : c)).join(', ')}
  from assignments`;

/** One agency per channel, keyed by the channel link (unknown channels are never merged into one agency). */
export async function upsertAgency(db: Queryable, channelLink: string, channelTitle: string | null): Promise<number> {
  // Read first: nearly every job's agency exists already, and a no-op upsert would still write a row version.
  const [known] = await db.query<{ id: number; agency_telegram_channel_name: string | null }>(
    'select id, agency_telegram_channel_name from agencies where channel_link = $1',
    [channelLink],
  );
  if (known && (channelTitle === null || channelTitle === known.agency_telegram_channel_name)) return known.id;
  const [row] = await db.query<{ id: number }>(
    `insert into agencies (channel_link, agency_display_name, agency_telegram_channel_name) values ($1, $2, $3)
     on conflict (channel_link) do update
       set agency_telegram_channel_name = coalesce(excluded.agency_telegram_channel_name, agencies.agency_telegram_channel_name)
     returning id`,
    [channelLink, agencyDisplayName(channelLink, channelTitle), channelTitle],
  );
  return row!.id;
}

async function lockedRow(db: Queryable, where: string, params: unknown[]): Promise<StoredRow | null> {
  const [row] = await db.query<StoredRow>(`${SELECT_STORED} where ${where} order by id limit 1 for update`, params);
  return row ?? null;
}

async function findExisting(
  db: Queryable,
  input: AssignmentInput,
  agencyId: number,
  code: string | null,
  incoming: ContentRow,
): Promise<{ row: StoredRow; by: PersistResult['matchedBy'] } | null> {
  const fingerprint = incoming.text_fingerprint as string;
  const linked = await lockedRow(db, 'id = (select assignment_id from assignment_sources where raw_id = $1 and item_key = $2)', [input.rawId, input.itemKey]);
  // An assignment that has moved to the agency's re-post of this job, while this post now reads as another job
  // (re-used for a new one): the link is stale, and the new job is an assignment of its own.
  const moved = linked !== null && linked.raw_id !== null && Number(linked.raw_id) !== input.rawId;
  if (linked && !(moved && likeness(incoming as unknown as JobShape, linked as unknown as JobShape) === 0)) return { row: linked, by: 'source' };
  if (code) {
    const byCode = await lockedRow(db, 'agency_id = $1 and external_id = $2', [agencyId, `code:${code}`]);
    if (byCode) return { row: byCode, by: 'code' };
    return null;
  }
  const byText = await lockedRow(db, 'agency_id = $1 and text_fingerprint = $2 and assignment_code is null', [agencyId, fingerprint]);
  if (byText) return { row: byText, by: 'text' };
  return findSameJob(db, input, agencyId, incoming);
}

/**
 * The agency's re-post of a job without a code, with the text touched ("URGENT!" added, the rate updated): the
 * same specific levels and subjects at the same postal code, posted within a week, and nearly the same words is
 * the same job (a second assignment would announce it and DM its tutors again). A postal code covers a whole HDB
 * block, so the words decide: at least SAME_JOB_OVERLAP of the shorter post's words are in the other, and no
 * differing unit number (#03-11 vs #14-20) – two families in one block are two jobs. A job the agency closed
 * itself ("taken") is not revived this way.
 */
async function findSameJob(
  db: Queryable,
  input: AssignmentInput,
  agencyId: number,
  incoming: ContentRow,
): Promise<{ row: StoredRow; by: PersistResult['matchedBy'] } | null> {
  const levels = (incoming.specific_levels as string[] | null) ?? [];
  const subjects = (incoming.subjects_canonical as string[] | null) ?? [];
  const postal = ((incoming.postal_code as string[] | null) ?? [])[0] ?? '';
  if (levels.length === 0 || subjects.length === 0 || !/^\d{6}$/.test(postal)) return null;
  const candidates = await db.query<{ id: number; raw_text: string | null }>(
    `select a.id, r.raw_text from assignments a join telegram_messages_raw r on r.id = a.raw_id
      where a.agency_id = $1 and a.assignment_code is null and a.raw_id is distinct from $2 and a.postal_code[1] = $3
        and a.specific_levels @> $4::text[] and a.specific_levels <@ $4::text[]
        and a.subjects_canonical @> $5::text[] and a.subjects_canonical <@ $5::text[]
        and (a.status in ('open', 'expired') or (a.status = 'closed' and a.closed_reason = 'source_deleted'))
        and a.published_at between $6::timestamptz - interval '7 days' and $6::timestamptz + interval '7 days'
      order by a.published_at desc, a.id desc
      limit 20`,
    [agencyId, input.rawId, postal, levels, subjects, input.messageDate.toISOString()],
  );
  const same = candidates.find((c) => nearlySameWords(input.rawText, c.raw_text ?? ''));
  if (!same) return null;
  const row = await lockedRow(db, 'id = $1', [same.id]);
  return row ? { row, by: 'content' } : null;
}

const SAME_JOB_OVERLAP = 0.85;
const words = (text: string) =>
  new Set(
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}$]+/gu) ?? [],
  );
const units = (text: string) => new Set(text.match(/#\s?\d{1,3}\s?-\s?\d{1,5}/g)?.map((u) => u.replace(/\s/g, '')) ?? []);

/** Nearly the same post: most words shared (overlap of the smaller set) and no differing unit number. */
export function nearlySameWords(a: string, b: string): boolean {
  const [ua, ub] = [units(a), units(b)];
  if (ua.size > 0 && ub.size > 0 && ![...ua].some((u) => ub.has(u))) return false;
  const [wa, wb] = [words(a), words(b)];
  const smaller = Math.min(wa.size, wb.size);
  if (smaller === 0) return false;
  let shared = 0;
  for (const w of wa) if (wb.has(w)) shared++;
  return shared / smaller >= SAME_JOB_OVERLAP;
}

const SOURCE_TIME = (input: AssignmentInput) => input.editDate ?? input.messageDate;
const max = (a: Date | null, b: Date) => (a === null || b > a ? b : a);
const min = (a: Date | null, b: Date) => (a === null || b < a ? b : a);

function sameValue(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

/**
 * Insert or merge one assignment under a row lock (concurrent inserts of one job make one row): the row is found
 * through the raw message it came from (so an edit or a reparse that changes a field never creates a second row),
 * else the agency's verified code, else the same text re-posted by the same agency; otherwise it is new, identified
 * by agency + code or channel + message. Run it inside a transaction.
 */
export async function persistAssignment(db: Queryable, input: AssignmentInput, options: { bumpMinSeconds: number }): Promise<PersistResult> {
  const agencyId = await upsertAgency(db, input.channelLink, input.channelTitle);
  const incoming = buildContentRow(input);
  const code = verifiedCode(input.canonical.assignment_code, input.rawText);
  const detected = (incoming.meta as { status_detection: { status?: string } | null }).status_detection?.status ?? null;
  const link = input.sourceUrl ?? messageLink(input.channelLink, input.messageId);

  for (let round = 0; round < 3; round++) {
    const found = await findExisting(db, input, agencyId, code, incoming);
    if (!found) {
      const postKey = `tg:${input.channelLink}:${input.messageId}${input.itemKey ? `#${input.itemKey}` : ''}`;
      // the post's key may belong to the job that moved to its re-post (findExisting ignored that stale link):
      // a post re-used for a new job gets a key of its own
      const keyTaken = !code && (await db.query('select 1 from assignments where agency_id = $1 and external_id = $2', [agencyId, postKey])).length > 0;
      const externalId = code ? `code:${code}` : keyTaken ? `${postKey}~${input.extractionId}` : postKey;
      const status: AssignmentStatus = detected === 'closed' ? 'closed' : 'open';
      const cols = CONTENT_NAMES;
      const params: unknown[] = cols.map((c) => incoming[c]);
      const fixed = [
        agencyId,
        externalId,
        input.rawId,
        input.extractionId,
        input.pipelineVersion,
        input.channelLink,
        input.messageId,
        link,
        status,
        status === 'closed' ? 'closed_notice' : null,
        input.messageDate,
        SOURCE_TIME(input),
      ];
      const base = params.length;
      const [row] = await db.query<{ id: number }>(
        `insert into assignments (${cols.join(', ')}, agency_id, external_id, raw_id, extraction_id, pipeline_version, channel_link, message_id, message_link,
                                  status, closed_reason, published_at, source_last_seen, closed_at)
         values (${cols.map((c, i) => `$${i + 1}::${CONTENT_COLUMNS[c]}`).join(', ')}, ${fixed.map((_, i) => `$${base + i + 1}`).join(', ')},
                 case when $${base + 9} = 'closed' then now() end)
         on conflict (agency_id, external_id) do nothing
         returning id`,
        [...params, ...fixed],
      );
      if (!row) continue; // a concurrent insert of the same (agency, external id) won: merge into it
      await linkSource(db, input, row.id);
      return { assignmentId: row.id, action: 'inserted', status, matchedBy: 'new', displayChanged: false, closedNow: status === 'closed', externalId };
    }
    return await merge(db, input, found.row, found.by, incoming, detected, link, options);
  }
  throw new Error('assignment upsert kept losing a race on (agency_id, external_id)');
}

async function linkSource(db: Queryable, input: AssignmentInput, assignmentId: number): Promise<void> {
  await db.query(
    `insert into assignment_sources (raw_id, item_key, assignment_id, pipeline_version) values ($1, $2, $3, $4)
     on conflict (raw_id, item_key) do update set assignment_id = excluded.assignment_id, pipeline_version = excluded.pipeline_version, linked_at = now()`,
    [input.rawId, input.itemKey, assignmentId, input.pipelineVersion],
  );
}

/**
 * The merge policy: the newest sighting of the current message, or a richer parse, replaces the content; anything
 * else only fills blanks and unions the signal arrays. published_at stays the first-seen time; source_last_seen only
 * moves forward; a genuine newer re-post bumps (at most once per BUMP_MIN_SECONDS) and reopens a closed/expired row;
 * a "closed" notice in the newest sighting closes it.
 */
async function merge(
  db: Queryable,
  input: AssignmentInput,
  stored: StoredRow,
  matchedBy: PersistResult['matchedBy'],
  incoming: ContentRow,
  detected: string | null,
  link: string | null,
  options: { bumpMinSeconds: number },
): Promise<PersistResult> {
  const sourceTime = SOURCE_TIME(input);
  const sameMessage = stored.raw_id === input.rawId;
  const newest = stored.source_last_seen === null || sourceTime >= stored.source_last_seen;
  const repost = !sameMessage && matchedBy !== 'source' && newest;
  const upgrade = (sameMessage && newest) || Number(incoming.parse_quality_score) > Number(stored.parse_quality_score);

  const next: Partial<ContentRow> = {};
  for (const c of CONTENT_NAMES) {
    if (c === 'meta' || c === 'canonical_json' || c === 'parse_quality_score' || c === 'text_fingerprint') continue;
    if (upgrade) {
      if (!isBlank(incoming[c]) || sameMessage) next[c] = incoming[c];
    } else if (UNION_COLUMNS.includes(c)) {
      const union = [...new Set([...((stored[c] as string[]) ?? []), ...((incoming[c] as string[]) ?? [])])];
      if (union.length !== ((stored[c] as string[]) ?? []).length) next[c] = union;
    } else if (isBlank(stored[c]) && !isBlank(incoming[c])) next[c] = incoming[c];
  }
  if (upgrade) {
    next.canonical_json = incoming.canonical_json;
    next.meta = incoming.meta;
    next.parse_quality_score = incoming.parse_quality_score;
    next.text_fingerprint = incoming.text_fingerprint;
  }
  const changedCols = (Object.keys(next) as ContentColumn[]).filter((c) => !sameValue(next[c], stored[c]));
  const displayChanged = changedCols.some((c) => DISPLAY_COLUMNS.includes(c));

  let status = stored.status;
  let closedReason = stored.closed_reason;
  let action: PersistAction = 'updated';
  let closedNow = false;
  if (newest && detected === 'closed' && status === 'open') {
    status = 'closed';
    closedReason = 'closed_notice';
    closedNow = true;
  } else if (repost && status !== 'open' && detected !== 'closed') {
    status = 'open';
    closedReason = null;
    action = 'reopened';
  }
  const gapSeconds = stored.source_last_seen ? (input.messageDate.getTime() - stored.source_last_seen.getTime()) / 1000 : Infinity;
  const bump = repost && gapSeconds >= options.bumpMinSeconds;
  if (bump && action === 'updated') action = 'bumped';

  const sets: string[] = [];
  const params: unknown[] = [];
  const set = (col: string, value: unknown, type: string) => {
    params.push(value);
    sets.push(`${col} = $${params.length}::${type}`);
  };
  for (const c of changedCols) set(c, next[c], CONTENT_COLUMNS[c]);
  if (newest) {
    set('raw_id', input.rawId, 'bigint');
    set('message_id', input.messageId, 'bigint');
    set('message_link', link, 'text');
    set('channel_link', input.channelLink, 'text');
  }
  if (upgrade) {
    set('extraction_id', input.extractionId, 'bigint');
    set('pipeline_version', input.pipelineVersion, 'text');
  }
  set('published_at', min(stored.published_at, input.messageDate), 'timestamptz');
  set('source_last_seen', max(stored.source_last_seen, sourceTime), 'timestamptz');
  set('status', status, 'text');
  set('closed_reason', closedReason, 'text');
  sets.push(status === 'open' ? 'closed_at = null' : 'closed_at = coalesce(closed_at, now())');
  if (bump) sets.push('bump_count = bump_count + 1');
  sets.push('last_seen = now()', 'updated_at = now()');
  params.push(stored.id);
  await db.query(`update assignments set ${sets.join(', ')} where id = $${params.length}`, params);
  await linkSource(db, input, stored.id);
  return {
    assignmentId: stored.id,
    action,
    status,
    matchedBy,
    displayChanged: displayChanged || (newest && link !== null && !sameMessage),
    closedNow,
    externalId: stored.external_id,
  };
}

/** Close the assignment(s) a raw message currently stands for (its source post was deleted). Returns their ids. */
export async function closeForRaw(db: Queryable, rawId: number, reason: string): Promise<number[]> {
  if (reason === 'source_deleted') {
    // the same rule as the raw-delete trigger: an assignment with another live post of its agency moves to it
    const [r] = await db.query<{ ids: (number | string)[] }>(`select close_assignments_of_deleted_raw($1) as ids`, [rawId]);
    return (r?.ids ?? []).map(Number);
  }
  const rows = await db.query<{ id: number }>(
    `update assignments set status = 'closed', closed_reason = $2, closed_at = now(), updated_at = now()
      where raw_id = $1 and status = 'open' returning id`,
    [rawId, reason],
  );
  return rows.map((r) => r.id);
}

/**
 * A reply in the agency's channel to one of its posts ("still available", "urgent") bumps that post's assignment:
 * source_last_seen moves forward, bump_count at most once per BUMP_MIN_SECONDS, and an expired row opens again.
 * Returns the bumped assignment ids.
 */
export async function bumpFromReply(
  db: Queryable,
  input: { channelLink: string; parentMessageId: number; replyDate: Date; bumpMinSeconds: number },
): Promise<{ bumped: number[]; reopened: number[] }> {
  const rows = await db.query<{ id: number; reopened: boolean }>(
    `with before as (
       select a.id, a.status from assignments a
         join assignment_sources s on s.assignment_id = a.id join telegram_messages_raw r on r.id = s.raw_id
        where r.channel_link = $1 and r.message_id = $2
        for update of a
     )
     update assignments a
        set source_last_seen = greatest(a.source_last_seen, $3::timestamptz),
            bump_count = a.bump_count + case when a.source_last_seen is null or $3::timestamptz - a.source_last_seen >= make_interval(secs => $4) then 1 else 0 end,
            status = case when a.status = 'expired' then 'open' else a.status end,
            closed_reason = case when a.status = 'expired' then null else a.closed_reason end,
            closed_at = case when a.status = 'expired' then null else a.closed_at end,
            last_seen = now(), updated_at = now()
       from before b
      where a.id = b.id
      returning a.id, b.status = 'expired' as reopened`,
    [input.channelLink, input.parentMessageId, input.replyDate.toISOString(), input.bumpMinSeconds],
  );
  return { bumped: [...new Set(rows.map((r) => Number(r.id)))], reopened: [...new Set(rows.filter((r) => r.reopened).map((r) => Number(r.id)))] };
}

/**
 * The post now reads as closed ("TAKEN"): every open assignment it stands for closes, including one that has
 * moved to the agency's re-post of it (the job is the same). Returns the ids closed.
 */
export async function closeForPost(db: Queryable, rawId: number, reason: string): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `update assignments a set status = 'closed', closed_reason = $2, closed_at = now(), updated_at = now()
       from assignment_sources s
      where s.assignment_id = a.id and s.raw_id = $1 and a.status = 'open'
      returning a.id`,
    [rawId, reason],
  );
  return [...new Set(rows.map((r) => Number(r.id)))];
}

/**
 * A reply in the agency's channel that closes its post's job ("Taken, thanks all"): the post's assignments close
 * as by a closed notice. Returns the ids closed.
 */
export async function closeFromReply(db: Queryable, input: { channelLink: string; parentMessageId: number }): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `update assignments a set status = 'closed', closed_reason = 'closed_notice', closed_at = now(), updated_at = now()
       from assignment_sources s join telegram_messages_raw r on r.id = s.raw_id
      where s.assignment_id = a.id and r.channel_link = $1 and r.message_id = $2 and a.status in ('open', 'expired')
      returning a.id`,
    [input.channelLink, input.parentMessageId],
  );
  return [...new Set(rows.map((r) => Number(r.id)))];
}

/**
 * Records of a polled source (an agency's API) still listed at `at`: their open assignments count as seen then,
 * so one that stays listed does not expire. Returns how many were touched.
 */
export async function markStillListed(db: Queryable, rawIds: readonly number[], at: Date): Promise<number> {
  if (rawIds.length === 0) return 0;
  const rows = await db.query<{ id: number }>(
    `update assignments set source_last_seen = greatest(source_last_seen, $2::timestamptz), updated_at = now()
      where raw_id = any($1::bigint[]) and status = 'open' and (source_last_seen is null or source_last_seen < $2::timestamptz)
     returning id`,
    [rawIds, at.toISOString()],
  );
  return rows.length;
}
