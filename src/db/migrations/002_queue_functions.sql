-- Queue functions with the earlier system's names and signatures, callable by hand from psql.
-- Message ids are passed as text (as before) and compared as bigint.

-- The one place jobs are created or reset: one job per (raw row, version), deleted rows never, ids (and so
-- claim order) in posting order. Without force an ok job is left alone and any other status goes back to
-- pending; with force every matching job goes back to pending. Returns rows inserted or reset.
create or replace function enqueue_raw_ids(p_pipeline_version text, p_raw_ids bigint[], p_force boolean default false)
returns integer
language plpgsql as $$
declare
  v_count integer;
begin
  if p_pipeline_version is null or btrim(p_pipeline_version) = '' then
    raise exception 'enqueue: pipeline version must not be empty';
  end if;
  with up as (
    insert into telegram_extractions as e (raw_id, pipeline_version, status, channel_link, message_id, message_date)
    select r.id, p_pipeline_version, 'pending', r.channel_link, r.message_id, r.message_date
      from telegram_messages_raw r
     where r.id = any(p_raw_ids) and r.deleted_at is null
     order by r.message_date, r.message_id
    on conflict (raw_id, pipeline_version) do update
      set status = 'pending',
          channel_link = excluded.channel_link,
          message_id = excluded.message_id,
          message_date = excluded.message_date,
          next_attempt_at = null,
          updated_at = now()
      where coalesce(p_force, false) or e.status <> 'ok'
    returning 1
  )
  select count(*)::integer into v_count from up;
  if v_count > 0 then
    perform pg_notify('tutordex_extractions', p_pipeline_version);
  end if;
  return v_count;
end
$$;

create or replace function enqueue_telegram_extractions(
  p_pipeline_version text,
  p_channel_link text,
  p_message_ids text[],
  p_force boolean default false
) returns integer
language plpgsql as $$
declare
  v_ids bigint[];
begin
  v_ids := array(
    select distinct btrim(x)::bigint
    from unnest(coalesce(p_message_ids, '{}'::text[])) as x
    where btrim(x) ~ '^-?[0-9]{1,18}$'
  );
  -- "= any(array)" on the (channel_link, message_id) unique index: one index probe per id whatever the
  -- statistics say (a join against unnest() was planned as a nested loop over the whole channel when the
  -- raw table had not been analysed yet, quadratic in the batch size).
  return enqueue_raw_ids(
    p_pipeline_version,
    array(select r.id from telegram_messages_raw r
           where r.channel_link = lower(btrim(p_channel_link)) and r.message_id = any(v_ids)),
    p_force);
end
$$;

create or replace function claim_telegram_extractions(
  p_pipeline_version text,
  p_limit integer default 20
) returns setof telegram_extractions
language plpgsql as $$
begin
  return query
  with picked as (
    select q.id
    from telegram_extractions q
    where q.status = 'pending'
      and q.pipeline_version = p_pipeline_version
      and (q.next_attempt_at is null or q.next_attempt_at <= now())
    order by q.created_at, q.id
    limit greatest(1, coalesce(p_limit, 20))
    for update skip locked
  )
  update telegram_extractions t
     set status = 'processing',
         updated_at = now(),
         meta = coalesce(t.meta, '{}'::jsonb)
                || jsonb_build_object(
                     'processing_started_at', now(),
                     'attempt', coalesce((t.meta ->> 'attempt')::integer, 0) + 1)
    from picked
   where t.id = picked.id
  returning t.*;
end
$$;

create or replace function requeue_stale_extractions(p_older_than_seconds integer)
returns jsonb
language plpgsql as $$
declare
  v_count integer;
  v_versions text[];
begin
  with stale as (
    update telegram_extractions t
       set status = 'pending',
           updated_at = now(),
           meta = coalesce(t.meta, '{}'::jsonb)
                  || jsonb_build_object('requeued_at', now(), 'requeue_reason', 'stale_processing')
     where t.status = 'processing'
       and t.updated_at < now() - make_interval(secs => greatest(0, coalesce(p_older_than_seconds, 0)))
    returning t.pipeline_version
  )
  select count(*)::integer, coalesce(array_agg(distinct pipeline_version), '{}'::text[])
    into v_count, v_versions from stale;
  perform pg_notify('tutordex_extractions', v) from unnest(v_versions) as v;
  return jsonb_build_object('count', v_count);
end
$$;
