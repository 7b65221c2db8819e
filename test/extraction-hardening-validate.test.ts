import { describe, expect, it } from 'vitest';
import { emptyTimeAvailability } from '../src/extraction/schema.ts';
import { hardValidate, validateCanonical } from '../src/extraction/hardening/index.ts';

const codes = (v: { code: string }[]) => v.map((x) => x.code);

describe('hardValidate — reference cases', () => {
  it('H1 (unpadded 9:00 is padded, duplicates removed): time slots', () => {
    const ta = emptyTimeAvailability();
    ta.explicit.monday = ['9:00-10:00', '09:00–10:00', '25:00-26:00'];
    const { cleaned, violations } = hardValidate({ time_availability: ta }, 'Mon 9am');
    expect((cleaned.time_availability as typeof ta).explicit.monday).toEqual(['09:00-10:00']);
    expect(codes(violations)).toContain('TIME');
  });
  it('H2: quote-like rate without a figure nulls min/max', () => {
    const { cleaned, violations } = hardValidate({ rate: { min: 40, max: 60, raw_text: 'pls quote' } }, 'Rate: pls quote');
    expect(cleaned.rate).toEqual({ min: null, max: null, raw_text: 'pls quote' });
    expect(codes(violations)).toContain('RATE');
  });
  it('H3: remarks without a marker are nulled', () => {
    const { cleaned } = hardValidate({ additional_remarks: 'Tutor to commit 6 months' }, 'No marker here');
    expect(cleaned.additional_remarks).toBeNull();
  });
});

describe('hardValidate — shape and verified outputs', () => {
  it('{} gives exactly the always-emitted skeleton and no violations', () => {
    expect(hardValidate({}, '')).toEqual({
      cleaned: {
        learning_mode: { mode: null, raw_text: null },
        time_availability: emptyTimeAvailability(),
        rate: { min: null, max: null, raw_text: null },
        tutor_types: null,
        rate_breakdown: null,
      },
      violations: [],
    });
  });
  it('time slot reasons: format/clock/start_after_end/null/non_string/empty; equal start and end allowed', () => {
    const ta = { explicit: { monday: ['25:00-26:00', '09:00 - 10:00', '10:00-09:00', '15:00-15:00', null, 5, ' ', '9am'] }, estimated: {}, note: null };
    const { cleaned, violations } = hardValidate({ time_availability: ta }, '');
    expect((cleaned.time_availability as typeof ta).explicit.monday).toEqual(['09:00-10:00', '15:00-15:00']);
    expect(violations.map((v) => v.detail.split(':')[0])).toEqual(['clock', 'start_after_end', 'null_slot', 'non_string_slot', 'empty_slot', 'format']);
  });
  it('note list → TYPE; day value string → TYPE; estimated null → TYPE expected object', () => {
    const { cleaned, violations } = hardValidate({ time_availability: { note: ['a'], explicit: { monday: 'x' }, estimated: null } }, '');
    expect((cleaned.time_availability as { note: unknown }).note).toBeNull();
    expect(violations.map((v) => `${v.field}:${v.code}`)).toEqual([
      'time_availability.note:TYPE',
      'time_availability.explicit.monday:TYPE',
      'time_availability.estimated:TYPE',
    ]);
  });
  it('remark kept across a line break; a bulleted marker counts', () => {
    expect(hardValidate({ additional_remarks: 'Tutor must be patient' }, 'Note : tutor must\nbe patient').cleaned.additional_remarks).toBe(
      'Tutor must be patient',
    );
    expect(hardValidate({ additional_remarks: 'Tutor must be patient' }, '- Remarks: Tutor must be patient').cleaned.additional_remarks).toBe(
      'Tutor must be patient',
    );
    expect(hardValidate({ additional_remarks: 'must be patient' }, '📌 Remark: must be patient').cleaned.additional_remarks).toBe('must be patient');
  });
  it('a remark from before the marker is not supported', () => {
    const { cleaned, violations } = hardValidate({ additional_remarks: 'Tutor must be patient' }, 'Tutor must be patient\nRemarks: none');
    expect(cleaned.additional_remarks).toBeNull();
    expect(codes(violations)).toEqual(['SUPPORT']);
  });
  it('rate min "$40" → TYPE and both null', () => {
    const { cleaned, violations } = hardValidate({ rate: { min: '$40', raw_text: '$40/hr negotiable' } }, 'Rate: $40/hr negotiable');
    expect(cleaned.rate).toEqual({ min: null, max: null, raw_text: '$40/hr negotiable' });
    expect(codes(violations)).toContain('TYPE');
  });
  it('rate with a figure but no raw_text → RATE', () => {
    const { cleaned, violations } = hardValidate({ rate: { min: 60, max: null, raw_text: null } }, '$60/hr');
    expect(cleaned.rate).toEqual({ min: null, max: null, raw_text: null });
    expect(violations).toEqual([{ field: 'rate', code: 'RATE', detail: 'raw_text is null' }]);
  });
  it('a bare-string list is wrapped; lists de-duplicated case-insensitively', () => {
    const raw = 'Bishan, near Bishan MRT. a b';
    const { cleaned } = hardValidate({ address: 'Bishan', nearest_mrt: ['Bishan MRT', 'bishan mrt'], lesson_schedule: ['a', 'b', 'A'] }, raw);
    expect(cleaned).toMatchObject({ address: ['Bishan'], nearest_mrt: ['Bishan MRT'], lesson_schedule: ['a', 'b'] });
  });
});

describe('hardValidate — type slips, bounds and text support', () => {
  it('numeric assignment code is stringified, not dropped', () => {
    expect(hardValidate({ assignment_code: 12345 }, 'Code: 12345').cleaned.assignment_code).toBe('12345');
  });
  it('boolean rate figures are TYPE errors, not 1.0', () => {
    const { cleaned, violations } = hardValidate({ rate: { min: true, max: null, raw_text: '$1/hr' } }, '$1/hr');
    expect((cleaned.rate as { min: unknown }).min).toBeNull();
    expect(codes(violations)).toContain('TYPE');
  });
  it('mode "online" is canonicalised to Online', () => {
    expect(hardValidate({ learning_mode: { mode: 'online', raw_text: 'Online lessons' } }, 'Online lessons').cleaned.learning_mode).toEqual({
      mode: 'Online',
      raw_text: 'Online lessons',
    });
    expect((hardValidate({ learning_mode: 'f2f' }, 'F2F lessons').cleaned.learning_mode as { mode: string }).mode).toBe('Face-to-Face');
  });
  it('unknown mode → ENUM; mode the text never states → SUPPORT', () => {
    expect(codes(hardValidate({ learning_mode: { mode: 'Telepathy', raw_text: null } }, '').violations)).toEqual(['ENUM']);
    const r = hardValidate({ learning_mode: { mode: 'Online', raw_text: null } }, 'Bishan, Sec 3 Math');
    expect(r.cleaned.learning_mode).toEqual({ mode: null, raw_text: null });
    expect(codes(r.violations)).toEqual(['SUPPORT']);
  });
  it('"quote" with a figure keeps the rate', () => {
    const { cleaned } = hardValidate({ rate: { min: 40, max: 40, raw_text: '$40/hr, can quote higher' } }, 'Rate: $40/hr, can quote higher');
    expect(cleaned.rate).toEqual({ min: 40, max: 40, raw_text: '$40/hr, can quote higher' });
  });
  it('non-hourly prices and absurd values are not hourly min/max', () => {
    expect(hardValidate({ rate: { min: 400, max: 400, raw_text: '$400 per term' } }, 'Fee: $400 per term').cleaned.rate).toEqual({
      min: null,
      max: null,
      raw_text: '$400 per term',
    });
    expect(hardValidate({ rate: { min: 60, max: 60, raw_text: '$60/lesson' } }, '$60/lesson').violations[0]?.detail).toBe('rate is not hourly');
    expect(codes(hardValidate({ rate: { min: 5000, max: 5000, raw_text: '$5000/hr' } }, '$5000/hr').violations)).toEqual(['RANGE']);
  });
  it('rate figures must be printed in the snippet; min > max → RATE', () => {
    expect(codes(hardValidate({ rate: { min: 45, max: 55, raw_text: '$40-50/hr' } }, '$40-50/hr').violations)).toEqual(['SUPPORT']);
    expect(codes(hardValidate({ rate: { min: 50, max: 40, raw_text: '$40-50/hr' } }, '$40-50/hr').violations)).toEqual(['RATE']);
    expect(hardValidate({ rate: { min: '40', max: 50.5, raw_text: '$40 - $50.50 per hour' } }, 'Rate: $40 - $50.50 per hour').cleaned.rate).toEqual({
      min: 40,
      max: 50.5,
      raw_text: '$40 - $50.50 per hour',
    });
  });
  it('authoritative snippets must occur in the text (after normalisation, ignoring spacing and punctuation)', () => {
    const raw = '𝐏𝟓 𝐌𝐚𝐭𝐡\nAddress: Blk 123\nBishan St 12\nStart: ASAP';
    const { cleaned, violations } = hardValidate(
      { academic_display_text: 'P5 Math', address: ['Blk 123 Bishan St 12', 'Tampines'], start_date: 'Jan 2026' },
      raw,
    );
    expect(cleaned).toMatchObject({ academic_display_text: 'P5 Math', address: ['Blk 123 Bishan St 12'], start_date: null });
    expect(codes(violations)).toEqual(['SUPPORT', 'SUPPORT']);
  });
  it('postal codes are normalised to 6 digits and must be printed; estimated ones need not be', () => {
    const { cleaned, violations } = hardValidate(
      { postal_code: ['(S)219014', 'S 111', '560123'], postal_code_estimated: ['S 642196'] },
      "Address: King's Court (S)219014",
    );
    expect(cleaned).toMatchObject({ postal_code: ['219014'], postal_code_estimated: ['642196'] });
    expect(codes(violations)).toEqual(['TYPE', 'SUPPORT']);
  });
  it('rate_breakdown keeps decimals; tutor_types validated', () => {
    const { cleaned, violations } = hardValidate(
      {
        rate_breakdown: { pt: { min: 37.5, max: '45', original_text: ' PT $37.5-45 ', currency: '$', unit: 'hour', confidence: 2 }, bad: 3 },
        tutor_types: [{ canonical: 'part-timer', original: 'PT', agency: null, confidence: 0.9 }, { original: 'x' }, { canonical: 'Part-Timer' }],
      },
      '',
    );
    expect(cleaned.rate_breakdown).toEqual({ pt: { min: 37.5, max: 45, original_text: 'PT $37.5-45', currency: '$', unit: 'hour', confidence: 1 } });
    expect(cleaned.tutor_types).toEqual([{ canonical: 'part-timer', original: 'PT', agency: null, confidence: 0.9 }]);
    expect(codes(violations).sort()).toEqual(['RANGE', 'REQUIRED', 'TYPE']);
  });
  it('unknown keys are dropped; non-object input gives the skeleton with a TYPE violation', () => {
    expect(codes(hardValidate({ foo: 1 }, '').violations)).toEqual(['UNKNOWN']);
    expect(codes(hardValidate('nope', '').violations)).toEqual(['TYPE']);
  });
  it('a full valid extraction passes through unchanged and satisfies the canonical schema', () => {
    const raw =
      'Code: 0101ei\nP5 Math\nAddress: Blk 123 Bishan St 12 (S)570123\nNear Bishan MRT\nLesson mode: F2F\nFrequency: 1.5 hr, 1x a week\nStart: ASAP\nRate: $40-50/hr\nRemarks: female tutor';
    const parsed = {
      assignment_code: '0101ei',
      academic_display_text: 'P5 Math',
      learning_mode: { mode: 'Face-to-Face', raw_text: 'F2F' },
      address: ['Blk 123 Bishan St 12 (S)570123'],
      postal_code: ['570123'],
      nearest_mrt: ['Bishan MRT'],
      lesson_schedule: ['1.5 hr, 1x a week'],
      start_date: 'ASAP',
      time_availability: emptyTimeAvailability(),
      rate: { min: 40, max: 50, raw_text: '$40-50/hr' },
      additional_remarks: 'female tutor',
      postal_code_estimated: null,
      tutor_types: null,
      rate_breakdown: null,
    };
    const { cleaned, violations } = hardValidate(parsed, raw);
    expect(violations).toEqual([]);
    expect(cleaned).toEqual(parsed);
    expect(validateCanonical(cleaned)).toEqual({ ok: true, errors: [] });
  });
});

describe('validateCanonical', () => {
  const base = () => {
    const { cleaned } = hardValidate(
      {
        assignment_code: null,
        academic_display_text: null,
        address: null,
        postal_code: null,
        nearest_mrt: null,
        lesson_schedule: null,
        start_date: null,
        additional_remarks: null,
        postal_code_estimated: null,
      },
      '',
    );
    return cleaned;
  };
  it('{} fails the schema and both contract checks', () => {
    const r = validateCanonical({});
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(expect.arrayContaining(['missing_address_or_postal', 'missing_schedule_info']));
    expect(r.errors.some((e) => e.startsWith('schema:'))).toBe(true);
  });
  it('[" "] is not a location', () => {
    expect(validateCanonical({ ...base(), address: [' '], lesson_schedule: [' '] }).errors).toEqual(['missing_address_or_postal', 'missing_schedule_info']);
  });
  it('Hybrid with raw_text Online is not online-only', () => {
    expect(validateCanonical({ ...base(), learning_mode: { mode: 'Hybrid', raw_text: 'Online' }, lesson_schedule: ['weekly'] }).errors).toEqual([
      'missing_address_or_postal',
    ]);
  });
  it('online-only mode, online address, MRT + note pass', () => {
    expect(validateCanonical({ ...base(), learning_mode: { mode: 'Online', raw_text: null }, lesson_schedule: ['weekly'] }).ok).toBe(true);
    expect(validateCanonical({ ...base(), address: ['Zoom call'], lesson_schedule: ['weekly'] }).ok).toBe(true);
    const ta = { ...emptyTimeAvailability(), note: 'Sat am' };
    expect(validateCanonical({ ...base(), nearest_mrt: ['Bishan MRT'], time_availability: ta })).toEqual({ ok: true, errors: [] });
  });
  it('"online-only" raw text counts as online-only', () => {
    expect(validateCanonical({ ...base(), learning_mode: { mode: null, raw_text: 'online-only' }, lesson_schedule: ['x'] }).ok).toBe(true);
  });
  it('a time slot counts as schedule info; a bare-string schedule does not', () => {
    const ta = emptyTimeAvailability();
    ta.estimated.friday = ['16:00-23:00'];
    expect(validateCanonical({ ...base(), address: ['Bishan'], time_availability: ta }).ok).toBe(true);
    expect(validateCanonical({ address: ['Bishan'], lesson_schedule: 'weekly' }).errors).toContain('missing_schedule_info');
  });
});
