import { getTaxonomy } from './taxonomy.ts';

/** One subject phrase found in the text. */
export interface SubjectMatch {
  canonical: string;
  key: string;
  start: number;
  end: number;
  matched_text: string;
  source: 'taxonomy' | 'custom';
}

interface Phrase {
  regex: RegExp;
  key: string;
  display: string;
  source: 'taxonomy' | 'custom';
}

const ALNUM = 'A-Za-z0-9';

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Regex for one separator run between two words of a phrase (each run → one quantified class: no nested ambiguity). */
function separatorPattern(run: string): string {
  const marks = run.replace(/\s+/g, '');
  if (marks === '') return '[\\s./-]+';
  if (/^[-]+$/.test(marks)) return /\s/.test(run) ? '[\\s./-]+' : '-?';
  if (/^\.+$/.test(marks)) return /\s/.test(run) ? '[\\s./-]+' : '[.\\s]?';
  return `\\s*${escapeRegex(marks)}\\s*`;
}

/**
 * Builds the flexible regex for a phrase, bounded by look-arounds rather than `\b`, so "C++", "C#" and labels ending
 * in ")" match.
 */
export function phrasePattern(phrase: string): string {
  const parts = phrase.trim().match(/[A-Za-z0-9+#]+|[^A-Za-z0-9+#]+/g) ?? [];
  let body = '';
  parts.forEach((part, i) => {
    const isWord = /^[A-Za-z0-9+#]/.test(part);
    if (isWord) body += escapeRegex(part);
    else if (i === parts.length - 1) body += `\\s*${escapeRegex(part.replace(/\s+/g, ''))}`;
    else if (i === 0) body += `${escapeRegex(part.replace(/\s+/g, ''))}\\s*`;
    else body += separatorPattern(part);
  });
  return `(?<![${ALNUM}])${body}(?![${ALNUM}])`;
}

function buildPhrases(): Phrase[] {
  const tax = getTaxonomy();
  const seen = new Set<string>();
  const phrases: Phrase[] = [];
  for (const [alias, key] of tax.aliases) {
    const lower = alias.toLowerCase().trim();
    if (!lower || seen.has(lower)) continue;
    seen.add(lower);
    const display = tax.displayByKey.get(key) ?? alias;
    const source = key === 'ENGLISH_LITERATURE' ? 'custom' : 'taxonomy';
    phrases.push({ regex: new RegExp(phrasePattern(lower), 'gi'), key, display, source });
  }
  return phrases;
}

let cache: Phrase[] | null = null;
const phrases = (): Phrase[] => (cache ??= buildPhrases());

/** "a maths" in lower case is usually the article ("need a maths tutor"), not Additional Maths. */
function isArticleFalsePositive(key: string, text: string): boolean {
  return key === 'A_MATHS' && /^a\s/.test(text);
}

/** Language subjects describing the tutor, not the lesson ("Chinese female tutor preferred"). */
function isTutorPreference(text: string, start: number, end: number, key: string): boolean {
  const after = text.slice(end, end + 30);
  const before = text.slice(Math.max(0, start - 30), start);
  if (key === 'OTHERS') return /^\s*:/.test(after);
  if (!/^(CHINESE|MALAY|TAMIL|HINDI|ENGLISH|JAPANESE|KOREAN|FRENCH|GERMAN|SPANISH|ARABIC|THAI)$/.test(key)) return false;
  // "an English tutor" teaches English: Singapore posts name no tutor's nationality that way
  if (key === 'ENGLISH' && /^\s*(?:tutors?|teachers?)\b/i.test(after)) return false;
  // "looking for a Tamil tutor": the tutor of that language; "a Chinese tutor preferred" stays the person
  if (/^\s*(?:tutors?|teachers?)\s+(?:for|to)\b/i.test(after) && /\b(?:a|an)\s+$/i.test(before)) return false;
  // "Student: Girl, Chinese", "Race: Malay", "boy (Tamil)": the person's background
  if (/\b(?:girl|gal|boy|female|male|race|nationality|ethnicity|son|daughter)\s*[,:/(-]?\s*$/i.test(before)) return true;
  // "speaks Malay and Tamil at home", "No need for Chinese": the home language, a subject not wanted
  if (/\b(?:speaks?|speaking|spoken|converses?\s+in)\s+(?:[A-Za-z]+\s*(?:and|&|,|\/)\s*){0,3}$|\bno\s+need\s+(?:for\s+)?$|\b(?:no|not)\s+$/i.test(before))
    return true;
  // "Chinese New Year", "Tamil New Year": a festival
  if (/^\s*new\s+year\b/i.test(after)) return true;
  // "Chinese female tutor", "Chinese girl", "Malay family": the person, not the lesson
  return /^[\s-]*(?:female|male|lady|gentleman|man|woman|speaking|speaker|preferred|educated|native|race|national|ethnic|girl|gal|boy|student|family|kid|child|parents?|household|tutors?|teachers?)\b/i.test(
    after,
  );
}

const SCIENCE_PART: Record<string, 'BIO' | 'CHEM' | 'PHYS'> = {
  bio: 'BIO',
  biology: 'BIO',
  chem: 'CHEM',
  chemistry: 'CHEM',
  phy: 'PHYS',
  phys: 'PHYS',
  physics: 'PHYS',
};
const PART = '(bio(?:logy)?|chem(?:istry)?|phys?(?:ics)?)';
/**
 * Combined science written as its two parts: "Comb (Bio+Chem)", "Combined Science (Chem/Bio)", "Science (Bio &
 * Physics)", "Combined Bio + Chem". One subject (the taxonomy's COMBINED_* key), not its parts.
 */
const COMBINED = new RegExp(
  `(?<![${ALNUM}])(?:comb(?:ined)?\\.?(?:\\s*sci(?:ence)?)?|sci(?:ence)?)\\s*[(\\[（]?\\s*${PART}\\s*(?:\\+|&|/|,|and)\\s*${PART}\\s*\\.?\\s*[)\\]）]?|(?<![${ALNUM}])comb(?:ined)?\\.?\\s+${PART}\\s*(?:\\+|&|/|and)\\s*${PART}(?![${ALNUM}])`,
  'gi',
);
const COMBINED_KEY: Record<string, string> = { 'BIO+CHEM': 'COMBINED_BIO_CHEM', 'BIO+PHYS': 'COMBINED_BIO_PHYS', 'CHEM+PHYS': 'COMBINED_PHYS_CHEM' };

function combinedScience(text: string): SubjectMatch[] {
  const out: SubjectMatch[] = [];
  for (const m of text.matchAll(COMBINED)) {
    const parts = [m[1] ?? m[3], m[2] ?? m[4]].map((p) => SCIENCE_PART[p!.toLowerCase()]);
    const key = COMBINED_KEY[[...new Set(parts)].sort().join('+')];
    if (!key) continue;
    const start = m.index ?? 0;
    out.push({ canonical: getTaxonomy().displayByKey.get(key) ?? key, key, start, end: start + m[0].length, matched_text: m[0], source: 'custom' });
  }
  return out;
}

/** Both school maths in one phrase: "Mathematics (Additional & Elementary)", "E & A Maths", "A/E Math". */
const MATH_PAIR = new RegExp(
  `(?<![${ALNUM}])(?:math(?:s|ematics)?\\s*[(\\[]\\s*(?:additional|add|a)\\s*(?:&|and|/|,)\\s*(?:elementary|elem|e)\\s*[)\\]]|math(?:s|ematics)?\\s*[(\\[]\\s*(?:elementary|elem|e)\\s*(?:&|and|/|,)\\s*(?:additional|add|a)\\s*[)\\]]|[ae]\\s*(?:&|and|/)\\s*[ae]\\s*[-\\s]?math(?:s|ematics)?)(?![${ALNUM}])`,
  'gi',
);

function mathPairs(text: string): SubjectMatch[] {
  const out: SubjectMatch[] = [];
  for (const m of text.matchAll(MATH_PAIR)) {
    if (
      /^[ae]\s*(?:&|and|\/)\s*[ae]/i.test(m[0]) &&
      m[0][0]!.toLowerCase() ===
        m[0]
          .trim()
          .split(/\s*(?:&|and|\/)\s*/i)[1]?.[0]
          ?.toLowerCase()
    )
      continue; // "A & A"
    const start = m.index ?? 0;
    const end = start + m[0].length;
    for (const key of ['A_MATHS', 'E_MATHS'])
      out.push({ canonical: getTaxonomy().displayByKey.get(key) ?? key, key, start, end, matched_text: m[0], source: 'custom' });
  }
  return out;
}

/** "Math and Science Olympiad": the olympiad is of both. */
function distributeOlympiad(matches: SubjectMatch[], text: string): SubjectMatch[] {
  const general: Record<string, string> = { MATH_GENERAL: 'MATH_OLYMPIAD', SCIENCE_GENERAL: 'SCIENCE_OLYMPIAD' };
  return matches.map((m, i) => {
    const target = general[m.key];
    const next = matches[i + 1];
    if (!target || !next || !/_OLYMPIAD$/.test(next.key) || !/^\s*(?:&|and|\/|,)\s*$/i.test(text.slice(m.end, next.start))) return m;
    return { ...m, key: target, canonical: getTaxonomy().displayByKey.get(target) ?? m.canonical };
  });
}

const custom = (key: string, start: number, matched: string): SubjectMatch => ({
  canonical: getTaxonomy().displayByKey.get(key) ?? key,
  key,
  start,
  end: start + matched.length,
  matched_text: matched,
  source: 'custom',
});

/** "Math AA HL", "Maths (AI) SL", "Mathematics: Analysis and Approaches HL": the IB course, not IB maths in general. */
const IB_MATH = new RegExp(
  `(?<![${ALNUM}])math(?:s|ematics)?\\s*[:(\\-]?\\s*(aa|ai|analysis\\s*(?:&|and)\\s*approaches|applications?\\s*(?:&|and)\\s*interpretations?)(?![${ALNUM}])(?:\\s*[)]?\\s*[-,]?\\s*(hl|sl)(?![${ALNUM}]))?(?:\\s*\\))?`,
  'gi',
);

function ibMaths(text: string): SubjectMatch[] {
  const out: SubjectMatch[] = [];
  for (const m of text.matchAll(IB_MATH)) {
    const family = /^a[a-z]*\s*(?:&|and)\s*ap|^aa$/i.test(m[1]!) || /^analysis/i.test(m[1]!) ? 'AA' : 'AI';
    const tier = m[2] ? m[2].toUpperCase() : 'UNKNOWN';
    out.push(custom(`IB_MATH_${family}_${tier}`, m.index ?? 0, m[0]));
  }
  return out;
}

/** "Lit", "Eng Lit", "Literature (English)": literature, whose language is no second subject. */
const LITERATURE =
  /(?<![A-Za-z0-9])english\s*a\s*[:\-–]?\s*lit(?:erature)?(?![A-Za-z0-9])|(?<![A-Za-z0-9])lit(?:erature)?\s+in\s+english(?![A-Za-z0-9])|(?<![A-Za-z0-9])(?:(?:Eng(?:lish)?|ENG(?:LISH)?)\.?\s+)?(?:Lit|LIT)(?:erature|ERATURE)?(?:\s*\(\s*(?:english|eng)\s*\))?(?![A-Za-z0-9])|(?<![A-Za-z0-9])literature\s*\(\s*(?:english|eng)\s*\)/gi;

function literature(text: string): SubjectMatch[] {
  const out: SubjectMatch[] = [];
  for (const m of text.matchAll(LITERATURE)) {
    // "Lit" is written capitalised; a lower-case "lit" is the English word
    if (!/^(?:eng|lit)/i.test(m[0]) || (/^lit(?![a-z]*erature)/.test(m[0]) && !/literature/i.test(m[0]))) continue;
    out.push(custom('LITERATURE', m.index ?? 0, m[0]));
  }
  return out;
}

/** "#Chinese" in a post's tags repeats a subject the post names; tags count only when nothing else names one. */
function withoutEchoTags(matches: SubjectMatch[], text: string): SubjectMatch[] {
  const tagged = (m: SubjectMatch) => text[m.start - 1] === '#';
  return matches.some((m) => !tagged(m)) ? matches.filter((m) => !tagged(m)) : matches;
}

/** First-wins overlap resolution: start asc, length desc, then the tie-break key; returned in document order. */
export function resolveOverlaps<T extends { start: number; end: number }>(items: T[], tieKey: (t: T) => string): T[] {
  const sorted = [...items].sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || tieKey(a).localeCompare(tieKey(b)));
  const kept: T[] = [];
  let lastEnd = -1;
  for (const item of sorted) {
    if (item.start >= lastEnd) {
      kept.push(item);
      lastEnd = item.end;
    }
  }
  return kept;
}

/** Ordered, non-overlapping subject matches with display labels. Never throws. */
export function extractSubjects(text: string): SubjectMatch[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const found: SubjectMatch[] = [];
  for (const p of phrases()) {
    p.regex.lastIndex = 0;
    for (const m of text.matchAll(p.regex)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (m[0].length === 0 || isArticleFalsePositive(p.key, m[0]) || isTutorPreference(text, start, end, p.key)) continue;
      found.push({ canonical: p.display, key: p.key, start, end, matched_text: m[0], source: p.source });
    }
  }
  // a pair is two subjects over one span: kept whole where it wins the overlap
  const pairs = mathPairs(text);
  const kept = withoutEchoTags(
    resolveOverlaps([...found, ...combinedScience(text), ...ibMaths(text), ...literature(text), ...pairs.filter((p) => p.key === 'A_MATHS')], (s) =>
      s.canonical.toLowerCase(),
    ),
    text,
  );
  const withPairs = kept.flatMap((k) => (k.source === 'custom' && k.key === 'A_MATHS' && pairs.includes(k) ? [k, pairs[pairs.indexOf(k) + 1]!] : [k]));
  return distributeOlympiad(withPairs, text);
}
