/**
 * Rate amounts in free text (extraction_rules.md §2.3 span scan, with the §2.5 / §7.1 #15 fixes:
 * thousands separators and decimals parsed correctly, "/hr" kept whole, per-lesson/session/month/week units,
 * a bare "hr" after a number (lesson length) is not a rate unit).
 */
export interface RateSpan {
  start: number;
  end: number;
  min: number;
  max: number;
  currency: string | null;
  unit: string | null;
  text: string;
}

const NUM = '(\\d{1,3}(?:,\\d{3})+|\\d{1,6})(?:\\.(\\d{1,2}))?';
const CUR = '(?:s\\$|sgd\\s?|\\$)';
const UNIT =
  '(\\/\\s?(?:hours?|hrs?|h)|per\\s+(?:hours?|hrs?|h)|p\\/h|ph|an\\s+hour|hourly|\\/\\s?(?:lessons?|sessions?)|per\\s+(?:lessons?|sessions?)|\\/\\s?(?:months?|mths?|mo)|per\\s+(?:month|mth)|\\/\\s?(?:weeks?|wk)|per\\s+week)';
const SPAN = new RegExp(`(?<![0-9.,])(${CUR})?\\s?${NUM}(?:\\s?(?:-|\\u2013|\\u2014|to)\\s?(${CUR})?\\s?${NUM})?(?:\\s?${UNIT})?(?![A-Za-z0-9])`, 'gi');

const toNumber = (int: string | undefined, frac: string | undefined): number => Number(`${(int ?? '').replace(/,/g, '')}${frac ? `.${frac}` : ''}`);

function unitOf(raw: string | undefined): string | null {
  if (!raw) return null;
  const u = raw.toLowerCase();
  if (/lesson/.test(u)) return 'lesson';
  if (/session/.test(u)) return 'session';
  if (/m(?:on)?th|\/\s?mo$/.test(u)) return 'month';
  if (/week|wk/.test(u)) return 'week';
  return 'hour';
}

/** Every amount that carries a currency sign or a rate unit, in document order. Never throws. */
export function findRateSpans(text: string): RateSpan[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const out: RateSpan[] = [];
  for (const m of text.matchAll(SPAN)) {
    const [whole, cur1, int1, frac1, cur2, int2, frac2, unit] = m;
    if (!cur1 && !cur2 && !unit) continue;
    const start = (m.index ?? 0) + (whole.length - whole.trimStart().length);
    const a = toNumber(int1, frac1);
    const b = int2 === undefined ? a : toNumber(int2, frac2);
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    out.push({ start, end: (m.index ?? 0) + whole.length, min: Math.min(a, b), max: Math.max(a, b), currency: cur1 || cur2 ? 'SGD' : null, unit: unitOf(unit), text: whole.trim() });
  }
  return out;
}
