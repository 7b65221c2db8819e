/**
 * Turns a clause's tokens into items: day sets, windows, notes, negations and commas, in text order.
 */
import type { Day } from '../schema.ts';
import type { NumInfo, Token } from './time-tokens.ts';
import { broadDays, dayOf, dayRange, fmt, numInfo, toMinutes } from './time-tokens.ts';

export type WindowKind = 'range' | 'single' | 'relative' | 'fuzzy';
export type Item =
  | { kind: 'days'; days: Day[]; broad: boolean; ranged: boolean; keyword: string | null; start: number; end: number }
  | { kind: 'window'; window: string; type: WindowKind; start: number; end: number }
  | { kind: 'note'; text: string; start: number; end: number }
  | { kind: 'neg'; start: number; end: number }
  | { kind: 'comma'; start: number; end: number };

const FUZZY: Record<string, string> = {
  morning: '08:00-12:00',
  afternoon: '12:00-17:00',
  evening: '16:00-21:00',
  night: '19:00-23:00',
  tonight: '19:00-23:00',
};
const AFTER = new Set(['after', 'from', 'since']);
const BEFORE = new Set(['before', 'until', 'till', 'til']);
const CUES = new Set(['at', '@', 'from', 'after', 'before', 'since', 'until', 'till', 'til', 'between']);

const word = (t: Token | undefined): string => (t?.kind === 'word' ? t.text.toLowerCase() : '');

/** Two tokens are adjacent when only whitespace separates them. */
function adjacent(clause: string, a: Token | undefined, b: Token | undefined): boolean {
  return a !== undefined && b !== undefined && /^\s*$/.test(clause.slice(a.end, b.start));
}

/** A bare 3–4 digit number is a clock time only right after a day name or a time cue (not a year or a price). */
function hasCue(clause: string, tokens: Token[], i: number): boolean {
  const prev = tokens[i - 1];
  if (!adjacent(clause, prev, tokens[i])) return false;
  return prev?.kind === 'day' || prev?.kind === 'broad' || CUES.has(word(prev));
}

function strong(n: NumInfo): boolean {
  return n.meridiem !== null || n.colon;
}

function window(start: number, end: number): string | null {
  return start <= end ? `${fmt(start)}-${fmt(end)}` : null;
}

/**
 * Range with meridiem inference: a side without am/pm borrows the other side's, and flips to the other half of the
 * day when that is the only way to get start < end ("7-9pm" 19–21, "11-1pm" 11–13, "10am-2" 10–14).
 */
function rangeWindow(a: NumInfo, b: NumInfo, cued: boolean): string | null {
  // Two bare numbers must both be compact clock times after a cue ("Mon 1930-2100", not "2025-2026"); a bare
  // 1–2 digit side needs am/pm on the other side ("7-9pm", "10am-2"), so "Sec 1-2" or "9:00-10" give nothing.
  const bothBare = !strong(a) && !strong(b);
  if (bothBare && (a.digits.length < 3 || b.digits.length < 3 || !cued)) return null;
  if (!strong(a) && a.digits.length < 3 && b.meridiem === null) return null;
  if (!strong(b) && b.digits.length < 3 && a.meridiem === null) return null;
  const other = (m: 'am' | 'pm'): 'am' | 'pm' => (m === 'am' ? 'pm' : 'am');
  const aOptions = a.meridiem || a.hour > 12 || b.meridiem === null ? [a.meridiem] : [b.meridiem, other(b.meridiem)];
  const bOptions = b.meridiem || b.hour > 12 || a.meridiem === null ? [b.meridiem] : [a.meridiem, other(a.meridiem)];
  for (const am of aOptions) {
    for (const bm of bOptions) {
      const s = toMinutes(a, am);
      const e = toMinutes(b, bm);
      if (s !== null && e !== null && s < e) return window(s, e);
    }
  }
  return null;
}

/** Relative windows are clamped so they never run backwards ("after 11:30pm" must not give 23:30-23:00). */
function relativeWindow(direction: 'after' | 'before', t: number): string | null {
  if (direction === 'after') return window(t, t < 23 * 60 ? 23 * 60 : 23 * 60 + 59);
  if (t === 0) return null;
  return window(t > 8 * 60 ? 8 * 60 : 0, t);
}

function singleMinutes(clause: string, tokens: Token[], i: number, relaxed: boolean): number | null {
  const t = tokens[i];
  const n = t?.kind === 'num' ? numInfo(t.text) : null;
  if (!n) return null;
  if (!strong(n) && (n.digits.length < 3 || !(relaxed || hasCue(clause, tokens, i)))) return null;
  return toMinutes(n);
}

interface Step {
  item: Item | null;
  consumed: number;
}

function tryRange(clause: string, tokens: Token[], i: number): Step | null {
  const [a, sep, b] = [tokens[i], tokens[i + 1], tokens[i + 2]];
  if (a?.kind !== 'num' || b?.kind !== 'num' || !['-', 'to', 'and'].includes(word(sep))) return null;
  if (!adjacent(clause, a, sep) || !adjacent(clause, sep, b)) return null;
  if (word(sep) === 'and' && word(tokens[i - 1]) !== 'between') return null;
  const na = numInfo(a.text);
  const nb = numInfo(b.text);
  const w = na && nb ? rangeWindow(na, nb, hasCue(clause, tokens, i)) : null;
  return w ? { item: { kind: 'window', window: w, type: 'range', start: a.start, end: b.end }, consumed: 3 } : null;
}

function tryRelative(clause: string, tokens: Token[], i: number): Step | null {
  const w = word(tokens[i]);
  if (AFTER.has(w) || BEFORE.has(w)) {
    if (!adjacent(clause, tokens[i], tokens[i + 1])) return null;
    const range = tryRange(clause, tokens, i + 1);
    if (range) return { item: range.item, consumed: 1 + range.consumed };
    const t = singleMinutes(clause, tokens, i + 1, true);
    const win = t === null ? null : relativeWindow(AFTER.has(w) ? 'after' : 'before', t);
    const end = tokens[i + 1]?.end ?? 0;
    return win ? { item: { kind: 'window', window: win, type: 'relative', start: tokens[i]?.start ?? 0, end }, consumed: 2 } : null;
  }
  if (tokens[i]?.kind === 'num' && /^onwards?$/.test(word(tokens[i + 1])) && adjacent(clause, tokens[i], tokens[i + 1])) {
    const t = singleMinutes(clause, tokens, i, true);
    const win = t === null ? null : relativeWindow('after', t);
    return win ? { item: { kind: 'window', window: win, type: 'relative', start: tokens[i]?.start ?? 0, end: tokens[i + 1]?.end ?? 0 }, consumed: 2 } : null;
  }
  return null;
}

function tryDays(clause: string, tokens: Token[], i: number): Step | null {
  const t = tokens[i];
  if (!t) return null;
  if (t.kind === 'broad') {
    const b = broadDays(t.text);
    return { item: { kind: 'days', days: b.days, broad: true, ranged: false, keyword: b.keyword, start: t.start, end: t.end }, consumed: 1 };
  }
  if (t.kind !== 'day') return null;
  const from = dayOf(t.text);
  if (!from) return null;
  const sep = tokens[i + 1];
  const toTok = tokens[i + 2];
  if (toTok?.kind === 'day' && ['-', 'to'].includes(word(sep)) && adjacent(clause, t, sep) && adjacent(clause, sep, toTok)) {
    const to = dayOf(toTok.text);
    const range = to ? dayRange(from, to) : null;
    if (range) return { item: { kind: 'days', days: range, broad: false, ranged: true, keyword: null, start: t.start, end: toTok.end }, consumed: 3 };
  }
  return { item: { kind: 'days', days: [from], broad: false, ranged: false, keyword: null, start: t.start, end: t.end }, consumed: 1 };
}

function step(clause: string, tokens: Token[], i: number): Step {
  const t = tokens[i];
  if (!t) return { item: null, consumed: 1 };
  const simple = (item: Item): Step => ({ item, consumed: 1 });
  switch (t.kind) {
    case 'note':
      return simple({ kind: 'note', text: t.text.trim(), start: t.start, end: t.end });
    case 'neg':
      return simple({ kind: 'neg', start: t.start, end: t.end });
    case 'comma':
      return simple({ kind: 'comma', start: t.start, end: t.end });
    case 'fuzzy': {
      const w = FUZZY[t.text.toLowerCase().replace(/s$/, '')] ?? null;
      return simple(w ? { kind: 'window', window: w, type: 'fuzzy', start: t.start, end: t.end } : { kind: 'comma', start: t.start, end: t.start });
    }
    case 'day':
    case 'broad':
      return tryDays(clause, tokens, i) ?? { item: null, consumed: 1 };
    default: {
      const found = tryRange(clause, tokens, i) ?? tryRelative(clause, tokens, i);
      if (found) return found;
      const m = t.kind === 'num' ? singleMinutes(clause, tokens, i, false) : null;
      return m === null ? { item: null, consumed: 1 } : simple({ kind: 'window', window: `${fmt(m)}-${fmt(m)}`, type: 'single', start: t.start, end: t.end });
    }
  }
}

export function clauseItems(clause: string, tokens: Token[]): Item[] {
  const items: Item[] = [];
  let i = 0;
  while (i < tokens.length) {
    const s = step(clause, tokens, i);
    if (s.item) items.push(s.item);
    i += Math.max(1, s.consumed);
  }
  return items;
}
