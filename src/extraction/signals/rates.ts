/**
 * Rate amounts in free text, one span scan: thousands separators and decimals parsed correctly, "/hr" kept whole,
 * per-lesson/session/month/week units; a bare "hr" after a number (lesson length) is not a rate unit.
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
const SPAN = new RegExp(
  `(?<![0-9.,])(${CUR})?[ \\t]?${NUM}(?:${FIRST_UNIT}[ \\t]?(?:-|\\u2013|\\u2014|to)[ \\t]?(${CUR})?[ \\t]?${NUM})?(?:[ \\t]?${UNIT})?(?![A-Za-z0-9]|\\.\\d)`,
  'gi',
);

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

const LESSON = String.raw`(?:lessons?|sessions?|class(?:es)?)`;
const HOURS = String.raw`(\d{1,2}(?:\.\d{1,2})?)\s*(?:h|hrs?|hours?)(?![a-z])`;
/** "$45 per 1.5h lesson", "$60 PER 1.5 HR LESSON": the price of a lesson of that length. */
const PER_LENGTH_LESSON = new RegExp(String.raw`^[ \t]*(?:per|\/|a|for\s+a)[ \t]*${HOURS}[ \t]*${LESSON}?`, 'i');
/** "$60/45min lesson". */
const PER_MINUTES = /^[ \t]*(?:per|\/|a|for\s+a)[ \t]*(\d{2,3})[ \t]*(?:min|mins|minutes)(?![a-z])/i;
/** After a per-lesson price: "(2 hours)", "(2 hrs)", ", 2h". */
const LESSON_LENGTH_AFTER = new RegExp(
  String.raw`^(?:[ \t]+for\s+(?:both|the|\d|two|three)[^\n$()]{0,20}?)?[ \t]*[(,]?[ \t]*${HOURS}[ \t]*(?:each|per\s+${LESSON}|\/\s*${LESSON})?[ \t]*\)?`,
  'i',
);
/** "$320 for 4 lessons (2h each)", "$450 for 10 lessons of 1.5 hours", "$600 for a package of 10 lessons". */
const PACKAGE = new RegExp(String.raw`^[ \t]*(?:for|\/)[ \t]*(?:an?\s+)?(?:package\s+of\s+)?(\d{1,2})[ \t]*${LESSON}\b([^\n]{0,40})`, 'i');
const PACKAGE_LENGTH = new RegExp(String.raw`${HOURS}|(\d{2,3})\s*(?:min|mins|minutes)(?![a-z])`, 'i');
const LENGTH_IN_BRACKETS = new RegExp(String.raw`^[ \t]*\([ \t]*${HOURS}[ \t]*${LESSON}[^)\n]{0,20}\)`, 'i');
/** "Per lesson $150 (2 hours)": the unit written before the price. */
const PER_LESSON_BEFORE = new RegExp(String.raw`\bper\s+${LESSON}\s*[:\-–]?\s*$`, 'i');

/** A lesson length on a line of its own, with no price on it ("Frequency: 1x a week, 1.5 hrs"). */
function lessonLengthElsewhere(text: string): number | null {
  const re = new RegExp(HOURS, 'i');
  for (const line of text.split('\n')) {
    if (/[$]|\bsgd\b/i.test(line)) continue;
    const m = re.exec(line);
    if (m && plausibleHours(Number(m[1]))) return Number(m[1]);
  }
  return null;
}

const perHour = (n: number, hours: number): number => Math.round((n / hours) * 100) / 100;
const plausibleHours = (h: number): boolean => h >= 0.5 && h <= 4;

/**
 * A price for a lesson, or a package of lessons, whose length the post gives is an hourly rate once divided out;
 * `null` when the span is no such price. A package of unknown length stays a package (no hourly figure).
 */
function lessonPrice(text: string, span: RateSpan): { hours: number; unit: string; extra: number } | null {
  const after = text.slice(span.end, span.end + 80);
  const m1 = PER_LENGTH_LESSON.exec(after);
  if (m1 && span.unit === null && plausibleHours(Number(m1[1]))) return { hours: Number(m1[1]), unit: 'hour', extra: m1[0].length };
  const m2 = PER_MINUTES.exec(after);
  if (m2 && span.unit === null && plausibleHours(Number(m2[1]) / 60)) return { hours: Number(m2[1]) / 60, unit: 'hour', extra: m2[0].length };
  // "$70 (1.5hr lesson)"
  const m0 = span.unit === null ? LENGTH_IN_BRACKETS.exec(after) : null;
  if (m0 && plausibleHours(Number(m0[1]))) return { hours: Number(m0[1]), unit: 'hour', extra: m0[0].length };
  const perLesson =
    span.unit === 'lesson' || span.unit === 'session' || (span.unit === null && PER_LESSON_BEFORE.test(text.slice(Math.max(0, span.start - 20), span.start)));
  const m3 = perLesson ? LESSON_LENGTH_AFTER.exec(after) : null;
  if (m3 && plausibleHours(Number(m3[1]))) return { hours: Number(m3[1]), unit: 'hour', extra: m3[0].length };
  const m4 = span.unit === null ? PACKAGE.exec(after) : null;
  if (m4) {
    const lessons = Number(m4[1]);
    const len = PACKAGE_LENGTH.exec(m4[2] ?? '');
    const hours = len ? (len[1] ? Number(len[1]) : Number(len[2]) / 60) : lessonLengthElsewhere(text);
    if (hours !== null && plausibleHours(hours) && lessons > 0) return { hours: hours * lessons, unit: 'hour', extra: m4[0].length };
    return { hours: 1, unit: 'package', extra: m4[0].length };
  }
  return null;
}

/** Every amount that carries a currency sign or a rate unit, in document order. Never throws. */
export function findRateSpans(text: string): RateSpan[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const out: RateSpan[] = [];
  const re = new RegExp(SPAN.source, SPAN.flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const [whole, cur1, int1, frac1, cur2, int2, frac2, unit] = m;
    if (whole.length === 0) {
      re.lastIndex++;
      continue;
    }
    if (!cur1 && !cur2 && !unit) continue;
    // "1/week", "2/month": a frequency, not money
    if (!cur1 && !cur2 && unit && !/h/i.test(unit) && toNumber(int2 ?? int1, undefined) < 10) continue;
    // "Singapore 460088 – $50-60/h", "Clementi West St 2 - $30-40/hr": a number before a dash is no lower bound
    // of a price that carries its own currency sign; read again from the price
    if (!cur1 && cur2) {
      re.lastIndex = (m.index ?? 0) + whole.search(/(?:s\$|sgd|\$)/i);
      continue;
    }
    const start = (m.index ?? 0) + (whole.length - whole.trimStart().length);
    // "$60/1.5h" is a price for 1.5 hours: 40 an hour
    const hours = unit ? Number(/^\/\s?(\d(?:\.\d{1,2})?)/.exec(unit)?.[1] ?? 1) : 1;
    const per = (n: number) => (hours > 0 && hours !== 1 ? perHour(n, hours) : n);
    const a = per(toNumber(int1, frac1));
    const b = int2 === undefined ? a : per(toNumber(int2, frac2));
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    const span: RateSpan = {
      start,
      end: (m.index ?? 0) + whole.length,
      min: Math.min(a, b),
      max: Math.max(a, b),
      currency: cur1 || cur2 ? 'SGD' : null,
      unit: unitOf(unit),
      text: whole.trim(),
    };
    const priced = lessonPrice(text, span);
    if (priced) {
      span.unit = priced.unit;
      if (priced.unit === 'hour') {
        span.min = perHour(span.min, priced.hours);
        span.max = perHour(span.max, priced.hours);
      }
      span.text = text.slice(span.start, span.end + priced.extra).trim();
      span.end += priced.extra;
      re.lastIndex = span.end;
    }
    out.push(span);
  }
  return out;
}

/** A rate written per month, week, lesson or session is no hourly figure (a monthly salary is a full-time job). */
const NOT_HOURLY =
  /\/\s?(?:months?|mths?|mo|weeks?|wk|lessons?|sessions?)\b|\bper\s+(?:month|mth|week|lesson|session)\b|\bmonthly\b|\bsalary\b|\bpackage\b|\bfor\s+\d{1,2}\s*(?:lessons|sessions)\b/i;

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
  if (!hourly.length && Object.values(tiers ?? {}).some((t) => t.unit === 'package')) return null;
  const figures = hourly.length
    ? hourly.flatMap((t) => [t.min ?? t.max!, t.max ?? t.min!])
    : rate.min !== null && !(rate.raw_text && NOT_HOURLY.test(rate.raw_text))
      ? [rate.min, rate.max ?? rate.min]
      : [];
  const valid = figures.filter((n) => n > 0 && n <= 1000);
  return valid.length ? { min: Math.min(...valid), max: Math.max(...valid) } : null;
}
