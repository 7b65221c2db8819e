/**
 * Schema (contract) validation: the zod schema first, then the two contract checks with real emptiness ("[" "]" and 0
 * are not a location) and a word-based online-only test.
 */
import { CanonicalAssignmentSchema, DAYS } from '../schema.ts';
import { isRecord } from './text.ts';
import { ONLINE_RE } from './vocab.ts';

export interface SchemaCheck {
  ok: boolean;
  errors: string[];
}

function hasText(v: unknown): boolean {
  if (typeof v === 'string') return v.trim() !== '';
  return Array.isArray(v) && v.some((item) => typeof item === 'string' && item.trim() !== '');
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** "Online", "Online lessons", "online-only", "Online/Hybrid" count; "Hybrid" does not (by design, test R-hybrid-1). */
function isOnlineOnly(mode: unknown): boolean {
  const lm = isRecord(mode) ? (hasText(mode.mode) ? mode.mode : mode.raw_text) : mode;
  const first = strings(lm).find((s) => s.trim() !== '');
  return first !== undefined && /^online\b/i.test(first.trim());
}

function hasLocation(obj: Record<string, unknown>): boolean {
  if (isOnlineOnly(obj.learning_mode)) return true;
  if ([...strings(obj.address), ...strings(obj.nearest_mrt)].some((s) => ONLINE_RE.test(s))) return true;
  return ['address', 'postal_code', 'postal_code_estimated', 'nearest_mrt'].some((k) => hasText(obj[k]));
}

function hasSchedule(obj: Record<string, unknown>): boolean {
  if (Array.isArray(obj.lesson_schedule) && hasText(obj.lesson_schedule)) return true;
  const ta = obj.time_availability;
  if (!isRecord(ta)) return false;
  if (hasText(ta.note)) return true;
  return [ta.explicit, ta.estimated].some((map) => isRecord(map) && DAYS.some((d) => hasText(map[d])));
}

export function validateCanonical(obj: unknown): SchemaCheck {
  const errors: string[] = [];
  const parsed = CanonicalAssignmentSchema.safeParse(obj);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 50)) errors.push(`schema:${issue.path.join('.') || '$'}: ${issue.message}`);
  }
  const record = isRecord(obj) ? obj : {};
  if (!hasLocation(record)) errors.push('missing_address_or_postal');
  if (!hasSchedule(record)) errors.push('missing_schedule_info');
  return { ok: errors.length === 0, errors };
}
