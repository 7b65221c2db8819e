-- Worker, assignments projection and delivery outbox (issue 5).

-- Small key/value settings; 'live_pipeline_version' names the one version whose worker writes assignments.
create table tutordex_settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);

-- Re-enqueueing a job gives it a fresh attempt budget (the earlier system never reset it, so a message edited
-- twice was failed unprocessed): meta.attempt keeps counting (it is the fencing token of a claim) and
-- meta.attempt_base marks where the new budget starts. It also records why it was enqueued: 'new', 'edit' (the source post changed) or
-- 'force' (an operator reparse, which never has side effects).
drop function enqueue_raw_ids(text, bigint[], boolean);
create function enqueue_raw_ids(p_pipeline_version text, p_raw_ids bigint[], p_force boolean default false, p_reason text default null)
returns integer
language plpgsql as $$
declare
  v_count integer;
  v_reason text := coalesce(p_reason, case when coalesce(p_force, false) then 'force' else 'new' end);
begin
  if p_pipeline_version is null or btrim(p_pipeline_version) = '' then
    raise exception 'enqueue: pipeline version must not be empty';
  end if;
  with up as (
    insert into telegram_extractions as e (raw_id, pipeline_version, status, channel_link, message_id, message_date, meta)
    select r.id, p_pipeline_version, 'pending', r.channel_link, r.message_id, r.message_date,
           jsonb_build_object('enqueued_at', now(), 'enqueue_reason', v_reason)
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
                 || jsonb_build_object('enqueued_at', now(), 'enqueue_reason', v_reason, 'previous_status', e.status,
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

-- Stale sweep scoped to one version when given (a worker only sweeps its own lane); null sweeps every version.
create or replace function requeue_stale_extractions_for(p_older_than_seconds integer, p_pipeline_version text)
returns integer
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
       and (p_pipeline_version is null or t.pipeline_version = p_pipeline_version)
       and t.updated_at < now() - make_interval(secs => greatest(0, coalesce(p_older_than_seconds, 0)))
    returning t.pipeline_version
  )
  select count(*)::integer, coalesce(array_agg(distinct pipeline_version), '{}'::text[])
    into v_count, v_versions from stale;
  perform pg_notify('tutordex_extractions', v) from unnest(v_versions) as v;
  return v_count;
end
$$;

-- The earlier system's name and signature (every version), now one call to the scoped function.
create or replace function requeue_stale_extractions(p_older_than_seconds integer)
returns jsonb
language sql as $$
  select jsonb_build_object('count', requeue_stale_extractions_for(p_older_than_seconds, null))
$$;

-- Assignments: stable identity, provenance, geo, freshness and duplicate grouping.
alter table assignments
  add column text_fingerprint text,
  add column subjects_canonical text[] not null default '{}',
  add column subjects_general text[] not null default '{}',
  add column specific_levels text[] not null default '{}',
  add column tutor_types text[] not null default '{}',
  add column lesson_schedule text[],
  add column start_date text,
  add column additional_remarks text,
  add column time_availability jsonb,
  add column postal_code_estimated text[],
  add column postal_lat double precision,
  add column postal_lon double precision,
  add column postal_coords_estimated boolean not null default false,
  add column nearest_mrt_computed text,
  add column freshness_tier text check (freshness_tier in ('green', 'yellow', 'orange', 'red')),
  add column closed_reason text,
  add column closed_at timestamptz,
  add column duplicate_group_id bigint,
  add column is_primary boolean not null default true,
  add column duplicate_score integer;
create index assignments_fingerprint_idx on assignments (agency_id, text_fingerprint) where text_fingerprint is not null;
create index assignments_raw_idx on assignments (raw_id);
create index assignments_group_idx on assignments (duplicate_group_id) where duplicate_group_id is not null;
create index assignments_source_seen_idx on assignments (status, source_last_seen);

-- Every raw message an assignment was seen in: edits, re-posts and reparses find their row through this link,
-- not through the (LLM-derived) assignment code.
-- item_key tells apart the assignments of one compilation post ('' for a single-assignment post).
create table assignment_sources (
  raw_id bigint not null references telegram_messages_raw (id) on delete cascade,
  item_key text not null default '',
  assignment_id bigint not null references assignments (id) on delete cascade,
  pipeline_version text not null,
  linked_at timestamptz not null default now(),
  primary key (raw_id, item_key)
);
create index assignment_sources_assignment_idx on assignment_sources (assignment_id);

-- Cross-agency duplicates: membership is a column on assignments, so re-detection cannot inflate a group.
create table duplicate_groups (
  id bigint generated always as identity primary key,
  primary_assignment_id bigint references assignments (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table assignments add constraint assignments_duplicate_group_fk
  foreign key (duplicate_group_id) references duplicate_groups (id) on delete set null;

-- Tutors: coordinates for distance matching, fairness and deactivation.
alter table tutors
  add column postal_lat double precision,
  add column postal_lon double precision,
  add column last_dm_at timestamptz,
  add column inactive_reason text;

-- Delivery outbox: rendering, edit/delete sync, a sending lease for crash reconciliation.
alter table deliveries drop constraint deliveries_status_check;
alter table deliveries add constraint deliveries_status_check
  check (status in ('pending', 'sending', 'sent', 'failed', 'skipped', 'uncertain'));
alter table deliveries
  add column distance_km double precision,
  add column message_html text,
  add column sync_action text check (sync_action in ('edit', 'delete')),
  add column sync_requested_at timestamptz,
  add column deleted_at timestamptz,
  add column sending_started_at timestamptz,
  add column lease_owner text;
create index deliveries_recipient_idx on deliveries (recipient, id) where status in ('pending', 'sending');
create index deliveries_sync_idx on deliveries (sync_requested_at) where sync_action is not null;
create index deliveries_tutor_idx on deliveries (tutor_id, created_at) where kind = 'dm';

-- A deleted source post closes the assignment it currently points at (not one it was merely re-posted from),
-- and asks the outbox to delete that assignment's broadcast messages.
create or replace function close_assignments_for_deleted_raw() returns trigger
language plpgsql as $$
declare
  v_ids bigint[];
begin
  if new.deleted_at is not null and old.deleted_at is null then
    with closed as (
      update assignments a
         set status = 'closed', closed_reason = 'source_deleted', closed_at = now(), updated_at = now()
       where a.raw_id = new.id and a.status = 'open'
      returning a.id
    )
    select coalesce(array_agg(id), '{}') into v_ids from closed;
    if cardinality(v_ids) > 0 then
      update deliveries d
         set sync_action = 'delete', sync_requested_at = now(), updated_at = now()
       where d.assignment_id = any(v_ids) and d.kind = 'broadcast' and d.status = 'sent' and d.deleted_at is null;
      perform pg_notify('tutordex_deliveries', 'sync');
    end if;
  end if;
  return new;
end
$$;
create trigger telegram_messages_raw_deleted
  after update of deleted_at on telegram_messages_raw
  for each row execute function close_assignments_for_deleted_raw();
