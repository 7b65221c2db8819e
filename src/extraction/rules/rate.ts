import { firstLabel, tidy, type Parsed } from './labels.ts';

export interface RateResult {
  min: number | null;
  max: number | null;
  raw_text: string | null;
}

const NUM = String.raw`\d{1,4}(?:\.\d{1,2})?`;
const UNIT = String.raw`(?:\s*(?:\/|per|an|a)\s*(?:\d(?:\.\d)?\s*)?(?:h|hr|hrs|hour|hours|hourly|session|lesson)\b|\s*p\/?h\b)`;
/** A money figure or range: "$40-50", "$40 - $50", "40 to 60 per hour", "$45/h", "+$5". */
const MONEY_RE = new RegExp(String.raw`(\+\s*)?(\$|SGD\s?|S\$)?\s*(${NUM})(?:\s*(?:-|–|~|to)\s*(?:\$|SGD\s?|S\$)?\s*(${NUM}))?(${UNIT})?`, 'gi');

interface Money {
  min: number;
  max: number;
  plus: boolean;
}

/** Figures that are clearly money: a currency sign, a per-hour unit, or a "+" surcharge. Bare counts ("1-2 students") are not. */
function moneyIn(text: string): Money[] {
  const out: Money[] = [];
  for (const m of text.matchAll(MONEY_RE)) {
    const plus = Boolean(m[1]);
    if (!m[2] && !m[5] && !plus) continue;
    const a = Number(m[3]);
    const b = m[4] !== undefined ? Number(m[4]) : a;
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    out.push({ min: Math.min(a, b), max: Math.max(a, b), plus });
  }
  return out;
}

/** Schedule-like parenthetical following a rate, e.g. "(2h per lesson, once a week)". */
const SCHEDULE_PAREN = /\s*[([][^)\]]{0,120}\b(?:per lesson|per week|a week|\/week|lessons?\/|once|twice|weekly)\b[^)\]]{0,120}[)\]]/i;

function cutRawRate(value: string): string {
  let v = value.replace(SCHEDULE_PAREN, '');
  const sentence = /\.\s+(?=[A-Z])/.exec(v);
  if (sentence) v = v.slice(0, sentence.index);
  return tidy(v.replace(/\.$/, ''));
}

/** Following lines that continue a rate ("$40 - $50/hour Full Time", "+5 for every additional student"). */
function continuation(p: Parsed, lineIndex: number): string[] {
  const out: string[] = [];
  for (let i = lineIndex + 1; i < p.lines.length && out.length < 5; i++) {
    const l = p.lines[i];
    if (!l?.clean || l.bullet) break;
    if (!/^(?:\+\s*(?:\$|S\$|SGD)?|\$|S\$|SGD)\s*\d/i.test(l.clean)) break;
    out.push(l.clean);
  }
  return out;
}

function minMax(money: Money[]): { min: number | null; max: number | null } {
  // One unified range or single figure only; tiers or surcharges make it ambiguous, so min/max stay null.
  const m = money[0];
  if (money.length !== 1 || !m || m.plus) return { min: null, max: null };
  if (m.max > 1000 || m.min <= 0) return { min: null, max: null };
  return { min: m.min, max: m.max };
}

/** One bare figure or range as the whole value ("45", "40 - 50"), within tutoring rates. */
function bareFigure(value: string): { min: number; max: number } | null {
  const m = /^\s*(\d{2,3}(?:\.\d{1,2})?)(?:\s*(?:-|–|to)\s*(\d{2,3}(?:\.\d{1,2})?))?\s*$/.exec(value);
  if (!m) return null;
  const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
  return a > 0 && b <= 500 ? { min: Math.min(a, b), max: Math.max(a, b) } : null;
}

/** An unlabelled "$35/h" or "$40-60/h" anywhere (often in the headline). */
const LOOSE_RE = new RegExp(
  String.raw`(?:\$|S\$|SGD\s?)\s*${NUM}(?:\s*(?:-|–|to)\s*\$?\s*${NUM})?(?:\s*\/\s*(?:\d(?:\.\d)?\s*)?(?:h|hr|hrs|hour|hours)\b|\s*(?:per|an|a)\s*(?:h|hr|hour)\b)`,
  'i',
);

export function extractRate(p: Parsed): RateResult {
  const labelled = firstLabel(p, 'rate');
  if (labelled) {
    const parts = [cutRawRate(labelled.value), ...continuation(p, labelled.lineIndex)].filter(Boolean);
    const raw = parts.join('\n');
    // "Per hour: 45", "Hourly rate: 40-50": the label says it is money an hour, so a bare figure counts
    const bare = /hour|\bhr\b/i.test(labelled.label) ? bareFigure(parts.join(' ')) : null;
    if (raw) return { ...(bare ?? minMax(moneyIn(parts.join(' ')))), raw_text: raw };
  }
  for (const line of p.lines) {
    const m = LOOSE_RE.exec(line.clean);
    if (m) return { ...minMax(moneyIn(m[0])), raw_text: m[0].trim() };
  }
  return { min: null, max: null, raw_text: null };
}
