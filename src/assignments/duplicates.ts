import type { Queryable } from '../db/index.ts';
import type { DuplicateResult } from './types.ts';

/** What duplicate scoring reads of an assignment. */
export interface DuplicateCandidate {
  id: number;
  agency_id: number;
  postal: string | null;
  subjects: string[];
  levels: string[];
  rate_min: number | null;
  rate_max: number | null;
  published_at: Date | null;
  code: string | null;
  has_time: boolean;
  parse_quality_score: number;
  duplicate_group_id: number | null;
}

const WINDOW_HOURS = 7 * 24;

const jaccard = (a: string[], b: string[]): number => {
  const A = new Set(a.map((x) => x.toLowerCase()));
  const B = new Set(b.map((x) => x.toLowerCase()));
  if (A.size === 0 || B.size === 0) return 0;
  let inter = 0;
  for (const x of A) if (B.has(x)) inter++;
  return inter / (A.size + B.size - inter);
};

/**
 * Cross-agency duplicate score, 0–100 (worker.md §2.7): postal 50 (45 for a neighbour in the same sector),
 * subjects 35 × Jaccard, levels 25 × Jaccard, overlapping rate ranges 15, posting time 10 (full within 48 h,
 * fading to 0 at 7 days), codes 10 (5 for a shared 3-character prefix), both with availability 5.
 */
export function duplicateScore(a: DuplicateCandidate, b: DuplicateCandidate): number {
  let score = 0;
  if (a.postal && b.postal) {
    if (a.postal === b.postal) score += 50;
    else if (a.postal.slice(0, 2) === b.postal.slice(0, 2) && Math.abs(Number(a.postal) - Number(b.postal)) <= 2) score += 45;
  }
  score += 35 * jaccard(a.subjects, b.subjects);
  score += 25 * jaccard(a.levels, b.levels);
  if ([a.rate_min, a.rate_max, b.rate_min, b.rate_max].every((x) => x !== null && x > 0) && a.rate_min! <= b.rate_max! && b.rate_min! <= a.rate_max!) score += 15;
  if (a.published_at && b.published_at) {
    const gapH = Math.abs(a.published_at.getTime() - b.published_at.getTime()) / 3_600_000;
    if (gapH < 48) score += 10;
    else if (gapH < WINDOW_HOURS) score += 10 * (1 - (gapH - 48) / (WINDOW_HOURS - 48));
  }
  if (a.code && b.code) {
    if (a.code.toUpperCase() === b.code.toUpperCase()) score += 10;
    else if (a.code.length >= 3 && b.code.length >= 3 && a.code.slice(0, 3).toUpperCase() === b.code.slice(0, 3).toUpperCase()) score += 5;
  }
  if (a.has_time && b.has_time) score += 5;
  return Math.min(100, Math.round(score));
}

const CANDIDATE_SELECT = `select id, agency_id,
    substring(coalesce(postal_code[1], postal_code_estimated[1], '') from '\\d{6}') as postal,
    case when cardinality(subjects_canonical) > 0 then subjects_canonical else subjects end as subjects,
    levels || specific_levels as levels,
    rate_min::float8 as rate_min, rate_max::float8 as rate_max, published_at, assignment_code as code,
    coalesce(time_availability -> 'explicit', '{}') <> '{"monday":[],"tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[],"sunday":[]}'::jsonb
      or coalesce(time_availability -> 'estimated', '{}') <> '{"monday":[],"tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[],"sunday":[]}'::jsonb as has_time,
    parse_quality_score, duplicate_group_id
  from assignments`;

/**
 * Put an assignment into a duplicate group when another agency's open assignment scores ≥ minScore against it.
 * Idempotent (B16): membership is one column, so running it again on every update never inflates a group; the
 * group's primary (higher quality, then earlier, then lower id) is recomputed whenever a member joins.
 */
export async function detectDuplicates(db: Queryable, assignmentId: number, options: { minScore: number }): Promise<DuplicateResult> {
  const [self] = await db.query<DuplicateCandidate>(`${CANDIDATE_SELECT} where id = $1 for update`, [assignmentId]);
  if (!self) return { groupId: null, joinedExisting: false, isPrimary: true, score: null, matchedAssignmentId: null };
  if (self.duplicate_group_id !== null) {
    const [g] = await db.query<{ is_primary: boolean }>('select is_primary from assignments where id = $1', [assignmentId]);
    return { groupId: self.duplicate_group_id, joinedExisting: false, isPrimary: g?.is_primary ?? true, score: null, matchedAssignmentId: null };
  }
  const candidates = await db.query<DuplicateCandidate>(
    `${CANDIDATE_SELECT}
      where status = 'open' and agency_id <> $1 and id <> $2
        and published_at between $3::timestamptz - interval '7 days' and $3::timestamptz + interval '7 days'
      order by published_at desc, id desc
      limit 200`,
    [self.agency_id, self.id, (self.published_at ?? new Date()).toISOString()],
  );
  let best: { c: DuplicateCandidate; score: number } | null = null;
  for (const c of candidates) {
    const score = duplicateScore(self, c);
    if (score >= options.minScore && (best === null || score > best.score)) best = { c, score };
  }
  if (!best) return { groupId: null, joinedExisting: false, isPrimary: true, score: null, matchedAssignmentId: null };

  let groupId = best.c.duplicate_group_id;
  const joinedExisting = groupId !== null;
  if (groupId === null) {
    const [g] = await db.query<{ id: number }>('insert into duplicate_groups default values returning id');
    groupId = g!.id;
    await db.query('update assignments set duplicate_group_id = $1, duplicate_score = 100 where id = $2', [groupId, best.c.id]);
  }
  await db.query('update assignments set duplicate_group_id = $1, duplicate_score = $2 where id = $3', [groupId, best.score, self.id]);
  const primary = await recomputePrimary(db, groupId);
  return { groupId, joinedExisting, isPrimary: primary === self.id, score: best.score, matchedAssignmentId: best.c.id };
}

async function recomputePrimary(db: Queryable, groupId: number): Promise<number> {
  const [p] = await db.query<{ id: number }>(
    `select id from assignments where duplicate_group_id = $1 order by parse_quality_score desc, published_at asc nulls last, id asc limit 1`,
    [groupId],
  );
  await db.query('update assignments set is_primary = (id = $2) where duplicate_group_id = $1', [groupId, p!.id]);
  await db.query('update duplicate_groups set primary_assignment_id = $2, updated_at = now() where id = $1', [groupId, p!.id]);
  return p!.id;
}
