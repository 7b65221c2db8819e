/** parse_quality_score: a sum of points for the fields a post yielded. Never throws. */
import { DAYS } from '../schema.ts';
import { isRecord } from './text.ts';

export interface QualityExtras {
  region: string | null;
  nearestMrtComputed: string | null;
  /** deterministic signals (subjects +2, levels or specific levels +1); absent → those points are not given */
  signals?: { subjects?: unknown; levels?: unknown; specific_student_levels?: unknown } | null;
}

function present(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.some(present);
  if (typeof v === 'number') return Number.isFinite(v);
  return isRecord(v) ? Object.values(v).some(present) : Boolean(v);
}

function hasTime(v: unknown): boolean {
  if (!isRecord(v)) return false;
  return present(v.note) || [v.explicit, v.estimated].some((map) => isRecord(map) && DAYS.some((d) => present(map[d])));
}

export function parseQualityScore(canonical: unknown, extras: QualityExtras): number {
  const c = isRecord(canonical) ? canonical : {};
  const rate = isRecord(c.rate) ? c.rate : {};
  const signals = extras?.signals ?? null;
  const points: [boolean, number][] = [
    [present(c.academic_display_text), 3],
    [present(c.assignment_code), 1],
    [present(signals?.subjects), 2],
    [present(signals?.levels) || present(signals?.specific_student_levels), 1],
    [['address', 'postal_code', 'postal_code_estimated', 'nearest_mrt'].some((k) => present(c[k])), 2],
    [present(rate.min) || present(rate.max) || present(rate.raw_text), 1],
    [present(c.lesson_schedule), 1],
    [hasTime(c.time_availability), 1],
    [present(extras?.region), 1],
    [present(extras?.nearestMrtComputed), 1],
  ];
  return points.reduce((sum, [ok, n]) => sum + (ok ? n : 0), 0);
}
