-- Broadcasts follow the job, not one agency's post (issue 14, found by the simulation).
--
-- 1. When an announced assignment closes while another agency's copy of it (same duplicate group) is still open,
--    the channel would show nothing although the job is still advertised: the open copy (first in primary order)
--    takes over: it becomes the group's primary (the public list shows a group by its primary) and gets a broadcast
--    in every chat the closed one had been sent (or was being sent) to. DMs are not repeated: a tutor is DMed once
--    per group.
-- 2. The delete trigger asks for the deletion of every broadcast that may be in the chat, as the outbox's own
--    requestBroadcastSync does: 'sending' ones are deleted as soon as their send is recorded, 'uncertain' ones
--    carry the request for the operator (tutordex deliveries list).

create function announce_group_takeover(p_closed bigint[]) returns integer
language plpgsql as $$
declare
  v_closed bigint;
  v_take bigint;
  v_count integer := 0;
  v_n integer;
begin
  foreach v_closed in array coalesce(p_closed, '{}') loop
    select o.id into v_take
      from assignments c
      join assignments o on o.duplicate_group_id = c.duplicate_group_id and o.id <> c.id and o.status = 'open'
     -- only a deleted post hands over: a "taken" notice from one agency means the job is most likely gone everywhere
     where c.id = v_closed and c.duplicate_group_id is not null and c.status = 'closed' and c.closed_reason = 'source_deleted'
     order by o.parse_quality_score desc, o.published_at asc nulls last, o.id asc
     limit 1;
    continue when v_take is null;
    -- the open copy leads the group from now on (the public list shows a group by its primary)
    update assignments set is_primary = (id = v_take) where duplicate_group_id = (select duplicate_group_id from assignments where id = v_closed);
    update duplicate_groups set primary_assignment_id = v_take, updated_at = now() where id = (select duplicate_group_id from assignments where id = v_closed);
    -- the taker's own message may still be in a chat, only asked to be deleted (it had closed, then reopened): keep it
    update deliveries t set sync_action = 'edit', sync_requested_at = now(), updated_at = now()
     where t.assignment_id = v_take and t.kind = 'broadcast' and t.sync_action = 'delete' and t.deleted_at is null
       and t.status in ('sent', 'uncertain')
       and t.recipient in (select recipient from deliveries where assignment_id = v_closed and kind = 'broadcast');
    insert into deliveries (assignment_id, kind, recipient, status)
    select v_take, 'broadcast', d.recipient, 'pending'
      from deliveries d
     where d.assignment_id = v_closed and d.kind = 'broadcast' and d.status in ('pending', 'sending', 'sent', 'uncertain')
       -- the chat shows no other open member of the group already
       and not exists (
             select 1 from deliveries x join assignments xa on xa.id = x.assignment_id
              where xa.duplicate_group_id = (select duplicate_group_id from assignments where id = v_closed)
                and xa.status = 'open' and x.kind = 'broadcast' and x.recipient = d.recipient
                and x.status in ('pending', 'sending', 'sent', 'uncertain') and x.deleted_at is null
                and x.sync_action is distinct from 'delete')
    on conflict (assignment_id, recipient, kind) do update
      -- the taking-over assignment may have an old row in that chat (skipped as a duplicate, or deleted): re-arm it
      set status = 'pending', deleted_at = null, telegram_message_id = null, message_html = null, sent_at = null,
          sync_action = null, sync_requested_at = null, attempts = 0, not_before = null, lease_owner = null,
          error_json = jsonb_build_object('type', 'group_takeover', 'message', 'another agency''s copy closed; this one is still open'),
          updated_at = now()
      where deliveries.status in ('skipped', 'failed') or deliveries.deleted_at is not null;
    get diagnostics v_n = row_count;
    v_count := v_count + v_n;
  end loop;
  if v_count > 0 then
    perform pg_notify('tutordex_deliveries', 'new');
  end if;
  return v_count;
end
$$;

-- 3. Deleting one post of an assignment that the same agency has another live post of (a re-post deleted, the
--    original still up) does not close it: the assignment points at the newest remaining post instead. Only when
--    no post of it is left is it closed. Returns the ids closed.
create function close_assignments_of_deleted_raw(p_raw_id bigint) returns bigint[]
language plpgsql as $$
declare
  v_closed bigint[];
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
  ), closed as (
    update assignments a
       set status = 'closed', closed_reason = 'source_deleted', closed_at = now(), updated_at = now()
     where a.raw_id = p_raw_id and a.status = 'open' and a.id not in (select id from moved)
    returning a.id
  )
  select coalesce(array_agg(id), '{}') into v_closed from closed;
  return v_closed;
end
$$;

create or replace function close_assignments_for_deleted_raw() returns trigger
language plpgsql as $$
declare
  v_ids bigint[];
begin
  if new.deleted_at is not null and old.deleted_at is null then
    v_ids := close_assignments_of_deleted_raw(new.id);
    if cardinality(v_ids) > 0 then
      update deliveries d
         set sync_action = 'delete', sync_requested_at = now(), updated_at = now()
       where d.assignment_id = any(v_ids) and d.kind = 'broadcast' and d.status in ('sent', 'sending', 'uncertain') and d.deleted_at is null;
      -- not sent yet: never sent (as the outbox's requestBroadcastSync does)
      update deliveries d
         set status = 'skipped', error_json = jsonb_build_object('type', 'assignment_closed', 'message', 'assignment closed before the broadcast was sent'),
             sync_action = null, sync_requested_at = null, updated_at = now()
       where d.assignment_id = any(v_ids) and d.kind = 'broadcast' and d.status = 'pending';
      perform announce_group_takeover(v_ids);
      perform pg_notify('tutordex_deliveries', 'sync');
    end if;
  end if;
  return new;
end
$$;
