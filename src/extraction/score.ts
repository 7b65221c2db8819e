/**
 * The scoring function of `eval`: compares a predicted assignment with the expected one field by field. Both sides
 * are `unknown` (LLM output may be malformed); every accessor is defensive.
 */

export const FIELD_WEIGHTS: Record<string, number> = {
  assignment_code: 2,
  academic_display_text: 3,
  'learning_mode.mode': 1,
  'learning_mode.raw_text': 0.5,
  address: 2,
  postal_code: 2,
  nearest_mrt: 1,
  lesson_schedule: 1,
  start_date: 1,
  'rate.min': 1,
  'rate.max': 1,
  'rate.raw_text': 1,
  additional_remarks: 0.5,
};
export const FIELDS = Object.keys(FIELD_WEIGHTS);

const EDGE_CHARS = ' .,;:-–—•*·|~';

export function nt(s: string): string {
  let t = s
    .normalize('NFKC')
    .replace(/[‘’‚‛]/g, "'")
    .replace(/[“”„‟]/g, '"')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
  let a = 0;
  let b = t.length;
  while (a < b && EDGE_CHARS.includes(t[a] ?? '')) a++;
  while (b > a && EDGE_CHARS.includes(t[b - 1] ?? '')) b--;
  t = t.slice(a, b);
  return t;
}

export function tokens(s: string): string[] {
  return nt(s).match(/[a-z0-9]+/g) ?? [];
}

/** Multiset token F1; 1 when both sides have no tokens. */
export function tokF1(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.length === 0 && tb.length === 0) return 1;
  if (ta.length === 0 || tb.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const t of ta) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of tb) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      common++;
      counts.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  const p = common / tb.length;
  const r = common / ta.length;
  return (2 * p * r) / (p + r);
}

function contains(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 3 && long.includes(short);
}

/** "snippet" rule: equal or containment after nt, else token F1. */
export function snippet(a: string, b: string): number {
  const na = nt(a);
  const nb = nt(b);
  if (na === nb || contains(na, nb)) return 1;
  return tokF1(a, b);
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.every((x) => isEmpty(x));
  return false;
}

function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(asString).join('\n');
  return v === null || v === undefined ? '' : JSON.stringify(v);
}

function asList(v: unknown): string[] {
  const items = Array.isArray(v) ? v : [v];
  return items.filter((x) => !isEmpty(x)).map(asString);
}

/** Greedy one-to-one matching of two de-duplicated normalised lists → set F1. */
export function listF1(expected: string[], predicted: string[], match: (a: string, b: string) => boolean): number {
  const e = [...new Set(expected)];
  const p = [...new Set(predicted)];
  if (e.length === 0 && p.length === 0) return 1;
  if (e.length === 0 || p.length === 0) return 0;
  const used = new Set<number>();
  let matched = 0;
  for (const a of e) {
    const j = p.findIndex((b, i) => !used.has(i) && match(a, b));
    if (j >= 0) {
      used.add(j);
      matched++;
    }
  }
  if (matched === 0) return 0;
  const prec = matched / p.length;
  const rec = matched / e.length;
  return (2 * prec * rec) / (prec + rec);
}

const fuzzyMatch = (threshold: number) => (a: string, b: string) => a === b || contains(a, b) || tokF1(a, b) >= threshold;

function normAddress(s: string): string {
  return nt(s.replace(/\(\s*s\s*\)\s*\d{6}|\bsingapore\s*\d{6}|\bs\s*\(?\d{6}\)?/gi, ' '));
}

function normMrt(s: string): string {
  return nt(s.replace(/\b(mrt|lrt|station)\b|[()]/gi, ' '));
}

function normSchedule(s: string): string {
  return nt(nt(s).replace(/^[a-z .'()/&]{1,40}:/, ''));
}

function normStart(s: string): string {
  return nt(nt(s).replace(/^(tuition )?(to )?(start|starting|starts)( date)? ?[:-]?/, ''));
}

function postalSet(items: string[]): string[] {
  return [...new Set(items.flatMap((s) => s.match(/\d{6}/g) ?? []))];
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function fieldScore(field: string, e: unknown, p: unknown): number {
  const ee = isEmpty(e);
  const pe = isEmpty(p);
  if (ee && pe) return 1;
  if (ee || pe) return 0;
  switch (field) {
    case 'assignment_code': {
      const norm = (v: unknown) => asString(v).trim().replace(/^#/, '').replace(/\s+/g, '').toUpperCase();
      return norm(e) === norm(p) ? 1 : 0;
    }
    case 'academic_display_text': {
      const a = asString(e);
      const b = asString(p);
      return nt(a) === nt(b) ? 1 : tokF1(a, b);
    }
    case 'learning_mode.mode':
      return asString(e).trim() === asString(p).trim() ? 1 : 0;
    case 'learning_mode.raw_text':
    case 'rate.raw_text':
    case 'additional_remarks':
      return snippet(asString(e), asString(p));
    case 'address':
      return listF1(asList(e).map(normAddress), asList(p).map(normAddress), fuzzyMatch(0.6));
    case 'postal_code': {
      const a = postalSet(asList(e));
      const b = postalSet(asList(p));
      return listF1(a, b, (x, y) => x === y);
    }
    case 'nearest_mrt':
      return listF1(asList(e).map(normMrt), asList(p).map(normMrt), fuzzyMatch(0.8));
    case 'lesson_schedule':
      return listF1(asList(e).map(normSchedule), asList(p).map(normSchedule), fuzzyMatch(0.8));
    case 'start_date':
      return fuzzyMatch(0.8)(normStart(asString(e)), normStart(asString(p))) ? 1 : 0;
    case 'rate.min':
    case 'rate.max': {
      const a = num(e);
      const b = num(p);
      return a !== null && b !== null && Math.abs(a - b) <= 0.01 ? 1 : 0;
    }
    default:
      return 0;
  }
}

function exactField(e: unknown, p: unknown): boolean {
  if (isEmpty(e) || isEmpty(p)) return isEmpty(e) && isEmpty(p);
  const ne = num(e);
  const np = num(p);
  if (typeof e === 'number' || typeof p === 'number') return ne !== null && np !== null && Math.abs(ne - np) <= 0.01;
  const le = asList(e).map(nt);
  const lp = asList(p).map(nt);
  return le.length === lp.length && le.every((x, i) => x === lp[i]);
}

export interface CaseScore {
  total: number;
  perField: Record<string, number>;
  /** strict: every field equal after `nt` */
  exact: boolean;
}

export function scoreCase(expected: unknown, predicted: unknown): CaseScore {
  const perField: Record<string, number> = {};
  let sum = 0;
  let weights = 0;
  let exact = true;
  for (const field of FIELDS) {
    const e = get(expected, field);
    const p = get(predicted, field);
    const s = fieldScore(field, e, p);
    perField[field] = s;
    const w = FIELD_WEIGHTS[field] ?? 0;
    sum += s * w;
    weights += w;
    if (!exactField(e, p)) exact = false;
  }
  return { total: sum / weights, perField, exact };
}

export interface ScoredCase {
  agency: string;
  perField: Record<string, number>;
  total: number;
  exact: boolean;
}

export interface Summary {
  perField: Record<string, number>;
  perAgency: Record<string, number>;
  micro: number;
  macro: number;
  exactRate: number;
  cases: number;
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarize(cases: ScoredCase[]): Summary {
  const perField: Record<string, number> = {};
  for (const f of FIELDS) perField[f] = mean(cases.map((c) => c.perField[f] ?? 0));
  const byAgency = new Map<string, number[]>();
  for (const c of cases) byAgency.set(c.agency, [...(byAgency.get(c.agency) ?? []), c.total]);
  const perAgency: Record<string, number> = {};
  for (const [a, totals] of byAgency) perAgency[a] = mean(totals);
  return {
    perField,
    perAgency,
    micro: mean(cases.map((c) => c.total)),
    macro: mean(Object.values(perAgency)),
    exactRate: mean(cases.map((c) => (c.exact ? 1 : 0))),
    cases: cases.length,
  };
}
