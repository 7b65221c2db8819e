-- Collector support: resumable backfill checkpoints and set-based enqueue of a raw window.

-- A backfill reads a channel newest → oldest; after every batch is written (and enqueued) the oldest id
-- written is recorded, so an interrupted backfill of the same window resumes below it instead of starting over.
create table backfill_checkpoints (
  id bigint generated always as identity primary key,
  channel_link text not null,
  -- the window, as given; '' / null-safe key columns keep one row per (channel, window)
  since_at timestamptz,
  until_at timestamptz,
  window_key text not null,
  -- newest message id present when the backfill began (open-ended windows re-read above it on resume)
  top_message_id bigint,
  -- every message of the window with an id above this one has been written
  cursor_message_id bigint,
  scanned_count bigint not null default 0,
  written_count bigint not null default 0,
  completed_at timestamptz,
  run_id bigint references ingestion_runs (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (channel_link, window_key)
);

-- One page of enqueue-from-raw: the next p_limit raw rows of a channel in the window, after a keyset cursor
-- (message_date, message_id), enqueued in one statement. Returns how many rows were read, how many jobs the
-- database inserted or reset, and the cursor to continue from.
create or replace function enqueue_raw_window(
  p_pipeline_version text,
  p_channel_link text,
  p_since timestamptz,
  p_until timestamptz,
  p_after_date timestamptz,
  p_after_id bigint,
  p_limit integer,
  p_force boolean default false
) returns table (out_scanned integer, out_enqueued integer, out_last_date timestamptz, out_last_id bigint)
language plpgsql as $$
declare
  v_ids bigint[];
  v_last_date timestamptz;
  v_last_id bigint;
begin
  select array_agg(p.id order by p.message_date, p.message_id),
         (array_agg(p.message_date order by p.message_date desc, p.message_id desc))[1],
         (array_agg(p.message_id order by p.message_date desc, p.message_id desc))[1]
    into v_ids, v_last_date, v_last_id
    from (
      select r.id, r.message_date, r.message_id
        from telegram_messages_raw r
       where r.channel_link = lower(btrim(p_channel_link))
         and r.deleted_at is null
         and (p_since is null or r.message_date >= p_since)
         and (p_until is null or r.message_date < p_until)
         and (p_after_date is null or (r.message_date, r.message_id) > (p_after_date, p_after_id))
       order by r.message_date, r.message_id
       limit greatest(1, p_limit)
    ) p;
  if v_ids is null then
    return query select 0, 0, null::timestamptz, null::bigint;
    return;
  end if;
  return query select cardinality(v_ids), enqueue_raw_ids(p_pipeline_version, v_ids, p_force), v_last_date, v_last_id;
end
$$;
