import type { CanonicalAssignment, Signals } from './schema.ts';

/** Why an extracted item is not an assignment, or null when it is one. */
export type GateReason = 'no_academic_request' | 'no_request_details';

export interface GateResult {
  reason: GateReason | null;
  /** a subject or a level was read */
  academic: boolean;
  /** which details of a request were read: location (or online), rate, schedule, code */
  details: string[];
}

const some = (v: readonly unknown[] | null | undefined) => Array.isArray(v) && v.some((x) => x !== null && String(x).trim() !== '');

/**
 * What becomes an assignment: evidence of a tuition request – a subject or a level, and at least one detail of
 * the job (where or online, the rate, when, or an assignment code). Chat ("lol", "train rn is crazy"),
 * greetings, promotions and notices have none of that; every real assignment post has both.
 */
export function assignmentGate(canonical: CanonicalAssignment, signals: Signals | null): GateResult {
  const academic = Boolean(signals && (some(signals.subjects) || some(signals.levels) || some(signals.specific_student_levels)));
  const details: string[] = [];
  if (some(canonical.address) || some(canonical.postal_code) || some(canonical.postal_code_estimated) || some(canonical.nearest_mrt) || canonical.learning_mode?.mode) details.push('location');
  if (canonical.rate?.min != null || canonical.rate?.max != null) details.push('rate');
  if (some(canonical.lesson_schedule) || hasTime(canonical.time_availability)) details.push('schedule');
  if (canonical.assignment_code?.trim()) details.push('code');
  const reason: GateReason | null = !academic ? 'no_academic_request' : details.length === 0 ? 'no_request_details' : null;
  return { reason, academic, details };
}

function hasTime(t: unknown): boolean {
  if (!t || typeof t !== 'object') return false;
  return Object.values(t as Record<string, unknown>).some((v) => (Array.isArray(v) ? v.length > 0 : v && typeof v === 'object' ? hasTime(v) : typeof v === 'string' && v.trim() !== ''));
}
