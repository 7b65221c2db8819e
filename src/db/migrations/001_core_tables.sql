-- Core tables. Names follow the earlier system so its operators recognise them.
-- Deliberate fix: message ids are bigint (the earlier system stored text and sorted "10" before "9").
-- Channel links are canonical: t.me/<username> in lower case, or t.me/c/<numeric id>.

create table telegram_channels (
  id bigint generated always as identity primary key,
  channel_link text not null unique check (channel_link = lower(channel_link)),
  channel_id text,
  agency_telegram_channel_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index telegram_channels_channel_id_idx on telegram_channels (channel_id);

-- The immutable source of truth: every post ever read. Rows are refreshed on re-read, never removed;
-- a deletion on Telegram only sets deleted_at.
create table telegram_messages_raw (
  id bigint generated always as identity primary key,
  channel_link text not null check (channel_link = lower(channel_link)),
  channel_id text,
  message_id bigint not null,
  message_date timestamptz not null,
  sender_id text,
  is_forward boolean not null default false,
  is_reply boolean not null default false,
  raw_text text,
  entities_json jsonb,
  media_json jsonb,
  views integer,
  forwards integer,
  reply_count integer,
  edit_date timestamptz,
  message_json jsonb not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (channel_link, message_id)
);
-- window scans (enqueue from raw, catch-up cursors) in posting order, either direction
create index telegram_messages_raw_channel_date_idx on telegram_messages_raw (channel_link, message_date, message_id);
create index telegram_messages_raw_last_seen_idx on telegram_messages_raw (last_seen_at desc);
create index telegram_messages_raw_deleted_idx on telegram_messages_raw (deleted_at) where deleted_at is not null;

-- Every distinct text a message ever had (edits), so an edit never erases what was first posted.
create table telegram_message_versions (
  id bigint generated always as identity primary key,
  raw_id bigint not null references telegram_messages_raw (id) on delete cascade,
  text_sha256 text not null,
  raw_text text,
  edit_date timestamptz,
  first_seen_at timestamptz not null default now(),
  unique (raw_id, text_sha256)
);

-- The work queue and the versioned output at once: one row per (raw message, pipeline version).
create table telegram_extractions (
  id bigint generated always as identity primary key,
  raw_id bigint not null references telegram_messages_raw (id) on delete cascade,
  pipeline_version text not null check (btrim(pipeline_version) <> ''),
  llm_model text,
  status text not null default 'pending' check (status in ('pending', 'processing', 'ok', 'failed', 'skipped')),
  channel_link text,
  message_id bigint,
  message_date timestamptz,
  canonical_json jsonb,
  error_json jsonb,
  meta jsonb not null default '{}'::jsonb,
  -- a transiently failed job is not claimed again before this moment (backoff)
  next_attempt_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (raw_id, pipeline_version)
);
-- Claim order. The only index that yields (created_at, id) order for pending rows, so the planner cannot
-- walk another index and re-scan already-claimed rows as the queue drains.
create index telegram_extractions_claim_idx on telegram_extractions (pipeline_version, created_at, id) where status = 'pending';
create index telegram_extractions_processing_idx on telegram_extractions (updated_at) where status = 'processing';
create index telegram_extractions_channel_date_idx on telegram_extractions (channel_link, message_date desc);

create table ingestion_runs (
  id bigint generated always as identity primary key,
  run_type text not null,
  status text not null default 'running',
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  heartbeat_at timestamptz,
  channels jsonb,
  meta jsonb not null default '{}'::jsonb
);
create index ingestion_runs_started_idx on ingestion_runs (started_at desc);

create table ingestion_run_progress (
  id bigint generated always as identity primary key,
  run_id bigint not null references ingestion_runs (id) on delete cascade,
  channel_link text not null,
  last_message_id bigint,
  last_message_date timestamptz,
  scanned_count integer not null default 0,
  inserted_count integer not null default 0,
  updated_count integer not null default 0,
  error_count integer not null default 0,
  updated_at timestamptz not null default now(),
  unique (run_id, channel_link)
);

create table agencies (
  id bigint generated always as identity primary key,
  channel_link text unique,
  agency_display_name text not null,
  agency_telegram_channel_name text,
  created_at timestamptz not null default now()
);

-- The projection tutors see: one row per assignment (merged across re-posts of the same code by one agency).
create table assignments (
  id bigint generated always as identity primary key,
  agency_id bigint not null references agencies (id),
  external_id text not null,
  raw_id bigint references telegram_messages_raw (id) on delete set null,
  extraction_id bigint references telegram_extractions (id) on delete set null,
  pipeline_version text,
  channel_link text,
  message_id bigint,
  message_link text,
  status text not null default 'open' check (status in ('open', 'closed', 'expired')),
  assignment_code text,
  academic_display_text text,
  subjects text[] not null default '{}',
  levels text[] not null default '{}',
  learning_mode text,
  address text[],
  postal_code text[],
  region text,
  nearest_mrt text[],
  rate_min numeric,
  rate_max numeric,
  rate_raw_text text,
  canonical_json jsonb,
  meta jsonb not null default '{}'::jsonb,
  parse_quality_score integer not null default 0,
  bump_count integer not null default 0,
  published_at timestamptz,
  source_last_seen timestamptz,
  last_seen timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (agency_id, external_id)
);
create index assignments_open_idx on assignments (status, published_at desc);

create table tutors (
  id bigint generated always as identity primary key,
  chat_id bigint not null unique,
  display_name text,
  subjects text[] not null default '{}',
  levels text[] not null default '{}',
  regions text[] not null default '{}',
  postal_code text,
  max_distance_km numeric,
  min_rate numeric,
  learning_modes text[] not null default '{}',
  tutor_types text[] not null default '{}',
  dm_daily_limit integer not null default 10,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Outbox for side effects: written before sending, marked sent with Telegram's message id after.
-- The unique key makes a broadcast or DM exactly-once per assignment and recipient.
create table deliveries (
  id bigint generated always as identity primary key,
  assignment_id bigint not null references assignments (id) on delete cascade,
  kind text not null check (kind in ('broadcast', 'dm')),
  recipient text not null,
  tutor_id bigint references tutors (id) on delete set null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts integer not null default 0,
  telegram_message_id bigint,
  error_json jsonb,
  not_before timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  unique (assignment_id, recipient, kind)
);
create index deliveries_pending_idx on deliveries (created_at, id) where status in ('pending', 'sending');
