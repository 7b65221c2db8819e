import { LlmAssignmentSchema, emptyLlmAssignment, type LlmAssignment } from '../schema.ts';
import type { ExtractContext, Extractor, ExtractorResult } from '../types.ts';
import { extractAcademic, findHeadline } from './academic.ts';
import { extractAddress, extractMrt } from './address.ts';
import { extractCode } from './code.ts';
import { parsePost } from './labels.ts';
import { extractMode } from './mode.ts';
import { extractPostal } from './postal.ts';
import { extractRate } from './rate.ts';
import { extractRemarks } from './remarks.ts';
import { extractSchedule, extractStart } from './schedule.ts';

/** Run one field rule; a rule that throws yields the field's empty value instead of failing the post. */
function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/**
 * Deterministic extraction of the ten canonical keys from the post text alone.
 * `channelLink` is accepted for interface parity; the rules are deliberately agency-agnostic.
 */
export function extractRules(text: string, _channelLink?: string | null): LlmAssignment {
  const empty = emptyLlmAssignment();
  const p = safe(() => parsePost(typeof text === 'string' ? text : String(text ?? '')), { lines: [], labels: [] });
  const headline = safe(() => findHeadline(p), null);
  const candidate: LlmAssignment = {
    assignment_code: safe(() => extractCode(p), null),
    academic_display_text: safe(() => extractAcademic(p, headline), null),
    learning_mode: safe(() => extractMode(p), empty.learning_mode),
    address: safe(() => extractAddress(p, headline), null),
    postal_code: safe(() => extractPostal(p), null),
    nearest_mrt: safe(() => extractMrt(p), null),
    lesson_schedule: safe(() => extractSchedule(p), null),
    start_date: safe(() => extractStart(p), null),
    rate: safe(() => extractRate(p), empty.rate),
    additional_remarks: safe(() => extractRemarks(p), null),
  };
  const parsed = LlmAssignmentSchema.safeParse(candidate);
  return parsed.success ? parsed.data : empty;
}

export class RulesExtractor implements Extractor {
  readonly kind = 'rules' as const;

  async extract(text: string, _context: ExtractContext): Promise<ExtractorResult> {
    const started = performance.now();
    const assignment = LlmAssignmentSchema.parse(extractRules(text, _context?.channelLink ?? null));
    return { assignment, meta: { extractor: 'rules', latency_ms: Math.round((performance.now() - started) * 1000) / 1000 } };
  }
}
