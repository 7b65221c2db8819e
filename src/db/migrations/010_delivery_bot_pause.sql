-- Flood control is per bot (issue 14 #11): when Telegram answers 429 with retry_after, the whole bot pauses, in
-- every dispatcher process that shares the token, for the full retry_after (it can be hours). A row is never
-- failed by a 429: it goes back to 'pending' (attempt not spent) until the pause ends.
-- After a pause one call goes first (the probe: one dispatcher claims it here); the rest wait until Telegram has
-- answered it with something other than a 429, so a whole batch does not retry at the same instant.
-- All times are the database clock's (dispatchers on several machines may disagree about the time).
-- bot_id is the token's numeric prefix (the bot's user id, public), never the token.
create table delivery_bot_pauses (
  bot_id text primary key,
  paused_until timestamptz not null,
  retry_after_seconds integer not null,
  method text,
  probe_pending boolean not null default true,
  probe_owner text,
  probe_until timestamptz,
  updated_at timestamptz not null default now()
);
