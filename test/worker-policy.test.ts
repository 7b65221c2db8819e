import { describe, expect, it } from 'vitest';
import { decideSideEffects, type SideEffectInput } from '../src/worker/index.ts';

const now = new Date('2026-03-01T12:00:00Z');
const base: SideEffectInput = {
  live: true,
  broadcastOn: true,
  dmsOn: true,
  enqueueReason: 'new',
  action: 'inserted',
  status: 'open',
  sourceDate: new Date(now.getTime() - 10 * 60_000),
  now,
  maxAgeHours: 24,
  joinedExistingDuplicateGroup: false,
  broadcastTargets: 1,
};
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

describe('side-effect policy', () => {
  it.each<[string, Partial<SideEffectInput>, string | true, string | true]>([
    ['a fresh new open assignment is announced', {}, true, true],
    ['a non-live version (drain, A/B) never has side effects', { live: false }, 'non_live_version', 'non_live_version'],
    ['--no-broadcast / --no-dms', { broadcastOn: false, dmsOn: false }, 'broadcast_disabled', 'dms_disabled'],
    ['--no-broadcast alone keeps DMs', { broadcastOn: false }, 'broadcast_disabled', true],
    ['a forced reparse has no side effects', { enqueueReason: 'force' }, 'forced_reparse', 'forced_reparse'],
    ['an edit that creates a new assignment is announced', { enqueueReason: 'edit' }, true, true],
    ['an update is never re-announced', { action: 'updated' }, 'not_new', 'not_new'],
    ['a bump is never re-announced', { action: 'bumped' }, 'not_new', 'not_new'],
    ['an insert detected as closed is not announced', { status: 'closed' }, 'not_open', 'not_open'],
    ['25 h old source post → historical', { sourceDate: hoursAgo(25) }, 'historical_source_message', 'historical_source_message'],
    ['23 h old source post is still announced', { sourceDate: hoursAgo(23) }, true, true],
    ['SIDE_EFFECT_MAX_AGE_HOURS is honoured', { sourceDate: hoursAgo(3), maxAgeHours: 2 }, 'historical_source_message', 'historical_source_message'],
    ['another agency already announced this assignment', { joinedExistingDuplicateGroup: true }, 'duplicate_of_existing', true],
    ['no broadcast target configured', { broadcastTargets: 0 }, 'no_broadcast_target', true],
  ])('%s', (_name, over, broadcast, dm) => {
    const d = decideSideEffects({ ...base, ...over });
    expect(d.broadcast.send ? true : (d.broadcast as { reason: string }).reason).toBe(broadcast);
    expect(d.dm.send ? true : (d.dm as { reason: string }).reason).toBe(dm);
  });

  it('Mode 4: a drain that is also old reports the toggle, not a stale reason, and sends nothing', () => {
    const d = decideSideEffects({ ...base, broadcastOn: false, dmsOn: false, sourceDate: hoursAgo(100) });
    expect(d).toEqual({ broadcast: { send: false, reason: 'broadcast_disabled' }, dm: { send: false, reason: 'dms_disabled' } });
  });
});
