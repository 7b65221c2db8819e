/**
 * Deterministic time availability on the normalised text: day–time groups (a day after a time starts a new group;
 * commas close a group that has a time or a negation), negated groups dropped, meridiem inference, clamped relative
 * windows, plural fuzzy words, "Thur", "until", "between … and …", "onwards", non-time labelled lines ("Start date:",
 * "Rate:", "Address:") skipped.
 */
import type { Day, DayMap, TimeAvailability } from '../schema.ts';
import { DAYS, emptyTimeAvailability } from '../schema.ts';
import { normalizeText } from './normalize.ts';
import { MAX_LINE_CHARS } from './text.ts';
import type { Item } from './time-events.ts';
import { clauseItems } from './time-events.ts';
import { tokenize } from './time-tokens.ts';

export interface TimeSpan {
  type: 'explicit' | 'estimated' | 'note';
  days: Day[];
  normalized_substring: string;
  original_substring: string;
  start_idx: number;
  end_idx: number;
  window?: string;
}
export interface TimeMeta {
  ok: boolean;
  matched_spans: TimeSpan[];
  rules_fired: string[];
  parse_warnings: string[];
  error?: string;
}

/** The window of a day named without a time ("Mon", "weekdays"): the day, not a time of it. */
export const DEFAULT_WINDOW = '08:00-23:00';
const MAX_SPANS = 200;
const HEADER_HINT = /\b(?:timings?|available|availability|avail|preferably|preferred)\b/i;
const CLAUSE_SPLIT = /\s[/|]\s/;
const NON_TIME_LABEL =
  /^[^\p{L}\p{N}]*(?:start(?:ing)?\s+date|date|commencement|rate|fees?|salary|price|budget|address|location|venue|postal(?:\s+code)?|(?:assignment\s+|job\s+)?(?:code|id)|contact|phone|hp|subjects?|level)\s*[:：]/iu;
const RULE_BY_TYPE = {
  range: 'explicit_range',
  single: 'explicit_single_start_plus_lesson',
  relative: 'relative_time_rule',
  fuzzy: 'fixed_fuzzy_range',
} as const;

/**
 * A start time with no end ("Tue 7pm", "Wednesday or Thursday 5pm") is one lesson from that time: as long as the
 * post says a lesson lasts ("1.5h per lesson", "2 hrs/lesson", "Duration: 1.5hr"), else DEFAULT_LESSON_MINUTES.
 */
export const DEFAULT_LESSON_MINUTES = 90;
const LESSON_LENGTH = /(?<![\d.])(\d(?:\.\d{1,2})?)\s*(?:h|hr|hrs|hour|hours)(?![a-z])|(?<![\d.])(\d{2,3})\s*(?:min|mins|minutes)(?![a-z])/i;

function lessonMinutes(text: string): number {
  for (const line of text.split('\n')) {
    const m = LESSON_LENGTH.exec(line);
    if (!m) continue;
    const minutes = m[1] ? Math.round(Number(m[1]) * 60) : Number(m[2]);
    if (minutes >= 30 && minutes <= 240) return minutes;
  }
  return DEFAULT_LESSON_MINUTES;
}

const clock = (min: number): string => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

/** "19:00-19:00" (a start only) → "19:00-20:30"; never past midnight. */
function lessonEnd(slot: string, minutes: number): string {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(slot);
  if (!m || m[1] !== m[3] || m[2] !== m[4]) return slot;
  const start = Number(m[1]) * 60 + Number(m[2]);
  return `${slot.slice(0, 5)}-${clock(Math.min(start + minutes, 23 * 60 + 59))}`;
}

function withLessonEnd(map: DayMap, minutes: number): DayMap {
  const out = {} as DayMap;
  for (const d of DAYS) out[d] = [...new Set(map[d].map((slot) => lessonEnd(slot, minutes)))];
  return out;
}

type WindowItem = Extract<Item, { kind: 'window' }>;
interface Group {
  days: Day[];
  broad: boolean;
  ranged: boolean;
  windows: WindowItem[];
  negated: boolean;
  hasNote: boolean;
}

interface State {
  result: TimeAvailability;
  meta: TimeMeta;
  rules: Set<string>;
  warnings: Set<string>;
  pendingDays: Day[];
  pendingHeader: boolean;
  /** pending days that only got the broad default window, which a carried window replaces */
  pendingDefaulted: Day[];
  rawLower: string;
  raw: string;
}

const newGroup = (): Group => ({ days: [], broad: false, ranged: false, windows: [], negated: false, hasNote: false });

/** "except" / "excluding" right after days takes the next days out of them ("Weekdays (except Thursday) 5-6:30pm"). */
const EXCEPT = /^(?:except|excluding|exclude)$/i;

type DaysItem = Extract<Item, { kind: 'days' }>;

/** Days in brackets right after broad days, all among them, narrow them; true when they did. */
function narrowed(clause: string, item: DaysItem, prev: Group | undefined): boolean {
  if (!prev?.broad || item.broad || !/\(\s*$/.test(clause.slice(0, item.start))) return false;
  if (!item.days.every((d) => prev.days.includes(d))) return false;
  prev.days = [...item.days];
  return true;
}

function groupsOf(items: Item[], clause: string): Group[] {
  const groups: Group[] = [];
  let g = newGroup();
  let subtract = false;
  let afterComma = false;
  /** days of a negated group before its first comma: those after it are negated too unless a time follows them */
  let negatedUpTo: number | null = null;
  const close = (): void => {
    if (g.days.length || g.windows.length || g.negated || g.hasNote) groups.push(g);
    g = newGroup();
    negatedUpTo = null;
  };
  for (const item of items) {
    const commaBefore = afterComma;
    afterComma = item.kind === 'comma';
    // "except Tue & Thu": every day named right after "except" is taken out
    if (subtract && item.kind !== 'days') subtract = false;
    if (item.kind === 'comma') {
      // "Timing is flexible, weekends preferred": the note ends at the comma
      // "Not available: Sat, Sun": a negated list goes on past its commas
      if (g.windows.length || (g.negated && !g.days.length) || (g.hasNote && !g.days.length)) close();
      else if (g.negated) negatedUpTo ??= g.days.length;
    } else if (item.kind === 'note' && commaBefore && g.days.length) {
      // "Weekends, flexible timing": the days stand; the note is about the time of them
      close();
      g.hasNote = true;
    } else if (item.kind === 'days' && subtract) {
      g.days = g.days.filter((d) => !item.days.includes(d));
    } else if (item.kind === 'days' && narrowed(clause, item, g.days.length ? g : groups[groups.length - 1])) {
      // "Weekday evenings (Mon-Thu)": the bracket says which of the broad days
    } else if (item.kind === 'days') {
      if (g.windows.length) close();
      for (const d of item.days) if (!g.days.includes(d)) g.days.push(d);
      g.broad ||= item.broad;
      g.ranged ||= item.ranged;
    } else if (item.kind === 'neg' && g.days.length && EXCEPT.test(clause.slice(item.start, item.end))) {
      subtract = true;
    } else if (item.kind === 'neg') {
      if (g.windows.length) close();
      g.negated = true;
    } else if (item.kind === 'note') {
      // "Weeknights flexible": flexible about the time of the days named, not about the days
      if (!(g.days.length && /^flexible$/i.test(item.text))) g.hasNote = true;
    } else if (g.negated && negatedUpTo !== null) {
      // "Mon not available, Tue 7pm": the time belongs to the days after the comma, which are not negated
      const positive = g.days.slice(negatedUpTo);
      g.days = g.days.slice(0, negatedUpTo);
      close();
      g.days = positive;
      g.windows.push(item);
    } else {
      g.windows.push(item);
    }
  }
  close();
  return groups;
}

/** A more precise window in the same group ("evenings (after 7pm)") makes the fuzzy word redundant. */
function effectiveWindows(g: Group): WindowItem[] {
  const precise = g.windows.filter((w) => w.type !== 'fuzzy');
  return precise.length ? precise : g.windows;
}

function section(w: WindowItem, broad: boolean, ranged: boolean): 'explicit' | 'estimated' {
  return w.type === 'relative' || w.type === 'fuzzy' || broad || ranged ? 'estimated' : 'explicit';
}

function addSlot(map: DayMap, day: Day, slot: string): void {
  if (!map[day].includes(slot)) map[day].push(slot);
}

function recordSpan(st: State, type: TimeSpan['type'], days: Day[], text: string, start: number, window?: string): void {
  if (st.meta.matched_spans.length >= MAX_SPANS) return;
  const at = st.rawLower.indexOf(text.toLowerCase());
  const original = at >= 0 ? st.raw.slice(at, at + text.length) : text;
  const span: TimeSpan = { type, days, normalized_substring: text, original_substring: original, start_idx: start, end_idx: start + text.length };
  if (window) span.window = window;
  st.meta.matched_spans.push(span);
}

function emit(st: State, day: Day[], w: WindowItem, target: 'explicit' | 'estimated', text: string, offset: number): void {
  for (const d of day) addSlot(st.result[target], d, w.window);
  recordSpan(st, target, day, text.slice(w.start, w.end), offset + w.start, w.window);
}

interface LineOutcome {
  days: Day[];
  windowCount: number;
  daysWithWindows: Set<Day>;
  daysWithNote: Set<Day>;
  negatedDays: Set<Day>;
  broad: boolean;
  ranged: boolean;
  windows: WindowItem[];
  defaulted: Day[];
}

function processGroup(st: State, g: Group, clause: string, offset: number, out: LineOutcome): void {
  if (g.negated) {
    if (g.days.length || g.windows.length) st.warnings.add('negation_detected_near_time');
    for (const d of g.days) out.negatedDays.add(d);
    out.windowCount += g.windows.length;
    out.windows.push(...g.windows);
    return;
  }
  for (const d of g.days) if (!out.days.includes(d)) out.days.push(d);
  if (g.hasNote) for (const d of g.days) out.daysWithNote.add(d);
  out.broad ||= g.broad;
  out.ranged ||= g.ranged;
  const windows = effectiveWindows(g);
  out.windowCount += windows.length;
  out.windows.push(...windows);
  if (!g.days.length) return;
  if (!windows.length && (g.broad || g.ranged) && !g.hasNote) {
    for (const d of g.days) addSlot(st.result.estimated, d, DEFAULT_WINDOW);
    out.defaulted.push(...g.days);
    st.rules.add('fixed_weekday_weekend_range');
    return;
  }
  for (const w of windows) {
    emit(st, g.days, w, section(w, g.broad, g.ranged), clause, offset);
    st.rules.add(RULE_BY_TYPE[w.type]);
    for (const d of g.days) out.daysWithWindows.add(d);
  }
}

function processClause(st: State, clause: string, offset: number, out: LineOutcome): void {
  const items = clauseItems(clause, tokenize(clause));
  for (const item of items) {
    if (item.kind === 'note') {
      if (st.result.note === null) st.result.note = item.text;
      st.rules.add('note_hint');
      recordSpan(st, 'note', [], item.text, offset + item.start);
    }
    if (item.kind === 'days' && item.keyword === 'weekdays') st.rules.add('weekdays_keyword_seen');
    if (item.kind === 'days' && item.keyword === 'weekends') st.rules.add('weekends_keyword_seen');
  }
  for (const g of groupsOf(items, clause)) processGroup(st, g, clause, offset, out);
}

/** One window on a line with several days: it applies to the days that got nothing ("Mon / Wed 7pm"). */
function spreadSingleWindow(st: State, out: LineOutcome): void {
  const w = out.windows[0];
  if (out.windowCount !== 1 || !w) return;
  const bare = out.days.filter((d) => !out.daysWithWindows.has(d) && !out.daysWithNote.has(d) && !out.negatedDays.has(d));
  if (!bare.length) return;
  const target = section(w, out.broad, out.ranged);
  for (const d of bare) {
    if (out.defaulted.includes(d)) st.result.estimated[d] = st.result.estimated[d].filter((s) => s !== DEFAULT_WINDOW);
    addSlot(st.result[target], d, w.window);
  }
  st.rules.add('single_time_applies_to_all_days_in_line');
}

function carryPending(st: State, out: LineOutcome): void {
  for (const d of st.pendingDefaulted) st.result.estimated[d] = st.result.estimated[d].filter((s) => s !== DEFAULT_WINDOW);
  for (const w of out.windows) {
    const target = w.type === 'relative' || w.type === 'fuzzy' ? 'estimated' : 'explicit';
    for (const d of st.pendingDays) addSlot(st.result[target], d, w.window);
  }
  st.rules.add('carry_days_to_next_line');
  st.pendingDays = [];
  st.pendingDefaulted = [];
  st.pendingHeader = false;
}

const DAY_WORD = String.raw`(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day)?s?`;
/** "Wed cannot", "Fri & Sat not available": a day followed by a refusal is an exception, like "except Wed". */
const DAY_REFUSED = new RegExp(
  String.raw`\b(${DAY_WORD}(?:\s*(?:&|and|\/|,)\s*${DAY_WORD})*)\s+(?:cannot|can't|cant|not\s+(?:available|ok|possible)|unavailable|no)\b`,
  'gi',
);

/** Rewrites exceptions into the one shape the grouping reads: "…, except Thu" and "Thu cannot" → "… except Thu". */
function normaliseExceptions(line: string): string {
  return line
    .replace(/,\s*(except|excluding)\b/gi, ' $1')
    .replace(DAY_REFUSED, 'except $1')
    .replace(/,\s*except\b/gi, ' except');
}

function processLine(st: State, rawLine: string, offset: number): void {
  const line = normaliseExceptions(rawLine);
  const out: LineOutcome = {
    days: [],
    windowCount: 0,
    daysWithWindows: new Set(),
    daysWithNote: new Set(),
    negatedDays: new Set(),
    broad: false,
    ranged: false,
    windows: [],
    defaulted: [],
  };
  let clauseOffset = 0;
  for (const clause of line.split(CLAUSE_SPLIT)) {
    const at = line.indexOf(clause, clauseOffset);
    clauseOffset = at >= 0 ? at : clauseOffset;
    processClause(st, clause, offset + clauseOffset, out);
    clauseOffset += clause.length;
  }
  const headerHint = HEADER_HINT.test(line);
  const canCarry = st.pendingDays.length > 0 && st.pendingHeader && out.days.length === 0 && out.windows.length > 0;
  if (canCarry) {
    carryPending(st, out);
    return;
  }
  if (out.days.length) spreadSingleWindow(st, out);
  if (out.days.length && !out.windows.length) {
    // days named without a time ("tues and sat", "Prefers Thurs") are available days: the whole-day window, as for
    // "weekdays", until a time on the next line replaces it
    for (const d of out.days) {
      if (out.negatedDays.has(d) || out.defaulted.includes(d) || out.daysWithNote.has(d)) continue;
      addSlot(st.result.estimated, d, DEFAULT_WINDOW);
      out.defaulted.push(d);
      st.rules.add('day_without_time');
    }
    st.pendingDays = out.days.filter((d) => !out.negatedDays.has(d));
    st.pendingDefaulted = out.defaulted;
    st.pendingHeader ||= headerHint;
  } else if (out.windows.length) {
    st.pendingDays = [];
    st.pendingDefaulted = [];
    st.pendingHeader = false;
  } else if (headerHint) {
    st.pendingHeader = true;
  }
}

function sortDayMap(map: DayMap): DayMap {
  return Object.fromEntries(DAYS.map((d) => [d, map[d]])) as DayMap;
}

/** `rawText` → `{value, meta}`; never throws (an internal error gives the empty object and `meta.ok:false`). */
export function extractTimeAvailability(rawText: unknown, normalizedText?: string): { value: TimeAvailability; meta: TimeMeta } {
  const meta: TimeMeta = { ok: true, matched_spans: [], rules_fired: [], parse_warnings: [] };
  try {
    const raw = typeof rawText === 'string' ? rawText : '';
    const text = normalizedText ?? normalizeText(raw);
    const st: State = {
      result: emptyTimeAvailability(),
      meta,
      rules: new Set(),
      warnings: new Set(),
      pendingDays: [],
      pendingHeader: false,
      pendingDefaulted: [],
      raw,
      rawLower: raw.toLowerCase(),
    };
    let offset = 0;
    for (const fullLine of text.split('\n')) {
      const line = fullLine.length > MAX_LINE_CHARS ? fullLine.slice(0, MAX_LINE_CHARS) : fullLine;
      if (line.trim() !== '' && !NON_TIME_LABEL.test(line)) processLine(st, line, offset);
      offset += fullLine.length + 1;
    }
    meta.rules_fired = [...st.rules].sort();
    meta.parse_warnings = [...st.warnings].sort();
    const length = lessonMinutes(text);
    for (const span of meta.matched_spans) if (span.window) span.window = lessonEnd(span.window, length);
    const value = {
      explicit: withLessonEnd(sortDayMap(st.result.explicit), length),
      estimated: withLessonEnd(sortDayMap(st.result.estimated), length),
      note: st.result.note,
    };
    return { value, meta };
  } catch (err) {
    return { value: emptyTimeAvailability(), meta: { ...meta, ok: false, error: err instanceof Error ? err.message : String(err) } };
  }
}
