import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { LlmAssignment } from '../../extraction/index.ts';

/** One row of TutorCity's assignments API (`{"all_assignments_data": [row, …]}`); ids arrive as strings or numbers. */
const id = z.union([z.string(), z.number()]).transform((v) => String(v).trim());
const optionalText = z
  .string()
  .nullish()
  .transform((v) => (v ?? '').replace(/\u00a0/g, ' ').trim());
export const TutorCityRowSchema = z.object({
  assignment_code: id.pipe(z.string().min(1).max(64)),
  assignment_url: z.string().nullish(),
  subjects: z.array(id).nullish(),
  level: id.nullish(),
  year: id.nullish(),
  address: optionalText,
  postal_code: optionalText,
  availability: optionalText,
  hourly_rate: optionalText,
  tutor_gender: optionalText,
  additional_remarks: optionalText,
});
export type TutorCityRow = z.infer<typeof TutorCityRowSchema>;
export const TutorCityResponseSchema = z.object({ all_assignments_data: z.array(TutorCityRowSchema).max(5000) });

const IdMapsSchema = z.object({ subjects_by_id: z.record(z.string(), z.string()), levels_by_id: z.record(z.string(), z.string()) });
const ID_MAPS = IdMapsSchema.parse(JSON.parse(readFileSync(new URL('../../../data/sources/tutorcity/id_maps.json', import.meta.url), 'utf8')));

/**
 * One assignment of the feed: the rows sharing its code (TutorCity lists a job taught in two subjects as two rows,
 * each maybe with its own rate and times) merged, subjects unioned in feed order. This is what the raw log keeps.
 */
export interface TutorCityRecord {
  code: string;
  url: string | null;
  level: string | null;
  subjects: string[];
  address: string;
  postalCode: string;
  availability: string[];
  /** the rate as printed, per subject when the rows differ ("Maths: $30/h") */
  rates: string[];
  tutorGender: string;
  remarks: string;
}

/** "Primary" + year 4 → "Primary 4"; O Level → Secondary; A Level → JC. */
function levelName(levelId: string | null | undefined, year: string | null | undefined): string | null {
  const level = levelId ? ID_MAPS.levels_by_id[levelId] : undefined;
  if (!level) return null;
  const y = year && /^\d{1,2}$/.test(year) ? year : null;
  if (level === 'Primary') return y ? `Primary ${y}` : 'Primary';
  if (level === 'O Level') return y ? `Secondary ${y}` : 'Secondary';
  if (level === 'A Level') return y ? `JC ${y}` : 'JC';
  if (level === 'IB / IGCSE') return y ? `IB/IGCSE Year ${y}` : 'IB/IGCSE';
  return level;
}

const subjectName = (subjectId: string) => ID_MAPS.subjects_by_id[subjectId] ?? null;

/** The feed's rows merged by code (rows sharing a code are one assignment); the feed's order is kept. */
export function recordsFrom(rows: readonly TutorCityRow[]): TutorCityRecord[] {
  const byCode = new Map<string, TutorCityRow[]>();
  for (const row of rows) byCode.set(row.assignment_code, [...(byCode.get(row.assignment_code) ?? []), row]);
  return [...byCode.entries()].map(([code, group]) => {
    const first = group[0]!;
    const subjects: string[] = [];
    const rates: string[] = [];
    for (const row of group) {
      const names = (row.subjects ?? []).map(subjectName).filter((n): n is string => n !== null);
      for (const n of names) if (!subjects.includes(n)) subjects.push(n);
      if (row.hourly_rate) rates.push(group.length > 1 && names.length ? `${names.join(', ')}: ${row.hourly_rate}` : row.hourly_rate);
    }
    const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))];
    return {
      code,
      url: group.map((r) => r.assignment_url).find((u): u is string => typeof u === 'string' && /^https:\/\//.test(u)) ?? null,
      level: levelName(first.level, first.year),
      subjects,
      address: first.address,
      postalCode: first.postal_code,
      availability: uniq(group.map((r) => r.availability)),
      rates: uniq(rates),
      tutorGender: uniq(group.map((r) => r.tutor_gender)).join(', '),
      remarks: uniq(group.map((r) => r.additional_remarks)).join('\n'),
    };
  });
}

/** The record as a post a person (and the dashboard) reads; the raw log's text. */
export function recordText(r: TutorCityRecord): string {
  return [
    `TutorCity assignment ${r.code}`,
    `Level & Subject: ${[r.level, r.subjects.join(', ')].filter(Boolean).join(' ')}`,
    r.address ? `Address: ${r.address}` : null,
    r.postalCode ? `Postal code: ${r.postalCode}` : null,
    r.rates.length ? `Rate: ${r.rates.join('; ')}` : null,
    r.availability.length ? `Availability: ${r.availability.join('; ')}` : null,
    r.tutorGender ? `Tutor gender: ${r.tutorGender}` : null,
    r.remarks ? `Remarks: ${r.remarks}` : null,
  ]
    .filter((l): l is string => l !== null)
    .join('\n');
}

const money = (text: string): number[] => [...text.matchAll(/\$?\s?(\d{2,4}(?:\.\d{1,2})?)/g)].map((m) => Number(m[1])).filter((n) => n >= 5 && n <= 1000);

/** The record as the canonical extraction (no LLM: the fields are structured), for hardening like any post. */
export function recordAssignment(r: TutorCityRecord): LlmAssignment {
  const figures = r.rates.flatMap((t) => money(t.replace(/^[^:]*:/, '')));
  return {
    assignment_code: r.code,
    academic_display_text: [r.level, r.subjects.join(', ')].filter(Boolean).join(' ') || null,
    learning_mode: { mode: null, raw_text: null },
    address: r.address ? [r.address] : [],
    postal_code: /^\d{6}$/.test(r.postalCode) ? [r.postalCode] : [],
    nearest_mrt: [],
    lesson_schedule: r.availability,
    start_date: null,
    rate: { min: figures.length ? Math.min(...figures) : null, max: figures.length ? Math.max(...figures) : null, raw_text: r.rates.join('; ') || null },
    additional_remarks: r.remarks || null,
  };
}

/**
 * The raw log keys posts by (channel, numeric message id); a TutorCity code is a string ("33952", "D2388"). A
 * numeric code is its own id; any other is hashed into ids above 2^40, which no numeric code reaches.
 */
export function recordMessageId(code: string): number {
  if (/^\d{1,12}$/.test(code)) return Number(code);
  const h = Number.parseInt(createHash('sha256').update(code).digest('hex').slice(0, 12), 16); // 48 bits
  return 2 ** 40 + (h % (2 ** 52 - 2 ** 40));
}
