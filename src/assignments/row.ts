import { createHash } from 'node:crypto';
import type { AssignmentInput } from './types.ts';
import { hourlyRange } from '../extraction/index.ts';

/** Column → SQL type of every content column the projection writes, in one place for insert and update. */
export const CONTENT_COLUMNS = {
  assignment_code: 'text',
  academic_display_text: 'text',
  subjects: 'text[]',
  subjects_canonical: 'text[]',
  subjects_general: 'text[]',
  levels: 'text[]',
  specific_levels: 'text[]',
  tutor_types: 'text[]',
  learning_mode: 'text',
  address: 'text[]',
  postal_code: 'text[]',
  postal_code_estimated: 'text[]',
  region: 'text',
  nearest_mrt: 'text[]',
  nearest_mrt_computed: 'text',
  lesson_schedule: 'text[]',
  start_date: 'text',
  additional_remarks: 'text',
  time_availability: 'jsonb',
  rate_min: 'float8',
  rate_max: 'float8',
  rate_raw_text: 'text',
  postal_lat: 'float8',
  postal_lon: 'float8',
  postal_coords_estimated: 'boolean',
  canonical_json: 'jsonb',
  meta: 'jsonb',
  parse_quality_score: 'integer',
  text_fingerprint: 'text',
} as const;
export type ContentColumn = keyof typeof CONTENT_COLUMNS;
export type ContentRow = Record<ContentColumn, unknown>;

/** Signal arrays are unioned when a lower-quality sighting merges into a row (never dropped). */
export const UNION_COLUMNS: readonly ContentColumn[] = ['subjects', 'subjects_canonical', 'subjects_general', 'levels', 'specific_levels', 'tutor_types'];

/** Fields a tutor sees in a broadcast: a change to any of them edits the broadcast message. */
export const DISPLAY_COLUMNS: readonly ContentColumn[] = [
  'assignment_code',
  'academic_display_text',
  'learning_mode',
  'address',
  'postal_code',
  'postal_code_estimated',
  'nearest_mrt',
  'lesson_schedule',
  'start_date',
  'additional_remarks',
  'time_availability',
  'rate_min',
  'rate_max',
  'rate_raw_text',
];

const list = (v: unknown): string[] | null => {
  if (!Array.isArray(v)) return null;
  const out = v.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  return out.length ? out : null;
};
const strings = (v: unknown): string[] => list(v) ?? [];
const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Whitespace- and case-insensitive text identity of one assignment of a post: the same text re-posted gets the
 * same fingerprint. The items of a compilation share their post's text, so the item key is part of it (without
 * it, item 2 was found "by text" as item 1 and overwrote it).
 */
export function textFingerprint(text: string, itemKey = ''): string {
  const normalized = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256')
    .update(itemKey === '' ? normalized : `${normalized}\u0000item:${itemKey}`)
    .digest('hex')
    .slice(0, 32);
}

/** The assignment code, upper-cased, only when it appears verbatim in the post (a hallucinated code is no identity). */
export function verifiedCode(code: string | null, rawText: string): string | null {
  const c = code?.trim();
  if (!c || c.length < 2) return null;
  const squash = (s: string) => s.toLowerCase().replace(/\s+/g, '');
  return squash(rawText).includes(squash(c)) ? c.toUpperCase() : null;
}

/** https://t.me/<name>/<id> for a public channel, https://t.me/c/<id>/<msg> for a numeric one. */
export function messageLink(channelLink: string, messageId: number): string | null {
  const name = channelLink.replace(/^(https?:\/\/)?t\.me\//i, '');
  if (/^-100\d+$/.test(name)) return `https://t.me/c/${name.slice(4)}/${messageId}`;
  if (/^[A-Za-z][A-Za-z0-9_]{3,}$/.test(name)) return `https://t.me/${name}/${messageId}`;
  return null;
}

/** Display name of an agency from its channel title, else the channel name (never a placeholder shared by channels). */
export function agencyDisplayName(channelLink: string, title: string | null): string {
  const t = title?.trim();
  if (t) return t;
  return channelLink.replace(/^(https?:\/\/)?t\.me\//i, '');
}

export function buildContentRow(input: AssignmentInput): ContentRow {
  const c = input.canonical;
  const s = input.signals;
  const geo = record(input.meta.geo);
  const lat = finite(geo.lat);
  const lon = finite(geo.lon);
  const statusDetection = record(input.meta.status_detection);
  const hourly = hourlyRange(c.rate, c.rate_breakdown ?? s?.rate_breakdown ?? null);
  return {
    assignment_code: c.assignment_code?.trim() || null,
    academic_display_text: c.academic_display_text?.trim() || null,
    subjects: strings(s?.subjects),
    subjects_canonical: strings(s?.subjects_canonical),
    subjects_general: strings(s?.subjects_general),
    levels: strings(s?.levels),
    specific_levels: strings(s?.specific_student_levels),
    tutor_types: [...new Set((c.tutor_types ?? s?.tutor_types ?? []).map((t) => t.canonical))],
    learning_mode: c.learning_mode.mode,
    address: list(c.address),
    postal_code: list(c.postal_code),
    postal_code_estimated: list(c.postal_code_estimated),
    region: typeof geo.region === 'string' ? geo.region : null,
    nearest_mrt: list(c.nearest_mrt),
    nearest_mrt_computed: typeof geo.nearest_mrt_computed === 'string' ? geo.nearest_mrt_computed : null,
    lesson_schedule: list(c.lesson_schedule),
    start_date: c.start_date?.trim() || null,
    additional_remarks: c.additional_remarks?.trim() || null,
    time_availability: c.time_availability,
    // what matching compares with a tutor's minimum: the hourly range over every tier ("$60/1.5h" is 40)
    rate_min: hourly?.min ?? null,
    rate_max: hourly?.max ?? null,
    rate_raw_text: c.rate.raw_text?.trim() || null,
    postal_lat: lat,
    postal_lon: lon,
    postal_coords_estimated: lat !== null && geo.source !== 'postal_code',
    canonical_json: c,
    meta: {
      extraction_id: input.extractionId,
      pipeline_version: input.pipelineVersion,
      status_detection: Object.keys(statusDetection).length ? statusDetection : null,
      geo: Object.keys(geo).length ? geo : null,
      signals_ok: s !== null,
    },
    parse_quality_score: Math.round(finite(input.meta.parse_quality_score) ?? 0),
    text_fingerprint: textFingerprint(input.rawText, input.itemKey),
  };
}

/** A value counts as missing when null, blank or an empty list (the merge fills those). */
export function isBlank(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
}

/** Stable JSON for comparisons (sorted keys). */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
