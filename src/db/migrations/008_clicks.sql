-- Click tracking (issue 9) and the DM daily limit's day counter.

-- One redirect link per delivered message: /r/<token> records a click and redirects to target_url.
-- The token is random (128 bits, base64url) and says nothing about the assignment, chat or tutor behind it.
create table click_links (
  id bigint generated always as identity primary key,
  token text not null unique check (token ~ '^[A-Za-z0-9_-]{22}$'),
  delivery_id bigint unique references deliveries (id) on delete cascade,
  assignment_id bigint not null references assignments (id) on delete cascade,
  kind text not null check (kind in ('broadcast', 'dm')),
  -- the chat the message went to: a channel for broadcasts, the tutor's chat id for DMs
  chat_id text not null,
  tutor_id bigint references tutors (id) on delete set null,
  target_url text not null check (target_url ~* '^https?://'),
  created_at timestamptz not null default now()
);
create index click_links_assignment_idx on click_links (assignment_id);

-- One row per followed link. No IP address, user agent or other personal data: only what the link already knew.
create table link_clicks (
  id bigint generated always as identity primary key,
  link_id bigint not null references click_links (id) on delete cascade,
  assignment_id bigint not null references assignments (id) on delete cascade,
  kind text not null check (kind in ('broadcast', 'dm')),
  chat_id text not null,
  tutor_id bigint references tutors (id) on delete set null,
  clicked_at timestamptz not null default now()
);
create index link_clicks_assignment_idx on link_clicks (assignment_id);

-- DM daily limit: the Singapore calendar day (dispatcher clock) on which a DM was handed to the Bot API.
-- A tutor gets at most tutors.dm_daily_limit DMs in 'sending', 'sent' or 'uncertain' per send_day.
alter table deliveries add column send_day date;
create index deliveries_tutor_day_idx on deliveries (tutor_id, send_day) where kind = 'dm' and send_day is not null;
