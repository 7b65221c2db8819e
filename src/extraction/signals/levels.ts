/**
 * Level, specific-level and stream tokens:
 * - ranges and lists ("Sec 1-4", "P5/6", "K1-K2", "P1 to P6") expand to every level;
 * - university / uni / degree / undergrad are detected (→ Degree);
 * - short stream words (exp, na, nt, ip, sl, hl) count only next to a level token.
 */

export type TokenKind = 'level' | 'specific_level' | 'stream' | 'subject';

export interface AcademicToken {
  kind: TokenKind;
  /** canonical value; for a specific-level range, the first of `values`. */
  value: string;
  values: string[];
  level: string | null;
  start: number;
  end: number;
  text: string;
  key?: string;
}

const B = '(?<![A-Za-z0-9])';
const E = '(?![A-Za-z0-9])';

interface SpecificKind {
  prefix: string;
  connector?: string;
  min: number;
  max: number;
  label: (n: number) => string;
  level: string;
}

const SPECIFIC: SpecificKind[] = [
  { prefix: '(?:primary|pri|p\\.?)', min: 1, max: 6, label: (n) => `Primary ${n}`, level: 'Primary' },
  { prefix: '(?:secondary|sec|s\\.?)', min: 1, max: 5, label: (n) => `Secondary ${n}`, level: 'Secondary' },
  { prefix: '(?:jc|j\\.?)', min: 1, max: 2, label: (n) => `JC ${n}`, level: 'Junior College' },
  { prefix: '(?:kindergarten|k)', min: 1, max: 2, label: (n) => `K${n}`, level: 'Pre-School' },
  { prefix: '(?:nursery|nur|n)', min: 1, max: 2, label: () => 'Nursery', level: 'Pre-School' },
  // IB's own years (1–6); "IB Year 12" and "IGCSE Year 10" are school grades of no Singapore level: the programme only
  { prefix: 'ib(?:\\s*year)?', min: 1, max: 6, label: (n) => `IB Year ${n}`, level: 'IB' },
];

/** A bare number after "and" / "," is a level only when no unit follows it ("P2 and 3 English", not "P2 and 3 hours"). */
const NOT_A_UNIT = '(?!\\s*(?:[.:]\\d|h\\b|hrs?\\b|hours?|lessons?|sessions?|times?|x\\b|days?|weeks?|students?|pax|kids?|child|am\\b|pm\\b|mins?|minutes?|/))';
/** A stream written straight after the number ("Sec 3Exp", "S2NA", "Sec 4G3") ends the level too. */
const END = `(?:${E}|(?=(?:exp(?:ress)?|na|nt|ip|g[1-3])${E}))`;

/** prefix N, then optionally up to 5 more "(-|/|&|,|to|and) [prefix] M" items. Bounded repetition: no blow-up. */
const specificCache = new Map<SpecificKind, RegExp>();
function specificRegex(k: SpecificKind): RegExp {
  const cached = specificCache.get(k);
  if (cached) return new RegExp(cached); // a fresh lastIndex per use
  const item = `(?:${k.prefix})\\s*(\\d{1,2})`;
  const bare = `\\s*(?:-|\\u2013|/|&|to)\\s*(?:${k.prefix})?\\s*\\d{1,2}(?!\\d)`;
  const listed = `\\s*(?:,|and)\\s*(?:(?:${k.prefix})\\s*\\d{1,2}(?!\\d)|\\d(?!\\d)${NOT_A_UNIT})`;
  const more = `(?:${bare}|${listed}){0,5}`;
  const re = new RegExp(`${B}${item}(?!\\d)(${more})${END}`, 'gi');
  specificCache.set(k, re);
  return new RegExp(re);
}

/** IP years ("Y4 IP", "IP Year 3", "Year 5 IP"): years 1–4 are Secondary 1–4, years 5–6 are JC 1–2. */
function ipYearTokens(text: string): AcademicToken[] {
  const out: AcademicToken[] = [];
  const re = new RegExp(
    `${B}(?:(?:y|yr|year)\\s*([1-6])\\s*(?:ip|integrated\\s+programme)|(?:ip|integrated\\s+programme)\\s*(?:y|yr|year)\\s*([1-6]))${E}`,
    'gi',
  );
  for (const m of text.matchAll(re)) {
    const year = Number(m[1] ?? m[2]);
    const [value, level] = year <= 4 ? [`Secondary ${year}`, 'Secondary'] : [`JC ${year - 4}`, 'Junior College'];
    const start = m.index ?? 0;
    out.push({ kind: 'specific_level', value, values: [value], level, start, end: start + m[0].length, text: m[0] });
  }
  return out;
}

/** "Grade N" (international schools) gives the general level only: 1–6 Primary, 7–10 Secondary, 11–12 JC. */
function gradeTokens(text: string): AcademicToken[] {
  const out: AcademicToken[] = [];
  for (const m of text.matchAll(new RegExp(`${B}grade\\s*(\\d{1,2})${E}`, 'gi'))) {
    const n = Number(m[1]);
    const level = n >= 1 && n <= 6 ? 'Primary' : n >= 7 && n <= 10 ? 'Secondary' : n >= 11 && n <= 12 ? 'Junior College' : null;
    if (!level) continue;
    const start = m.index ?? 0;
    out.push({ kind: 'level', value: level, values: [level], level, start, end: start + m[0].length, text: m[0] });
  }
  return out;
}

/** Expand "1-4" / "5/6" / "1 to 6" into the numbers in range (ranges only between ascending numbers). */
function expandNumbers(first: number, tail: string): number[] {
  const out = [first];
  const re = /(-|\u2013|\/|&|,|to|and)\s*([A-Za-z. ]*?)\s*(\d{1,2})/gi;
  let prev = first;
  for (const m of tail.matchAll(re)) {
    const n = Number(m[3]);
    if (!m[2] && n <= prev) continue; // a bare number going backwards is not a level ("Sec 4 - 2 lessons")
    const isRange = m[1] === '-' || m[1] === '\u2013' || m[1]!.toLowerCase() === 'to';
    if (isRange && n > prev && n - prev <= 12) for (let i = prev + 1; i < n; i++) out.push(i);
    out.push(n);
    prev = n;
  }
  return [...new Set(out)];
}

function specificTokens(text: string): AcademicToken[] {
  const out: AcademicToken[] = [];
  for (const kind of SPECIFIC) {
    for (const m of text.matchAll(specificRegex(kind))) {
      const nums = expandNumbers(Number(m[1]), m[2] ?? '').filter((n) => n >= kind.min && n <= kind.max);
      if (nums.length === 0) continue;
      const values = nums.map(kind.label);
      const start = m.index ?? 0;
      if (futureLevel(text, start, start + m[0].length) || levelOfTutor(text, start + m[0].length)) continue;
      out.push({ kind: 'specific_level', value: values[0]!, values, level: kind.level, start, end: start + m[0].length, text: m[0] });
    }
  }
  return out;
}

/** An adult learning for themselves; a language learner unless the subjects say otherwise (academic.ts). */
export const ADULT_LEARNER = 'Independent Learner - Languages';

const LEVEL_WORDS: Array<[string, string]> = [
  ['pre[-\\s]?school|kindergarten|nursery|child\\s?care', 'Pre-School'],
  ['primary\\s+school|primary|pri|psle', 'Primary'],
  ['secondary\\s+school|secondary|sec', 'Secondary'],
  ['[on][-\\s]?levels?', 'Secondary'],
  ['junior\\s+college|jc|a[-\\s]?levels?|pre[-\\s]?u(?:ni(?:versity)?)?', 'Junior College'],
  ['international\\s+baccalaureate|ib\\s?diploma|diploma\\s+program(?:me)?|ib(?:\\s?dp)?', 'IB'],
  ['cambridge\\s+igcse|igcse', 'IGCSE'],
  ['polytechnic|poly|diploma\\s+(?:in|of)|diploma\\s+(?:year|yr)\\s*\\d', 'Diploma'],
  ['university|undergraduate|undergrad|uni|degree|nus|ntu|smu|sutd|suss', 'Degree'],
  ['adult\\s+learners?|working\\s+adults?|adult\\s+students?|adults?(?!\\s+(?:supervision|present|at\\s+home))|expat', ADULT_LEARNER],
];

/**
 * University and polytechnic words that describe the tutor, not the student: "Undergrad Tutor", "degree holder",
 * "Part-Time Tutor (Uni Grad)", "Part Time/Undergrad", "$30/hr (University undergraduate)".
 */
function describesTutor(text: string, start: number, end: number): boolean {
  const before = text.slice(Math.max(0, start - 40), start);
  const after = text.slice(end, end + 30);
  return (
    /^[\s)]*(?:[A-Za-z]+\s+)?(?:tutors?|teachers?|grads?|graduates?|holders?|qualifi\w*)\b/i.test(after) ||
    /^\s*[:\-–]?\s*(?:\$|s\$|sgd)\s?\d/i.test(after) ||
    /(?:tutors?|teachers?)\s*\(\s*$/i.test(before) ||
    /(?:part|full)[-\s]?time(?:rs?)?\s*\/\s*$/i.test(before) ||
    /(?:\/\s*(?:h|hr|hour|lesson)s?|\$\s*\d+(?:\.\d+)?)\s*(?:\(\s*|for\s+|by\s+)?(?:[A-Za-z]+\s+)?$/i.test(before)
  );
}

/** "JC student tutors", "poly students welcome", "(NUS undergrads ok)": a school level of the tutor, not the student. */
function levelOfTutor(text: string, end: number): boolean {
  return /^(?:\s*\/\s*[A-Za-z]+)?\s*(?:[-\s]?students?\s+(?:tutors?|teachers?)|[-\s]?students?\s*(?:&\s*\w+\s*)?(?:are\s+)?(?:welcome|ok|okay|can\s+apply|preferred|only)|\s+grads?\b|\s+(?:can|ok|okay|welcome)\b)/i.test(
    text.slice(end, end + 30),
  );
}

/** "K2 (going P1 next year)", "entering Sec 1 in 2027": the level the student will be in, not the one taught now. */
function futureLevel(text: string, start: number, end: number): boolean {
  return (
    /\b(?:going(?:\s+to)?|entering|moving\s+(?:up\s+)?to|promoted\s+to|will\s+be(?:\s+in)?|readiness\s+for|prep(?:aration)?\s+for|preparing\s+for)\s*$/i.test(
      text.slice(Math.max(0, start - 24), start),
    ) || /^\s*(?:next\s+year|in\s+20\d\d)/i.test(text.slice(end, end + 16))
  );
}

function levelTokens(text: string): AcademicToken[] {
  const out: AcademicToken[] = [];
  for (const [pattern, level] of LEVEL_WORDS) {
    for (const m of text.matchAll(new RegExp(`${B}(?:${pattern})${E}`, 'gi'))) {
      const start = m.index ?? 0;
      if ((level === 'Degree' || level === 'Diploma') && describesTutor(text, start, start + m[0].length)) continue;
      if (levelOfTutor(text, start + m[0].length)) continue;
      out.push({ kind: 'level', value: level, values: [level], level, start, end: start + m[0].length, text: m[0] });
    }
  }
  return out;
}

/** [pattern, canonical stream, weak?] — weak streams are short words that are common outside academic context. */
const STREAMS: Array<[string, string, boolean]> = [
  ['g\\s*([1-3])', 'G', false],
  ['h([1-3])', 'H', false],
  ['express', 'Express', false],
  ['exp', 'Express', true],
  ['normal\\s+academic|normal\\s+acad', 'NA', false],
  ['na', 'NA', true],
  ['normal\\s+technical|normal\\s+tech', 'NT', false],
  ['nt', 'NT', true],
  ['integrated\\s+program(?:me)?', 'IP', false],
  ['ip', 'IP', true],
  ['foundation', 'Foundation', false],
  ['higher\\s+level', 'HL', false],
  ['hl', 'HL', true],
  ['standard\\s+level', 'SL', false],
  ['sl', 'SL', true],
  ['subject\\s+based\\s+banding', 'SBB', false],
  ['sbb', 'SBB', false],
  ['arts\\s+stream', 'Arts', false],
  ['science\\s+stream', 'Science', false],
  ['commerce\\s+stream', 'Commerce', false],
];

export interface StreamToken extends AcademicToken {
  weak: boolean;
}

function streamTokens(text: string): StreamToken[] {
  const out: StreamToken[] = [];
  for (const [pattern, stream, weak] of STREAMS) {
    for (const m of text.matchAll(new RegExp(`${B}(?:${pattern})${E}`, 'gi'))) {
      const value = stream === 'G' || stream === 'H' ? `${stream}${m[1] ?? ''}` : stream;
      const start = m.index ?? 0;
      out.push({ kind: 'stream', value, values: [value], level: null, start, end: start + m[0].length, text: m[0], weak });
    }
  }
  return out;
}

/** A weak stream must sit on the same line as a level token and within a short distance of it. */
function nearLevel(s: AcademicToken, levels: AcademicToken[], text: string): boolean {
  return levels.some((l) => {
    const [a, b] = l.end <= s.start ? [l.end, s.start] : [s.end, l.start];
    if (b - a < 0 || b - a > 20) return false;
    return !text.slice(a, b).includes('\n');
  });
}

/** All level, specific-level and stream tokens (overlaps are resolved later together with subjects). */
export function levelAndStreamTokens(text: string): AcademicToken[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const named = levelTokens(text);
  // "Grade 9 Chinese (IGCSE)": the grade is of the IGCSE or IB programme named, not a Singapore level
  const grades = named.some((t) => t.value === 'IB' || t.value === 'IGCSE') ? [] : gradeTokens(text);
  const levels = [...ipYearTokens(text), ...specificTokens(text), ...grades, ...named];
  const streams = streamTokens(text).filter((s) => !s.weak || nearLevel(s, levels, text));
  return [...levels, ...streams.map(({ weak: _weak, ...t }) => t)];
}

/** Level canonicaliser (normalise, look up, retry without a trailing "s"). */
const LEVEL_TABLE: Record<string, string> = {};
for (const [level, words] of Object.entries({
  'Pre-School': ['pre school', 'preschool', 'kindergarten', 'kinder', 'kg', 'nursery', 'childcare', 'child care', 'pre k', 'prek'],
  Primary: ['primary', 'primary school', 'pri', 'psle'],
  Secondary: ['secondary', 'secondary school', 'sec', 'o level', 'olevel', 'n level', 'nlevel'],
  'Junior College': ['junior college', 'juniorcollege', 'jc', 'a level', 'alevel', 'pre u', 'pre uni', 'pre university', 'preuniversity'],
  IB: ['ib', 'i b', 'international baccalaureate', 'ib dp', 'ibdp', 'ib diploma', 'diploma programme', 'diploma program'],
  IGCSE: ['igcse', 'i g c s e', 'cambridge igcse', 'cigcse'],
  Diploma: ['poly', 'polytechnic'],
  Degree: ['uni', 'university', 'undergraduate', 'undergrad', 'degree'],
})) {
  for (const w of words) LEVEL_TABLE[w] = level;
}

export function canonicalLevel(raw: string): string | null {
  const n = raw
    .toLowerCase()
    .replace(/[_-]/g, ' ')
    .replace(/[./()]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return LEVEL_TABLE[n] ?? (n.endsWith('s') ? LEVEL_TABLE[n.slice(0, -1)] : undefined) ?? null;
}
