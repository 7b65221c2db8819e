/** JSON shapes of the read-only API (`/api/*`), shared by the server and the dashboard page. Dates are ISO strings. */

export interface QueueVersion {
  version: string;
  live: boolean;
  counts: { pending: number; processing: number; ok: number; failed: number; skipped: number };
  oldest_pending_age_s: number | null;
}

export interface QueueResponse {
  versions: QueueVersion[];
  /** finished jobs per minute over the last hour (all versions), oldest first */
  throughput: { minute: string; ok: number; skipped: number; failed: number }[];
  /** the 20 newest failed jobs */
  failures: {
    id: number;
    raw_id: number;
    pipeline_version: string;
    channel_link: string | null;
    message_id: number | null;
    error_type: string | null;
    message: string | null;
    at: string;
  }[];
}

export interface RunSummary {
  id: number;
  run_type: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  heartbeat_at: string | null;
  channels: string[];
  totals: Record<string, unknown>;
}

export interface RunsResponse {
  runs: RunSummary[];
}

export interface CatchupResponse {
  /** the latest catch-up run, or null when none ran */
  latest: RunSummary | null;
  /** per-channel progress of that run */
  channels: { channel_link: string; scanned: number; inserted: number; updated: number; last_message_date: string | null }[];
}

export interface AssignmentListItem {
  id: number;
  status: string;
  academic_display_text: string | null;
  subjects: string[];
  levels: string[];
  region: string | null;
  learning_mode: string | null;
  rate_min: number | null;
  rate_max: number | null;
  agency: string;
  published_at: string | null;
  source_last_seen: string | null;
  bump_count: number;
  freshness_tier: string | null;
  message_link: string | null;
}

export interface AssignmentsResponse {
  page: number;
  page_size: number;
  total: number;
  items: AssignmentListItem[];
  /** values present among open assignments, for the filter drop-downs */
  facets: { subjects: string[]; levels: string[]; regions: string[] };
}

/** Link clicks through the /r/<token> redirect (PUBLIC_BASE_URL). */
export interface ClickSummary {
  total: number;
  broadcast: number;
  dm: number;
  /** distinct chats whose link was followed (a broadcast channel counts once) */
  chats: number;
  last_click_at: string | null;
}

/**
 * Tutor feedback from the DM buttons (`assignment_feedback`, migration 007), distinct tutors per kind:
 * not_for_me = "Not for me", filled = "Already filled", scam = "Looks like a scam"; any other kind the bot stores
 * appears under its own name.
 */
export type FeedbackSummary = { not_for_me: number; filled: number; scam: number; total: number } & Record<string, number>;

export interface AssignmentDetail {
  assignment: AssignmentListItem & Record<string, unknown>;
  raw: {
    channel_link: string;
    message_id: number;
    message_date: string;
    text: string | null;
    deleted_at: string | null;
    versions: { text: string | null; edit_date: string | null }[];
  } | null;
  extraction: { id: number; pipeline_version: string; status: string; meta: Record<string, unknown> } | null;
  deliveries: { kind: string; recipient: string; status: string; sent_at: string | null }[];
  /** clicks through /r/<token> (always sent by this server; optional for fixtures of older shapes) */
  clicks?: ClickSummary;
  /** DM feedback: distinct tutors per kind (optional for fixtures of older shapes) */
  feedback?: FeedbackSummary;
}

export interface AgencySummary {
  agency_id: number;
  agency: string;
  channel_link: string;
  assignments: number;
  open: number;
  broadcasts_sent: number;
  dms_sent: number;
  clicks: ClickSummary;
  feedback: FeedbackSummary;
}

export interface AgenciesResponse {
  /** agencies with at least one assignment, most clicked first */
  agencies: AgencySummary[];
}

export interface HealthResponse {
  ok: boolean;
  checks: { name: 'database' | 'tail' | 'queue' | 'catchup'; ok: boolean; detail: string }[];
}
