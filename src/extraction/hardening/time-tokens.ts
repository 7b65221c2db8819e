/**
 * Tokeniser for the deterministic time extractor: one linear scan of a clause yields day, time-number, connector,
 * fuzzy-word, note-hint, negation and comma tokens with their offsets.
 */
import type { Day } from '../schema.ts';
import { DAYS } from '../schema.ts';

export type TokenKind = 'note' | 'broad' | 'day' | 'fuzzy' | 'word' | 'neg' | 'num' | 'comma';
export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const NOTE = String.raw`\btutors?\s+to\s+(?:propose|suggest|indicate)(?:\s+all)?(?:\s+available)?(?:\s+timings?)?\b|\bto\s+be\s+(?:confirmed|discussed)\b|\btb[cd]\b|\bflexible\b`;
const BROAD = String.raw`\b(?:daily|every\s?days?|all\s+days|any\s+days?|week\s?days?|week\s?nights?|wkdays?|wkdys?|week\s?ends?|wkends?|wknds?)\b`;
const DAY = String.raw`\b(?:monday|mon|tuesday|tues|tue|wednesday|weds|wed|thursday|thurs|thur|thu|friday|fri|saturday|sat|sunday|sun)s?\b`;
const FUZZY = String.raw`\b(?:mornings?|afternoons?|evenings?|nights?|tonight)\b`;
const WORD = String.raw`\b(?:after|from|since|before|until|till|til|onwards?|between|and|to|at)\b|@|-`;
const NEG = String.raw`\b(?:no(?!\.)|not|except|excluding|exclude|unavailable|cannot|can't|off(?=\s*(?:on\s+)?(?:mon|tue|wed|thu|fri|sat|sun)))\b`;
const NUM = String.raw`\d{1,4}(?::\d{2})?(?:\s?(?:am|pm|a\.m\.|p\.m\.)(?![a-z]))?`;
const TOKEN = new RegExp([NOTE, BROAD, DAY, FUZZY, WORD, NEG, NUM, '[,;]'].map((p) => `(${p})`).join('|'), 'gi');
const KINDS: TokenKind[] = ['note', 'broad', 'day', 'fuzzy', 'word', 'neg', 'num', 'comma'];

/** A number that is really money, an address, an id, a decimal or a quantity is not a time. */
const BAD_NUM_PREFIX = /(?:(?:\$|#|\bblk|\bblock|\bsgd|\bno\.?|\+)\s?|[\p{L}\p{N}.])$/iu;
const QUANTITY_SUFFIX =
  /^\s?(?:hrs?\b|hours?\b|h\b|mins?\b|minutes?\b|x\b|%|k\b|yrs?\b|years?\b|\/|\.\d|,\d{3}|lessons?\b|sessions?\b|students?\b|months?\b|weeks?\b|days?\b|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;
const HAS_MERIDIEM = /[ap]\.?m\.?$/i;

function plausibleNumber(clause: string, start: number, end: number, text: string): boolean {
  if (BAD_NUM_PREFIX.test(clause.slice(Math.max(0, start - 6), start))) return false;
  if (/\d/.test(clause[end] ?? '')) return false;
  if (HAS_MERIDIEM.test(text) || text.includes(':')) return true;
  return !QUANTITY_SUFFIX.test(clause.slice(end, end + 8));
}

/** "Sun Plaza", "SAT Math": a short day name followed by a capitalised non-time word is a name, not a day. */
const NAME_AFTER = /^\s([A-Z][a-z]+)/;
const TIME_WORDS = new RegExp(`^(?:${DAY}|${FUZZY}|${BROAD}|and|or|to|at|from|after|before|only|till|until|between)$`, 'i');

function isDayName(clause: string, text: string, end: number): boolean {
  if (/^thus$/i.test(text)) return false;
  if (text.length > 3) return true;
  const next = NAME_AFTER.exec(clause.slice(end, end + 20));
  return !next || TIME_WORDS.test(next[1] ?? '');
}

export function tokenize(clause: string): Token[] {
  const tokens: Token[] = [];
  for (const m of clause.matchAll(TOKEN)) {
    const groupIndex = m.slice(1).findIndex((g) => g !== undefined);
    const kind = KINDS[groupIndex];
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (kind === undefined) continue;
    if (kind === 'num' && !plausibleNumber(clause, start, end, m[0])) continue;
    if (kind === 'day' && !isDayName(clause, m[0], end)) continue;
    tokens.push({ kind, text: m[0], start, end });
  }
  return tokens;
}

// ---------- days ----------

const DAY_PREFIX: [string, Day][] = [
  ['mon', 'monday'],
  ['tue', 'tuesday'],
  ['wed', 'wednesday'],
  ['thu', 'thursday'],
  ['fri', 'friday'],
  ['sat', 'saturday'],
  ['sun', 'sunday'],
];

export function dayOf(text: string): Day | null {
  const lower = text.toLowerCase();
  return DAY_PREFIX.find(([prefix]) => lower.startsWith(prefix))?.[1] ?? null;
}

/** Inclusive forward range; a wrap-around ("Sat-Mon") is refused, as in the reference. */
export function dayRange(from: Day, to: Day): Day[] | null {
  const a = DAYS.indexOf(from);
  const b = DAYS.indexOf(to);
  return a < b ? DAYS.slice(a, b + 1) : null;
}

export function broadDays(text: string): { days: Day[]; keyword: 'weekdays' | 'weekends' | 'all' } {
  const lower = text.toLowerCase().replace(/\s+/g, '');
  if (/^(?:weekday|weeknight|wkday|wkdy)/.test(lower)) return { days: DAYS.slice(0, 5), keyword: 'weekdays' };
  if (/^(?:weekend|wkend|wknd)/.test(lower)) return { days: DAYS.slice(5), keyword: 'weekends' };
  return { days: [...DAYS], keyword: 'all' };
}

// ---------- clock times ----------

export interface Clock {
  /** minutes after midnight */
  minutes: number;
}
export interface NumInfo {
  digits: string;
  hour: number;
  minute: number;
  meridiem: 'am' | 'pm' | null;
  colon: boolean;
}

export function numInfo(text: string): NumInfo | null {
  const m = /^(\d{1,4})(?::(\d{2}))?\s?([ap])?/i.exec(text);
  if (!m) return null;
  const digits = m[1] ?? '';
  const colon = m[2] !== undefined;
  const meridiem = m[3] ? (m[3].toLowerCase() === 'a' ? 'am' : 'pm') : null;
  if (colon) {
    if (digits.length > 2) return null;
    return { digits, hour: Number(digits), minute: Number(m[2]), meridiem, colon };
  }
  if (digits.length <= 2) return { digits, hour: Number(digits), minute: 0, meridiem, colon };
  return { digits, hour: Number(digits.slice(0, -2)), minute: Number(digits.slice(-2)), meridiem, colon };
}

/** Minutes after midnight, with an explicit meridiem override; null when out of range ("13pm", "25:00"). */
export function toMinutes(n: NumInfo, meridiem: 'am' | 'pm' | null = n.meridiem): number | null {
  if (n.minute > 59) return null;
  if (meridiem === null) return n.hour <= 23 ? n.hour * 60 + n.minute : null;
  if (n.hour < 1 || n.hour > 12) return null;
  const h = (n.hour % 12) + (meridiem === 'pm' ? 12 : 0);
  return h * 60 + n.minute;
}

export function fmt(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
