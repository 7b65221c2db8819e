-- The tutor-facing bot (issue 9): DM feedback buttons and per-chat conversation state.

-- One row per tap kind per (assignment, tutor): a double tap never counts twice. Deleting a tutor (/stop)
-- deletes their feedback; deleting an assignment deletes its feedback.
create table assignment_feedback (
  id bigint generated always as identity primary key,
  assignment_id bigint not null references assignments (id) on delete cascade,
  tutor_id bigint not null references tutors (id) on delete cascade,
  kind text not null check (kind in ('not_for_me', 'filled', 'scam')),
  created_at timestamptz not null default now(),
  unique (assignment_id, tutor_id, kind)
);
create index assignment_feedback_kind_idx on assignment_feedback (assignment_id, kind);
create index assignment_feedback_tutor_idx on assignment_feedback (tutor_id);

-- What the bot is waiting for in a private chat (e.g. a postal code after /area) and the draft of an open
-- subject/level picker, so a multi-step exchange survives a restart. Keyed by chat (a tutor may not exist yet).
create table bot_chat_state (
  chat_id bigint primary key,
  awaiting text check (awaiting in ('area', 'distance', 'rate', 'limit')),
  draft jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now()
);
