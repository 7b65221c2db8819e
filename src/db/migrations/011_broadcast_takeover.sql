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
     where c.id = v_closed and c.duplicate_group_id is not null and c.status <> 'open'
     order by o.parse_quality_score desc, o.published_at asc nulls last, o.id asc
     limit 1;
    continue when v_take is null;
    -- the open copy leads the group from now on (the public list shows a group by its primary)
    update assignments set is_primary = (id = v_take) where duplicate_group_id = (select duplicate_group_id from assignments where id = v_closed);
    update duplicate_groups set primary_assignment_id = v_take, updated_at = now() where id = (select duplicate_group_id from assignments where id = v_closed);
    insert into deliveries (assignment_id, kind, recipient, status)
    select v_take, 'broadcast', d.recipient, 'pending'
      from deliveries d
     where d.assignment_id = v_closed and d.kind = 'broadcast' and d.status in ('pending', 'sending', 'sent', 'uncertain')
       -- the chat shows no other open member of the group already
       and not exists (
             select 1 from deliveries x join assignments xa on xa.id = x.assignment_id
              where xa.duplicate_group_id = (select duplicate_group_id from assignments where id = v_closed)
                and xa.status = 'open' and x.kind = 'broadcast' and x.recipient = d.recipient
                and x.status in ('pending', 'sending', 'sent', 'uncertain') and x.deleted_at is null)
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
       where d.assignment_id = any(v_ids) and d.kind = 'broadcast' and d.status in ('sent', 'sending', 'uncertain') and d.deleted_at is null;
      perform announce_group_takeover(v_ids);
      perform pg_notify('tutordex_deliveries', 'sync');
    end if;
  end if;
  return new;
end
$$;
