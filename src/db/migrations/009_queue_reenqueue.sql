-- Re-enqueue rules (issue 14).

-- Why a job was enqueued decides whether its run may announce: 'force' (an operator reparse) never does. Only a
-- job that has an outcome (ok, skipped) becomes a reparse when forced; a job never processed (pending,
-- processing its first run, failed: nothing was written or sent for it) keeps its reason, and a job created by a
-- forced enqueue is a first run ('new'), so a force can no longer swallow a post's first broadcast.
create or replace function enqueue_raw_ids(p_pipeline_version text, p_raw_ids bigint[], p_force boolean default false, p_reason text default null)
returns integer
language plpgsql as $$
declare
  v_count integer;
begin
  if p_pipeline_version is null or btrim(p_pipeline_version) = '' then
    raise exception 'enqueue: pipeline version must not be empty';
  end if;
  with up as (
    insert into telegram_extractions as e (raw_id, pipeline_version, status, channel_link, message_id, message_date, meta)
    select r.id, p_pipeline_version, 'pending', r.channel_link, r.message_id, r.message_date,
           jsonb_build_object('enqueued_at', now(), 'enqueue_reason', coalesce(p_reason, 'new'))
      from telegram_messages_raw r
     where r.id = any(p_raw_ids) and r.deleted_at is null
     order by r.message_date, r.message_id
    on conflict (raw_id, pipeline_version) do update
      set status = 'pending',
          channel_link = excluded.channel_link,
          message_id = excluded.message_id,
          message_date = excluded.message_date,
          next_attempt_at = null,
          meta = (coalesce(e.meta, '{}'::jsonb) - 'requeued_at' - 'requeue_reason' - 'released_at' - 'release_reason')
                 || jsonb_build_object(
                      'enqueued_at', now(),
                      'enqueue_reason', coalesce(
                        p_reason,
                        case when coalesce(p_force, false) and e.status in ('ok', 'skipped') then 'force'
                             else coalesce(e.meta ->> 'enqueue_reason', 'new') end),
                      'previous_status', e.status,
                      'attempt_base', coalesce((e.meta ->> 'attempt')::integer, 0)),
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
