-- One identity per channel (issue 15 #7): Telegram's numeric id. A channel used to be keyed by whichever link a
-- command saw – `t.me/c/<id>` from an export without a username, `t.me/<name>` from the live collector or
-- `--channel @name` – and the same posts were stored twice. Every link seen for a channel id is kept here as an
-- alias; rows are stored under one link per id (the username form when one is known: its message links open for
-- everyone), and rows found under another link of the same id are merged into it by merge_channel_link().
create table telegram_channel_aliases (
  alias_link text primary key check (alias_link = lower(alias_link)),
  channel_id text not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);
create index telegram_channel_aliases_channel_id_idx on telegram_channel_aliases (channel_id);
create index telegram_messages_raw_channel_id_idx on telegram_messages_raw (channel_id);

-- Move everything stored under p_from to p_to (both links of one channel). A post stored under both is one post:
-- the copy under p_from goes the way of a deleted post (its assignments are closed, or handed to another live
-- source, by the deletion trigger; a broadcast it had is taken over by the open copy), its text versions are kept
-- on the p_to row, and it is removed. Returns the number of raw rows moved plus merged.
create function merge_channel_link(p_from text, p_to text) returns integer
language plpgsql as $$
declare
  v_moved integer;
  v_merged integer;
  v_from_ids bigint[];
  v_to_ids bigint[];
  v_from_agency bigint;
  v_to_agency bigint;
begin
  if p_from = p_to then
    return 0;
  end if;

  -- posts stored under both links: (copy under p_from, row under p_to)
  select coalesce(array_agg(f.id order by f.id), '{}'), coalesce(array_agg(t.id order by f.id), '{}')
    into v_from_ids, v_to_ids
    from telegram_messages_raw f
    join telegram_messages_raw t on t.channel_link = p_to and t.message_id = f.message_id
   where f.channel_link = p_from;
  v_merged := cardinality(v_from_ids);
  if v_merged > 0 then
    insert into telegram_message_versions (raw_id, text_sha256, raw_text, edit_date, first_seen_at)
      select o.to_id, v.text_sha256, v.raw_text, v.edit_date, v.first_seen_at
        from unnest(v_from_ids, v_to_ids) as o(from_id, to_id) join telegram_message_versions v on v.raw_id = o.from_id
    on conflict (raw_id, text_sha256) do nothing;
    -- a deletion seen on either copy is a deletion of the post
    update telegram_messages_raw t set deleted_at = f.deleted_at
      from unnest(v_from_ids, v_to_ids) as o(from_id, to_id) join telegram_messages_raw f on f.id = o.from_id
     where t.id = o.to_id and t.deleted_at is null and f.deleted_at is not null;
    update telegram_messages_raw set deleted_at = now() where id = any(v_from_ids) and deleted_at is null;
    delete from telegram_messages_raw where id = any(v_from_ids);
  end if;

  update telegram_messages_raw set channel_link = p_to where channel_link = p_from;
  get diagnostics v_moved = row_count;
  update telegram_extractions set channel_link = p_to where channel_link = p_from;
  update assignments
     set channel_link = p_to,
         message_link = case when p_to ~ '^t\.me/[a-z][a-z0-9_]{3,}$' and message_id is not null then 'https://' || p_to || '/' || message_id end
   where channel_link = p_from;

  -- agency: the one of p_to if it exists (assignments move to it unless it has the same one already), else renamed
  select id into v_from_agency from agencies where channel_link = p_from;
  select id into v_to_agency from agencies where channel_link = p_to;
  if v_from_agency is not null then
    if v_to_agency is null then
      update agencies set channel_link = p_to where id = v_from_agency;
    else
      update assignments a set agency_id = v_to_agency
       where a.agency_id = v_from_agency
         and not exists (select 1 from assignments b where b.agency_id = v_to_agency and b.external_id = a.external_id);
      -- what stays (the same assignment already under p_to) keeps the old agency row, detached from the link
      update agencies set channel_link = null where id = v_from_agency;
    end if;
  end if;

  delete from ingestion_run_progress f where f.channel_link = p_from
     and exists (select 1 from ingestion_run_progress t where t.run_id = f.run_id and t.channel_link = p_to);
  update ingestion_run_progress set channel_link = p_to where channel_link = p_from;
  delete from backfill_checkpoints f where f.channel_link = p_from
     and exists (select 1 from backfill_checkpoints t where t.window_key = f.window_key and t.channel_link = p_to);
  update backfill_checkpoints set channel_link = p_to where channel_link = p_from;
  -- catch-up: the lesser progress of the two is what is known to be read
  update collector_catchup t set read_until = least(t.read_until, f.read_until), status = case when f.status = 'ok' then t.status else f.status end
    from collector_catchup f where f.channel_link = p_from and t.channel_link = p_to;
  delete from collector_catchup f where f.channel_link = p_from and exists (select 1 from collector_catchup t where t.channel_link = p_to);
  update collector_catchup set channel_link = p_to where channel_link = p_from;

  update telegram_channels t
     set agency_telegram_channel_name = coalesce(t.agency_telegram_channel_name, f.agency_telegram_channel_name),
         channel_id = coalesce(t.channel_id, f.channel_id), updated_at = now()
    from telegram_channels f where f.channel_link = p_from and t.channel_link = p_to;
  delete from telegram_channels f where f.channel_link = p_from and exists (select 1 from telegram_channels t where t.channel_link = p_to);
  update telegram_channels set channel_link = p_to where channel_link = p_from;
  return v_moved + v_merged;
end
$$;
