import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import type { HardenedItem } from './pipeline.ts';
import { DAYS } from './schema.ts';
import { listF1 } from './score.ts';
import { hourlyRange } from './signals/index.ts';

/**
 * Scoring on the fields that decide which tutors see a job (test/fixtures/matching_gold/README.md): general and
 * specific levels, subject codes, mode, postal code, weekdays, the overall hourly rate range and tutor types, per
 * assignment item of a post (a compilation has several). The display-field score (score.ts) does not look at any
 * of these.
 */

export const MATCHING_FIELDS = [
  'levels',
  'specific_levels',
  'subjects',
  'mode',
  'postal_code',
  'days',
  'rate_hourly_min',
  'rate_hourly_max',
  'tutor_types',
] as const;
export type MatchingField = (typeof MATCHING_FIELDS)[number];

const MODES = ['online', 'face_to_face', 'hybrid'] as const;
const TUTOR_TYPES = ['part_time', 'full_time', 'moe', 'student'] as const;

export const MatchingItemSchema = z.object({
  levels: z.array(z.string()),
  specific_levels: z.array(z.string()),
  subjects: z.array(z.string()),
  mode: z.enum(MODES).nullable(),
  postal_code: z
    .string()
    .regex(/^\d{6}$/)
    .nullable(),
  days: z.array(z.enum(DAYS)).nullable(),
  rate_hourly_min: z.number().nullable(),
  rate_hourly_max: z.number().nullable(),
  tutor_types: z.array(z.enum(TUTOR_TYPES)),
  uncertain: z.array(z.string()).default([]),
});
export type MatchingItem = z.infer<typeof MatchingItemSchema>;

const GoldLineSchema = z.object({
  file: z.string().min(1),
  example: z.number().int().positive(),
  items: z.array(MatchingItemSchema),
  not_assignment: z.boolean().optional(),
});

/** Gold items by `<file>#<example>` (e.g. `mindflex.txt#1`). */
export type MatchingGold = Map<string, MatchingItem[]>;

export const goldKey = (file: string, example: number) => `${file}#${example}`;

/** Read a matching gold file (JSON Lines); any bad line is one clear error naming it. */
export function loadMatchingGold(file: string): MatchingGold {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read matching gold ${file}`);
  }
  const gold: MatchingGold = new Map();
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new UserError(`${file} line ${i + 1}: not JSON`);
    }
    const parsed = GoldLineSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UserError(`${file} line ${i + 1}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    const key = goldKey(parsed.data.file, parsed.data.example);
    if (gold.has(key)) throw new UserError(`${file} line ${i + 1}: ${key} is labelled twice`);
    gold.set(key, parsed.data.items);
  }
  if (gold.size === 0) throw new UserError(`matching gold ${file} holds no labels`);
  return gold;
}

const MODE_OF: Record<string, MatchingItem['mode']> = { Online: 'online', 'Face-to-Face': 'face_to_face', Hybrid: 'hybrid' };
const TUTOR_TYPE_OF: Record<string, MatchingItem['tutor_types'][number]> = {
  student: 'student',
  'part-timer': 'part_time',
  'full-timer': 'full_time',
  'moe-exmoe': 'moe',
};

const uniq = <T>(xs: Iterable<T | null | undefined>): T[] => [...new Set([...xs].filter((x): x is T => x !== null && x !== undefined && x !== ''))];

/** What the product stores and matches on for one extracted item, in the gold's terms. */
export function matchingItemFrom(item: HardenedItem): MatchingItem {
  const { canonical: c, signals: s } = item;
  const requests = s?.academic_requests ?? [];
  const days = DAYS.filter((d) => (c.time_availability.explicit[d]?.length ?? 0) > 0 || (c.time_availability.estimated[d]?.length ?? 0) > 0);
  const hourly = hourlyRange(c.rate, c.rate_breakdown ?? s?.rate_breakdown ?? null);
  const tutorTypes = (c.tutor_types ?? s?.tutor_types ?? []).map((t) => TUTOR_TYPE_OF[t.canonical]);
  const postal = (c.postal_code ?? []).map((p) => /\d{6}/.exec(p)?.[0]).find((p) => p !== undefined) ?? null;
  return {
    levels: uniq([...requests.map((r) => r.level), ...(s?.levels ?? [])]),
    specific_levels: uniq([...requests.map((r) => r.specific_student_level), ...(s?.specific_student_levels ?? [])]),
    subjects: uniq([...requests.flatMap((r) => r.subjects_canonical), ...(s?.subjects_canonical ?? [])]),
    mode: c.learning_mode.mode ? (MODE_OF[c.learning_mode.mode] ?? null) : null,
    postal_code: postal,
    days,
    rate_hourly_min: hourly?.min ?? null,
    rate_hourly_max: hourly?.max ?? null,
    tutor_types: uniq(tutorTypes),
    uncertain: [],
  };
}

/** "No day constraint" has three spellings: null, [] and all seven days. */
const dayConstraint = (days: readonly string[] | null): string[] => (days === null || days.length === 7 ? [] : [...days]);
const exact = (a: string[], b: string[]) => listF1(a, b, (x, y) => x === y);

export function scoreMatchingField(field: MatchingField, gold: MatchingItem, predicted: MatchingItem): number {
  switch (field) {
    case 'levels':
    case 'specific_levels':
    case 'subjects':
    case 'tutor_types':
      return exact(gold[field], predicted[field]);
    case 'days':
      return exact(dayConstraint(gold.days), dayConstraint(predicted.days));
    default:
      return gold[field] === predicted[field] ? 1 : 0;
  }
}

const meanItemScore = (g: MatchingItem, p: MatchingItem) => MATCHING_FIELDS.reduce((a, f) => a + scoreMatchingField(f, g, p), 0) / MATCHING_FIELDS.length;

/** The best one-to-one pairing of gold and predicted items by mean field score (exhaustive: posts hold few items). */
function bestPairing(gold: MatchingItem[], predicted: MatchingItem[]): [number, number][] {
  const swap = gold.length > predicted.length;
  const [small, large] = swap ? [predicted, gold] : [gold, predicted];
  let best: { score: number; pairs: [number, number][] } = { score: -1, pairs: [] };
  const walk = (i: number, used: Set<number>, pairs: [number, number][], score: number) => {
    if (i === small.length) {
      if (score > best.score) best = { score, pairs: [...pairs] };
      return;
    }
    for (let j = 0; j < large.length; j++) {
      if (used.has(j)) continue;
      used.add(j);
      pairs.push([i, j]);
      walk(i + 1, used, pairs, score + meanItemScore(swap ? large[j]! : small[i]!, swap ? small[i]! : large[j]!));
      pairs.pop();
      used.delete(j);
    }
  };
  if (small.length <= 7) walk(0, new Set(), [], 0);
  else best.pairs = small.map((_, i) => [i, i] as [number, number]); // never seen: keep it linear
  return best.pairs.map(([i, j]) => (swap ? [j, i] : [i, j]));
}

/**
 * Per-field score of one post: the sum over the paired items divided by max(gold items, predicted items), so a
 * missing or extra item costs; no items on either side scores 1.
 */
export function scoreMatchingPost(gold: MatchingItem[], predicted: MatchingItem[]): Record<MatchingField, number> {
  const out = Object.fromEntries(MATCHING_FIELDS.map((f) => [f, 0])) as Record<MatchingField, number>;
  const n = Math.max(gold.length, predicted.length);
  if (n === 0) {
    for (const f of MATCHING_FIELDS) out[f] = 1;
    return out;
  }
  for (const [gi, pi] of bestPairing(gold, predicted)) {
    for (const f of MATCHING_FIELDS) out[f] += scoreMatchingField(f, gold[gi]!, predicted[pi]!);
  }
  for (const f of MATCHING_FIELDS) out[f] /= n;
  return out;
}

export interface MatchingCaseRow {
  agency: string;
  key: string;
  perField: Record<MatchingField, number>;
  gold: MatchingItem[];
  predicted: MatchingItem[];
}

export interface MatchingReport {
  cases: number;
  /** mean over every (post, field) cell */
  micro: number;
  /** mean of the agencies' means */
  macro: number;
  perField: Record<MatchingField, number>;
  perAgency: Record<string, number>;
  /** examples with no gold label (not scored) */
  unlabelled: string[];
  rows: MatchingCaseRow[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function summarizeMatching(rows: MatchingCaseRow[], unlabelled: string[]): MatchingReport {
  const perField = Object.fromEntries(MATCHING_FIELDS.map((f) => [f, mean(rows.map((r) => r.perField[f]))])) as Record<MatchingField, number>;
  const byAgency = new Map<string, number[]>();
  for (const r of rows) byAgency.set(r.agency, [...(byAgency.get(r.agency) ?? []), ...MATCHING_FIELDS.map((f) => r.perField[f])]);
  const perAgency = Object.fromEntries([...byAgency].map(([a, cells]) => [a, mean(cells)]));
  return {
    cases: rows.length,
    micro: mean(rows.flatMap((r) => MATCHING_FIELDS.map((f) => r.perField[f]))),
    macro: mean(Object.values(perAgency)),
    perField,
    perAgency,
    unlabelled,
    rows,
  };
}
