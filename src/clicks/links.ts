import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { metrics } from '../metrics/index.ts';

/**
 * Click tracking: every delivered message whose link goes through PUBLIC_BASE_URL gets one random token
 * (`click_links`); GET /r/<token> records a row in `link_clicks` and redirects to the post. A token is 16 random
 * bytes in base64url: unguessable, and it carries no id. Only the chat id the message went to is kept (for a DM,
 * the tutor's; for a broadcast, the channel's) – nothing about whoever clicks.
 */

/** 16 random bytes, base64url without padding. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newClickToken(): string {
  return randomBytes(16).toString('base64url');
}

export interface ClickLinkInput {
  deliveryId: number;
  assignmentId: number;
  kind: 'broadcast' | 'dm';
  chatId: string;
  tutorId: number | null;
  /** Where the redirect goes: the original post (http/https only). */
  targetUrl: string;
}

/** The token of a delivery's link, created on first use; later calls keep the token and refresh the target. */
export async function clickTokenFor(db: Queryable, l: ClickLinkInput): Promise<string> {
  if (!/^https?:\/\//i.test(l.targetUrl)) throw new Error(`click link target must be http(s): ${l.targetUrl}`);
  const [row] = await db.query<{ token: string }>(
    `insert into click_links (token, delivery_id, assignment_id, kind, chat_id, tutor_id, target_url)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (delivery_id) do update set target_url = excluded.target_url
     returning token`,
    [newClickToken(), l.deliveryId, l.assignmentId, l.kind, l.chatId, l.tutorId, l.targetUrl],
  );
  return row!.token;
}

/** `<base>/r/<token>` (base without a trailing slash, as config gives it). */
export function clickUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/r/${token}`;
}

/**
 * Follow a token: the target URL, or null when the token is malformed or unknown. Records a click unless
 * `record` is false (HEAD requests, link checkers).
 */
export async function followClick(db: Queryable, token: string, record = true): Promise<string | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const [row] = await db.query<{ target_url: string; kind: string }>(
    record
      ? `with l as (select id, assignment_id, kind, chat_id, tutor_id, target_url from click_links where token = $1),
              c as (insert into link_clicks (link_id, assignment_id, kind, chat_id, tutor_id) select id, assignment_id, kind, chat_id, tutor_id from l returning 1)
         select target_url, kind from l`
      : `select target_url, kind from click_links where token = $1`,
    [token],
  );
  if (row && record) metrics.linkClicks.inc({ kind: row.kind });
  return row && /^https?:\/\//i.test(row.target_url) ? row.target_url : null;
}

export interface ClickCounts {
  total: number;
  broadcast: number;
  dm: number;
  /** distinct chats that clicked (per link's chat: a broadcast channel counts once) */
  chats: number;
  last_click_at: string | null;
}

/** Clicks of one assignment. */
export async function assignmentClicks(db: Queryable, assignmentId: number): Promise<ClickCounts> {
  const [r] = await db.query<{ total: number; broadcast: number; dm: number; chats: number; last: Date | string | null }>(
    `select count(*)::int as total, count(*) filter (where kind = 'broadcast')::int as broadcast, count(*) filter (where kind = 'dm')::int as dm,
            count(distinct chat_id)::int as chats, max(clicked_at) as last
       from link_clicks where assignment_id = $1`,
    [assignmentId],
  );
  return {
    total: r?.total ?? 0,
    broadcast: r?.broadcast ?? 0,
    dm: r?.dm ?? 0,
    chats: r?.chats ?? 0,
    last_click_at: r?.last ? new Date(r.last).toISOString() : null,
  };
}
