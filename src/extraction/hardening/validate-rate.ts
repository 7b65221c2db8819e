/** Rate checks of the hard validator. */
import type { Violation } from './violations.ts';

/** number, or a plain numeric string ("45", "-3.5"); booleans are not numbers. */
export function toNumber(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d{1,9}(?:\.\d{1,6})?\s*$/.test(v)) return Number(v);
  return undefined;
}

/** Phrases saying "no price given". A bare "quote" does not count ("$40/hr, can quote higher" keeps its rate). */
const QUOTE_LIKE = /\b(?:tutors?\s+to\s+quote|please\s+quote|pls\s+quote|plz\s+quote|kindly\s+quote|market\s+rate|mkt\s+rate|tbc|tbd|to\s+be\s+confirmed)\b/i;
const HOURLY = /(?:\/\s*(?:hr|hour|h)\b|per\s+(?:hr|hour)\b|\bhourly\b|\bp\/?h\b|\/\s*hrs?\b|\bph\b)/i;
const NOT_HOURLY =
  /(?:\/\s*(?:term|month|mth|mo|lesson|session|class|week|wk|package|pkg|year|yr)\b|\bper\s+(?:term|month|lesson|session|class|week|package|year)\b|\bmonthly\b|\bweekly\b)/i;
export const RATE_RANGE = { min: 5, max: 1000 } as const;

/** Every figure printed in the rate snippet ("$1,200" → 1200, "$40.50" → 40.5, "1.2k" → 1200). */
export function numbersIn(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/(\d{1,3}(?:,\d{3})+|\d{1,9}(?:\.\d{1,4})?)(\s?k\b)?/gi)) {
    const n = Number((m[1] ?? '').replace(/,/g, ''));
    if (Number.isFinite(n)) out.push(m[2] ? n * 1000 : n);
  }
  return out;
}

export interface RateCheck {
  min: number | null;
  max: number | null;
}

/** Returns the min/max to keep after the support, unit, range and order checks. */
export function checkRate(min: number | null, max: number | null, rawText: string | null, violations: Violation[]): RateCheck {
  const none = { min: null, max: null };
  if (min === null && max === null) return none;
  const fail = (code: Violation['code'], detail: string): RateCheck => {
    violations.push({ field: 'rate', code, detail });
    return none;
  };
  if (rawText === null) return fail('RATE', 'raw_text is null');
  const printed = numbersIn(rawText);
  if (printed.length === 0 && QUOTE_LIKE.test(rawText)) return fail('RATE', 'quote-like rate text has no figure');
  if ([min, max].some((n) => n !== null && !printed.includes(n))) return fail('SUPPORT', 'rate figure not printed in raw_text');
  if (NOT_HOURLY.test(rawText) && !HOURLY.test(rawText)) return fail('RATE', 'rate is not hourly');
  if ([min, max].some((n) => n !== null && (n < RATE_RANGE.min || n > RATE_RANGE.max))) return fail('RANGE', 'hourly rate outside sane range');
  if (min !== null && max !== null && min > max) return fail('RATE', 'min > max');
  return { min, max };
}
