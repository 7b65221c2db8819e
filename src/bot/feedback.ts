import type { Database } from '../db/index.ts';
import { requestBroadcastSync } from '../delivery/index.ts';

/** Stored kinds of DM feedback, and the callback_data word of each (`fb:<word>:<assignmentId>`). */
export type FeedbackKind = 'not_for_me' | 'filled' | 'scam';
const WORDS: Record<string, FeedbackKind> = { no: 'not_for_me', filled: 'filled', scam: 'scam' };

/** `fb:no|filled|scam:<assignment id>` → its parts; anything else (malformed, oversized, unknown) → null. */
export function parseFeedbackData(data: string): { kind: FeedbackKind; assignmentId: number } | null {
  const m = /^fb:(no|filled|scam):([1-9]\d{0,14})$/.exec(data);
  if (!m) return null;
  const assignmentId = Number(m[2]);
  if (!Number.isSafeInteger(assignmentId)) return null;
  return { kind: WORDS[m[1]!]!, assignmentId };
}

export type FeedbackOutcome =
  | { status: 'recorded' | 'duplicate'; filledReports: number; closed: boolean }
  | { status: 'no_tutor' }
  | { status: 'no_assignment' };

/**
 * Record one tap, once per (assignment, tutor, kind). When distinct tutors' "filled" reports reach `threshold`
 * and the assignment is still open, it is closed ('reported_filled') and its broadcasts are asked to be deleted
 * (the same path as a deleted source post). The assignment row is locked first, so concurrent taps count right.
 */
export async function recordFeedback(
  db: Database,
  input: { chatId: number; assignmentId: number; kind: FeedbackKind; threshold: number },
): Promise<FeedbackOutcome> {
  return db.transaction(async (tx) => {
    const [a] = await tx.query<{ status: string }>('select status from assignments where id = $1 for update', [input.assignmentId]);
    if (!a) return { status: 'no_assignment' as const };
    const [tutor] = await tx.query<{ id: number }>('select id from tutors where chat_id = $1', [input.chatId]);
    if (!tutor) return { status: 'no_tutor' as const };
    const inserted = await tx.query(
      `insert into assignment_feedback (assignment_id, tutor_id, kind) values ($1, $2, $3)
       on conflict (assignment_id, tutor_id, kind) do nothing returning id`,
      [input.assignmentId, tutor.id, input.kind],
    );
    const [c] = await tx.query<{ n: number }>(
      `select count(distinct tutor_id)::int as n from assignment_feedback where assignment_id = $1 and kind = 'filled'`,
      [input.assignmentId],
    );
    const filledReports = c?.n ?? 0;
    let closed = false;
    if (input.kind === 'filled' && a.status === 'open' && filledReports >= input.threshold) {
      await tx.query(
        `update assignments set status = 'closed', closed_reason = 'reported_filled', closed_at = now(), updated_at = now()
          where id = $1 and status = 'open'`,
        [input.assignmentId],
      );
      await requestBroadcastSync(tx, input.assignmentId, 'delete');
      closed = true;
    }
    return { status: inserted.length > 0 ? ('recorded' as const) : ('duplicate' as const), filledReports, closed };
  });
}

export const FEEDBACK_LABELS: Record<FeedbackKind, string> = {
  not_for_me: 'Not for me',
  filled: 'Already filled',
  scam: 'Looks like a scam',
};
