import { tidy, type Parsed } from './labels.ts';

/** Words that make a clause about lesson frequency/duration. */
const SCHEDULE_WORD =
  /\b(?:once|twice|thrice|weekly|week|wk|lessons?|sessions?|hours?|hrs?|mins?|minutes|times?|x)\b|\d(?:\.\d+)?\s*(?:h|hr|hrs|x)\b|\dx\b|x\d/i;
/** An unlabelled line that starts like a frequency/duration statement: "Once a week, 1.5 hrs", "1 lesson/week x 2h". */
const SCHEDULE_START =
  /^(?:once|twice|thrice|\d+(?:\.\d+)?(?:\s*(?:-|to|or)\s*\d+(?:\.\d+)?)?\s*(?:x\b|times?\b|lessons?\b|sessions?\b|h\b|hrs?\b|hours?\b|mins?\b))/i;
/** A bracketed/parenthesised schedule inside another line: "[1 lesson/week, 1 hr/lesson]", "(2h per lesson, once a week)". */
const BRACKETED = /[[(]([^\])]{0,120}?\b(?:lessons?\/week|per lesson|per week|a week|\/week|\/lesson|once|twice)\b[^\])]{0,120}?)[\])]/gi;

/** Keep the leading comma-clauses that are about frequency/duration ("1.5 hour per week, 50% commission" → first clause). */
function scheduleClauses(value: string): string {
  const clauses = value.split(/,\s*/);
  const kept: string[] = [];
  for (const c of clauses) {
    if (!SCHEDULE_WORD.test(c) || /%|\$|commission/i.test(c)) break;
    kept.push(c);
  }
  return tidy(kept.join(', '));
}

export function extractSchedule(p: Parsed): string[] | null {
  const out: string[] = [];
  const add = (s: string) => {
    const t = tidy(s);
    if (t && !out.includes(t)) out.push(t);
  };
  for (const l of p.labels) if (l.kind === 'schedule' && l.value) add(l.value);
  if (out.length) return out;

  for (const line of p.lines) {
    if (!line.clean || !SCHEDULE_START.test(line.clean)) continue;
    add(scheduleClauses(line.clean));
  }
  if (out.length) return out;

  for (const line of p.lines) {
    for (const m of line.clean.matchAll(BRACKETED)) add(m[0]);
  }
  return out.length ? out : null;
}

const DATEISH =
  /^(?:asap|immediately|immediate|now|next|this|early|mid|end|from|on|in|by|after|before|week|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|\d)/i;
/** "Start ASAP", "start date: 12-Sep-24", "Start on 10 Jan 2026", "Starting next week". */
const INLINE_START = /\b(?:earliest\s+)?(?:start|starting|starts|commence|commencing|commencement)(?:\s+date)?\s*(?:[:：-]\s*)?((?:[^.;\n]|\.(?=\d)){1,80})/gi;

/** Cut at the first ")" that closes nothing ("Start on 10 Jan 2026)" inside a parenthetical). */
function cutUnbalanced(s: string): string {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth < 0) return s.slice(0, i);
  }
  return s;
}

export function extractStart(p: Parsed): string | null {
  for (const l of p.labels) {
    if (l.kind === 'start' && l.value) return tidy(l.value.replace(/\.$/, ''));
  }
  for (const line of p.lines) {
    for (const m of line.clean.matchAll(INLINE_START)) {
      const value = tidy(cutUnbalanced(m[1] ?? ''));
      if (value && DATEISH.test(value)) return value.replace(/^on\s+/i, '');
    }
  }
  return null;
}
