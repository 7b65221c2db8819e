import { z } from 'zod';

/**
 * The canonical assignment ("v2 display" object) and everything added after extraction. One set of zod schemas:
 * the LLM's structured-output JSON Schema is generated from `LlmAssignmentSchema` (never hand-written twice);
 * `.nullable()` (not `.optional()`) keeps every key required, as strict structured output wants.
 */

export const LEARNING_MODES = ['Online', 'Face-to-Face', 'Hybrid'] as const;
export const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Day = (typeof DAYS)[number];

const text = z.string();
const textList = z.array(z.string()).nullable();

export const LearningModeSchema = z.object({
  mode: z.enum(LEARNING_MODES).nullable().describe('Online | Face-to-Face | Hybrid only when the post says so explicitly; else null'),
  raw_text: text.nullable().describe('the verbatim snippet that states the mode, else null'),
});

export const RateSchema = z.object({
  min: z.number().nullable().describe('lowest explicit hourly figure; a single rate gives min = max; tiered rates with no unified range give null'),
  max: z.number().nullable().describe('highest explicit hourly figure'),
  raw_text: text.nullable().describe('the verbatim rate snippet'),
});

/** The ten keys the extractor (LLM or rules) produces, in this order. */
export const LlmAssignmentSchema = z
  .object({
    assignment_code: text.nullable().describe('only an explicitly printed code (e.g. "Code ID: 0101ei", "#A8703"); null if none or ambiguous'),
    academic_display_text: text.nullable().describe('the subject/level headline copied verbatim'),
    learning_mode: LearningModeSchema,
    address: textList.describe('verbatim location snippets'),
    postal_code: textList.describe('postal codes as printed; never inferred'),
    nearest_mrt: textList.describe('verbatim MRT/LRT snippets; never inferred'),
    lesson_schedule: textList.describe('verbatim frequency/duration/schedule snippets, one per line'),
    start_date: text.nullable().describe('verbatim start wording ("ASAP", "Jan 2026")'),
    rate: RateSchema,
    additional_remarks: text.nullable().describe('only an explicit remarks/notes section, verbatim'),
  })
  .strict();
export type LlmAssignment = z.infer<typeof LlmAssignmentSchema>;

export const DayMapSchema = z
  .object(Object.fromEntries(DAYS.map((d) => [d, z.array(z.string().regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/))])) as Record<Day, z.ZodArray<z.ZodString>>)
  .strict();
export type DayMap = Record<Day, string[]>;

export const TimeAvailabilitySchema = z.object({ explicit: DayMapSchema, estimated: DayMapSchema, note: text.nullable() }).strict();
export type TimeAvailability = z.infer<typeof TimeAvailabilitySchema>;

export const TutorTypeSchema = z.object({ canonical: text, original: text, agency: text.nullable(), confidence: z.number() });
export type TutorType = z.infer<typeof TutorTypeSchema>;

export const RateTierSchema = z.object({
  min: z.number().nullable(),
  max: z.number().nullable(),
  original_text: text.nullable(),
  currency: text.nullable(),
  unit: text.nullable(),
  confidence: z.number(),
});
export type RateTier = z.infer<typeof RateTierSchema>;

/** What is stored as canonical_json: the ten keys plus the fields added after extraction. */
export const CanonicalAssignmentSchema = LlmAssignmentSchema.extend({
  time_availability: TimeAvailabilitySchema,
  postal_code_estimated: textList,
  tutor_types: z.array(TutorTypeSchema).nullable(),
  rate_breakdown: z.record(z.string(), RateTierSchema).nullable(),
});
export type CanonicalAssignment = z.infer<typeof CanonicalAssignmentSchema>;

/** One subject/level request found in the text, with its own canonical codes (not one shared list for all levels). */
export const AcademicRequestSchema = z.object({
  level: text.nullable(),
  specific_student_level: text.nullable(),
  stream: text.nullable(),
  subjects: z.array(text),
  subjects_canonical: z.array(text),
});

export const SignalTokenSchema = z.object({ kind: text, value: text, start: z.number().int(), end: z.number().int(), text });

/** Deterministic signals, stored beside the canonical object. */
export const SignalsSchema = z.object({
  schema_version: z.literal(1),
  source: z.enum(['academic_display_text', 'normalized_text', 'raw_text']),
  text_chars: z.number().int(),
  subjects: z.array(text),
  subjects_canonical: z.array(text),
  subjects_general: z.array(text),
  canonicalization_version: z.number().int().nullable(),
  canonicalization_debug: z.record(z.string(), z.unknown()).nullable(),
  levels: z.array(text),
  specific_student_levels: z.array(text),
  streams: z.array(text),
  academic_requests: z.array(AcademicRequestSchema).nullable(),
  evidence: z.object({ source_text_chars: z.number().int(), tokens: z.array(SignalTokenSchema) }),
  confidence_flags: z.object({ ambiguous_academic_mapping: z.boolean() }).catchall(z.unknown()),
  tutor_types: z.array(TutorTypeSchema),
  rate_breakdown: z.record(z.string(), RateTierSchema),
});
export type Signals = z.infer<typeof SignalsSchema>;

export const emptyDayMap = (): DayMap => Object.fromEntries(DAYS.map((d) => [d, []])) as unknown as DayMap;
export const emptyTimeAvailability = (): TimeAvailability => ({ explicit: emptyDayMap(), estimated: emptyDayMap(), note: null });

export function emptyLlmAssignment(): LlmAssignment {
  return {
    assignment_code: null,
    academic_display_text: null,
    learning_mode: { mode: null, raw_text: null },
    address: null,
    postal_code: null,
    nearest_mrt: null,
    lesson_schedule: null,
    start_date: null,
    rate: { min: null, max: null, raw_text: null },
    additional_remarks: null,
  };
}

/** JSON Schema for the LLM's structured output, generated from the zod schema. */
export function llmJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(LlmAssignmentSchema, { target: 'draft-7' }) as Record<string, unknown>;
}
