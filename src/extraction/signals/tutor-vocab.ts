import { parse } from 'yaml';
import { isRecord, lazy, readDataFile } from './load-json.ts';

/**
 * Tutor-type vocabulary from tutor_types.yaml plus extra aliases (current MOE, NIE-trained, full-time tutor, …).
 * "Strong" aliases count anywhere in the text; "weak" ones (student, teacher, moe, …) are common words and count only
 * where the text is about tutors: the label directly in front of a rate ("Undergrad $25-30/hr"), a line labelled as
 * the tutor type, or next to a strong label (tutor-types.ts).
 */
export interface TutorAlias {
  alias: string;
  canonical: string;
  strong: boolean;
}

const EXTRA: Array<[string, string]> = [
  ['current moe', 'moe-exmoe'],
  ['current moe teacher', 'moe-exmoe'],
  ['ex-moe teacher', 'moe-exmoe'],
  ['ex moe teacher', 'moe-exmoe'],
  ['moe trained', 'moe-exmoe'],
  ['moe-trained', 'moe-exmoe'],
  ['moe teachers', 'moe-exmoe'],
  ['school teacher', 'moe-exmoe'],
  ['school teachers', 'moe-exmoe'],
  ['nie', 'moe-exmoe'],
  ['nie-trained', 'moe-exmoe'],
  ['nie trained', 'moe-exmoe'],
  ['full-time tutor', 'full-timer'],
  ['full time tutor', 'full-timer'],
  ['ft tutor', 'full-timer'],
  ['part-time tutor', 'part-timer'],
  ['part time tutor', 'part-timer'],
  ['pt tutor', 'part-timer'],
  ['student tutor', 'student'],
  ['undergraduate tutor', 'student'],
  ['undergrad tutor', 'student'],
  ['uni student', 'student'],
  ['university student', 'student'],
  ['poly student', 'student'],
  ['jc student', 'student'],
  ['undergrads', 'student'],
  ['undergraduates', 'student'],
  ['student tutors', 'student'],
  ['undergraduate tutors', 'student'],
  ['undergrad tutors', 'student'],
  ['uni students', 'student'],
  ['university students', 'student'],
  ['poly students', 'student'],
  ['jc students', 'student'],
  ['postgrad students', 'student'],
  ['postgraduate students', 'student'],
  ['teachers', 'moe-exmoe'],
  ['jc teacher', 'moe-exmoe'],
  ['jc teachers', 'moe-exmoe'],
  ['full-timers', 'full-timer'],
  ['full timers', 'full-timer'],
  ['part-timers', 'part-timer'],
  ['part timers', 'part-timer'],
  ['full-time tutors', 'full-timer'],
  ['full time tutors', 'full-timer'],
  ['part-time tutors', 'part-timer'],
  ['part time tutors', 'part-timer'],
];

/**
 * The shared vocabulary files every student tutor under part-timer, and qualifications (graduate, degree,
 * diploma) as tutor types. Matching needs them apart: a student (undergraduate, poly or JC) tutor is its own type,
 * and a qualification says nothing about the type ("Full Time/Graduate Tutor" is a full-timer).
 */
const RECLASSIFIED: Record<string, string | null> = {
  student: 'student',
  undergraduate: 'student',
  undergrad: 'student',
  graduate: null,
  grad: null,
  'fresh grad': null,
  freshgrad: null,
  degree: null,
  diploma: null,
};

const WEAK = new Set([
  'casual',
  'temp',
  'temporary',
  'contract',
  'freelance',
  'undergraduate',
  'undergrad',
  'student',
  'uni student',
  'university student',
  'poly student',
  'jc student',
  'undergrads',
  'undergraduates',
  'uni students',
  'university students',
  'poly students',
  'jc students',
  'postgrad students',
  'postgraduate students',
  'teachers',
  'permanent',
  'staff',
  'senior',
  'teacher',
  'moe',
  'm.o.e',
  'p t',
  'f t',
  'subject teacher',
  'senior teacher',
]);

function loadVocab(): TutorAlias[] {
  const out: TutorAlias[] = [];
  const push = (alias: string, canonical: string): void => {
    const a = alias.trim().toLowerCase();
    if (a && !out.some((x) => x.alias === a)) out.push({ alias: a, canonical, strong: !WEAK.has(a) });
  };
  const raw = readDataFile('taxonomy/tutor_types.yaml');
  let doc: unknown = null;
  try {
    doc = raw === null ? null : parse(raw);
  } catch {
    doc = null;
  }
  const canonical = isRecord(doc) && isRecord(doc.canonical) ? doc.canonical : {};
  for (const [id, entry] of Object.entries(canonical)) {
    if (id === 'unknown' || !isRecord(entry)) continue;
    for (const a of Array.isArray(entry.aliases) ? entry.aliases : []) {
      if (typeof a !== 'string') continue;
      const moved = RECLASSIFIED[a.trim().toLowerCase()];
      if (moved === undefined) push(a, id);
      else if (moved !== null) push(a, moved);
    }
  }
  for (const [a, id] of EXTRA) push(a, id);
  return out.sort((x, y) => y.alias.length - x.alias.length);
}

export const tutorVocab = lazy(loadVocab);

const displayNames = lazy(
  (): Record<string, string> => ({ student: 'Student', 'part-timer': 'Part-timer', 'full-timer': 'Full-timer', 'moe-exmoe': 'MOE/Ex-MOE' }),
);

/** Seniority order: "<type> and above" accepts every type from it up. */
export const TUTOR_TYPE_ORDER = ['student', 'part-timer', 'full-timer', 'moe-exmoe'] as const;
export const tutorTypeDisplay = (id: string): string => displayNames()[id] ?? id;

/** Label normaliser restricted to exact alias matches: no substring or fuzzy steps, so "per" or "at" is no type. */
export function normalizeTutorLabel(label: string): { canonical: string; original: string; confidence: number } {
  const original = typeof label === 'string' ? label.trim() : '';
  const key = original.toLowerCase().replace(/\s+/g, ' ');
  if (!key) return { canonical: 'unknown', original: '', confidence: 0 };
  const exact = tutorVocab().find((a) => a.alias === key);
  if (exact) return { canonical: exact.canonical, original, confidence: 0.99 };
  for (const piece of key.split(/[^a-z0-9]+/)) {
    const hit = tutorVocab().find((a) => a.alias === piece && a.strong);
    if (hit) return { canonical: hit.canonical, original, confidence: 0.9 };
  }
  return { canonical: 'unknown', original, confidence: 0 };
}
