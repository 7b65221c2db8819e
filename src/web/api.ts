import { liveVersions } from '../assignments/index.ts';
import { assignmentClicks } from '../clicks/index.ts';
import type { Config } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { JOB_STATUSES } from '../queue/index.ts';
import type {
  AgenciesResponse,
  AgencySummary,
  AssignmentDetail,
  ClickSummary,
  FeedbackSummary,
  AssignmentListItem,
  AssignmentsResponse,
  CatchupResponse,
  QueueResponse,
  QueueVersion,
  RunSummary,
  RunsResponse,
} from './api-types.ts';

const iso = (d: Date | string | null | undefined): string | null => (d === null || d === undefined ? null : new Date(d).toISOString());

export async function queueOverview(db: Queryable, config: Config): Promise<QueueResponse> {
  const live = await liveVersions(db, config.pipelineVersion);
  const rows = await db.query<{ version: string; status: string; n: number; oldest: Date | null }>(
    `select pipeline_version as version, status, count(*)::int as n,
            min(coalesce(next_attempt_at, updated_at)) filter (where status = 'pending') as oldest
       from telegram_extractions group by pipeline_version, status order by pipeline_version`,
  );
  const versions = new Map<string, QueueVersion>();
  for (const r of rows) {
    const v = versions.get(r.version) ?? {
      version: r.version,
      live: live.has(r.version),
      counts: { pending: 0, processing: 0, ok: 0, failed: 0, skipped: 0 },
      oldest_pending_age_s: null,
    };
    if ((JOB_STATUSES as readonly string[]).includes(r.status)) v.counts[r.status as keyof QueueVersion['counts']] = r.n;
    if (r.oldest) v.oldest_pending_age_s = Math.max(0, Math.round((Date.now() - new Date(r.oldest).getTime()) / 1000));
    versions.set(r.version, v);
  }
  const throughput = await db.query<{ minute: Date; ok: number; skipped: number; failed: number }>(
    `select date_trunc('minute', updated_at) as minute,
            count(*) filter (where status = 'ok')::int as ok,
            count(*) filter (where status = 'skipped')::int as skipped,
            count(*) filter (where status = 'failed')::int as failed
       from telegram_extractions
      where status in ('ok', 'skipped', 'failed') and updated_at > now() - interval '1 hour'
      group by 1 order by 1`,
  );
  const failures = await db.query<{
    id: number;
    raw_id: number;
    pipeline_version: string;
    channel_link: string | null;
    message_id: number | null;
    error_type: string | null;
    message: string | null;
    at: Date;
  }>(
    `select id, raw_id, pipeline_version, channel_link, message_id, error_json ->> 'type' as error_type, error_json ->> 'message' as message, updated_at as at
       from telegram_extractions where status = 'failed' order by updated_at desc, id desc limit 20`,
  );
  return {
    versions: [...versions.values()].sort((a, b) => Number(b.live) - Number(a.live) || a.version.localeCompare(b.version)),
    throughput: throughput.map((t) => ({ ...t, minute: iso(t.minute)! })),
    failures: failures.map((f) => ({ ...f, at: iso(f.at)! })),
  };
}

function runSummary(r: {
  id: number;
  run_type: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  heartbeat_at: Date | null;
  channels: string[] | null;
  meta: Record<string, unknown>;
}): RunSummary {
  const totals = (r.meta?.totals ?? r.meta ?? {}) as Record<string, unknown>;
  return {
    id: r.id,
    run_type: r.run_type,
    status: r.status,
    started_at: iso(r.started_at)!,
    finished_at: iso(r.finished_at),
    heartbeat_at: iso(r.heartbeat_at),
    channels: r.channels ?? [],
    totals,
  };
}

const RUN_COLUMNS = 'id, run_type, status, started_at, finished_at, heartbeat_at, channels, meta';

export async function recentRuns(db: Queryable): Promise<RunsResponse> {
  const rows = await db.query<Parameters<typeof runSummary>[0]>(`select ${RUN_COLUMNS} from ingestion_runs order by id desc limit 20`);
  return { runs: rows.map(runSummary) };
}

export async function catchupState(db: Queryable): Promise<CatchupResponse> {
  const [latest] = await db.query<Parameters<typeof runSummary>[0]>(
    `select ${RUN_COLUMNS} from ingestion_runs where run_type = 'catchup' order by id desc limit 1`,
  );
  if (!latest) return { latest: null, channels: [] };
  const channels = await db.query<{ channel_link: string; scanned: number; inserted: number; updated: number; last_message_date: Date | null }>(
    `select channel_link, scanned_count as scanned, inserted_count as inserted, updated_count as updated, last_message_date
       from ingestion_run_progress where run_id = $1 order by channel_link`,
    [latest.id],
  );
  return { latest: runSummary(latest), channels: channels.map((c) => ({ ...c, last_message_date: iso(c.last_message_date) })) };
}

export interface AssignmentQuery {
  subject: string | null;
  level: string | null;
  region: string | null;
  status: 'open' | 'closed' | 'expired' | 'all';
  q: string | null;
  page: number;
}

const LIST_COLUMNS = `a.id, a.status, a.academic_display_text, a.subjects, case when cardinality(a.specific_levels) > 0 then a.specific_levels else a.levels end as levels,
  a.region, a.learning_mode, a.rate_min::float8 as rate_min, a.rate_max::float8 as rate_max, g.agency_display_name as agency,
  a.published_at, a.source_last_seen, a.bump_count, a.freshness_tier, a.message_link`;

type ListRow = Omit<AssignmentListItem, 'published_at' | 'source_last_seen'> & { published_at: Date | null; source_last_seen: Date | null };
const listItem = (r: ListRow): AssignmentListItem => ({ ...r, published_at: iso(r.published_at), source_last_seen: iso(r.source_last_seen) });

export const PAGE_SIZE = 50;

export async function listAssignments(db: Queryable, q: AssignmentQuery): Promise<AssignmentsResponse> {
  const params = [q.status, q.subject, q.level, q.region, q.q ? `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null];
  const where = `($1::text = 'all' or a.status = $1::text)
    and ($2::text is null or $2::text = any(a.subjects) or upper($2::text) = any(a.subjects_canonical) or upper($2::text) = any(a.subjects_general))
    and ($3::text is null or $3::text = any(a.levels) or $3::text = any(a.specific_levels))
    and ($4::text is null or a.region = $4::text)
    and ($5::text is null or a.academic_display_text ilike $5::text or a.assignment_code ilike $5::text or array_to_string(a.address, ' ') ilike $5::text
         or exists (select 1 from telegram_messages_raw r where r.id = a.raw_id and r.raw_text ilike $5::text))`;
  const [{ n: total } = { n: 0 }] = await db.query<{ n: number }>(`select count(*)::int as n from assignments a where ${where}`, params);
  const rows = await db.query<ListRow>(
    `select ${LIST_COLUMNS} from assignments a join agencies g on g.id = a.agency_id where ${where}
      order by coalesce(a.source_last_seen, a.published_at) desc nulls last, a.id desc limit ${PAGE_SIZE} offset $6`,
    [...params, (q.page - 1) * PAGE_SIZE],
  );
  const [facets] = await db.query<{ subjects: string[] | null; levels: string[] | null; regions: string[] | null }>(
    `select (select array_agg(distinct s order by s) from assignments, unnest(subjects) s where status = 'open') as subjects,
            (select array_agg(distinct l order by l) from assignments, unnest(levels || specific_levels) l where status = 'open') as levels,
            (select array_agg(distinct region order by region) from assignments where status = 'open' and region is not null) as regions`,
  );
  return {
    page: q.page,
    page_size: PAGE_SIZE,
    total,
    items: rows.map(listItem),
    facets: { subjects: facets?.subjects ?? [], levels: facets?.levels ?? [], regions: facets?.regions ?? [] },
  };
}

export async function assignmentDetail(db: Queryable, id: number): Promise<AssignmentDetail | null> {
  const [row] = await db.query<ListRow & Record<string, unknown>>(
    `select ${LIST_COLUMNS}, a.assignment_code, a.address, a.postal_code, a.postal_code_estimated, a.nearest_mrt, a.nearest_mrt_computed,
            a.lesson_schedule, a.start_date, a.additional_remarks, a.time_availability, a.rate_raw_text, a.tutor_types,
            a.subjects_canonical, a.duplicate_group_id, a.is_primary, a.closed_reason, a.channel_link, a.message_id, a.raw_id, a.extraction_id,
            a.pipeline_version, a.parse_quality_score
       from assignments a join agencies g on g.id = a.agency_id where a.id = $1`,
    [id],
  );
  if (!row) return null;
  const rawId = row.raw_id as number | null;
  const [raw] = rawId
    ? await db.query<{ channel_link: string; message_id: number; message_date: Date; text: string | null; deleted_at: Date | null }>(
        'select channel_link, message_id, message_date, raw_text as text, deleted_at from telegram_messages_raw where id = $1',
        [rawId],
      )
    : [];
  const versions = rawId
    ? await db.query<{ text: string | null; edit_date: Date | null }>(
        'select raw_text as text, edit_date from telegram_message_versions where raw_id = $1 order by id',
        [rawId],
      )
    : [];
  const extractionId = row.extraction_id as number | null;
  const [extraction] = extractionId
    ? await db.query<{ id: number; pipeline_version: string; status: string; meta: Record<string, unknown> }>(
        'select id, pipeline_version, status, meta from telegram_extractions where id = $1',
        [extractionId],
      )
    : [];
  const deliveries = await db.query<{ kind: string; recipient: string; status: string; sent_at: Date | null }>(
    'select kind, recipient, status, sent_at from deliveries where assignment_id = $1 order by id',
    [id],
  );
  return {
    assignment: listItem(row) as AssignmentDetail['assignment'],
    raw: raw
      ? {
          ...raw,
          message_date: iso(raw.message_date)!,
          deleted_at: iso(raw.deleted_at),
          versions: versions.map((v) => ({ text: v.text, edit_date: iso(v.edit_date) })),
        }
      : null,
    extraction: extraction ?? null,
    deliveries: deliveries.map((d) => ({ ...d, sent_at: iso(d.sent_at) })),
    ...(await engagement(db, id)),
  };
}

// ---- clicks (/r/<token>) and DM feedback (assignment_feedback, migration 007) ----

type ClickRow = { key: number; total: number; broadcast: number; dm: number; chats: number; last: Date | string | null };
const clickSummary = (r: ClickRow | undefined): ClickSummary => ({
  total: r?.total ?? 0,
  broadcast: r?.broadcast ?? 0,
  dm: r?.dm ?? 0,
  chats: r?.chats ?? 0,
  last_click_at: iso(r?.last ?? null),
});

/** Feedback per kind: distinct tutors per kind, so a repeated button press counts once. */
function feedbackSummary(rows: { kind: string; n: number }[]): FeedbackSummary {
  const out: FeedbackSummary = { not_for_me: 0, filled: 0, scam: 0, total: 0 };
  for (const r of rows) {
    if (r.kind === 'total') continue;
    out[r.kind] = (out[r.kind] ?? 0) + r.n;
    out.total += r.n;
  }
  return out;
}

/** Clicks and DM feedback of one assignment. */
async function engagement(db: Queryable, assignmentId: number): Promise<{ clicks: ClickSummary; feedback: FeedbackSummary }> {
  const clicks: ClickSummary = await assignmentClicks(db, assignmentId);
  const feedback = await db.query<{ kind: string; n: number }>(
    `select kind, count(distinct tutor_id)::int as n from assignment_feedback where assignment_id = $1 group by kind`,
    [assignmentId],
  );
  return { clicks, feedback: feedbackSummary(feedback) };
}

/** Per agency (with at least one assignment): assignments, messages sent, clicks and DM feedback; most clicked first. */
export async function agencySummaries(db: Queryable): Promise<AgenciesResponse> {
  const rows = await db.query<{
    agency_id: number;
    agency: string;
    channel_link: string;
    assignments: number;
    open: number;
    broadcasts_sent: number;
    dms_sent: number;
  }>(
    `select g.id as agency_id, coalesce(g.agency_display_name, g.agency_telegram_channel_name, g.channel_link) as agency, g.channel_link,
            count(*)::int as assignments, count(*) filter (where a.status = 'open')::int as open,
            coalesce(sum(d.broadcasts), 0)::int as broadcasts_sent, coalesce(sum(d.dms), 0)::int as dms_sent
       from agencies g
       join assignments a on a.agency_id = g.id
       left join lateral (
              select count(*) filter (where kind = 'broadcast') as broadcasts, count(*) filter (where kind = 'dm') as dms
                from deliveries where assignment_id = a.id and status = 'sent') d on true
      group by g.id`,
  );
  const clicks = await db.query<ClickRow>(
    `select a.agency_id as key, count(*)::int as total, count(*) filter (where x.kind = 'broadcast')::int as broadcast,
            count(*) filter (where x.kind = 'dm')::int as dm, count(distinct x.chat_id)::int as chats, max(x.clicked_at) as last
       from link_clicks x join assignments a on a.id = x.assignment_id group by a.agency_id`,
  );
  const feedback = await db.query<{ key: number; kind: string; n: number }>(
    `select a.agency_id as key, x.kind, count(distinct (x.assignment_id, x.tutor_id))::int as n
       from assignment_feedback x join assignments a on a.id = x.assignment_id group by a.agency_id, x.kind`,
  );
  const agencies: AgencySummary[] = rows.map((r) => ({
    ...r,
    agency_id: Number(r.agency_id),
    clicks: clickSummary(clicks.find((c) => Number(c.key) === Number(r.agency_id))),
    feedback: feedbackSummary(feedback.filter((f) => Number(f.key) === Number(r.agency_id))),
  }));
  agencies.sort((a, b) => b.clicks.total - a.clicks.total || b.assignments - a.assignments || a.agency.localeCompare(b.agency));
  return { agencies };
}
