import { z } from 'zod';
import type { Queryable } from '../db/index.ts';
import { haversineMeters } from '../extraction/index.ts';
import { levelVariants } from './resolve.ts';
import { clampRadiusKm } from './schema.ts';
import type { Tutor, TutorRow } from './store.ts';

/** What the matcher needs from an assignment (its extracted signals and location). */
export interface MatchableAssignment {
  id: number;
  subjectsCanonical: string[];
  subjectsGeneral: string[];
  levels: string[];
  specificLevels: string[];
  learningMode: string | null;
  lat: number | null;
  lon: number | null;
  rateMin: number | null;
  rateMax: number | null;
  tutorTypes: string[];
  /** Planning region (West, North, North-East, East, Central); undefined = looked up from the assignment row. */
  region?: string | null;
}

/** The `assignments` columns a match reads (select list) and the row they come back as. */
export const MATCHABLE_COLUMNS = `id, subjects_canonical, subjects_general, levels, specific_levels, learning_mode, postal_lat, postal_lon,
  rate_min::float8 as rate_min, rate_max::float8 as rate_max, tutor_types, region`;

export interface MatchableRow {
  id: number;
  subjects_canonical: string[];
  subjects_general: string[];
  levels: string[];
  specific_levels: string[];
  learning_mode: string | null;
  postal_lat: number | null;
  postal_lon: number | null;
  rate_min: number | null;
  rate_max: number | null;
  tutor_types: string[];
  region: string | null;
}

export function matchableFromRow(r: MatchableRow): MatchableAssignment {
  return {
    id: Number(r.id),
    subjectsCanonical: r.subjects_canonical,
    subjectsGeneral: r.subjects_general,
    levels: r.levels,
    specificLevels: r.specific_levels,
    learningMode: r.learning_mode,
    lat: r.postal_lat,
    lon: r.postal_lon,
    rateMin: r.rate_min,
    rateMax: r.rate_max,
    tutorTypes: r.tutor_types,
    region: r.region,
  };
}

/** One assignment as the matcher sees it; null when it does not exist. */
export async function loadMatchableAssignment(db: Queryable, assignmentId: number): Promise<MatchableAssignment | null> {
  const [row] = await db.query<MatchableRow>(`select ${MATCHABLE_COLUMNS} from assignments where id = $1`, [assignmentId]);
  return row ? matchableFromRow(row) : null;
}

export interface TutorMatch {
  tutorId: number;
  chatId: string;
  /** Straight-line km from the tutor's postal code, when both locations are known and the assignment is not online. */
  distanceKm: number | null;
  /** Which gates the tutor passed: subject, level, then online | distance | no_location, rate, mode, tutor_type. */
  reasons: string[];
}

const strings = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);
const num = z
  .number()
  .finite()
  .nullish()
  .transform((v) => v ?? null);

const AssignmentSchema = z.object({
  id: z.number().int(),
  subjectsCanonical: strings,
  subjectsGeneral: strings,
  levels: strings,
  specificLevels: strings,
  learningMode: z
    .string()
    .nullish()
    .transform((v) => v ?? null),
  lat: num,
  lon: num,
  rateMin: num,
  rateMax: num,
  tutorTypes: strings,
  region: z.string().nullish(),
});

const OptionsSchema = z.object({ cap: z.number().int().min(0) });

/** The tutor columns matching reads, plus the last DM time in epoch seconds. */
type CandidateRow = Pick<TutorRow, 'id' | 'chat_id' | 'postal_lat' | 'postal_lon' | 'max_distance_km' | 'min_rate' | 'learning_modes' | 'tutor_types'> & {
  last_dm: number | null;
  regions: string[];
};

/** The tutor preferences the gates read (a subset of a tutor; `active` false matches nothing). */
export type MatchPreferences = Pick<
  Tutor,
  'active' | 'subjects' | 'levels' | 'regions' | 'lat' | 'lon' | 'maxDistanceKm' | 'minRate' | 'learningModes' | 'tutorTypes'
>;

/** An assignment reduced to what the gates compare, computed once per assignment. */
export interface PreparedAssignment {
  id: number;
  subjects: string[];
  levels: string[];
  online: boolean;
  learningMode: string | null;
  lat: number | null;
  lon: number | null;
  rate: number | null;
  tutorTypes: Set<string>;
  region: string | null;
}

/** Normalise an assignment for the gates (subjects upper-cased, levels in every spelling, the higher rate). */
export function prepareAssignment(assignment: MatchableAssignment): PreparedAssignment {
  const a = AssignmentSchema.parse(assignment);
  const rates = [a.rateMin, a.rateMax].filter((r): r is number => r !== null);
  return {
    id: a.id,
    subjects: [...new Set([...a.subjectsCanonical, ...a.subjectsGeneral].map((s) => s.trim().toUpperCase()).filter(Boolean))],
    levels: levelVariants([...a.levels, ...a.specificLevels]),
    online: a.learningMode !== null && a.learningMode.trim().toLowerCase() === 'online',
    learningMode: a.learningMode,
    lat: a.lat,
    lon: a.lon,
    rate: rates.length > 0 ? Math.max(...rates) : null,
    tutorTypes: new Set(a.tutorTypes.map((t) => t.trim().toLowerCase()).filter(Boolean)),
    region: a.region ?? null,
  };
}

const regionKey = (r: string): string => r.toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Every gate of DM matching for one (tutor, assignment): active, subject and level overlap, then online |
 * distance (postal code) | region (no postal code but regions chosen) | no_location, rate floor, learning mode
 * and tutor types. Null = no match; otherwise the distance and the gates passed. `/preview` and DMs share it.
 */
export function gateTutor(t: MatchPreferences, a: PreparedAssignment): { distanceKm: number | null; reasons: string[] } | null {
  if (!t.active) return null;
  const subjects = new Set(t.subjects);
  const levels = new Set(t.levels);
  if (!a.subjects.some((s) => subjects.has(s)) || !a.levels.some((l) => levels.has(l))) return null;
  const reasons = ['subject', 'level'];
  let distanceKm: number | null = null;
  const tutorHasCoords = t.lat !== null && t.lon !== null;
  if (a.online) reasons.push('online');
  else if (tutorHasCoords) {
    if (a.lat === null || a.lon === null) return null;
    distanceKm = haversineMeters(t.lat!, t.lon!, a.lat, a.lon) / 1000;
    if (distanceKm > clampRadiusKm(t.maxDistanceKm)) return null;
    reasons.push('distance');
  } else if (t.regions.length > 0 && a.region !== null) {
    const want = new Set(t.regions.map(regionKey));
    if (!want.has(regionKey(a.region))) return null;
    reasons.push('region');
  } else reasons.push('no_location');
  if (t.minRate !== null && a.rate !== null) {
    if (a.rate < t.minRate) return null;
    reasons.push('rate');
  }
  if (!modeAllows(t.learningModes, a.learningMode)) return null;
  if (t.learningModes.length > 0 && a.learningMode !== null) reasons.push('mode');
  if (a.tutorTypes.size > 0 && t.tutorTypes.length > 0) {
    if (!t.tutorTypes.some((x) => a.tutorTypes.has(x.trim().toLowerCase()))) return null;
    reasons.push('tutor_type');
  }
  return { distanceKm: distanceKm === null ? null : Math.round(distanceKm * 1000) / 1000, reasons };
}

const modeKey = (m: string): string => m.toLowerCase().replace(/[\s_-]+/g, '');

/** A deterministic 32-bit mix of (assignment id, tutor id): the last tie-break, so equal tutors are not ordered by id. */
export function fairHash(assignmentId: number, tutorId: number): number {
  let h = 0x811c9dc5 ^ (assignmentId | 0);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= Math.imul(tutorId | 0, 0xc2b2ae35) + Math.floor(assignmentId / 2 ** 32) + Math.floor(tutorId / 2 ** 32);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Learning-mode gate: no tutor preference or unknown assignment mode → pass; hybrid tutors take either. */
function modeAllows(tutorModes: string[], assignmentMode: string | null): boolean {
  if (tutorModes.length === 0 || assignmentMode === null) return true;
  const tutor = new Set(tutorModes.map(modeKey));
  const a = modeKey(assignmentMode);
  if (a === 'online') return tutor.has('online') || tutor.has('hybrid');
  if (a === 'facetoface' || a === 'f2f') return tutor.has('facetoface') || tutor.has('hybrid');
  if (a === 'hybrid') return tutor.has('online') || tutor.has('facetoface') || tutor.has('hybrid');
  return true;
}

/**
 * Active tutors for an assignment, fairly ordered, at most `cap`. Subject and level overlap are filtered in SQL (`&&`
 * on the text[] columns); distance, rate floor, learning mode and tutor types in TypeScript. Order, fair so that
 * every tutor is reached in turn under the cap: least recently DMed first (never DMed first of all), then nearer,
 * then a hash of (assignment id, tutor id) – never the tutor id itself, so no tutor is starved by its id.
 */
export async function matchTutors(db: Queryable, assignment: MatchableAssignment, opts: { cap: number }): Promise<TutorMatch[]> {
  const parsed = AssignmentSchema.parse(assignment);
  const { cap } = OptionsSchema.parse(opts);
  if (parsed.region === undefined) {
    const [row] = await db.query<{ region: string | null }>('select region from assignments where id = $1', [parsed.id]);
    parsed.region = row?.region ?? null;
  }
  const a = prepareAssignment(parsed);
  if (cap === 0 || a.subjects.length === 0 || a.levels.length === 0) return [];

  const rows = await db.query<CandidateRow>(
    `select id, chat_id, postal_lat, postal_lon, max_distance_km::float8 as max_distance_km, min_rate::float8 as min_rate,
            learning_modes, tutor_types, regions, extract(epoch from last_dm_at)::float8 as last_dm
       from tutors
      where active and subjects && $1::text[] and levels && $2::text[]`,
    [a.subjects, a.levels],
  );

  const matches: Array<TutorMatch & { lastDm: number | null; hash: number }> = [];
  for (const t of rows) {
    const gate = gateTutor(
      {
        active: true,
        // the SQL already checked the overlap; hand the gate the assignment's own values so it passes
        subjects: a.subjects,
        levels: a.levels,
        regions: t.regions,
        lat: t.postal_lat,
        lon: t.postal_lon,
        maxDistanceKm: t.max_distance_km,
        minRate: t.min_rate,
        learningModes: t.learning_modes,
        tutorTypes: t.tutor_types,
      },
      a,
    );
    if (!gate) continue;
    matches.push({
      tutorId: t.id,
      chatId: String(t.chat_id),
      distanceKm: gate.distanceKm,
      reasons: gate.reasons,
      lastDm: t.last_dm,
      hash: fairHash(a.id, t.id),
    });
  }

  matches.sort((x, y) => {
    if (x.lastDm !== y.lastDm) {
      if (x.lastDm === null) return -1;
      if (y.lastDm === null) return 1;
      return x.lastDm - y.lastDm;
    }
    if (x.distanceKm !== y.distanceKm) {
      if (x.distanceKm === null) return 1;
      if (y.distanceKm === null) return -1;
      return x.distanceKm - y.distanceKm;
    }
    return x.hash - y.hash || x.tutorId - y.tutorId;
  });
  return matches.slice(0, cap).map(({ tutorId, chatId, distanceKm, reasons }) => ({ tutorId, chatId, distanceKm, reasons }));
}

/** Record that these tutors were just queued a DM (feeds the least-recently-DMed ordering). */
export async function markDmQueued(db: Queryable, tutorIds: number[]): Promise<void> {
  const ids = z.array(z.number().int()).parse(tutorIds);
  if (ids.length === 0) return;
  await db.query('update tutors set last_dm_at = now() where id = any($1::bigint[])', [ids]);
}

/** One open assignment as `/preview` shows it. */
export interface PreviewAssignment {
  id: number;
  title: string | null;
  subjects: string[];
  levels: string[];
  region: string | null;
  learningMode: string | null;
  rateMin: number | null;
  rateMax: number | null;
  messageLink: string | null;
  postedAt: Date | null;
  distanceKm: number | null;
}

export interface PreviewResult {
  /** Open assignments (primary of their duplicate group) these preferences match. */
  count: number;
  /** The newest matches, newest first. */
  newest: PreviewAssignment[];
}

interface OpenAssignmentRow extends MatchableRow {
  academic_display_text: string | null;
  subjects: string[];
  message_link: string | null;
  posted_at: Date | string | null;
}

/**
 * How many open assignments these preferences match, and the newest few: the same gates as DM matching
 * (`gateTutor`), over every open primary assignment, newest first (published, else created).
 */
export async function previewMatches(db: Queryable, prefs: MatchPreferences, opts: { limit?: number } = {}): Promise<PreviewResult> {
  const limit = z
    .number()
    .int()
    .min(0)
    .max(50)
    .parse(opts.limit ?? 3);
  if (!prefs.active || prefs.subjects.length === 0 || prefs.levels.length === 0) return { count: 0, newest: [] };
  const rows = await db.query<OpenAssignmentRow>(
    `select ${MATCHABLE_COLUMNS}, academic_display_text, subjects, message_link, coalesce(published_at, created_at) as posted_at
       from assignments
      where status = 'open' and is_primary
      order by coalesce(published_at, created_at) desc, id desc`,
  );
  let count = 0;
  const newest: PreviewAssignment[] = [];
  for (const r of rows) {
    const a = prepareAssignment(matchableFromRow(r));
    const gate = gateTutor(prefs, a);
    if (!gate) continue;
    count++;
    if (newest.length < limit) {
      newest.push({
        id: r.id,
        title: r.academic_display_text,
        subjects: r.subjects.length > 0 ? r.subjects : r.subjects_canonical,
        levels: [...new Set([...r.levels, ...r.specific_levels])],
        region: r.region,
        learningMode: r.learning_mode,
        rateMin: r.rate_min,
        rateMax: r.rate_max,
        messageLink: r.message_link,
        postedAt: r.posted_at === null ? null : r.posted_at instanceof Date ? r.posted_at : new Date(r.posted_at),
        distanceKm: gate.distanceKm,
      });
    }
  }
  return { count, newest };
}
