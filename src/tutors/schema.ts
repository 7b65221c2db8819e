import { z } from 'zod';
import { coordsForPostalCode, normalizePostalCode } from '../extraction/index.ts';
import { resolveLevels, resolveSubjects } from './resolve.ts';

/** Radius limits and default (km) – the same numbers the matcher uses. */
export const MIN_DISTANCE_KM = 0.5;
export const MAX_DISTANCE_KM = 50;
export const DEFAULT_DISTANCE_KM = 5;

export const TUTOR_LEARNING_MODES = ['online', 'face-to-face', 'hybrid'] as const;
export type TutorLearningMode = (typeof TUTOR_LEARNING_MODES)[number];

/** Radius in km: clamped to [0.5, 50]; missing, non-numeric or ≤ 0 → 5. */
export function clampRadiusKm(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return DEFAULT_DISTANCE_KM;
  return Math.min(MAX_DISTANCE_KM, Math.max(MIN_DISTANCE_KM, n));
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A list given as an array or as one string separated by `;`, `|` or `,`. */
const listInput = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(/[;|,]/)).map((s) => s.trim()).filter((s) => s.length > 0));

const optionalText = z
  .union([z.string(), z.null()])
  .transform((v) => (v === null || v.trim() === '' ? null : v.trim()))
  .optional();

const chatId = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = String(v).trim();
  const n = Number(text);
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(n) || n === 0) {
    ctx.addIssue({ code: 'custom', message: `must be a Telegram chat id (an integer), got "${text}"` });
    return z.NEVER;
  }
  return n;
});

/** Checked here; turned into codes with the profile's levels once both are read (TutorInputSchema). */
const subjects = listInput.transform((list, ctx) => {
  try {
    const codes = resolveSubjects(list);
    if (codes.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one subject is required' });
    return list;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: message(err) });
    return z.NEVER;
  }
});

const levels = listInput.transform((list, ctx) => {
  try {
    const out = resolveLevels(list);
    if (out.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one level is required' });
    return out;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: message(err) });
    return z.NEVER;
  }
});

export interface PostalInfo {
  code: string | null;
  lat: number | null;
  lon: number | null;
}

export const PostalCodeSchema = z
  .union([z.string(), z.number(), z.null()])
  .transform((v, ctx): PostalInfo => {
    if (v === null || String(v).trim() === '') return { code: null, lat: null, lon: null };
    const code = normalizePostalCode(v);
    const where = code ? coordsForPostalCode(code) : null;
    if (!code || !where) {
      ctx.addIssue({ code: 'custom', message: `invalid postal code "${String(v).trim()}" (expected a six-digit Singapore postal code)` });
      return z.NEVER;
    }
    return { code, lat: where.lat, lon: where.lon };
  })
  .optional();

const numberLike = (what: string) =>
  z.union([z.number(), z.string(), z.null()]).transform((v, ctx): number | null => {
    if (v === null || (typeof v === 'string' && v.trim() === '')) return null;
    const n = typeof v === 'number' ? v : Number(v.trim());
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `${what} must be a number, got "${String(v)}"` });
      return z.NEVER;
    }
    return n;
  });

const maxDistance = numberLike('max distance')
  .transform((n) => clampRadiusKm(n))
  .optional();

const minRate = numberLike('min rate')
  .refine((n) => n === null || n >= 0, { message: 'min rate must be 0 or more' })
  .optional();

const learningModes = listInput
  .transform((list, ctx) => {
    const out: TutorLearningMode[] = [];
    for (const raw of list) {
      const key = raw.toLowerCase().replace(/[\s_-]+/g, '');
      const mode: TutorLearningMode | null =
        key === 'online' ? 'online' : key === 'facetoface' || key === 'f2f' || key === 'inperson' ? 'face-to-face' : key === 'hybrid' ? 'hybrid' : null;
      if (!mode) {
        ctx.addIssue({ code: 'custom', message: `unknown learning mode "${raw}" (use online, face-to-face or hybrid)` });
        return z.NEVER;
      }
      if (!out.includes(mode)) out.push(mode);
    }
    return out;
  })
  .optional();

const lowerList = listInput.transform((list) => [...new Set(list.map((s) => s.toLowerCase().replace(/\s+/g, ' ')))]).optional();

const booleanLike = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(s)) return true;
  if (['false', 'no', 'n', '0'].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` });
  return z.NEVER;
});

/**
 * A tutor profile as given by a person (CLI flags, an import row). Lists may be arrays or `;`/`|`/`,`-separated
 * strings. Omitted optional fields keep their stored value on update (partial upsert).
 */
export const TutorInputSchema = z
  .object({
    chatId: chatId,
    displayName: optionalText,
    subjects,
    levels,
    regions: lowerList,
    postalCode: PostalCodeSchema,
    maxDistanceKm: maxDistance,
    minRate,
    learningModes,
    tutorTypes: lowerList,
    dmDailyLimit: z.coerce.number<string | number>().int().min(0).max(1000).optional(),
    active: booleanLike.optional(),
  })
  .strict()
  .transform((t) => (t.subjects === undefined ? t : { ...t, subjects: resolveSubjects(t.subjects, t.levels ?? []) }));

export type TutorInput = z.input<typeof TutorInputSchema>;
export type ParsedTutorInput = z.output<typeof TutorInputSchema>;
