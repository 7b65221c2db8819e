import type { Database, Queryable } from '../db/index.ts';
import { UserError } from '../errors.ts';
import { announceGroupTakeover, DELIVERIES_CHANNEL } from './outbox.ts';

/** One outbox row as an operator sees it (`tutordex deliveries list`). */
export interface DeliveryListing {
  id: number;
  assignmentId: number;
  assignmentStatus: string;
  kind: 'broadcast' | 'dm';
  recipient: string;
  status: string;
  attempts: number;
  /** error_json.type: maybe_delivered, interrupted_mid_send, rate_limited, … */
  reason: string | null;
  message: string | null;
  /** An edit or delete waiting on this row ('uncertain': it waits for the operator). */
  syncAction: 'edit' | 'delete' | null;
  updatedAt: Date;
}

export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed', 'skipped', 'uncertain'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export async function listDeliveries(db: Queryable, opts: { status: DeliveryStatus; limit: number }): Promise<DeliveryListing[]> {
  const rows = await db.query<{
    id: number;
    assignment_id: number;
    assignment_status: string;
    kind: 'broadcast' | 'dm';
    recipient: string;
    status: string;
    attempts: number;
    error_json: { type?: string; message?: string } | null;
    sync_action: 'edit' | 'delete' | null;
    updated_at: Date;
  }>(
    `select d.id, d.assignment_id, a.status as assignment_status, d.kind, d.recipient, d.status, d.attempts, d.error_json, d.sync_action, d.updated_at
       from deliveries d join assignments a on a.id = d.assignment_id
      where d.status = $1
      order by d.updated_at desc, d.id desc
      limit $2`,
    [opts.status, opts.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    assignmentId: Number(r.assignment_id),
    assignmentStatus: r.assignment_status,
    kind: r.kind,
    recipient: r.recipient,
    status: r.status,
    attempts: Number(r.attempts),
    reason: r.error_json?.type ?? null,
    message: r.error_json?.message ?? null,
    syncAction: r.sync_action,
    updatedAt: new Date(r.updated_at),
  }));
}

export type UncertainResolution = { found: number } | { resend: true } | { lost: true };

/**
 * Settle an 'uncertain' row after looking at the chat:
 * - `{ found: messageId }`: the message is there (its id from the message link, t.me/c/…/<id>): the row becomes
 *   'sent' with that id, so an edit or delete requested meanwhile (or the assignment having closed) is applied;
 * - `{ resend: true }`: it is not there: back to 'pending', sent once more (skipped if the assignment has closed);
 * - `{ lost: true }`: it is not there and should not be sent any more: 'failed'.
 */
export async function resolveUncertain(db: Database, id: number, how: UncertainResolution): Promise<string> {
  // one transaction: the row's new state and the takeover it allows land together
  return db.transaction((tx) => settleUncertain(tx, id, how));
}

async function settleUncertain(db: Queryable, id: number, how: UncertainResolution): Promise<string> {
  const [row] = await db.query<{ status: string; kind: string; assignment_id: number; assignment_status: string }>(
    `select d.status, d.kind, d.assignment_id, a.status as assignment_status from deliveries d join assignments a on a.id = d.assignment_id where d.id = $1`,
    [id],
  );
  if (!row) throw new UserError(`no delivery with id ${id}`);
  if (row.status !== 'uncertain') throw new UserError(`delivery ${id} is ${row.status}, not uncertain: nothing to resolve`);
  const note = { resolved_by: 'operator', resolved_at: new Date().toISOString() };
  // The row changed between the look and the update (another operator, a late answer recorded it as sent).
  const settled = (rows: unknown[]) => {
    if (rows.length === 0) throw new UserError(`delivery ${id} changed while it was being resolved; look again (tutordex deliveries list)`);
  };
  // A closed copy's uncertain broadcast held its chat back from another agency's open copy of the job (at most
  // once per chat): settled, the open copy takes the chat over.
  const handOver = async () => {
    if (row.kind === 'broadcast' && row.assignment_status !== 'open') await announceGroupTakeover(db, [Number(row.assignment_id)]);
  };
  if ('found' in how) {
    // message_html is unknown (the send never answered), so a requested edit renders and edits unconditionally.
    await db
      .query(
        `update deliveries d
          set status = 'sent', telegram_message_id = $2, message_html = null, sent_at = coalesce(d.sent_at, now()), lease_owner = null,
              error_json = coalesce(d.error_json, '{}'::jsonb) || $3::jsonb, updated_at = now(),
              sync_action = case when d.kind = 'broadcast' and a.status <> 'open' then 'delete' else d.sync_action end,
              sync_requested_at = case when d.sync_action is not null or (d.kind = 'broadcast' and a.status <> 'open') then now() else d.sync_requested_at end
         from assignments a
        where d.id = $1 and a.id = d.assignment_id and d.status = 'uncertain'
       returning d.id`,
        [id, how.found, note],
      )
      .then(settled);
    await handOver();
    await db.query(`select pg_notify($1, 'sync')`, [DELIVERIES_CHANNEL]);
    const pending = row.kind === 'broadcast' && row.assignment_status !== 'open' ? 'delete' : null;
    return `delivery ${id} recorded as sent (message ${how.found})${pending ? '; the assignment is closed, so the message will be deleted' : ''}`;
  }
  if ('resend' in how) {
    await db
      .query(
        `update deliveries set status = 'pending', attempts = 0, not_before = null, lease_owner = null, sync_action = null, sync_requested_at = null,
              error_json = null, updated_at = now()
        where id = $1 and status = 'uncertain'
       returning id`,
        [id],
      )
      .then(settled);
    await handOver();
    await db.query(`select pg_notify($1, 'new')`, [DELIVERIES_CHANNEL]);
    return `delivery ${id} queued to be sent again${row.assignment_status !== 'open' ? ` (the assignment is ${row.assignment_status}: the dispatcher will skip it)` : ''}`;
  }
  await db
    .query(
      `update deliveries set status = 'failed', lease_owner = null, sync_action = null, sync_requested_at = null,
            error_json = coalesce(error_json, '{}'::jsonb) || $2::jsonb, updated_at = now()
      where id = $1 and status = 'uncertain'
     returning id`,
      [id, { ...note, resolution: 'not_delivered' }],
    )
    .then(settled);
  await handOver();
  return `delivery ${id} recorded as not delivered (failed)`;
}
