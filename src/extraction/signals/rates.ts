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
  '(\\/[ \\t]?(?:\\d(?:\\.\\d{1,2})?[ \\t]?)?(?:hours?|hrs?|h)|per\\s+(?:hours?|hrs?|h)|p\\/h|ph|an\\s+hour|hourly|\\/\\s?(?:lessons?|sessions?)|per\\s+(?:lessons?|sessions?)|\\/\\s?(?:months?|mths?|mo)|per\\s+(?:month|mth)|\\/\\s?(?:weeks?|wk)|per\\s+week)';
/** "$55/hr to $60/hr": the first figure may carry the unit too. Gaps never cross a line ("570111\nPer hour: 45"). */
const FIRST_UNIT = '(?:[ \\t]?\\/[ \\t]?(?:hours?|hrs?|h)(?![A-Za-z]))?';
const SPAN = new RegExp(`(?<![0-9.,])(${CUR})?[ \\t]?${NUM}(?:${FIRST_UNIT}[ \\t]?(?:-|\\u2013|\\u2014|to)[ \\t]?(${CUR})?[ \\t]?${NUM})?(?:[ \\t]?${UNIT})?(?![A-Za-z0-9])`, 'gi');

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
    // "$60/1.5h" is a price for 1.5 hours: 40 an hour
    const hours = unit ? Number(/^\/\s?(\d(?:\.\d{1,2})?)/.exec(unit)?.[1] ?? 1) : 1;
    const per = (n: number) => (hours > 0 && hours !== 1 ? Math.round((n / hours) * 100) / 100 : n);
    const a = per(toNumber(int1, frac1));
    const b = int2 === undefined ? a : per(toNumber(int2, frac2));
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    out.push({ start, end: (m.index ?? 0) + whole.length, min: Math.min(a, b), max: Math.max(a, b), currency: cur1 || cur2 ? 'SGD' : null, unit: unitOf(unit), text: whole.trim() });
  }
  return out;
}

/** A rate written per month, week, lesson or session is no hourly figure (a monthly salary is a full-time job). */
const NOT_HOURLY = /\/\s?(?:months?|mths?|mo|weeks?|wk|lessons?|sessions?)\b|\bper\s+(?:month|mth|week|lesson|session)\b|\bmonthly\b|\bsalary\b/i;

/**
 * The overall hourly range a post offers, what matching compares with a tutor's minimum rate: the lowest and
 * highest hourly figure over every tutor type's tier ("PT $30-35/h, FT $45-50/h" is 30–50; "$60/1.5h" is 40),
 * else the post's single rate when it is not per month, week, lesson or session. Null when there is none.
 */
export function hourlyRange(
  rate: { min: number | null; max: number | null; raw_text: string | null },
  tiers: Record<string, { min: number | null; max: number | null; unit: string | null }> | null,
): { min: number; max: number } | null {
  const hourly = Object.values(tiers ?? {}).filter((t) => (t.unit === 'hour' || t.unit === null) && (t.min ?? t.max) !== null);
  const figures = hourly.length
    ? hourly.flatMap((t) => [t.min ?? t.max!, t.max ?? t.min!])
    : rate.min !== null && !(rate.raw_text && NOT_HOURLY.test(rate.raw_text))
      ? [rate.min, rate.max ?? rate.min]
      : [];
  const valid = figures.filter((n) => n > 0 && n <= 1000);
  return valid.length ? { min: Math.min(...valid), max: Math.max(...valid) } : null;
}
