/**
 * Hard validator, enforce mode (docs/extraction.md, "Hardening"). Types are coerced or nulled, and snippets the post
 * does not support are nulled: authoritative text must occur in the text (after normalisation), postal codes must be
 * printed, rate figures must be printed in an hourly rate snippet, remarks must follow a remarks marker. Always emits
 * learning_mode, time_availability, rate, tutor_types and rate_breakdown; the other keys only when present. Never
 * throws.
 */
import { LEARNING_MODES } from '../schema.ts';
import { coerceList } from './coerce.ts';
import { canonicalPostalCode } from './postal.ts';
import type { SupportIndex } from './support.ts';
import { isSupported, supportIndex } from './support.ts';
import { isRecord, lines, supportKey } from './text.ts';
import { checkRate, toNumber } from './validate-rate.ts';
import { cleanTimeAvailability } from './validate-time.ts';
import { cleanRateBreakdown, cleanTutorTypes } from './validate-tutor.ts';
import type { Violation } from './violations.ts';
import { F2F_RE, NEGATED_ONLINE_RE, onlineAsFallback, ONLINE_RE, REMARKS_MARKER } from './vocab.ts';

export type { Violation, ViolationCode } from './violations.ts';

const KEY_ORDER = [
  'assignment_code',
  'academic_display_text',
  'learning_mode',
  'address',
  'postal_code',
  'nearest_mrt',
  'lesson_schedule',
  'start_date',
  'time_availability',
  'rate',
  'additional_remarks',
  'postal_code_estimated',
  'tutor_types',
  'rate_breakdown',
] as const;
const ALWAYS = new Set(['learning_mode', 'time_availability', 'rate', 'tutor_types', 'rate_breakdown']);
/** More items than this are not a real post; the cap bounds the support checks on huge inputs. */
const MAX_ITEMS = 100;
const TEXT_LISTS = ['address', 'nearest_mrt', 'lesson_schedule'] as const;

interface Ctx {
  support: SupportIndex;
  rawText: string;
  violations: Violation[];
}

function violate(ctx: Ctx, field: string, code: Violation['code'], detail: string): null {
  ctx.violations.push({ field, code, detail });
  return null;
}

/** A string, or a finite number stringified (a numeric assignment code is kept, not nulled). */
function scalarText(ctx: Ctx, field: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
  if (s === null) return violate(ctx, field, 'TYPE', 'expected string or null');
  return s.trim() || null;
}

function supportedText(ctx: Ctx, field: string, v: unknown): string | null {
  const s = scalarText(ctx, field, v);
  if (s !== null && !isSupported(ctx.support, s)) return violate(ctx, field, 'SUPPORT', 'not found in the text');
  return s;
}

/** Bare strings are wrapped in a list, non-text items dropped, de-duplicated case-insensitively. */
function textList(ctx: Ctx, field: string, v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' && !Array.isArray(v)) return violate(ctx, field, 'TYPE', 'expected list of strings');
  const items = Array.isArray(v) ? v.slice(0, MAX_ITEMS) : [v];
  const kept = items.filter((item, i) => {
    const ok = typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item));
    if (!ok) violate(ctx, `${field}[${i}]`, 'TYPE', 'expected string');
    return ok;
  });
  return coerceList(kept);
}

function supportedList(ctx: Ctx, field: string, v: unknown): string[] | null {
  const supported = (textList(ctx, field, v) ?? []).filter((s) => {
    if (isSupported(ctx.support, s)) return true;
    violate(ctx, field, 'SUPPORT', `not found in the text: ${s.slice(0, 80)}`);
    return false;
  });
  return coerceList(supported);
}

/** Postal codes become their 6 digits; a code that is not a valid code or is not printed in the text is dropped. */
function postalCodes(ctx: Ctx, field: string, v: unknown, mustBePrinted: boolean): string[] | null {
  const items = textList(ctx, field, v) ?? [];
  const digitsOfText = mustBePrinted ? ctx.rawText.replace(/[^\d\n ]/g, ' ') : '';
  const out = items.map((s) => {
    const code = canonicalPostalCode(s);
    if (!code) return violate(ctx, field, 'TYPE', `not a postal code: ${s.slice(0, 40)}`);
    if (mustBePrinted && !new RegExp(`(?<!\\d)${code}(?!\\d)`).test(digitsOfText)) return violate(ctx, field, 'SUPPORT', `${code} not printed`);
    return code;
  });
  return coerceList(out);
}

function canonicalMode(ctx: Ctx, v: unknown): (typeof LEARNING_MODES)[number] | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return violate(ctx, 'learning_mode.mode', 'TYPE', 'expected string');
  const key = v.toLowerCase().replace(/[\s_-]+/g, '');
  const mode = LEARNING_MODES.find((m) => m.toLowerCase().replace(/-/g, '') === key) ?? (key === 'f2f' ? 'Face-to-Face' : null);
  return mode ?? violate(ctx, 'learning_mode.mode', 'ENUM', `not one of ${LEARNING_MODES.join('|')}: ${v.slice(0, 40)}`);
}

/** The post must mention the mode: an online term for Online, an in-person term for Face-to-Face, both (or "hybrid") for Hybrid. */
function modeSupported(ctx: Ctx, mode: string): boolean {
  const online = ONLINE_RE.test(ctx.rawText.replace(NEGATED_ONLINE_RE, ''));
  const f2f = F2F_RE.test(ctx.rawText);
  if (mode === 'Online') return online;
  if (mode === 'Face-to-Face') return f2f;
  return (online && f2f) || /\bhybrid\b|\b(?:online|zoom)\s+or\b|\bor\s+(?:online|zoom)\b/i.test(ctx.rawText) || onlineAsFallback(ctx.rawText);
}

function learningMode(ctx: Ctx, v: unknown): { mode: string | null; raw_text: string | null } {
  if (typeof v === 'string') v = { mode: v, raw_text: null };
  if (!isRecord(v)) {
    if (v !== null && v !== undefined) violate(ctx, 'learning_mode', 'TYPE', 'expected object');
    return { mode: null, raw_text: null };
  }
  let mode = canonicalMode(ctx, v.mode);
  if (mode && !modeSupported(ctx, mode)) mode = violate(ctx, 'learning_mode.mode', 'SUPPORT', `${mode} not stated in the text`);
  return { mode, raw_text: supportedText(ctx, 'learning_mode.raw_text', v.raw_text) };
}

function rate(ctx: Ctx, v: unknown): { min: number | null; max: number | null; raw_text: string | null } {
  if (!isRecord(v)) {
    if (v !== null && v !== undefined) violate(ctx, 'rate', 'TYPE', 'expected object');
    return { min: null, max: null, raw_text: null };
  }
  const raw_text = supportedText(ctx, 'rate.raw_text', v.raw_text);
  const num = (field: 'min' | 'max'): number | null => {
    const n = toNumber(v[field]);
    return n === undefined ? violate(ctx, `rate.${field}`, 'TYPE', 'expected number or numeric string') : n;
  };
  const { min, max } = checkRate(num('min'), num('max'), raw_text, ctx.violations);
  return { min, max, raw_text };
}

/** The remark must occur after the first remarks marker, not anywhere in the post. */
function remarks(ctx: Ctx, v: unknown): string | null {
  const s = scalarText(ctx, 'additional_remarks', v);
  if (s === null) return null;
  const all = lines(ctx.rawText);
  const at = all.findIndex((line) => REMARKS_MARKER.test(line));
  if (at < 0) return violate(ctx, 'additional_remarks', 'SUPPORT', 'no remarks marker');
  const tail = supportKey(all.slice(at).join('\n'));
  if (!tail.includes(supportKey(s))) return violate(ctx, 'additional_remarks', 'SUPPORT', 'not found after the remarks marker');
  return s;
}

function cleanField(ctx: Ctx, key: (typeof KEY_ORDER)[number], v: unknown): unknown {
  switch (key) {
    case 'assignment_code':
      return supportedText(ctx, key, v);
    case 'academic_display_text':
      return supportedText(ctx, key, v);
    case 'start_date':
      return supportedText(ctx, key, v);
    case 'learning_mode':
      return learningMode(ctx, v);
    case 'postal_code':
      return postalCodes(ctx, key, v, true);
    case 'postal_code_estimated':
      return postalCodes(ctx, key, v, false);
    case 'time_availability':
      return cleanTimeAvailability(v, ctx.violations);
    case 'rate':
      return rate(ctx, v);
    case 'additional_remarks':
      return remarks(ctx, v);
    case 'tutor_types':
      return cleanTutorTypes(v, ctx.violations);
    case 'rate_breakdown':
      return cleanRateBreakdown(v, ctx.violations);
    default:
      return (TEXT_LISTS as readonly string[]).includes(key) ? supportedList(ctx, key, v) : null;
  }
}

export interface HardValidation {
  cleaned: Record<string, unknown>;
  violations: Violation[];
}

export function hardValidate(parsed: unknown, rawText: unknown, normalizedText?: string): HardValidation {
  const raw = typeof rawText === 'string' ? rawText : '';
  const ctx: Ctx = { support: supportIndex(raw, normalizedText), rawText: raw, violations: [] };
  const input = isRecord(parsed) ? parsed : {};
  if (!isRecord(parsed) && parsed !== null && parsed !== undefined) violate(ctx, '$', 'TYPE', 'expected object');
  const cleaned: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    if (ALWAYS.has(key) || Object.hasOwn(input, key)) cleaned[key] = cleanField(ctx, key, input[key]);
  }
  for (const key of Object.keys(input)) {
    if (!(KEY_ORDER as readonly string[]).includes(key)) violate(ctx, key, 'UNKNOWN', 'unknown key dropped');
  }
  return { cleaned, violations: ctx.violations };
}
