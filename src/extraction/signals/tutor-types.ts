import type { RateTier, TutorType } from '../schema.ts';
import { findRateSpans, type RateSpan } from './rates.ts';
import { tutorVocab, type TutorAlias } from './tutor-vocab.ts';

/**
 * Tutor types and tiered rates (extraction_rules.md §2.3, implemented as §2.5 recommends):
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

function findLabels(text: string): LabelHit[] {
  const hits: LabelHit[] = [];
  for (const [alias, re] of aliasRegexes()) {
    for (const m of text.matchAll(re)) {
      const start = m.index ?? 0;
      if (m[0].length > 0) hits.push({ start, end: start + m[0].length, text: m[0], alias });
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

const WEAK_GAP = /^[\s:=(\-\u2013]*(?:rates?)?[\s:=(\-\u2013]*$/i;

function labelsForSpan(text: string, span: RateSpan, labels: LabelHit[], ids: Int32Array): LabelHit[] {
  const clause = ids[span.start];
  const same = labels.filter((l) => ids[l.start] === clause);
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
  const after = same.find((l) => l.start >= span.end && l.alias.strong);
  return after ? [after] : [];
}

const tier = (span: RateSpan, confidence: number): RateTier => ({
  min: span.min,
  max: span.max,
  original_text: span.text,
  currency: span.currency,
  unit: span.unit,
  confidence,
});

/** Tutor types mentioned in the text and the rate tier of each. Never throws. */
export function extractTutorTypes(text: string, agency: string | null = null): TutorTypeResult {
  const result: TutorTypeResult = { tutor_types: [], rate_breakdown: {} };
  if (typeof text !== 'string' || text.trim() === '') return result;
  const src = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const labels = findLabels(src);
  const ids = clauseIds(src);
  const typed = new Map<string, { hit: LabelHit; confidence: number }>();
  for (const span of findRateSpans(src)) {
    const owners = labelsForSpan(src, span, labels, ids);
    if (owners.length === 0 && !result.rate_breakdown.unknown) result.rate_breakdown.unknown = tier(span, 0.6);
    for (const owner of owners) {
      const id = owner.alias.canonical;
      if (!result.rate_breakdown[id]) result.rate_breakdown[id] = tier(span, 0.9);
      if (!typed.has(id) || typed.get(id)!.hit.start > owner.start) typed.set(id, { hit: owner, confidence: 0.9 });
    }
  }
  for (const hit of labels) {
    if (hit.alias.strong && !typed.has(hit.alias.canonical)) typed.set(hit.alias.canonical, { hit, confidence: 0.8 });
  }
  result.tutor_types = [...typed.entries()]
    .sort((a, b) => a[1].hit.start - b[1].hit.start)
    .map(([canonical, { hit, confidence }]) => ({ canonical, original: hit.text, agency: typeof agency === 'string' ? agency : null, confidence }));
  return result;
}
