/**
 * Triage of one raw post before extraction (docs/extraction.md, "Triage"). Pure; never throws.
 *
 * Order: deleted → forward → reply → empty text → non-assignment → compilation → single assignment.
 *
 * Deliberate change from the reference (which checks compilation before non-assignment): we run the cheap
 * non-assignment check first, so admin notices and promotional
 * teaser lists with several codes are skipped instead of being split into pseudo-assignments. This is safe
 * because the detector never flags text with strong assignment evidence (≥3 markers / labelled field lines, or
 * a subject/level with two details — see evidence.ts): a compilation of real assignments always has that
 * evidence, and the only checks without the guard (status_only, redirect) require a very short post whose
 * every line is a status notice / a redirect phrase.
 *
 * Forwards and replies are still skipped unconditionally (reference behaviour; extracting forwarded
 * assignments or acting on a reply's parent belongs to the worker, which knows the parent).
 */
import { firstCodeVerbatim } from './codes.ts';
import { detectCompilation, type CompilationDetection } from './compilation.ts';
import { normalizeNewlines } from './layout.ts';
import { detectNonAssignment, type NonAssignmentResult } from './non-assignment.ts';
import { splitCompilation, type CompilationItem } from './split.ts';

export interface TriageInput {
  text: string | null;
  isForward: boolean;
  isReply: boolean;
  deleted: boolean;
}

export type SkipReason = 'deleted' | 'forward' | 'reply' | 'empty_text' | 'non_assignment';

export interface TriageSkip {
  action: 'skip';
  reason: SkipReason;
  details?: { nonAssignment?: NonAssignmentResult };
}

export interface TriageExtractDetails {
  compilation: CompilationDetection;
  /** why the post was (not) split; null when no compilation was suspected */
  split: { confirmed: boolean; reason: string; strategy: string | null } | null;
}

export interface TriageExtract {
  action: 'extract';
  items: CompilationItem[];
  compilation: boolean;
  details: TriageExtractDetails;
}

export type TriageResult = TriageSkip | TriageExtract;

function single(text: string, details: TriageExtractDetails): TriageExtract {
  return { action: 'extract', items: [{ text, code: firstCodeVerbatim(text) }], compilation: false, details };
}

export function triage(input: TriageInput): TriageResult {
  if (input?.deleted) return { action: 'skip', reason: 'deleted' };
  if (input?.isForward) return { action: 'skip', reason: 'forward' };
  if (input?.isReply) return { action: 'skip', reason: 'reply' };
  const raw = typeof input?.text === 'string' ? input.text : '';
  const text = normalizeNewlines(raw).trim();
  if (text === '') return { action: 'skip', reason: 'empty_text' };
  try {
    const nonAssignment = detectNonAssignment(text);
    if (nonAssignment.isNonAssignment) return { action: 'skip', reason: 'non_assignment', details: { nonAssignment } };
    const compilation = detectCompilation(text);
    if (!compilation.suspected) return single(text, { compilation, split: null });
    const split = splitCompilation(text);
    const splitInfo = { confirmed: split.confirmed, reason: split.reason, strategy: split.strategy };
    if (!split.confirmed) return single(text, { compilation, split: splitInfo }); // "compilation_downgraded"
    return { action: 'extract', items: split.items, compilation: true, details: { compilation, split: splitInfo } };
  } catch (e) {
    // Unreachable in practice (every detector catches); extract the post as one assignment rather than lose it.
    const empty = { suspected: false, triggers: [], metrics: { distinctCodes: 0, labelHits: 0, postalHits: 0, urlHits: 0, blocks: 0, applyNowHits: 0 } };
    return {
      action: 'extract',
      items: [{ text, code: null }],
      compilation: false,
      details: { compilation: empty, split: { confirmed: false, reason: `error: ${String(e)}`, strategy: null } },
    };
  }
}
