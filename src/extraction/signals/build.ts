import type { Signals } from '../schema.ts';
import { parseAcademicRequests, type AcademicParse } from './academic.ts';
import { isRecord } from './load-json.ts';
import { extractTutorTypes, type TutorTypeResult } from './tutor-types.ts';

/**
 * The signals object (extraction_rules.md §1.6), with our fix of the text choice (§1.6 "Consequences"):
 * the reference parsed only the LLM's short `academic_display_text` headline, so rates were almost always empty.
 * We parse the whole normalised post (else the raw post); the headline is used for the academic part only when the
 * post itself yields no subject, or when there is no post text at all. Tutor types and rates always use the post.
 */
export const MAX_SIGNAL_TEXT = 20_000;

const nonBlank = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

type Source = Signals['source'];

function postText(rawText: unknown, normalizedText: unknown): { text: string; source: Source } | null {
  if (nonBlank(normalizedText)) return { text: normalizedText, source: 'normalized_text' };
  if (nonBlank(rawText)) return { text: rawText, source: 'raw_text' };
  return null;
}

function chooseAcademic(post: { text: string; source: Source } | null, headline: string | null): { parse: AcademicParse; source: Source; chars: number } {
  const postParse = post ? parseAcademicRequests(post.text.slice(0, MAX_SIGNAL_TEXT)) : null;
  if (postParse && (postParse.subjects.length > 0 || headline === null)) return { parse: postParse, source: post!.source, chars: post!.text.length };
  if (headline !== null) return { parse: parseAcademicRequests(headline.slice(0, MAX_SIGNAL_TEXT)), source: 'academic_display_text', chars: headline.length };
  return { parse: parseAcademicRequests(''), source: 'raw_text', chars: 0 };
}

function safeTutorTypes(text: string, agency: string | null): TutorTypeResult {
  try {
    return extractTutorTypes(text.slice(0, MAX_SIGNAL_TEXT), agency);
  } catch {
    return { tutor_types: [], rate_breakdown: {} };
  }
}

/** Build the signals object. Never throws: any failure is returned as `error` with `signals` null. */
export function buildSignals(parsed: unknown, rawText: unknown, normalizedText: unknown, agency: string | null = null): { signals: Signals | null; error: string | null } {
  try {
    const headline = isRecord(parsed) && nonBlank(parsed.academic_display_text) ? parsed.academic_display_text : null;
    const post = postText(rawText, normalizedText);
    const academic = chooseAcademic(post, headline);
    const tutor = safeTutorTypes(post?.text ?? headline ?? '', agency);
    const signals: Signals = {
      schema_version: 1,
      source: academic.source,
      text_chars: academic.chars,
      ...academic.parse,
      tutor_types: tutor.tutor_types,
      rate_breakdown: tutor.rate_breakdown,
    };
    return { signals, error: null };
  } catch (err) {
    return { signals: null, error: err instanceof Error ? err.message : String(err) };
  }
}
