import { LEARNING_MODES, LlmAssignmentSchema } from '../schema.ts';

/**
 * Harmless repairs of a parsed reply before strict validation. Each change is logged in `repaired`.
 * Anything not listed stays as-is, so zod reports it.
 */
const KEYS = Object.keys(LlmAssignmentSchema.shape);
const LIST_KEYS = new Set(['address', 'postal_code', 'nearest_mrt', 'lesson_schedule']);
const TEXT_KEYS = new Set(['assignment_code', 'academic_display_text', 'start_date', 'additional_remarks']);
const NESTED: Record<string, string[]> = { learning_mode: ['mode', 'raw_text'], rate: ['min', 'max', 'raw_text'] };

export function coerceAssignment(obj: Record<string, unknown>, repaired: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) if (!KEYS.includes(key)) repaired.push(`dropped_key:${key}`);
  for (const key of KEYS) {
    let value = obj[key];
    if (value === undefined) {
      repaired.push(`missing_key:${key}`);
      value = null;
    }
    if (key in NESTED) value = coerceNested(key, value, repaired);
    else if (LIST_KEYS.has(key)) value = coerceList(key, value, repaired);
    else if (TEXT_KEYS.has(key)) value = coerceText(key, value, repaired);
    out[key] = value;
  }
  return out;
}

function coerceNested(key: string, value: unknown, repaired: string[]): unknown {
  if (value === null) {
    repaired.push(`null_object:${key}`);
    value = {};
  }
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) if (!NESTED[key]?.includes(k)) repaired.push(`dropped_key:${key}.${k}`);
  for (const k of NESTED[key] ?? []) {
    let v = src[k];
    if (v === undefined) {
      repaired.push(`missing_key:${key}.${k}`);
      v = null;
    }
    if (k === 'raw_text') v = coerceText(`${key}.raw_text`, v, repaired);
    else if (key === 'rate') v = coerceNumber(`rate.${k}`, v, repaired);
    else v = coerceMode(v, repaired);
    out[k] = v;
  }
  return out;
}

function coerceList(key: string, value: unknown, repaired: string[]): unknown {
  if (typeof value === 'string') {
    repaired.push(`string_to_list:${key}`);
    return value.trim() ? [value] : null;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    if (value.some((v) => typeof v === 'number')) repaired.push(`number_to_string:${key}`);
    return value.map(String);
  }
  return value;
}

function coerceText(key: string, value: unknown, repaired: string[]): unknown {
  if (typeof value === 'number' && Number.isFinite(value)) {
    repaired.push(`number_to_string:${key}`);
    return String(value);
  }
  return value;
}

const NUMERIC = /^\s*(?:S?\$)?\s*(\d+(?:\.\d+)?)\s*$/i;

function coerceNumber(key: string, value: unknown, repaired: string[]): unknown {
  if (typeof value !== 'string') return value;
  if (!value.trim()) {
    repaired.push(`empty_to_null:${key}`);
    return null;
  }
  const m = NUMERIC.exec(value);
  if (!m) return value;
  repaired.push(`string_to_number:${key}`);
  return Number(m[1]);
}

function coerceMode(value: unknown, repaired: string[]): unknown {
  if (typeof value !== 'string') return value;
  const exact = LEARNING_MODES.find((m) => m.toLowerCase() === value.trim().toLowerCase());
  if (exact && exact !== value) repaired.push('mode_case:learning_mode.mode');
  return exact ?? value;
}
