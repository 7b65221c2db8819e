/** tutor_types and rate_breakdown checks of the hard validator. */
import type { RateTier, TutorType } from '../schema.ts';
import { isRecord } from './text.ts';
import { toNumber } from './validate-rate.ts';
import type { Violation } from './violations.ts';

function confidence(v: unknown, field: string, violations: Violation[]): number {
  const n = toNumber(v);
  if (n === null || n === undefined) return 0;
  if (n < 0 || n > 1) {
    violations.push({ field, code: 'RANGE', detail: 'confidence outside [0,1], clamped' });
    return Math.min(1, Math.max(0, n));
  }
  return n;
}

const optText = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

export function cleanTutorTypes(value: unknown, violations: Violation[]): TutorType[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value)) {
    violations.push({ field: 'tutor_types', code: 'TYPE', detail: 'expected list' });
    return null;
  }
  const out: TutorType[] = [];
  for (const [i, item] of value.slice(0, 100).entries()) {
    const field = `tutor_types[${i}]`;
    if (!isRecord(item)) {
      violations.push({ field, code: 'TYPE', detail: 'expected object' });
      continue;
    }
    const canonical = optText(item.canonical);
    if (!canonical) {
      violations.push({ field, code: 'REQUIRED', detail: 'missing canonical' });
      continue;
    }
    if (out.some((t) => t.canonical.toLowerCase() === canonical.toLowerCase())) continue;
    out.push({
      canonical,
      original: optText(item.original) ?? canonical,
      agency: optText(item.agency),
      confidence: confidence(item.confidence, `${field}.confidence`, violations),
    });
  }
  return out.length ? out : null;
}

/** Tier min/max keep their decimals (37.5 stays 37.5, not 37). */
export function cleanRateBreakdown(value: unknown, violations: Violation[]): Record<string, RateTier> | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) {
    violations.push({ field: 'rate_breakdown', code: 'TYPE', detail: 'expected object' });
    return null;
  }
  const out: Record<string, RateTier> = {};
  for (const [key, tier] of Object.entries(value).slice(0, 100)) {
    const field = `rate_breakdown.${key}`;
    if (!isRecord(tier)) {
      violations.push({ field, code: 'TYPE', detail: 'expected object' });
      continue;
    }
    let min = toNumber(tier.min);
    let max = toNumber(tier.max);
    if (min === undefined) violations.push({ field: `${field}.min`, code: 'TYPE', detail: 'expected number or numeric string' });
    if (max === undefined) violations.push({ field: `${field}.max`, code: 'TYPE', detail: 'expected number or numeric string' });
    min ??= null;
    max ??= null;
    if (min !== null && max !== null && min > max) {
      violations.push({ field, code: 'RATE', detail: 'min > max' });
      min = max = null;
    }
    out[key] = {
      min,
      max,
      original_text: optText(tier.original_text),
      currency: optText(tier.currency),
      unit: optText(tier.unit),
      confidence: confidence(tier.confidence, `${field}.confidence`, violations),
    };
  }
  return Object.keys(out).length ? out : null;
}
