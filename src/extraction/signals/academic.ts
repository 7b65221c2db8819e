import { canonicalizeSubjects, type CanonicalizationDebug } from './canonicalize.ts';
import { ADULT_LEARNER, levelAndStreamTokens, type AcademicToken } from './levels.ts';
import { extractSubjects, resolveOverlaps } from './subjects.ts';
import { getTaxonomy } from './taxonomy.ts';

export interface AcademicRequest {
  level: string | null;
  specific_student_level: string | null;
  stream: string | null;
  subjects: string[];
  subjects_canonical: string[];
}

export interface AcademicParse {
  subjects: string[];
  subjects_canonical: string[];
  subjects_general: string[];
  canonicalization_version: number | null;
  canonicalization_debug: Record<string, unknown> | null;
  levels: string[];
  specific_student_levels: string[];
  streams: string[];
  academic_requests: AcademicRequest[] | null;
  evidence: { source_text_chars: number; tokens: Array<{ kind: string; value: string; start: number; end: number; text: string }> };
  confidence_flags: { ambiguous_academic_mapping: boolean };
}

const KIND_ORDER = ['level', 'specific_level', 'stream', 'subject'];

/** Every academic token in document order, overlaps resolved first-wins with the kind name as tie-break. */
export function academicTokens(text: string): AcademicToken[] {
  const subjects: AcademicToken[] = extractSubjects(text).map((s) => ({
    kind: 'subject',
    value: s.canonical,
    values: [s.canonical],
    level: null,
    start: s.start,
    end: s.end,
    text: s.matched_text,
    key: s.key,
  }));
  const all = [...levelAndStreamTokens(text), ...subjects];
  const kept = resolveOverlaps(all, (t) => String(KIND_ORDER.indexOf(t.kind)));
  // two subjects read from one span ("E & A Maths") both stay
  const twins = subjects.filter((s) => !kept.includes(s) && kept.some((k) => k.kind === 'subject' && k.start === s.start && k.end === s.end));
  return twins.length ? [...kept, ...twins].sort((a, b) => a.start - b.start) : kept;
}

/**
 * Codes that a more specific code of the same request makes redundant (a tutor of the specific subject is the one
 * wanted): "Maths" beside "E Maths", "Science" beside a combined science, "Chinese" beside "Higher Chinese",
 * "English" beside "Phonics". Formats and catch-alls ("group tuition", "Others") are no subject a tutor chooses.
 */
const SUBSUMED_BY: Array<[string, RegExp]> = [
  ['MATH.SEC_UNKNOWN', /^MATH\.SEC_(?:EMATH|AMATH)$/],
  ['MATH.JC_UNKNOWN', /^MATH\.JC_H3$/],
  ['SCIENCE.GENERAL', /^SCIENCE\.COMBINED_/],
  ['ENGLISH.GENERAL', /^ENGLISH\.PHONICS$/],
  ['MUSIC.GENERAL', /^MUSIC\.(?!GENERAL$)/],
];
const NOT_A_SUBJECT = new Set(['SPECIAL.GROUP_TUITION', 'OTHER.OTHERS']);

export function pruneCodes(codes: string[]): string[] {
  return codes.filter((c) => !NOT_A_SUBJECT.has(c) && !SUBSUMED_BY.some(([general, specific]) => c === general && codes.some((o) => specific.test(o))));
}

const addUnique = (list: string[], v: string): void => {
  if (!list.some((x) => x.toLowerCase() === v.toLowerCase())) list.push(v);
};

/**
 * For each token: does it precede the first level token of its own line, with a level token on that line? Such a
 * subject or stream attaches to that level ("Math P5", "IP Sec 2 Math"). Linear.
 */
function lookAheadFlags(tokens: AcademicToken[], text: string): boolean[] {
  const lines: number[] = [];
  let line = 0;
  let pos = 0;
  for (const t of tokens) {
    for (; pos < t.start && pos < text.length; pos++) if (text.charCodeAt(pos) === 10) line++;
    lines.push(line);
  }
  const firstLevel = new Map<number, number>();
  tokens.forEach((t, i) => {
    if (t.level && !firstLevel.has(lines[i]!)) firstLevel.set(lines[i]!, i);
  });
  return tokens.map((t, i) => {
    if (t.kind === 'level' || t.kind === 'specific_level') return false;
    const first = firstLevel.get(lines[i]!);
    return first !== undefined && i < first;
  });
}

interface Walk {
  requests: AcademicRequest[];
  group: AcademicRequest[];
  stream: string | null;
  pending: AcademicToken[];
  ambiguous: boolean;
}

function openGroup(w: Walk, t: AcademicToken): void {
  const specifics = t.kind === 'specific_level' ? t.values : [null];
  w.group = specifics.map((s) => ({ level: t.level, specific_student_level: s, stream: null, subjects: [], subjects_canonical: [] }));
  w.requests.push(...w.group);
  w.stream = null;
  const pending = w.pending;
  w.pending = [];
  for (const p of pending) attach(w, p);
}

function attach(w: Walk, t: AcademicToken): void {
  if (w.group.length === 0) {
    w.ambiguous = true;
    return;
  }
  if (t.kind === 'subject') {
    for (const r of w.group) addUnique(r.subjects, t.value);
    return;
  }
  const hasSubjects = w.group.some((r) => r.subjects.length > 0);
  if (w.stream !== null && w.stream !== t.value && hasSubjects) {
    w.group = w.group.map((r) => ({ ...r, stream: t.value, subjects: [], subjects_canonical: [] }));
    w.requests.push(...w.group);
  } else {
    for (const r of w.group) r.stream = t.value;
  }
  w.stream = t.value;
}

/** Same level/specific/stream requests (a post often repeats its headline) are merged. */
function mergeRequests(requests: AcademicRequest[]): AcademicRequest[] {
  const byKey = new Map<string, AcademicRequest>();
  for (const r of requests) {
    if (r.subjects.length === 0) continue;
    const key = `${r.level}|${r.specific_student_level}|${r.stream}`;
    const existing = byKey.get(key);
    if (existing) for (const s of r.subjects) addUnique(existing.subjects, s);
    else byKey.set(key, { ...r, subjects: [...r.subjects] });
  }
  return [...byKey.values()];
}

function postLevel(levels: string[]): string | null {
  if (levels.includes('IB') && levels.includes('IGCSE')) return 'IB/IGCSE';
  return levels.length === 1 ? levels[0]! : null;
}

/** Per-request canonicalisation, unioned (a post with two levels still gets codes); unattached subjects use the single post level. */
function canonicalizeAll(
  requests: AcademicRequest[],
  subjects: string[],
  levels: string[],
): Pick<AcademicParse, 'subjects_canonical' | 'subjects_general' | 'canonicalization_version' | 'canonicalization_debug'> {
  const canonical: string[] = [];
  const general: string[] = [];
  const runs: CanonicalizationDebug[] = [];
  let version = getTaxonomy().version;
  const run = (level: string | null, subs: string[]): string[] => {
    const res = canonicalizeSubjects(level, subs);
    version = res.canonicalization_version;
    runs.push(res.debug);
    return res.subjects_canonical;
  };
  // pruned per request: "Chinese" of a P6 request stays beside a Sec 1 request's "Higher Chinese"
  for (const r of requests) r.subjects_canonical = pruneCodes(run(r.level, r.subjects));
  // …and across the requests of one level ("Secondary E-Math", then "S4 NT Maths" in the remarks)
  for (const level of new Set(requests.map((r) => r.level))) {
    const same = requests.filter((r) => r.level === level);
    const pruned = pruneCodes(same.flatMap((r) => r.subjects_canonical));
    for (const r of same) r.subjects_canonical = r.subjects_canonical.filter((c) => pruned.includes(c));
  }
  for (const r of requests)
    r.subjects_canonical.forEach((c) => {
      addUnique(canonical, c);
    });
  const attached = new Set(requests.flatMap((r) => r.subjects.map((s) => s.toLowerCase())));
  const loose = subjects.filter((s) => !attached.has(s.toLowerCase()));
  if (loose.length > 0) {
    const codes = run(postLevel(levels), loose);
    const pruned = pruneCodes([...canonical, ...codes]);
    codes
      .filter((c) => pruned.includes(c))
      .forEach((c) => {
        addUnique(canonical, c);
      });
  }
  const tax = getTaxonomy();
  for (const c of canonical) {
    const cat = tax.categoryByCode.get(c);
    if (cat) addUnique(general, cat);
  }
  return {
    subjects_canonical: canonical,
    subjects_general: general,
    canonicalization_version: version,
    canonicalization_debug: { mode: 'per_request', runs: runs.slice(0, 20) },
  };
}

const LANGUAGE_CODE = /^(?:LANG_OTHER|MTL|ENGLISH)\./;
const MUSIC_CODE = /^MUSIC\./;
const COMPUTING_CODE = /^(?:COMP\.|TERTIARY\.COMPUTING_TECH$)/;

/**
 * A learner outside school: music lessons with no school grade stated are a music learner's ("Piano Grade 3" is an
 * ABRSM grade, not Primary 3); an adult (or nobody's level) learning only computing is a computing learner; an adult
 * learning a language stays a language learner, an adult learning anything else is "Others".
 */
function independentLearner(roll: { levels: string[]; specific: string[] }, requests: AcademicRequest[], codes: { subjects_canonical: string[] }): void {
  const all = codes.subjects_canonical;
  const adult = roll.levels.includes(ADULT_LEARNER);
  let level: string | null = null;
  if (all.length && all.every((c) => MUSIC_CODE.test(c)) && roll.specific.length === 0) level = 'Independent Learner - Music';
  else if (all.length && all.every((c) => c.startsWith('SPORTS.')) && roll.specific.length === 0) level = 'Sports';
  else if (all.length && all.every((c) => COMPUTING_CODE.test(c)) && (adult || roll.levels.length === 0)) level = 'Independent Learner - Computing';
  else if (adult && !all.some((c) => LANGUAGE_CODE.test(c))) level = 'Independent Learner - Others';
  if (level === null) return;
  if (level === 'Independent Learner - Others') {
    roll.levels = roll.levels.map((l) => (l === ADULT_LEARNER ? level : l));
    for (const r of requests) if (r.level === ADULT_LEARNER) r.level = level;
    return;
  }
  roll.levels = [level];
  if (level === 'Independent Learner - Computing') codes.subjects_canonical = all.filter((c) => !c.startsWith('TERTIARY.'));
  for (const r of requests) {
    r.level = level;
    r.specific_student_level = null;
    r.subjects_canonical = r.subjects_canonical.filter((c) => codes.subjects_canonical.includes(c));
  }
}

/**
 * Levels, streams, subjects and per-level academic requests of a text: canonical codes per request, a subject before
 * its level on the same line attaches to it, level ranges and lists expand. Never throws.
 */
export function parseAcademicRequests(text: string): AcademicParse {
  const src = typeof text === 'string' ? text : '';
  const tokens = academicTokens(src);
  const flags = lookAheadFlags(tokens, src);
  const w: Walk = { requests: [], group: [], stream: null, pending: [], ambiguous: false };
  const roll = { subjects: [] as string[], levels: [] as string[], specific: [] as string[], streams: [] as string[] };
  tokens.forEach((t, i) => {
    if (t.kind === 'level' || t.kind === 'specific_level') {
      addUnique(roll.levels, t.level ?? t.value);
      if (t.kind === 'specific_level')
        t.values.forEach((v) => {
          addUnique(roll.specific, v);
        });
      openGroup(w, t);
      return;
    }
    addUnique(t.kind === 'subject' ? roll.subjects : roll.streams, t.value);
    if (flags[i]) w.pending.push(t);
    else attach(w, t);
  });
  if (w.pending.length > 0) w.ambiguous = true;
  const requests = mergeRequests(w.requests);
  const codes = canonicalizeAll(requests, roll.subjects, roll.levels);
  independentLearner(roll, requests, codes);
  return {
    subjects: roll.subjects,
    ...codes,
    levels: roll.levels,
    specific_student_levels: roll.specific,
    streams: roll.streams,
    academic_requests: requests.length > 0 ? requests : null,
    evidence: {
      source_text_chars: src.length,
      tokens: tokens.slice(0, 60).map((t) => ({ kind: t.kind, value: t.value, start: t.start, end: t.end, text: t.text })),
    },
    confidence_flags: { ambiguous_academic_mapping: w.ambiguous },
  };
}
