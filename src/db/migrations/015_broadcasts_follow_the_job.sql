-- Broadcasts and DMs follow the job, not one agency's post, under every timing (found by the simulation and by an
-- adversarial review).
--
-- 1. A closed copy whose broadcast in a chat ended 'uncertain' (the send may or may not have reached Telegram,
--    its message id is unknown) no longer hands that chat to an open copy at once: if the message is there, the
--    chat would show the job twice. The chat waits for the operator (`tutordex deliveries resolve`): found →
--    the message is deleted and the open copy takes over; lost → the open copy takes over; resend → the
--    dispatcher skips the closed copy and the open copy takes over. resolveUncertain calls this function again.
--    A chat where the closed copy's send is in flight ('sending') waits for its outcome the same way: recorded
--    as sent (the dispatcher then calls this function), or uncertain.
-- 2. A copy that expired hands over like a deleted one (a fresher copy of the job is still open).
-- 3. A closed copy's DMs still waiting ('pending') go to the open copy instead: the tutor was never told.
-- 4. The raw-delete trigger hands over before it cancels the closed copy's unsent broadcasts (it used to cancel
--    them first, and a copy whose broadcast was still pending handed over nothing), and takes the duplicate
--    grouping lock, so a worker reopening another copy of the job at the same moment is ordered with it.
-- 5. An assignment moved to its agency's remaining post (a re-post deleted, the original still up) has a new
--    link: its broadcasts are asked to be edited, and deliveries.shown_link records which post link a message
--    shows, so the dispatcher edits when only the link changed (the text alone used to decide).

alter table deliveries add column shown_link text;

create or replace function announce_group_takeover(p_closed bigint[]) returns integer
language plpgsql as $$
declare
  v_closed bigint;
  v_group bigint;
  v_take bigint;
  v_count integer := 0;
  v_n integer;
begin
  foreach v_closed in array coalesce(p_closed, '{}') loop
    select c.duplicate_group_id, o.id into v_group, v_take
      from assignments c
      join assignments o on o.duplicate_group_id = c.duplicate_group_id and o.id <> c.id and o.status = 'open'
     -- only a deleted or expired post hands over: a "taken" notice from one agency means the job is most likely gone everywhere
     where c.id = v_closed and c.duplicate_group_id is not null
       and ((c.status = 'closed' and c.closed_reason = 'source_deleted') or c.status = 'expired')
     order by o.parse_quality_score desc, o.published_at asc nulls last, o.id asc
     limit 1;
    continue when v_take is null;
    -- the open copy leads the group from now on (the public list shows a group by its primary)
    update assignments set is_primary = (id = v_take) where duplicate_group_id = v_group;
    update duplicate_groups set primary_assignment_id = v_take, updated_at = now() where id = v_group;
    -- the taker's own message may still be in a chat, only asked to be deleted (it had closed, then reopened): keep it
    update deliveries t set sync_action = 'edit', sync_requested_at = now(), updated_at = now()
     where t.assignment_id = v_take and t.kind = 'broadcast' and t.sync_action = 'delete' and t.deleted_at is null
       and t.status in ('sent', 'uncertain')
       and t.recipient in (select recipient from deliveries where assignment_id = v_closed and kind = 'broadcast');
    insert into deliveries (assignment_id, kind, recipient, status)
    select v_take, 'broadcast', tc.recipient, 'pending'
      -- the chats the closed copy was shown in, or about to be; an 'uncertain' one waits for the operator (1.)
      from (select distinct d.recipient from deliveries d
             where d.assignment_id = v_closed and d.kind = 'broadcast'
               and (d.status in ('pending', 'sent') or (d.status = 'failed' and d.error_json ->> 'resolution' = 'not_delivered'))) tc
     -- the chat shows no other open member of the group already
     where not exists (
             select 1 from deliveries x join assignments xa on xa.id = x.assignment_id
              where xa.duplicate_group_id = v_group and xa.status = 'open' and x.kind = 'broadcast' and x.recipient = tc.recipient
                and x.status in ('pending', 'sending', 'sent', 'uncertain') and x.deleted_at is null
                and x.sync_action is distinct from 'delete')
    on conflict (assignment_id, recipient, kind) do update
      -- the taking-over assignment may have an old row in that chat (skipped as a duplicate, or deleted): re-arm it
      set status = 'pending', deleted_at = null, telegram_message_id = null, message_html = null, shown_link = null, sent_at = null,
          sync_action = null, sync_requested_at = null, attempts = 0, not_before = null, lease_owner = null,
          error_json = jsonb_build_object('type', 'group_takeover', 'message', 'another agency''s copy closed; this one is still open'),
          updated_at = now()
      where deliveries.status in ('skipped', 'failed') or deliveries.deleted_at is not null;
    get diagnostics v_n = row_count;
    v_count := v_count + v_n;
    -- DMs of the closed copy not sent yet go out for the open copy (3.), unless the tutor has the job already
    perform pg_advisory_xact_lock(hashtext('tutordex_dm_group'), (v_group % 2147483647)::int);
    with handed as (
      update deliveries d
         set status = 'skipped', updated_at = now(),
             error_json = jsonb_build_object('type', 'group_takeover', 'message', 'handed to another agency''s open copy of the job')
       where d.assignment_id = v_closed and d.kind = 'dm' and d.status = 'pending'
      returning d.recipient, d.tutor_id, d.distance_km
    )
    insert into deliveries (assignment_id, kind, recipient, tutor_id, distance_km, status)
    select v_take, 'dm', h.recipient, h.tutor_id, h.distance_km, 'pending'
      from handed h
     where not exists (
             select 1 from deliveries x join assignments xa on xa.id = x.assignment_id
              where xa.duplicate_group_id = v_group and xa.id <> v_closed and x.kind = 'dm'
                and (x.recipient = h.recipient or (h.tutor_id is not null and x.tutor_id = h.tutor_id))
                and x.status in ('pending', 'sending', 'sent', 'uncertain'))
    on conflict (assignment_id, recipient, kind) do nothing;
    get diagnostics v_n = row_count;
    v_count := v_count + v_n;
  end loop;
  if v_count > 0 then
    perform pg_notify('tutordex_deliveries', 'new');
  end if;
  return v_count;
end
$$;

create or replace function close_assignments_of_deleted_raw(p_raw_id bigint) returns bigint[]
language plpgsql as $$
declare
  v_closed bigint[];
  v_moved bigint[];
begin
  with moved as (
    update assignments a
       set raw_id = alt.raw_id, message_id = alt.message_id,
           message_link = case when a.message_link is null then null else regexp_replace(a.message_link, '/\d+$', '/' || alt.message_id) end,
           updated_at = now()
      from (
        select distinct on (s.assignment_id) s.assignment_id, r.id as raw_id, r.message_id
          from assignment_sources s join telegram_messages_raw r on r.id = s.raw_id
         where r.deleted_at is null and r.id <> p_raw_id
           and s.assignment_id in (select id from assignments where raw_id = p_raw_id and status = 'open')
         order by s.assignment_id, r.message_date desc, r.message_id desc
      ) alt
     where a.id = alt.assignment_id
    returning a.id
  )
  select coalesce(array_agg(id), '{}') into v_moved from moved;
  with closed as (
    update assignments a
       set status = 'closed', closed_reason = 'source_deleted', closed_at = now(), updated_at = now()
     where a.raw_id = p_raw_id and a.status = 'open' and not (a.id = any(v_moved))
    returning a.id
  )
  select coalesce(array_agg(id), '{}') into v_closed from closed;
  -- a moved assignment's messages link to the deleted post: edit them (as the outbox's requestBroadcastSync 'edit')
  if cardinality(v_moved) > 0 then
    update deliveries d set sync_action = 'edit', sync_requested_at = now(), updated_at = now()
     where d.assignment_id = any(v_moved) and d.kind = 'broadcast' and d.deleted_at is null
       and d.status in ('sent', 'sending', 'uncertain', 'pending') and d.sync_action is distinct from 'delete';
    perform pg_notify('tutordex_deliveries', 'sync');
  end if;
  return v_closed;
end
$$;

create or replace function close_assignments_for_deleted_raw() returns trigger
language plpgsql as $$
declare
  v_ids bigint[];
begin
  if new.deleted_at is not null and old.deleted_at is null then
    -- ordered with any worker grouping or reopening a copy of the same job (4.)
    perform pg_advisory_xact_lock(hashtext('tutordex_duplicate_grouping'), 0);
    v_ids := close_assignments_of_deleted_raw(new.id);
    if cardinality(v_ids) > 0 then
      -- hand over first: the chats the closed copy was about to be shown in are the open copy's now (4.)
      perform announce_group_takeover(v_ids);
      update deliveries d
         set sync_action = 'delete', sync_requested_at = now(), updated_at = now()
       where d.assignment_id = any(v_ids) and d.kind = 'broadcast' and d.status in ('sent', 'sending', 'uncertain') and d.deleted_at is null;
      -- not sent yet: never sent (as the outbox's requestBroadcastSync does)
      update deliveries d
         set status = 'skipped', error_json = jsonb_build_object('type', 'assignment_closed', 'message', 'assignment closed before the broadcast was sent'),
             sync_action = null, sync_requested_at = null, updated_at = now()
       where d.assignment_id = any(v_ids) and d.kind = 'broadcast' and d.status = 'pending';
      perform pg_notify('tutordex_deliveries', 'sync');
    end if;
  end if;
  return new;
end
$$;
