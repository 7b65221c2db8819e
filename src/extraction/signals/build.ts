import type { Signals } from '../schema.ts';
import { parseAcademicRequests, type AcademicParse } from './academic.ts';
import { isRecord } from './load-json.ts';
import { extractTutorTypes, type TutorTypeResult } from './tutor-types.ts';

/**
 * The signals object. Which text is parsed matters: the reference parsed only the LLM's short `academic_display_text`
 * headline, so rates were almost always empty. We parse the whole normalised post (else the raw post); the headline
 * is used for the academic part only when the post itself yields no subject, or when there is no post text at all.
 * Tutor types and rates always use the post.
 */
export const MAX_SIGNAL_TEXT = 20_000;

const nonBlank = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

type Source = Signals['source'];

function postText(rawText: unknown, normalizedText: unknown): { text: string; source: Source } | null {
  if (nonBlank(normalizedText)) return { text: normalizedText, source: 'normalized_text' };
  if (nonBlank(rawText)) return { text: rawText, source: 'raw_text' };
  return null;
}

/**
 * Lines that are about the tutor or the deal, not the lesson: remarks, requirements, preferences, commission,
 * hashtags, and sentences that start with the tutor ("Tutor to be bilingual in English & Chinese", "Looking for a
 * female Chinese tutor"). Their level and subject words describe the tutor or other lessons ("able to teach P1,
 * P2", "degree holder"), so the academic part is read from the other lines when those name a subject.
 */
const NOT_THE_LESSON = new RegExp(
  [
    String.raw`^[^\p{L}\n]*(?:additional\s+|other\s+|special\s+)?(?:remarks?|notes?|details|requirements?|requests?|preferences?|tutor\s+preferences?|preferred\s+tutor|tutor\s+(?:types?|category|categories|requirements?|profile)|types?\s+of\s+tutors?|gender|race|commission|agency\s+(?:fee|commission)|hashtags?|tags|search\s+jobs)\b[^:\n]{0,20}:`,
    String.raw`^[^\p{L}\n]*(?:tutors?\b|looking\s+for\s+(?:an?\s+)?(?:[\p{L}-]+\s+){0,3}(?:tutors?|teachers?)\b|(?:must|should|prefer(?:ably|red)?)\b|#)`,
  ].join('|'),
  'iu',
);

/** A remark that itself names the lesson ("Remarks: Subject: S4 NT Maths") stays. */
const LESSON_LABEL = /\b(?:subjects?|levels?|grade|level\s*(?:&|and|\/)\s*subjects?)\s*:/i;

export function lessonLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (NOT_THE_LESSON.test(line) && !LESSON_LABEL.test(line) ? '' : line))
    .join('\n');
}

/**
 * The lesson lines name the level only in general ("Secondary E-Math") and a remark gives the grade ("Remarks: S2
 * Maths"): the grade is taken when it belongs to a level the lesson lines name. When they already give a grade,
 * a remark's grades are about something else ("able to teach P1, P2").
 */
function withRemarkGrades(lesson: AcademicParse, wholeParse: () => AcademicParse): AcademicParse {
  if (lesson.specific_student_levels.length > 0) return lesson;
  const whole = wholeParse();
  const grades = (whole.academic_requests ?? [])
    .filter((r) => r.specific_student_level !== null && r.level !== null && lesson.levels.includes(r.level))
    .map((r) => r.specific_student_level!);
  const extra = whole.specific_student_levels.filter((g) => grades.includes(g));
  return extra.length ? { ...lesson, specific_student_levels: extra } : lesson;
}

function chooseAcademic(post: { text: string; source: Source } | null, headline: string | null): { parse: AcademicParse; source: Source; chars: number } {
  const text = post?.text.slice(0, MAX_SIGNAL_TEXT) ?? '';
  const lessonText = post ? lessonLines(text) : '';
  const lesson = post ? parseAcademicRequests(lessonText) : null;
  // the whole post is parsed again only when the lesson lines leave something to look for (or differ at all)
  let whole: AcademicParse | null = lessonText === text ? lesson : null;
  const wholeParse = () => (whole ??= parseAcademicRequests(text));
  if (lesson && lesson.subjects.length > 0) return { parse: withRemarkGrades(lesson, wholeParse), source: post!.source, chars: post!.text.length };
  const postParse = post ? wholeParse() : null;
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
export function buildSignals(
  parsed: unknown,
  rawText: unknown,
  normalizedText: unknown,
  agency: string | null = null,
): { signals: Signals | null; error: string | null } {
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
