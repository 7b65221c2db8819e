import type { AssignmentStatus, PersistAction } from '../assignments/index.ts';

/**
 * Why a broadcast or DM was not sent. The earlier system leaked side effects from replays and test runs and sent them
 * for posts detected as closed; every one of these is now an explicit, counted reason (docs/delivery.md, "When side
 * effects are off").
 */
export type SuppressReason =
  | 'non_live_version' // a drain or A/B run of another pipeline version: it never touches assignments
  | 'broadcast_disabled' // EXTRACTION_WORKER_BROADCAST off / --no-broadcast
  | 'dms_disabled' // EXTRACTION_WORKER_DMS off / --no-dms
  | 'forced_reparse' // the job was re-enqueued with --force
  | 'not_new' // the assignment was already known (update, bump, reopen)
  | 'not_open' // closed or expired
  | 'historical_source_message' // the source post is older than SIDE_EFFECT_MAX_AGE_HOURS
  | 'duplicate_of_existing' // another agency's copy of this assignment was already announced
  | 'no_broadcast_target'; // no BROADCAST_CHAT_ID

export type Decision = { send: true } | { send: false; reason: SuppressReason };

export interface SideEffectInput {
  live: boolean;
  broadcastOn: boolean;
  dmsOn: boolean;
  /** meta.enqueue_reason of the job: 'new', 'edit' or 'force' */
  enqueueReason: string | null;
  action: PersistAction;
  status: AssignmentStatus;
  sourceDate: Date;
  now: Date;
  maxAgeHours: number;
  joinedExistingDuplicateGroup: boolean;
  broadcastTargets: number;
}

/** The one side-effect gate; pure, so every rule is covered by a table test. */
export function decideSideEffects(x: SideEffectInput): { broadcast: Decision; dm: Decision } {
  const common = (): SuppressReason | null => {
    if (!x.live) return 'non_live_version';
    if (x.enqueueReason === 'force') return 'forced_reparse';
    if (x.action !== 'inserted') return 'not_new';
    if (x.status !== 'open') return 'not_open';
    if (x.now.getTime() - x.sourceDate.getTime() > x.maxAgeHours * 3_600_000) return 'historical_source_message';
    return null;
  };
  const shared = common();
  const decide = (on: boolean, off: SuppressReason, extra: SuppressReason | null): Decision => {
    if (!x.live) return { send: false, reason: 'non_live_version' };
    if (!on) return { send: false, reason: off };
    if (shared) return { send: false, reason: shared };
    if (extra) return { send: false, reason: extra };
    return { send: true };
  };
  const broadcastExtra = x.joinedExistingDuplicateGroup ? 'duplicate_of_existing' : x.broadcastTargets === 0 ? 'no_broadcast_target' : null;
  return {
    broadcast: decide(x.broadcastOn, 'broadcast_disabled', broadcastExtra),
    dm: decide(x.dmsOn, 'dms_disabled', null),
  };
}
