import { describe, expect, it } from 'vitest';
import { SignalsSchema } from '../src/extraction/schema.ts';
import { buildSignals } from '../src/extraction/signals/index.ts';

const KEYS = [
  'schema_version',
  'source',
  'text_chars',
  'subjects',
  'subjects_canonical',
  'subjects_general',
  'canonicalization_version',
  'canonicalization_debug',
  'levels',
  'specific_student_levels',
  'streams',
  'academic_requests',
  'evidence',
  'confidence_flags',
  'tutor_types',
  'rate_breakdown',
];

describe('buildSignals', () => {
  it('#1 headline used when the post yields no subject (post "normalized irrelevant")', () => {
    const { signals, error } = buildSignals({ academic_display_text: 'P4 English and P6 Math' }, 'raw irrelevant', 'normalized irrelevant');
    expect(error).toBeNull();
    expect(signals).not.toBeNull();
    expect(signals!.source).toBe('academic_display_text');
    expect(signals!.subjects).toEqual(['English', 'Maths']);
    expect(signals!.specific_student_levels).toEqual(['Primary 4', 'Primary 6']);
    expect(signals!.schema_version).toBe(1);
    expect(signals!.text_chars).toBe(22);
    expect(signals!.tutor_types).toEqual([]);
    expect(signals!.rate_breakdown).toEqual({});
    expect(Object.keys(signals!).sort()).toEqual([...KEYS].sort());
    SignalsSchema.parse(signals);
  });
  it('#2 no headline → normalised text', () => {
    const { signals, error } = buildSignals({}, 'raw', 'Sec 3 G3 English and G2 Math');
    expect(error).toBeNull();
    expect(signals!.source).toBe('normalized_text');
    expect(signals!.specific_student_levels).toContain('Secondary 3');
    expect(signals!.subjects).toContain('English');
    expect(signals!.text_chars).toBe(28);
  });
  it('extra: empty normalised text → raw text', () => {
    const { signals } = buildSignals({}, 'P5 Math', '');
    expect(signals!.source).toBe('raw_text');
    expect(signals!.text_chars).toBe(7);
  });
  it('signals run on the whole normalised post, not only the short headline (rates and types are found)', () => {
    const post = 'Code: 1234\nLevel: P5 Math and Sec 2 Science\nLocation: Bishan\nRate: PT $30-40/hr, FT $45-55/hr, Ex-MOE $60-80/hr';
    const { signals } = buildSignals({ academic_display_text: 'Maths A' }, post, post);
    expect(signals!.source).toBe('normalized_text');
    expect(signals!.subjects).toEqual(['Maths', 'Science']);
    expect(signals!.academic_requests).toHaveLength(2);
    expect(signals!.subjects_canonical).toEqual(['MATH.GENERAL', 'SCIENCE.GENERAL']);
    expect(signals!.tutor_types.map((t) => t.canonical)).toEqual(['part-timer', 'full-timer', 'moe-exmoe']);
    expect(signals!.rate_breakdown['moe-exmoe']).toMatchObject({ min: 60, max: 80 });
    SignalsSchema.parse(signals);
  });
  it('a "Maths A" headline does not yield a spurious part-timer type', () => {
    const { signals } = buildSignals({ academic_display_text: 'Maths A' }, '', '');
    expect(signals!.tutor_types).toEqual([]);
  });
  it('never throws: junk inputs give a schema-valid object or an error', () => {
    for (const [p, r, n] of [
      [null, null, null],
      [42, {}, []],
      [{ academic_display_text: 5 }, '\u0000', '   '],
    ] as const) {
      const out = buildSignals(p, r, n);
      expect(out.error === null ? SignalsSchema.safeParse(out.signals).success : out.signals === null).toBe(true);
    }
  });
});
