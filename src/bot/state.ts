import { z } from 'zod';
import type { Queryable } from '../db/index.ts';

/** What a chat's next plain-text message answers. */
export type Awaiting = 'area' | 'distance' | 'rate' | 'limit';
export const AWAITING: readonly Awaiting[] = ['area', 'distance', 'rate', 'limit'];

/** Picker drafts: the selection of an open /subjects, /levels or /types keyboard, not yet saved. */
export type DraftKey = 'subjects' | 'levels' | 'types';

export interface ChatState {
  awaiting: Awaiting | null;
  draft: Partial<Record<DraftKey, string[]>>;
}

const DraftSchema = z
  .object({ subjects: z.array(z.string()).optional(), levels: z.array(z.string()).optional(), types: z.array(z.string()).optional() })
  .catch({});

/** Per-chat conversation state, kept in the database (`bot_chat_state`) so it survives a restart. */
export async function getChatState(db: Queryable, chatId: number): Promise<ChatState> {
  const [row] = await db.query<{ awaiting: string | null; draft: unknown }>('select awaiting, draft from bot_chat_state where chat_id = $1', [chatId]);
  if (!row) return { awaiting: null, draft: {} };
  const awaiting = AWAITING.includes(row.awaiting as Awaiting) ? (row.awaiting as Awaiting) : null;
  return { awaiting, draft: DraftSchema.parse(row.draft ?? {}) };
}

export async function setAwaiting(db: Queryable, chatId: number, awaiting: Awaiting | null): Promise<void> {
  await db.query(
    `insert into bot_chat_state (chat_id, awaiting) values ($1, $2)
     on conflict (chat_id) do update set awaiting = excluded.awaiting, updated_at = now()`,
    [chatId, awaiting],
  );
}

export async function setDraft(db: Queryable, chatId: number, key: DraftKey, values: string[] | null): Promise<void> {
  const patch = values === null ? {} : { [key]: values };
  await db.query(
    `insert into bot_chat_state (chat_id, draft) values ($1, $3::jsonb)
     on conflict (chat_id) do update set draft = (bot_chat_state.draft - $2::text) || $3::jsonb, updated_at = now()`,
    [chatId, key, patch],
  );
}

export async function clearChatState(db: Queryable, chatId: number): Promise<void> {
  await db.query('delete from bot_chat_state where chat_id = $1', [chatId]);
}
