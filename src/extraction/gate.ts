import { keepsJobOpen } from './hardening/status.ts';
import { DEFAULT_WINDOW } from './hardening/time.ts';
import type { CanonicalAssignment, Signals } from './schema.ts';

/** Why an extracted item is not an assignment, or null when it is one. */
export type GateReason = 'no_academic_request' | 'no_request_details' | 'not_a_request';

export interface GateResult {
  reason: GateReason | null;
  /** a subject or a level was read */
  academic: boolean;
  /** which details of a request were read: location (or online), rate, schedule, code */
  details: string[];
  /** what marks the text as something other than a request for a tutor (not_a_request) */
  marker?: string;
}

/**
 * Posts that name a subject, a level and a detail and still are not a request for a tutor: a job closed or
 * taken, a tutor advertising themself, a centre's class, a guide or FAQ, something for sale. A closure marker
 * always wins; the others only when nothing in the text asks for a tutor.
 */
const CLOSURE: [string, RegExp][] = [
  // a status line: "CLOSED", "Taken!", "[TAKEN]" (not "Closed on Sundays only")
  ['closed', /^\W*(closed|taken|filled|cancelled)\b(?!\s+(on|for|from|during|by)\b)/i],
  // "has been taken"; "cancelled" only of the job ("the previous tutor has been cancelled" is a new search)
  ['closed', /\b(?<!tutor )has been (taken|filled|closed)\b|\b(job|assignment|lesson|request|case)s? (has been |was |is )?cancell?ed\b/i],
  // "… — CLOSED, thanks all!", "👉 TAKEN": the status the post ends on
  ['closed', /(?:^|[-–—|(\n👉❌✅]\s*)(closed|taken|filled|cancelled)\s*(?:[,!.❌✅)]|$)/imu],
  // "Job taken, thanks", "Assignment closed.", "Slot filled"; "Sorry, already taken" and "All taken" only as the
  // sentence itself (not "has already taken O Level Maths", "weekends all taken by CCA")
  [
    'closed',
    /\b(job|assignment|slot|position|vacancy)\s+(is\s+|has been\s+|now\s+)?(taken|filled|closed)\b|(?:^|[.!?]\s+|\b(?:sorry|unfortunately)[,!.]?\s+)(?:(?:it|this|job|it's)\s+)?(?:is\s+|has\s+)?already (been )?(taken|filled|closed)\b|^\W*(all|both) (taken|filled)\b/im,
  ],
  ['closed', /\bfull\s*❌/i],
  [
    'closed',
    /\b(tutor (has been )?found|assigned to (a )?tutor|(job|assignment|this) (is )?no longer available|cancell?ed by (the )?(parent|client)|no longer needs? (a )?tutor)\b|已满|已找到/i,
  ],
  // "Please do not apply" closes the job; "tutors who cannot commit … please do not apply" is a condition
  ['closed', /(?<!\b(?:who|if|unless|without|not)\b[^.\n]{0,80})\b(please )?do not apply\b/i],
];

const NOT_A_REQUEST: [string, RegExp][] = [
  ['tutor_ad', /(?<!\bany\b[^.?\n]{0,30})\b(tutor|teacher) available\b(?!\s*\?)/i],
  ['tutor_ad', /\b(i am|i'm) an? .{0,60}\b(offering|teaching|available)\b/i],
  // "Trial lesson at half price", "free trial class"; a job's "Trial lesson first" is no offer
  ['tutor_ad', /\bfree trial\b|\btrial (lesson|class) (at|for|is) (half|\$|free|a discount)/i],
  // a centre's class: its name and promotion wording ("limited seats", "4 sessions, $320"), not a parent's
  // "crash course @ Tampines, $50/hr"
  [
    'class_promo',
    /\b(group class|crash course|holiday class(es)?|workshop)\b[^\n]{0,80}\b(limited (seats|slots)|register|sign up|enrol|branch|per pax|\d+ sessions?, \$)/i,
  ],
  ['class_promo', /\bmax(imum)? ([5-9]|\d\d) students\b/i],
  ['guide', /^\W*(faq|rate guide)\b/i],
  ['guide', /\brate guide\b/i],
  ['for_sale', /\b(selling(?! points?\b)|for sale|self[- ]collect)\b/i],
];
const ASKS_FOR_A_TUTOR = /\b(looking for|require[sd]?|requirement|need(s|ed)?|wanted|seeking|interested tutors?|apply|application)\b/i;

/** The text announces that a job is over ("TAKEN", "has been filled", "tutor found", …). */
export function readsAsClosure(text: string): boolean {
  return !keepsJobOpen(text) && CLOSURE.some(([, re]) => re.test(text));
}

function notARequest(text: string): string | null {
  if (readsAsClosure(text)) return 'closed';
  if (ASKS_FOR_A_TUTOR.test(text)) return null;
  for (const [marker, re] of NOT_A_REQUEST) if (re.test(text)) return marker;
  return null;
}

const some = (v: readonly unknown[] | null | undefined) => Array.isArray(v) && v.some((x) => x !== null && String(x).trim() !== '');

/**
 * What becomes an assignment: evidence of a tuition request – a subject or a level, and at least one detail of
 * the job (where or online, the rate, when, or an assignment code). Chat ("lol", "train rn is crazy"),
 * greetings, promotions and notices have none of that; every real assignment post has both. And nothing that
 * reads as a closure, a tutor's own advertisement, a class promotion, a guide or a sale (see NOT_A_REQUEST).
 */
export function assignmentGate(canonical: CanonicalAssignment, signals: Signals | null, text = ''): GateResult {
  const academic = Boolean(signals && (some(signals.subjects) || some(signals.levels) || some(signals.specific_student_levels)));
  const details: string[] = [];
  if (
    some(canonical.address) ||
    some(canonical.postal_code) ||
    some(canonical.postal_code_estimated) ||
    some(canonical.nearest_mrt) ||
    canonical.learning_mode?.mode
  )
    details.push('location');
  if (canonical.rate?.min != null || canonical.rate?.max != null) details.push('rate');
  if (some(canonical.lesson_schedule) || hasTime(canonical.time_availability)) details.push('schedule');
  if (canonical.assignment_code?.trim()) details.push('code');
  const marker = notARequest(text);
  const reason: GateReason | null = !academic ? 'no_academic_request' : details.length === 0 ? 'no_request_details' : marker ? 'not_a_request' : null;
  return { reason, academic, details, ...(marker ? { marker } : {}) };
}

/** A time of day, or a note about times; a day named alone ("homework due Monday") is no lesson time. */
function hasTime(t: unknown): boolean {
  if (!t || typeof t !== 'object') return false;
  return Object.values(t as Record<string, unknown>).some((v) =>
    Array.isArray(v) ? v.some((slot) => slot !== DEFAULT_WINDOW) : v && typeof v === 'object' ? hasTime(v) : typeof v === 'string' && v.trim() !== '',
  );
}
