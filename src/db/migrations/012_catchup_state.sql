-- Catch-up state lives in the database it describes (issue 15 #4): a state file in the working directory was
-- shared by every database started there, and a fresh database resumed another's cursors and skipped posts.
-- One row per channel. read_until: every post dated before it has been read into telegram_messages_raw.
-- target: where the current (or last) catch-up reads up to – the moment the tail began listening, plus overlap.
-- status: running (unfinished: the next start resumes at read_until), ok, or error (last_error says why and what
-- to do; /health is red while any channel is in error).
create table collector_catchup (
  channel_link text primary key,
  read_until timestamptz not null,
  target timestamptz not null,
  status text not null check (status in ('running', 'ok', 'error')),
  last_error text,
  run_id bigint,
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
