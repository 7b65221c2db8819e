-- Re-enqueue rules and the stale-requeue limit (issue 14).

-- Why a job was enqueued decides whether its run may announce: 'force' (an operator reparse) never does. Only a
-- job that has an outcome (ok, skipped) becomes a reparse when forced; a job never processed (pending,
-- processing its first run, failed: nothing was written or sent for it) keeps its reason, and a job created by a
-- forced enqueue is a first run ('new'), so a force can no longer swallow a post's first broadcast.
-- A re-enqueue also starts a fresh stale count (below), as it starts a fresh attempt budget.
-- p_only_missing creates the jobs that do not exist yet and leaves every existing one alone: the collector's
-- call for a message read again with unchanged text (catch-up overlap, backfill resume, re-import), whose job
-- may be processing (resetting it discarded the running worker's result) or terminally failed.
drop function enqueue_raw_ids(text, bigint[], boolean, text);
create function enqueue_raw_ids(p_pipeline_version text, p_raw_ids bigint[], p_force boolean default false, p_reason text default null,
                                p_only_missing boolean default false)
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
          meta = (coalesce(e.meta, '{}'::jsonb) - 'requeued_at' - 'requeue_reason' - 'released_at' - 'release_reason' - 'stale_requeues')
                 || jsonb_build_object(
                      'enqueued_at', now(),
                      'enqueue_reason', coalesce(
                        p_reason,
                        case when coalesce(p_force, false) and e.status in ('ok', 'skipped') then 'force'
                             else coalesce(e.meta ->> 'enqueue_reason', 'new') end),
                      'previous_status', e.status,
                      'attempt_base', coalesce((e.meta ->> 'attempt')::integer, 0)),
          updated_at = now()
      where not coalesce(p_only_missing, false) and (coalesce(p_force, false) or e.status <> 'ok')
    returning 1
  )
  select count(*)::integer into v_count from up;
  if v_count > 0 then
    perform pg_notify('tutordex_extractions', p_pipeline_version);
  end if;
  return v_count;
end
$$;

-- The stale sweep counts how often it found a job stale (meta.stale_requeues). A job whose worker goes quiet every
-- time (killed by the job itself: out of memory, a crash in a dependency) would otherwise loop forever, paying for
-- the LLM on every run; the p_stale_limit-th time it is failed with stale_requeue_limit instead. Live workers
-- heartbeat their jobs, so a job that is merely long is never found stale. Returns how many jobs went back to
-- pending and how many were failed.
drop function requeue_stale_extractions_for(integer, text);
create function requeue_stale_extractions_for(p_older_than_seconds integer, p_pipeline_version text, p_stale_limit integer default 3)
returns table (requeued integer, failed integer)
language plpgsql as $$
declare
  v_versions text[];
begin
  with stale as (
    select t.id, coalesce((t.meta ->> 'stale_requeues')::integer, 0) + 1 as n,
           coalesce((t.meta ->> 'stale_requeues')::integer, 0) + 1 >= greatest(1, coalesce(p_stale_limit, 3)) as give_up
      from telegram_extractions t
     where t.status = 'processing'
       and (p_pipeline_version is null or t.pipeline_version = p_pipeline_version)
       and t.updated_at < now() - make_interval(secs => greatest(0, coalesce(p_older_than_seconds, 0)))
     for update skip locked
  ), swept as (
    update telegram_extractions t
       set status = case when s.give_up then 'failed' else 'pending' end,
           next_attempt_at = null,
           error_json = case when s.give_up
                             then jsonb_build_object('type', 'stale_requeue_limit',
                                                     'message', format('found stale %s times (its worker went quiet mid-job each time); not requeued again', s.n))
                             else t.error_json end,
           meta = coalesce(t.meta, '{}'::jsonb)
                  || jsonb_build_object('stale_requeues', s.n, 'requeued_at', now(), 'requeue_reason', 'stale_processing')
                  || case when s.give_up then jsonb_build_object('last_error_type', 'stale_requeue_limit', 'failed_at', now()) else '{}'::jsonb end,
           updated_at = now()
      from stale s
     where t.id = s.id and t.status = 'processing'
    returning t.pipeline_version, t.status
  )
  select count(*) filter (where w.status = 'pending')::integer, count(*) filter (where w.status = 'failed')::integer,
         coalesce(array_agg(distinct w.pipeline_version) filter (where w.status = 'pending'), '{}'::text[])
    into requeued, failed, v_versions
    from swept w;
  perform pg_notify('tutordex_extractions', v) from unnest(v_versions) as v;
  return next;
end
$$;

-- The earlier system's name and signature (every version, the default limit): {"count": requeued, "failed": n}.
create or replace function requeue_stale_extractions(p_older_than_seconds integer)
returns jsonb
language sql as $$
  select jsonb_build_object('count', r.requeued, 'failed', r.failed) from requeue_stale_extractions_for(p_older_than_seconds, null) r
$$;
