import type { Queryable } from '../db/index.ts';

/** NOTIFY channel the dispatcher listens on. */
export const DELIVERIES_CHANNEL = 'tutordex_deliveries';

/**
 * SQL SET list that re-arms a broadcast row to be sent afresh (its old message gone or never shown): every field of
 * the previous send cleared, with `error_json` saying why. Reason and message are constants of this folder.
 */
export function rearmBroadcast(type: string, message: string): string {
  const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
  return `status = 'pending', deleted_at = null, telegram_message_id = null, message_html = null, shown_link = null, sent_at = null,
          sync_action = null, sync_requested_at = null, attempts = 0, not_before = null, lease_owner = null,
          error_json = jsonb_build_object('type', ${lit(type)}, 'message', ${lit(message)}), updated_at = now()`;
}

async function notify(db: Queryable, payload: string): Promise<void> {
  await db.query(`select pg_notify($1, $2)`, [DELIVERIES_CHANNEL, payload]);
}

/**
 * SQL: another open copy of assignment $1's job (same duplicate group) is shown, or about to be, in the chat
 * `recipient` (an SQL expression; null = in any chat). A closed copy never counts (its messages are being
 * deleted, or never go out), nor does a message only waiting to be deleted.
 */
function otherOpenCopyShown(recipient: string | null): string {
  return `exists (
              select 1 from assignments me
                join assignments x on x.duplicate_group_id = me.duplicate_group_id and x.id <> me.id and x.status = 'open'
                join deliveries o on o.assignment_id = x.id
               where me.id = $1 and o.kind = 'broadcast'${recipient ? ` and o.recipient = ${recipient}` : ''}
                 and o.status in ('pending', 'sending', 'sent', 'uncertain') and o.deleted_at is null
                 and o.sync_action is distinct from 'delete')`;
}

/**
 * Queue one broadcast of an assignment per chat (pending outbox rows). Idempotent: a chat that already has a
 * row for this assignment is left alone, and so is a chat already showing (or about to show) another open
 * assignment of the same cross-agency duplicate group. Returns the number of rows inserted.
 */
export async function queueBroadcasts(db: Queryable, assignmentId: number, chatIds: readonly string[]): Promise<number> {
  const chats = [...new Set(chatIds.map((c) => String(c).trim()).filter(Boolean))];
  if (chats.length === 0) return 0;
  const rows = await db.query<{ id: number }>(
    `insert into deliveries (assignment_id, kind, recipient, status)
     select $1, 'broadcast', c, 'pending' from unnest($2::text[]) with ordinality as t(c, n)
      where not ${otherOpenCopyShown('t.c')}
      order by n
     on conflict (assignment_id, recipient, kind) do nothing
     returning id`,
    [assignmentId, chats],
  );
  if (rows.length > 0) await notify(db, 'new');
  return rows.length;
}

export interface DmRecipient {
  tutorId: number;
  chatId: string;
  distanceKm: number | null;
}

/**
 * Queue DMs of an assignment. A tutor never gets a second DM for the same assignment, nor for another
 * assignment of the same cross-agency duplicate group (a DM that was skipped or failed does not count there).
 */
export async function queueDms(db: Queryable, assignmentId: number, recipients: readonly DmRecipient[]): Promise<{ queued: number; alreadyDelivered: number }> {
  if (recipients.length === 0) return { queued: 0, alreadyDelivered: 0 };
  const [a] = await db.query<{ duplicate_group_id: number | null }>(`select duplicate_group_id from assignments where id = $1`, [assignmentId]);
  if (!a) throw new Error(`queueDms: assignment ${assignmentId} does not exist`);
  const group = a.duplicate_group_id == null ? null : Number(a.duplicate_group_id);
  // Two jobs of one duplicate group queueing at the same time must not both DM a tutor.
  if (group != null) await db.query(`select pg_advisory_xact_lock(hashtext('tutordex_dm_group'), ($1::bigint % 2147483647)::int)`, [group]);
  const seen = new Set<number>();
  const list = recipients.filter((r) => {
    if (seen.has(r.tutorId)) return false;
    seen.add(r.tutorId);
    return true;
  });
  const rows = await db.query<{ id: number }>(
    `insert into deliveries (assignment_id, kind, recipient, tutor_id, distance_km, status)
     select $1, 'dm', r.chat_id, r.tutor_id, r.distance_km, 'pending'
       from unnest($2::bigint[], $3::text[], $4::float8[]) with ordinality as r(tutor_id, chat_id, distance_km, n)
      where not exists (
              select 1 from deliveries d
               where d.kind = 'dm' and d.assignment_id = $1 and (d.tutor_id = r.tutor_id or d.recipient = r.chat_id))
        and ($5::bigint is null or not exists (
              select 1 from deliveries d join assignments x on x.id = d.assignment_id
               where d.kind = 'dm' and x.duplicate_group_id = $5 and d.assignment_id <> $1
                 and (d.tutor_id = r.tutor_id or d.recipient = r.chat_id)
                 and (d.status in ('pending', 'sending', 'sent', 'uncertain') or d.error_json ->> 'type' = 'dm_inherited')))
      order by r.n
     on conflict (assignment_id, recipient, kind) do nothing
     returning id`,
    [
      assignmentId,
      list.map((r) => r.tutorId),
      list.map((r) => String(r.chatId)),
      list.map((r) => (r.distanceKm == null || !Number.isFinite(r.distanceKm) ? null : r.distanceKm)),
      group,
    ],
  );
  if (rows.length > 0) await notify(db, 'new');
  return { queued: rows.length, alreadyDelivered: recipients.length - rows.length };
}

/**
 * Ask the dispatcher to edit or delete the broadcast messages of an assignment. 'delete' wins over a pending
 * 'edit' (an 'edit' never replaces a 'delete'); 'delete' also skips broadcasts not sent yet. Returns rows touched.
 *
 * The request is also recorded on rows that are not 'sent' yet, so no change is lost to timing:
 * - 'pending' (edit): the message may already have been rendered from the old text, just before this change;
 *   once sent, the dispatcher compares and edits if the text differs (else nothing is called);
 * - 'sending': the call is in flight with the old text; applied as soon as the send is recorded;
 * - 'uncertain': the message may be in the chat without a known message id, so the dispatcher cannot act; the
 *   request waits for an operator (`tutordex deliveries resolve`), and `tutordex deliveries list` shows it.
 */
export async function requestBroadcastSync(db: Queryable, assignmentId: number, action: 'edit' | 'delete'): Promise<number> {
  if (action !== 'edit' && action !== 'delete') throw new Error(`requestBroadcastSync: unknown action ${String(action)}`);
  const synced = await db.query<{ id: number }>(
    `update deliveries
        set sync_action = $2, sync_requested_at = now(), updated_at = now()
      where assignment_id = $1 and kind = 'broadcast' and deleted_at is null
        and (status in ('sent', 'sending', 'uncertain') or ($2 = 'edit' and status = 'pending'))
        and ($2 = 'delete' or sync_action is distinct from 'delete')
     returning id`,
    [assignmentId, action],
  );
  let skipped: { id: number }[] = [];
  if (action === 'delete') {
    skipped = await db.query<{ id: number }>(
      `update deliveries
          set status = 'skipped', error_json = $2::jsonb, updated_at = now()
        where assignment_id = $1 and kind = 'broadcast' and status = 'pending'
       returning id`,
      [assignmentId, { type: 'assignment_closed', message: 'assignment closed before the broadcast was sent' }],
    );
  }
  if (synced.length > 0) await notify(db, 'sync');
  return synced.length + skipped.length;
}

/**
 * Cancel a tutor's DMs that are still waiting ('pending'): they become 'skipped' with `reason`. Used whenever a
 * tutor leaves – /stop in the bot, `tutordex tutors remove` – so no one is messaged after removing themselves.
 * A DM already 'sending' is in flight and cannot be called back. Returns how many were cancelled.
 */
export async function cancelPendingDms(
  db: Queryable,
  who: { tutorId: number | null; chatId: number | string },
  reason: { type: string; message: string },
): Promise<number> {
  const rows = await db.query<{ id: number }>(
    `update deliveries set status = 'skipped', error_json = $3::jsonb, updated_at = now()
      where kind = 'dm' and status = 'pending' and (recipient = $2 or ($1::bigint is not null and tutor_id = $1))
     returning id`,
    [who.tutorId, String(who.chatId), reason],
  );
  return rows.length;
}

/**
 * Closed assignments whose broadcast another agency's still-open copy (same duplicate group) should take over:
 * that copy is queued to every chat the closed one was sent to (SQL function announce_group_takeover, which the
 * raw-delete trigger also calls). Returns the rows queued.
 */
export async function announceGroupTakeover(db: Queryable, closedAssignmentIds: readonly number[]): Promise<number> {
  if (closedAssignmentIds.length === 0) return 0;
  const [r] = await db.query<{ n: number }>(`select announce_group_takeover($1::bigint[]) as n`, [closedAssignmentIds]);
  return Number(r?.n ?? 0);
}

/**
 * An update made an announced assignment another job, so it left its duplicate group (`others`: the members it
 * left behind). Its messages now show the new job; the job they used to show is still advertised by the others,
 * so the best open one of them is queued to every chat where the leaver is shown, unless one of them is shown
 * there already. DMs are not repeated (the tutors had the job). Returns the rows queued.
 */
export async function announceLeftBehind(db: Queryable, leaverId: number, others: readonly number[]): Promise<number> {
  if (others.length === 0) return 0;
  const rows = await db.query<{ id: number }>(
    `with taker as (
       select id from assignments where id = any($2::bigint[]) and status = 'open'
        order by is_primary desc, parse_quality_score desc, published_at asc nulls last, id asc
        limit 1
     ), chats as (
       select distinct d.recipient from deliveries d
        where d.assignment_id = $1 and d.kind = 'broadcast' and d.status in ('pending', 'sending', 'sent')
          and d.deleted_at is null and d.sync_action is distinct from 'delete'
     )
     insert into deliveries (assignment_id, kind, recipient, status)
     select t.id, 'broadcast', c.recipient, 'pending' from taker t cross join chats c
      where not exists (
              select 1 from deliveries x join assignments xa on xa.id = x.assignment_id
               where xa.id = any($2::bigint[]) and xa.status = 'open' and x.kind = 'broadcast' and x.recipient = c.recipient
                 and x.status in ('pending', 'sending', 'sent', 'uncertain') and x.deleted_at is null
                 and x.sync_action is distinct from 'delete')
     on conflict (assignment_id, recipient, kind) do update
       set ${rearmBroadcast('group_left', 'the announced copy became another job; this one still advertises it')}
       where deliveries.status in ('skipped', 'failed') or deliveries.deleted_at is not null
     returning id`,
    [leaverId, others],
  );
  if (rows.length > 0) await notify(db, 'new');
  return rows.length;
}

/**
 * An updated assignment that is (again) a copy of a job already shown in a chat where it is shown too – its
 * post edited into another job and back, say – retires its own message there: the chat shows the job once.
 * Returns the rows asked to be deleted or cancelled.
 */
export async function retireRedundantBroadcasts(db: Queryable, assignmentId: number): Promise<number> {
  const retired = await db.query<{ id: number }>(
    `update deliveries d set sync_action = 'delete', sync_requested_at = now(), updated_at = now()
      where d.assignment_id = $1 and d.kind = 'broadcast' and d.deleted_at is null and d.status in ('sent', 'sending', 'uncertain')
        and d.sync_action is distinct from 'delete' and ${otherOpenCopyShown('d.recipient')}
     returning d.id`,
    [assignmentId],
  );
  const cancelled = await db.query<{ id: number }>(
    `update deliveries d set status = 'skipped', updated_at = now(),
            error_json = jsonb_build_object('type', 'duplicate_of_existing', 'message', 'another copy of the job is shown in this chat')
      where d.assignment_id = $1 and d.kind = 'broadcast' and d.status = 'pending' and ${otherOpenCopyShown('d.recipient')}
     returning d.id`,
    [assignmentId],
  );
  if (retired.length > 0) await notify(db, 'sync');
  return retired.length + cancelled.length;
}

/**
 * An assignment that became another job left its duplicate group: the tutors it DMed about the old job keep
 * counting as told for the copies it left behind (queueDms reads these 'dm_inherited' rows), so a later copy of
 * that job does not DM them again. Returns the rows written.
 */
export async function inheritDmHistory(db: Queryable, fromAssignmentId: number, toAssignmentIds: readonly number[]): Promise<number> {
  if (toAssignmentIds.length === 0) return 0;
  const rows = await db.query<{ id: number }>(
    `insert into deliveries (assignment_id, kind, recipient, tutor_id, distance_km, status, error_json)
     select t.id, 'dm', d.recipient, d.tutor_id, d.distance_km, 'skipped',
            jsonb_build_object('type', 'dm_inherited', 'message', 'the tutor was DMed this job through assignment ' || $1::bigint::text)
       from deliveries d cross join unnest($2::bigint[]) as t(id)
      where d.assignment_id = $1::bigint and d.kind = 'dm' and d.status in ('pending', 'sending', 'sent', 'uncertain')
     on conflict (assignment_id, recipient, kind) do nothing
     returning id`,
    [fromAssignmentId, toAssignmentIds],
  );
  return rows.length;
}

/**
 * A reopened assignment (its post deleted, then posted again) is shown again: broadcasts that were deleted, or
 * skipped because it had closed, are queued once more; one whose deletion is still only requested is kept (the
 * request becomes an edit). A chat already showing another open copy of the same job is left alone. DMs are not
 * repeated. Returns the rows re-queued.
 */
export async function reannounceBroadcasts(db: Queryable, assignmentId: number): Promise<number> {
  // A chat where another open copy has taken over keeps that one: this message's deletion goes ahead. A deletion
  // waiting for a retry, or in flight, becomes an edit too (the dispatcher re-sends a message it deleted meanwhile).
  await db.query(
    `update deliveries d set sync_action = 'edit', sync_requested_at = now(), updated_at = now()
      where d.assignment_id = $1 and d.kind = 'broadcast' and d.sync_action = 'delete' and d.deleted_at is null
        and not ${otherOpenCopyShown('d.recipient')}`,
    [assignmentId],
  );
  const rows = await db.query<{ id: number }>(
    `update deliveries d
        set ${rearmBroadcast('reannounced', 'the assignment reopened after its broadcast was deleted')}
      where d.assignment_id = $1 and d.kind = 'broadcast'
        and ((d.status = 'sent' and d.deleted_at is not null) or (d.status = 'skipped' and d.error_json->>'type' in ('assignment_closed', 'assignment_not_open')))
        and not ${otherOpenCopyShown('d.recipient')}
     returning d.id`,
    [assignmentId],
  );
  if (rows.length > 0) await notify(db, 'new');
  return rows.length;
}

/** Whether another open copy of this assignment's job (same duplicate group) is shown, or about to be, in some chat. */
export async function groupBroadcastShown(db: Queryable, assignmentId: number): Promise<boolean> {
  const [r] = await db.query<{ shown: boolean }>(`select ${otherOpenCopyShown(null)} as shown`, [assignmentId]);
  return r?.shown ?? false;
}
