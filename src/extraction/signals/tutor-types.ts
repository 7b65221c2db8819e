import type { RateTier, TutorType } from '../schema.ts';
import { findRateSpans, type RateSpan } from './rates.ts';
import { TUTOR_TYPE_ORDER, tutorVocab, type TutorAlias } from './tutor-vocab.ts';

/**
 * Tutor types and tiered rates:
 * whole-word alias matching only; each rate is tied to the nearest label before it in the same clause
 * (else the nearest after it), labels chained with "/" or "&" share the rate ("FT/Ex-MOE $40-55");
 * an existing entry is never overwritten; a rate with no label is kept under "unknown".
 */
export interface TutorTypeResult {
  tutor_types: TutorType[];
  rate_breakdown: Record<string, RateTier>;
}

interface LabelHit {
  start: number;
  end: number;
  text: string;
  alias: TutorAlias;
}

const MAX_TEXT = 100_000;

const aliasRegexes = (() => {
  let cache: Array<[TutorAlias, RegExp]> | null = null;
  return (): Array<[TutorAlias, RegExp]> =>
    (cache ??= tutorVocab().map((a) => {
      const body = a.alias
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\\\./g, '\\.?')
        .replace(/-/g, '[-\\s]?')
        .replace(/ /g, '[\\s-]?');
      return [a, new RegExp(`(?<![A-Za-z0-9])${body}(?![A-Za-z0-9])`, 'gi')];
    }));
})();

/** "FT-1288", "PT9931", "(Pt 2)": letters of a code or a part number, not a tutor type — unless a rate follows ("PT 30-35/h"). */
function partOfCode(text: string, end: number, alias: TutorAlias, rates: RateSpan[]): boolean {
  if (alias.alias.replace(/[^a-z]/g, '').length > 2) return false;
  if (!/^(?:[-_#/]?\d|\s\d+\s*\))/.test(text.slice(end, end + 8))) return false;
  return !rates.some((r) => r.start >= end && r.start - end <= 2);
}

/** "Both parents work full-time", "No full-time tutors please": the word names no tutor the post accepts. */
function notAboutTutor(text: string, start: number): boolean {
  return /\b(?:works?|working|worked|job\s+is|parents?\s+(?:are|is))\s+$|\b(?:no|not|non)\s+$/i.test(text.slice(Math.max(0, start - 16), start));
}

function findLabels(text: string, rates: RateSpan[]): LabelHit[] {
  const hits: LabelHit[] = [];
  for (const [alias, re] of aliasRegexes()) {
    for (const m of text.matchAll(re)) {
      const start = m.index ?? 0;
      // "Part-time (Non-student)" names no student tutor
      if (m[0].length === 0 || partOfCode(text, start + m[0].length, alias, rates) || notAboutTutor(text, start)) continue;
      if (!/non[-\s]?$/i.test(text.slice(Math.max(0, start - 4), start))) hits.push({ start, end: start + m[0].length, text: m[0], alias });
    }
  }
  hits.sort((a, b) => a.start - b.start || b.end - a.end || Number(b.alias.strong) - Number(a.alias.strong));
  const kept: LabelHit[] = [];
  for (const h of hits) if (!kept.length || h.start >= kept[kept.length - 1]!.end) kept.push(h);
  return kept;
}

/** Clause boundaries: newline, "|", ";", a comma not between digits, a full stop followed by a space. */
function clauseIds(text: string): Int32Array {
  const ids = new Int32Array(text.length + 1);
  let id = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const next = text[i + 1] ?? ' ';
    if (c === '\n' || c === '|' || c === ';' || (c === ',' && !/\d/.test(next)) || (c === '.' && /\s/.test(next))) id++;
    ids[i] = id;
  }
  ids[text.length] = id;
  return ids;
}

const RATE_THEN_LABEL = /^\s*(?:\(\s*(?:[A-Za-z/]+\s+){0,2}|for\s+(?:[A-Za-z]+\s+)?|by\s+)$/i;
/** "$26-30/h undergrad, …": a label alone between a rate and the end of its clause. */
const RATE_THEN_BARE_LABEL = /^[ \t]+$/;
const WEAK_GAP = /^[\s:=(\-\u2013]*(?:rates?)?[\s:=(\-\u2013]*$/i;

function labelsForSpan(text: string, span: RateSpan, labels: LabelHit[], ids: Int32Array): LabelHit[] {
  const clause = ids[span.start];
  const same = labels.filter((l) => ids[l.start] === clause);
  // "$95-120/h (current school teachers)": a label in brackets right after the rate is the rate's own
  const bracketed = same.find((l) => l.start >= span.end && /^\s*\(\s*(?:[A-Za-z/]+\s+){0,2}$/.test(text.slice(span.end, l.start)));
  if (bracketed) return [bracketed];
  const before = same.filter((l) => l.end <= span.start && (l.alias.strong || WEAK_GAP.test(text.slice(l.end, span.start))));
  const last = before[before.length - 1];
  if (last) {
    const chain = [last];
    for (let i = before.length - 2; i >= 0; i--) {
      const gap = text.slice(before[i]!.end, chain[0]!.start);
      if (!/^\s*(?:\/|&|or|and)\s*$/i.test(gap)) break;
      chain.unshift(before[i]!);
    }
    return chain;
  }
  // "$30/h (PT)", "$28-32/hr for undergrads", "$90-110/h (current JC teachers)": a label right after the rate owns it.
  const after = same.find(
    (l) =>
      l.start >= span.end &&
      (l.alias.strong ||
        RATE_THEN_LABEL.test(text.slice(span.end, l.start)) ||
        (RATE_THEN_BARE_LABEL.test(text.slice(span.end, l.start)) && clauseEndsAt(text, l.end))),
  );
  return after ? [after] : [];
}

/** Nothing but spaces or closing punctuation between `at` and the end of the clause. */
const clauseEndsAt = (text: string, at: number): boolean => /^[\s)]*(?:[,|;\n]|$)/.test(text.slice(at, at + 4));

const tier = (span: RateSpan, confidence: number): RateTier => ({
  min: span.min,
  max: span.max,
  original_text: span.text,
  currency: span.currency,
  unit: span.unit,
  confidence,
});

/** A line whose label names the tutor wanted ("Tutor Types:", "Type of Tutor:", "Tutor Category:"). */
const TUTOR_LINE = /^[^\p{L}\n]*(?:(?:type\s+of\s+)?tutors?(?:\s+(?:types?|category|categories|preference|requirements?))?|preferred\s+tutors?)\s*:/iu;

/**
 * A weak label (student, undergrad, teacher, moe, …) is about the tutor where the text is: on a tutor line, in
 * brackets right after a strong label ("Part-time (Student)"), chained to one by "/", "&" or "or"
 * ("Part Time/Undergrad Tutor"), followed by "tutor(s)", or in brackets after a rate ("$30/hr (University undergraduate)").
 */
function inTutorContext(text: string, hit: LabelHit, labels: LabelHit[], rates: RateSpan[]): boolean {
  const lineStart = text.lastIndexOf('\n', hit.start - 1) + 1;
  if (TUTOR_LINE.test(text.slice(lineStart, hit.start + 1))) return true;
  if (rates.some((r) => r.end <= hit.start && hit.start - r.end <= 24 && RATE_THEN_LABEL.test(text.slice(r.end, hit.start)))) return true;
  if (rates.some((r) => r.end <= hit.start && RATE_THEN_BARE_LABEL.test(text.slice(r.end, hit.start)) && clauseEndsAt(text, hit.end))) return true;
  if (/^\s*\)?\s*(?:tutors?|teachers?)\b/i.test(text.slice(hit.end, hit.end + 12))) return true;
  if (WELCOME_AFTER.test(text.slice(hit.end, hit.end + 60))) return true;
  return labels.some((l) => {
    if (l === hit || !l.alias.strong) return false;
    const gap = l.end <= hit.start ? text.slice(l.end, hit.start) : hit.end <= l.start ? text.slice(hit.end, l.start) : null;
    return gap !== null && /^\s*(?:tutors?\s*)?(?:\(|\/|&|,|or|and)?\s*(?:\(\s*)?$/i.test(gap) && gap.length <= 12;
  });
}

/** "Undergrads welcome", "Undergraduates and postgrad students welcome", "(undergrads ok)". */
const WELCOME_AFTER =
  /^(?:\s*(?:,|\/|&|and|or)\s*[\w-]+(?:\s+[\w-]+)?)?\s*(?:tutors?\s+)?(?:are\s+|is\s+)?(?:(?:also|very|most)\s+)?(?:welcome|ok|okay|can\s+apply|can|preferred|only|accepted|encouraged|considered)\b/i;

/** "Part time tutors and above", "FT & above": every type from that one up. */
const AND_ABOVE =
  /(?<![A-Za-z0-9])(students?|undergrad(?:uate)?s?|part[-\s]?time(?:rs?)?|pt|full[-\s]?time(?:rs?)?|ft)\s*(?:tutors?|teachers?)?\s*(?:&|and)\s*above/gi;
const AND_ABOVE_TYPE = (word: string): (typeof TUTOR_TYPE_ORDER)[number] =>
  /^(?:stud|under)/i.test(word) ? 'student' : /^(?:part|pt)/i.test(word) ? 'part-timer' : 'full-timer';

/**
 * A rate no tutor type owns is the "unknown" tier; a later one in the same unit widens it ("$30/hr, $35/hr if got
 * preschool exp" is 30–35) unless it is a surcharge ("+$5 per extra child").
 */
function addUnowned(breakdown: Record<string, RateTier>, text: string, span: RateSpan): void {
  const known = breakdown.unknown;
  if (!known) {
    breakdown.unknown = tier(span, 0.6);
    return;
  }
  const surcharge =
    /\+\s*$/.test(text.slice(Math.max(0, span.start - 3), span.start)) ||
    /^\s*(?:per|for\s+(?:each|every))\s+(?:extra|additional|add'?l)\b/i.test(text.slice(span.end, span.end + 30));
  if (surcharge || known.unit !== span.unit || known.min === null || known.max === null) return;
  known.min = Math.min(known.min, span.min);
  known.max = Math.max(known.max, span.max);
}

/** Tutor types mentioned in the text and the rate tier of each. Never throws. */
export function extractTutorTypes(text: string, agency: string | null = null): TutorTypeResult {
  const result: TutorTypeResult = { tutor_types: [], rate_breakdown: {} };
  if (typeof text !== 'string' || text.trim() === '') return result;
  const src = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const rates = findRateSpans(src);
  const labels = findLabels(src, rates);
  const ids = clauseIds(src);
  const typed = new Map<string, { hit: LabelHit; confidence: number }>();
  for (const span of rates) {
    const owners = labelsForSpan(src, span, labels, ids);
    if (owners.length === 0) addUnowned(result.rate_breakdown, src, span);
    for (const owner of owners) {
      const id = owner.alias.canonical;
      if (!result.rate_breakdown[id]) result.rate_breakdown[id] = tier(span, 0.9);
      if (!typed.has(id) || typed.get(id)!.hit.start > owner.start) typed.set(id, { hit: owner, confidence: 0.9 });
    }
  }
  for (const hit of labels) {
    if (typed.has(hit.alias.canonical)) continue;
    if (hit.alias.strong) typed.set(hit.alias.canonical, { hit, confidence: 0.8 });
    else if (inTutorContext(src, hit, labels, rates)) typed.set(hit.alias.canonical, { hit, confidence: 0.7 });
  }
  for (const m of src.matchAll(AND_ABOVE)) {
    const start = m.index ?? 0;
    const from = TUTOR_TYPE_ORDER.indexOf(AND_ABOVE_TYPE(m[1]!));
    for (const id of TUTOR_TYPE_ORDER.slice(from)) {
      if (!typed.has(id))
        typed.set(id, {
          hit: { start, end: start + m[0].length, text: m[0], alias: { alias: m[0].toLowerCase(), canonical: id, strong: true } },
          confidence: 0.8,
        });
    }
  }
  result.tutor_types = [...typed.entries()]
    .sort((a, b) => a[1].hit.start - b[1].hit.start)
    .map(([canonical, { hit, confidence }]) => ({ canonical, original: hit.text, agency: typeof agency === 'string' ? agency : null, confidence }));
  return result;
}
