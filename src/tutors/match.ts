import { z } from 'zod';
import type { Queryable } from '../db/index.ts';
import { haversineMeters } from '../extraction/index.ts';
import { levelVariants } from './resolve.ts';
import { clampRadiusKm } from './schema.ts';
import type { TutorRow } from './store.ts';

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
}

export interface TutorMatch {
  tutorId: number;
  chatId: string;
  /** Straight-line km from the tutor's postal code, when both locations are known and the assignment is not online. */
  distanceKm: number | null;
  /** Which gates the tutor passed: subject, level, then online | distance | no_location, rate, mode, tutor_type. */
  reasons: string[];
}

const strings = z.array(z.string()).nullish().transform((v) => v ?? []);
const num = z.number().finite().nullish().transform((v) => v ?? null);

const AssignmentSchema = z.object({
  id: z.number().int(),
  subjectsCanonical: strings,
  subjectsGeneral: strings,
  levels: strings,
  specificLevels: strings,
  learningMode: z.string().nullish().transform((v) => v ?? null),
  lat: num,
  lon: num,
  rateMin: num,
  rateMax: num,
  tutorTypes: strings,
});

const OptionsSchema = z.object({ cap: z.number().int().min(0) });

/** The tutor columns matching reads, plus the last DM time in epoch seconds. */
type CandidateRow = Pick<TutorRow, 'id' | 'chat_id' | 'postal_lat' | 'postal_lon' | 'max_distance_km' | 'min_rate' | 'learning_modes' | 'tutor_types'> & {
  last_dm: number | null;
};

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
 * Active tutors for an assignment, fairly ordered, at most `cap`.
 * Subject and level overlap are filtered in SQL (`&&` on the text[] columns); distance, rate floor, learning mode and
 * tutor types in TypeScript. Order (B17): least recently DMed first (never DMed first of all), then nearer, then a
 * hash of (assignment id, tutor id) – never the tutor id itself, so no tutor is starved by its id.
 */
export async function matchTutors(db: Queryable, assignment: MatchableAssignment, opts: { cap: number }): Promise<TutorMatch[]> {
  const a = AssignmentSchema.parse(assignment);
  const { cap } = OptionsSchema.parse(opts);
  const subjects = [...new Set([...a.subjectsCanonical, ...a.subjectsGeneral].map((s) => s.trim().toUpperCase()).filter(Boolean))];
  const levels = levelVariants([...a.levels, ...a.specificLevels]);
  if (cap === 0 || subjects.length === 0 || levels.length === 0) return [];

  const rows = await db.query<CandidateRow>(
    `select id, chat_id, postal_lat, postal_lon, max_distance_km::float8 as max_distance_km, min_rate::float8 as min_rate,
            learning_modes, tutor_types, extract(epoch from last_dm_at)::float8 as last_dm
       from tutors
      where active and subjects && $1::text[] and levels && $2::text[]`,
    [subjects, levels],
  );

  const online = a.learningMode !== null && a.learningMode.trim().toLowerCase() === 'online';
  const rates = [a.rateMin, a.rateMax].filter((r): r is number => r !== null);
  const rate = rates.length > 0 ? Math.max(...rates) : null;
  const assignmentTypes = new Set(a.tutorTypes.map((t) => t.trim().toLowerCase()).filter(Boolean));

  const matches: Array<TutorMatch & { lastDm: number | null; hash: number }> = [];
  for (const t of rows) {
    const reasons = ['subject', 'level'];
    let distanceKm: number | null = null;
    const tutorHasCoords = t.postal_lat !== null && t.postal_lon !== null;
    if (online) reasons.push('online');
    else if (!tutorHasCoords) reasons.push('no_location');
    else {
      if (a.lat === null || a.lon === null) continue;
      distanceKm = haversineMeters(t.postal_lat!, t.postal_lon!, a.lat, a.lon) / 1000;
      if (distanceKm > clampRadiusKm(t.max_distance_km)) continue;
      reasons.push('distance');
    }
    if (t.min_rate !== null && rate !== null) {
      if (rate < t.min_rate) continue;
      reasons.push('rate');
    }
    if (!modeAllows(t.learning_modes, a.learningMode)) continue;
    if (t.learning_modes.length > 0 && a.learningMode !== null) reasons.push('mode');
    if (assignmentTypes.size > 0 && t.tutor_types.length > 0) {
      if (!t.tutor_types.some((x) => assignmentTypes.has(x.trim().toLowerCase()))) continue;
      reasons.push('tutor_type');
    }
    matches.push({
      tutorId: t.id,
      chatId: String(t.chat_id),
      distanceKm: distanceKm === null ? null : Math.round(distanceKm * 1000) / 1000,
      reasons,
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
