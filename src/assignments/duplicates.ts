import type { Queryable } from '../db/index.ts';
import { getTaxonomy, haversineMeters } from '../extraction/index.ts';
import type { DuplicateResult } from './types.ts';

/** What duplicate matching reads of an assignment. */
export interface DuplicateCandidate {
  id: number;
  agency_id: number;
  /** the explicit postal code (an estimated one only places the post in an area: see lat/lon) */
  postal: string | null;
  /** where the assignment is: its postal code's sector, else an estimated code, MRT station or area name */
  lat: number | null;
  lon: number | null;
  /** taxonomy codes */
  subjects: string[];
  /** the subject names as written, compared only when neither side has a taxonomy code */
  subject_names: string[];
  levels: string[];
  specific_levels: string[];
  rate_min: number | null;
  rate_max: number | null;
  published_at: Date | null;
  code: string | null;
  /** weekdays with a stated or estimated time slot */
  days: string[];
  parse_quality_score: number;
  duplicate_group_id: number | null;
  is_primary: boolean;
}

/** Why two assignments cannot be the same job, whatever else they share. */
export type DuplicateRuleOut = 'no_location' | 'postal_codes_differ' | 'too_far' | 'subjects_differ' | 'levels_differ' | 'days_differ' | 'rates_differ';

export interface DuplicateMatch {
  score: number;
  ruledOut: DuplicateRuleOut | null;
}

const WINDOW_HOURS = 7 * 24;
/** Points are postal-sector centres or MRT stations, good to a few km: beyond this they are different places. */
const MAX_APART_KM = 4;
const NEAR_KM = 1.5;

const lower = (xs: readonly string[]) => new Set(xs.map((x) => x.trim().toLowerCase()).filter(Boolean));

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Codes that say nothing about which subject it is (a tag such as group tuition is no subject at all). */
const NOT_SUBJECTS = new Set(['OTHER.OTHERS', 'SPECIAL.GROUP_TUITION', 'SPECIAL.INTEGRATED_PROGRAMME', 'SPECIAL.ADULT_TRAINING']);
/** Combined subjects stand for their parts ("Combined Science (Bio/Chem)" is Biology + Chemistry). */
const PARTS: Record<string, string[]> = {
  'SCIENCE.COMBINED_PHYS_CHEM': ['SCIENCE.PHYSICS', 'SCIENCE.CHEMISTRY'],
  'SCIENCE.COMBINED_BIO_PHYS': ['SCIENCE.BIOLOGY', 'SCIENCE.PHYSICS'],
  'SCIENCE.COMBINED_BIO_CHEM': ['SCIENCE.BIOLOGY', 'SCIENCE.CHEMISTRY'],
  'HUM.GEO_SS': ['HUM.GEOGRAPHY', 'HUM.SOCIAL_STUDIES'],
  'HUM.HIST_SS': ['HUM.HISTORY', 'HUM.SOCIAL_STUDIES'],
};
const isGeneric = (code: string) => /\.GENERAL$|_UNKNOWN$/.test(code);

/** Subject category (taxonomy rollup: MATH, SCIENCE, MTL_CHINESE …) → the specific codes named in it (none: only a generic one). */
function subjectFamilies(subjects: readonly string[]): Map<string, Set<string>> {
  const categoryByCode = getTaxonomy().categoryByCode;
  const out = new Map<string, Set<string>>();
  for (const raw of subjects) {
    const code = raw.trim();
    if (!code || NOT_SUBJECTS.has(code)) continue;
    const family = categoryByCode.get(code) ?? code.toLowerCase();
    const specific = out.get(family) ?? new Set<string>();
    if (categoryByCode.has(code) && !isGeneric(code)) for (const part of PARTS[code] ?? [code]) specific.add(part);
    out.set(family, specific);
  }
  return out;
}

/**
 * Share of subject categories both name compatibly (same specific subject, or – with `generic` – a generic one on
 * either side); null when either side names none.
 */
function subjectSimilarity(a: DuplicateCandidate, b: DuplicateCandidate, generic = true): number | null {
  if (a.subjects.length === 0 && b.subjects.length === 0) {
    const [na, nb] = [lower(a.subject_names), lower(b.subject_names)];
    return na.size > 0 && nb.size > 0 ? jaccard(na, nb) : null;
  }
  const fa = subjectFamilies(a.subjects);
  const fb = subjectFamilies(b.subjects);
  if (fa.size === 0 || fb.size === 0) return null;
  let compatible = 0;
  for (const [family, sa] of fa) {
    const sb = fb.get(family);
    if (sb && ((generic && (sa.size === 0 || sb.size === 0)) || (sa.size === 0 && sb.size === 0) || [...sa].some((x) => sb.has(x)))) compatible++;
  }
  return compatible / new Set([...fa.keys(), ...fb.keys()]).size;
}

/** Specific levels when both state them, else the broad ones; null when either side states none. */
function levelSimilarity(a: DuplicateCandidate, b: DuplicateCandidate): number | null {
  const [sa, sb] = [lower(a.specific_levels), lower(b.specific_levels)];
  if (sa.size > 0 && sb.size > 0) return jaccard(sa, sb);
  const [la, lb] = [lower(a.levels), lower(b.levels)];
  return la.size > 0 && lb.size > 0 ? jaccard(la, lb) : null;
}

const neighbourPostal = (a: string, b: string) => a.slice(0, 2) === b.slice(0, 2) && Math.abs(Number(a) - Number(b)) <= 2;

/** Location points, or why the pair is ruled out; `exact` when both give the same (or a neighbouring) postal code. */
function locationMatch(a: DuplicateCandidate, b: DuplicateCandidate): { points: number; exact: boolean } | DuplicateRuleOut {
  if (a.postal && b.postal) {
    if (a.postal === b.postal) return { points: 50, exact: true };
    return neighbourPostal(a.postal, b.postal) ? { points: 45, exact: true } : 'postal_codes_differ';
  }
  if (a.lat === null || a.lon === null || b.lat === null || b.lon === null) return 'no_location';
  const km = haversineMeters(a.lat, a.lon, b.lat, b.lon) / 1000;
  if (km > MAX_APART_KM) return 'too_far';
  return { points: km <= NEAR_KM ? 30 : 20, exact: false };
}

const rateKnown = (c: DuplicateCandidate) => c.rate_min !== null && c.rate_max !== null && c.rate_min > 0 && c.rate_max > 0;

/**
 * Are two assignments of different agencies the same job? Rule-outs first: a pair is never grouped when its
 * postal codes differ (beyond a neighbour), its places lie more than 4 km apart, either has no location at all
 * (nothing ties two online or unlocated posts to one job), its specific (else broad) levels or its subject
 * categories share less than half of what the two name, its weekdays are disjoint, or – placed only by area,
 * not by one postal code – its subjects are not all the same (a generic subject on one side and a specific one on
 * the other is not the same) or its rate ranges are disjoint. Otherwise a
 * score 0–100: location 50 (same postal code) / 45 (neighbour) / 30 (within 1.5 km) / 20 (within 4 km),
 * subjects 35 × share of subject categories named compatibly, levels 25 × Jaccard, overlapping rates 15,
 * posting time 10 (full within 48 h, fading to 0 at 7 days), the same code 10, overlapping weekdays 5.
 */
export function duplicateMatch(a: DuplicateCandidate, b: DuplicateCandidate): DuplicateMatch {
  const out = (ruledOut: DuplicateRuleOut): DuplicateMatch => ({ score: 0, ruledOut });
  const location = locationMatch(a, b);
  if (typeof location === 'string') return out(location);
  const subjects = subjectSimilarity(a, b);
  if (subjects !== null && (subjects < 0.5 || (subjects < 1 && !location.exact))) return out('subjects_differ');
  // placed by area alone, "Science" and "Combined Science (Bio/Chem)" are two jobs as likely as one
  if (!location.exact && subjects !== null && subjectSimilarity(a, b, false)! < 1) return out('subjects_differ');
  const levels = levelSimilarity(a, b);
  if (levels !== null && levels < 0.5) return out('levels_differ');
  const [da, db] = [new Set(a.days), new Set(b.days)];
  const daysOverlap = da.size > 0 && db.size > 0 ? [...da].some((d) => db.has(d)) : null;
  if (daysOverlap === false) return out('days_differ');
  const ratesOverlap = rateKnown(a) && rateKnown(b) ? a.rate_min! <= b.rate_max! && b.rate_min! <= a.rate_max! : null;
  // Agencies mark rates up differently, so only a pair placed by area alone is told apart by its rates.
  if (ratesOverlap === false && !location.exact) return out('rates_differ');

  let score = location.points + 35 * (subjects ?? 0) + 25 * (levels ?? 0);
  if (ratesOverlap) score += 15;
  if (a.published_at && b.published_at) {
    const gapH = Math.abs(a.published_at.getTime() - b.published_at.getTime()) / 3_600_000;
    if (gapH < 48) score += 10;
    else if (gapH < WINDOW_HOURS) score += 10 * (1 - (gapH - 48) / (WINDOW_HOURS - 48));
  }
  if (a.code && b.code && a.code.toUpperCase() === b.code.toUpperCase()) score += 10;
  if (daysOverlap) score += 5;
  return { score: Math.min(100, Math.round(score)), ruledOut: null };
}

const slotDays = (key: string) =>
  `select key, value from jsonb_each(case when jsonb_typeof(time_availability -> '${key}') = 'object' then time_availability -> '${key}' else '{}'::jsonb end)`;
const CANDIDATE_SELECT = `select id, agency_id,
    substring(coalesce(postal_code[1], '') from '\\d{6}') as postal,
    postal_lat::float8 as lat, postal_lon::float8 as lon,
    subjects_canonical as subjects, subjects as subject_names,
    levels, specific_levels,
    rate_min::float8 as rate_min, rate_max::float8 as rate_max, published_at, assignment_code as code,
    array(select distinct d.key from (${slotDays('explicit')} union all ${slotDays('estimated')}) d
           where jsonb_typeof(d.value) = 'array' and jsonb_array_length(d.value) > 0) as days,
    parse_quality_score, duplicate_group_id, is_primary
  from assignments`;
/** The duplicate-matching view of some assignments (by id, in id order). */
export async function duplicateCandidates(db: Queryable, ids: readonly number[]): Promise<DuplicateCandidate[]> {
  return db.query<DuplicateCandidate>(`${CANDIDATE_SELECT} where id = any($1::bigint[]) order by id`, [ids]);
}

/** The order in which a group's primary is chosen: higher parse quality, then earlier, then lower id. */
/** An open member before a closed one (a copy whose post was deleted stays in its group, see detectDuplicates). */
const PRIMARY_ORDER = "(status = 'open') desc, parse_quality_score desc, published_at asc nulls last, id asc";

/**
 * Serialise duplicate grouping and the cross-agency "already announced / already DMed" checks: held until the
 * transaction ends, so a job that groups an assignment sees every other job's copy committed, never in flight
 * (two copies persisted at once could not see each other and were both broadcast and DMed). One lock for all:
 * any two assignments may turn out to be copies. A transaction takes it before it locks any assignment row, so
 * it never waits for the lock while holding rows another holder needs.
 */
export async function lockDuplicateGrouping(db: Queryable): Promise<void> {
  await db.query(`select pg_advisory_xact_lock(hashtext('tutordex_duplicate_grouping'), 0)`);
}

const NONE: DuplicateResult = { groupId: null, joinedExisting: false, isPrimary: true, score: null, matchedAssignmentId: null, leftBehind: [] };

/**
 * Can `self` be in a group with these members? It must pass every rule-out against each of them (so a group
 * never grows by a chain of look-alikes) and score ≥ minScore against the group's primary (the first member in
 * primary order), not merely against some member; and no agency has two assignments in one group.
 */
function fitsGroup(self: DuplicateCandidate, members: DuplicateCandidate[], minScore: number): DuplicateMatch | null {
  const others = members.filter((m) => m.id !== self.id);
  if (others.length === 0 || others.some((m) => m.agency_id === self.agency_id)) return null;
  if (others.some((m) => duplicateMatch(self, m).ruledOut !== null)) return null;
  const primary = others.find((m) => m.is_primary) ?? others[0]!;
  const match = duplicateMatch(self, primary);
  return match.score >= minScore ? match : null;
}

async function groupMembers(db: Queryable, groupIds: number[]): Promise<Map<number, DuplicateCandidate[]>> {
  const byGroup = new Map<number, DuplicateCandidate[]>();
  if (groupIds.length === 0) return byGroup;
  const rows = await db.query<DuplicateCandidate>(`${CANDIDATE_SELECT} where duplicate_group_id = any($1::bigint[]) order by ${PRIMARY_ORDER}`, [groupIds]);
  for (const r of rows) {
    const g = Number(r.duplicate_group_id);
    byGroup.set(g, [...(byGroup.get(g) ?? []), r]);
  }
  return byGroup;
}

/** Take `self` out of its group (it no longer fits); a group left with one member is dissolved. Returns the others. */
async function leaveGroup(db: Queryable, self: DuplicateCandidate, groupId: number): Promise<number[]> {
  await db.query('update assignments set duplicate_group_id = null, duplicate_score = null, is_primary = true where id = $1', [self.id]);
  const others = (await db.query<{ id: number }>('select id from assignments where duplicate_group_id = $1 order by id', [groupId])).map((r) => Number(r.id));
  const [left] = await db.query<{ n: number }>('select count(*)::int as n from assignments where duplicate_group_id = $1', [groupId]);
  if ((left?.n ?? 0) >= 2) await recomputePrimary(db, groupId);
  else {
    await db.query('update assignments set duplicate_group_id = null, duplicate_score = null, is_primary = true where duplicate_group_id = $1', [groupId]);
    await db.query('delete from duplicate_groups where id = $1', [groupId]);
  }
  return others;
}

/**
 * Put an assignment into a duplicate group when another agency's open assignment is the same job (see duplicateMatch;
 * a grouped candidate counts only through its group's primary: fitsGroup). Idempotent: membership is one column, so
 * running it again on every update never inflates a group, and an assignment whose update makes it no longer fit its
 * group leaves it. The primary (higher quality, then earlier, then lower id) is recomputed whenever a member joins.
 */
export async function detectDuplicates(db: Queryable, assignmentId: number, options: { minScore: number }): Promise<DuplicateResult> {
  await lockDuplicateGrouping(db); // already held when the caller took it first, as the worker does
  const [self] = await db.query<DuplicateCandidate>(`${CANDIDATE_SELECT} where id = $1 for update`, [assignmentId]);
  if (!self) return NONE;
  let leftBehind: number[] = [];
  if (self.duplicate_group_id !== null) {
    const groupId = Number(self.duplicate_group_id);
    const members = (await groupMembers(db, [groupId])).get(groupId) ?? [];
    if (fitsGroup(self, members, options.minScore))
      return { groupId, joinedExisting: false, isPrimary: self.is_primary, score: null, matchedAssignmentId: null, leftBehind: [] };
    leftBehind = await leaveGroup(db, self, groupId);
  }
  const candidates = await db.query<DuplicateCandidate>(
    `${CANDIDATE_SELECT}
      -- a copy whose post its agency deleted still counts: the job is the same, and its tutors were DMed already
      where (status = 'open' or (status = 'closed' and closed_reason = 'source_deleted')) and agency_id <> $1 and id <> $2
        and published_at between $3::timestamptz - interval '7 days' and $3::timestamptz + interval '7 days'
      order by published_at desc, id desc
      limit 200`,
    [self.agency_id, self.id, (self.published_at ?? new Date()).toISOString()],
  );
  const groups = await groupMembers(db, [...new Set(candidates.flatMap((c) => (c.duplicate_group_id === null ? [] : [Number(c.duplicate_group_id)])))]);
  let best: { c: DuplicateCandidate; score: number; groupId: number | null } | null = null;
  const seen = new Set<number>();
  for (const c of candidates) {
    const groupId = c.duplicate_group_id === null ? null : Number(c.duplicate_group_id);
    if (groupId !== null && seen.has(groupId)) continue;
    const members = groupId === null ? [] : (groups.get(groupId) ?? [c]);
    if (groupId !== null) seen.add(groupId);
    const match = groupId === null ? duplicateMatch(self, c) : fitsGroup(self, members, options.minScore);
    if (!match || match.ruledOut !== null || match.score < options.minScore) continue;
    if (best === null || match.score > best.score) best = { c: members.find((m) => m.is_primary) ?? c, score: match.score, groupId };
  }
  if (!best) return { ...NONE, leftBehind };

  let groupId = best.groupId;
  if (groupId === null) {
    const [g] = await db.query<{ id: number }>('insert into duplicate_groups default values returning id');
    groupId = Number(g!.id);
    await db.query('update assignments set duplicate_group_id = $1, duplicate_score = 100 where id = $2', [groupId, best.c.id]);
  }
  await db.query('update assignments set duplicate_group_id = $1, duplicate_score = $2 where id = $3', [groupId, best.score, self.id]);
  const primary = await recomputePrimary(db, groupId);
  // "Joined an existing one" for announcing: another copy is open (a group of deleted copies shows nothing).
  const [open] = await db.query<{ n: number }>(`select count(*)::int as n from assignments where duplicate_group_id = $1 and id <> $2 and status = 'open'`, [
    groupId,
    self.id,
  ]);
  const joinedExisting = best.groupId !== null && (open?.n ?? 0) > 0;
  return { groupId, joinedExisting, isPrimary: primary === Number(self.id), score: best.score, matchedAssignmentId: Number(best.c.id), leftBehind };
}

async function recomputePrimary(db: Queryable, groupId: number): Promise<number> {
  const [p] = await db.query<{ id: number }>(`select id from assignments where duplicate_group_id = $1 order by ${PRIMARY_ORDER} limit 1`, [groupId]);
  await db.query('update assignments set is_primary = (id = $2) where duplicate_group_id = $1', [groupId, p!.id]);
  await db.query('update duplicate_groups set primary_assignment_id = $2, updated_at = now() where id = $1', [groupId, p!.id]);
  return Number(p!.id);
}
