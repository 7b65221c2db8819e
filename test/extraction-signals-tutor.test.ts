import { describe, expect, it } from 'vitest';
import { RateTierSchema, TutorTypeSchema } from '../src/extraction/schema.ts';
import { extractTutorTypes, findRateSpans, normalizeTutorLabel } from '../src/extraction/signals/index.ts';

const types = (t: string) => extractTutorTypes(t).tutor_types.map((x) => x.canonical);
const rates = (t: string) => Object.fromEntries(Object.entries(extractTutorTypes(t).rate_breakdown).map(([k, v]) => [k, [v.min, v.max]]));

describe('tutor types', () => {
  it('FT $40-55/hr, PT $20-30/hr → list with ≥1 type, dict rate_breakdown (PT does not overwrite FT)', () => {
    const r = extractTutorTypes('FT $40-55/hr, PT $20-30/hr');
    expect(Array.isArray(r.tutor_types)).toBe(true);
    expect(r.tutor_types.length).toBeGreaterThanOrEqual(1);
    expect(typeof r.rate_breakdown).toBe('object');
    for (const t of r.tutor_types) TutorTypeSchema.parse(t);
    for (const v of Object.values(r.rate_breakdown)) RateTierSchema.parse(v);
    expect(r.tutor_types).toEqual([
      { canonical: 'full-timer', original: 'FT', agency: null, confidence: 0.9 },
      { canonical: 'part-timer', original: 'PT', agency: null, confidence: 0.9 },
    ]);
    expect(r.rate_breakdown['full-timer']).toEqual({ min: 40, max: 55, original_text: '$40-55/hr', currency: 'SGD', unit: 'hour', confidence: 0.9 });
    expect(r.rate_breakdown['part-timer']).toMatchObject({ min: 20, max: 30, unit: 'hour' });
  });
  it('agency is carried on each type', () => {
    expect(extractTutorTypes('PT $25/hr', 'AgencyX').tutor_types[0]!.agency).toBe('AgencyX');
  });
});

describe('observed rate phrasings', () => {
  it('tiered rates by tutor type: PT $30-40 / FT $45-55 / Ex-MOE $60-80', () => {
    expect(rates('PT $30-40 / FT $45-55 / Ex-MOE $60-80')).toEqual({ 'part-timer': [30, 40], 'full-timer': [45, 55], 'moe-exmoe': [60, 80] });
  });
  it('chained labels share a rate and nothing is overwritten (FT/EX-MOE …, PT …, Fresh grad PT …)', () => {
    const t = 'FT/EX-MOE $40-55/hr, PT $25-30/hr. Fresh grad (deg) PT $20-25';
    expect(rates(t)).toEqual({ 'full-timer': [40, 55], 'moe-exmoe': [40, 55], 'part-timer': [25, 30] });
  });
  it('label after the amount in the same clause ("$40-50/hr (Full-time tutor), $30-35/hr (Part-time tutor)")', () => {
    expect(rates('Rate: $40-50/hr (Full-time tutor), $30-35/hr (Part-time tutor)')).toEqual({ 'full-timer': [40, 50], 'part-timer': [30, 35] });
  });
  it('tier labels that are ordinary words count in front of a rate (Undergrad / MOE); a qualification (Grad) is no tutor type', () => {
    // issue 16: student tutors are their own type; "Grad" says what the tutor holds, not which type they are
    expect(rates('Rates: Undergrad $25-30/hr | Grad $35-40/hr | MOE $60-70/hr')).toEqual({ student: [25, 30], unknown: [35, 40], 'moe-exmoe': [60, 70] });
  });
  it('no substring/fuzzy matches ("per", "at", "A", "afternoon", "student", "MOE syllabus" are not types)', () => {
    expect(types('Rate: $25-35 per hour')).toEqual([]);
    expect(types('Sec 3 Math at Tampines. $40/h')).toEqual([]);
    expect(types('Maths A')).toEqual([]);
    expect(types('Primary 5 English at Bedok')).toEqual([]);
    expect(types('Student: Sec 3 boy, MOE syllabus, afternoon lessons')).toEqual([]);
    expect(normalizeTutorLabel('afternoon').canonical).toBe('unknown');
    expect(normalizeTutorLabel('FT').confidence).toBe(0.99);
  });
  it('a rate with no tutor type is kept as a generic "unknown" tier', () => {
    expect(extractTutorTypes('Rate: $25-35 per hour').rate_breakdown).toEqual({
      unknown: { min: 25, max: 35, original_text: '$25-35 per hour', currency: 'SGD', unit: 'hour', confidence: 0.6 },
    });
  });
  it('"$1,200 per month" is 1200 per month; "/hr" is kept whole; "$25 - $30/hr" is one range', () => {
    expect(extractTutorTypes('$1,200 per month').rate_breakdown.unknown).toMatchObject({ min: 1200, max: 1200, unit: 'month' });
    expect(extractTutorTypes('Part-time tutor: $25 - $30/hr').rate_breakdown['part-timer']).toMatchObject({ min: 25, max: 30, original_text: '$25 - $30/hr' });
    expect(findRateSpans('$40.50/hr')[0]).toMatchObject({ min: 40.5, max: 40.5 });
  });
  it('lesson length is not a rate ("P5 Math 1.5hrs"); per-lesson units are recognised', () => {
    expect(extractTutorTypes('P5 Math 1.5hrs').rate_breakdown).toEqual({});
    expect(findRateSpans('$80/lesson')[0]).toMatchObject({ unit: 'lesson' });
    expect(findRateSpans('S$45 per session')[0]).toMatchObject({ unit: 'session', currency: 'SGD' });
  });
  it('FT 45-55 p/h (no currency) is still a rate', () => {
    expect(extractTutorTypes('FT 45-55 p/h').rate_breakdown['full-timer']).toMatchObject({ min: 45, max: 55, currency: null, unit: 'hour' });
  });
  it('extra aliases: current MOE, NIE-trained, full-time tutor', () => {
    expect(types('Current MOE teacher or NIE-trained preferred')).toEqual(['moe-exmoe']);
    expect(types('Looking for a full-time tutor')).toEqual(['full-timer']);
    expect(extractTutorTypes('Ex-MOE teacher preferred').tutor_types[0]).toMatchObject({ canonical: 'moe-exmoe', original: 'Ex-MOE teacher' });
  });
  it('empty and non-text input give empty results', () => {
    expect(extractTutorTypes('')).toEqual({ tutor_types: [], rate_breakdown: {} });
    expect(extractTutorTypes(null as unknown as string)).toEqual({ tutor_types: [], rate_breakdown: {} });
  });
});
