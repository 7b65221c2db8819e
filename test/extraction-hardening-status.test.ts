import { describe, expect, it } from 'vitest';
import { emptyTimeAvailability } from '../src/extraction/schema.ts';
import { detectStatus, parseQualityScore } from '../src/extraction/hardening/index.ts';

describe('detectStatus — reference cases, applied to every channel', () => {
  it('3: Application Status: OPEN', () => {
    expect(detectStatus('🔹Assignment Code: 0694D29\n🔹Application Status: OPEN')).toEqual({
      status: 'open',
      rule: 'application_status',
      evidence: '🔹Application Status: OPEN',
      confidence: 0.95,
    });
  });
  it('4: Application Status: CLOSED', () => {
    expect(detectStatus('🔹Assignment Code: 4683D30\n🔹Application Status: CLOSED')?.status).toBe('closed');
  });
  it('5: "Assignment Closed" marker (generic phrase, formerly one channel only)', () => {
    expect(detectStatus('⛔️ Assignment Closed ⛔️\n\n🔹 Assignment Code: 11307')).toEqual({
      status: 'closed',
      rule: 'assignment_closed',
      evidence: 'Assignment Closed',
      confidence: 0.9,
    });
  });
  it('6: "New Assignment" header → open (generic phrase)', () => {
    expect(detectStatus('⭐ New Assignment ⭐\n\n🔹 Assignment Code: 11308')).toEqual({
      status: 'open',
      rule: 'new_assignment',
      evidence: 'New Assignment',
      confidence: 0.75,
    });
  });
  it('7 (no per-channel opt-in): "Status: Closed" is read on any channel', () => {
    expect(detectStatus('Status: Closed\nAssignment code: X1')).toMatchObject({
      status: 'closed',
      rule: 'status_line',
      evidence: 'Status: Closed',
      confidence: 0.9,
    });
  });
  it.each([
    ['Status: ✅ Open', 'open'],
    ['Job status - TAKEN', 'closed'],
    ['Assignment status: filled', 'closed'],
    ['status: still open', 'open'],
    ['TAKEN', 'closed'],
    ['❌ CLOSED ❌\nP5 Math', 'closed'],
    ['Closed.', 'closed'],
    ['This assignment has been taken, thanks!', 'closed'],
    ['P5 Math [FILLED]', 'closed'],
    ['Sorry, no longer available', 'closed'],
    ['New assignment!\nStatus: closed', 'closed'],
  ])('any channel: %j → %s', (text, status) => {
    expect(detectStatus(text)?.status).toBe(status);
  });
  it.each(['P5 Math at Bishan, $40/hr', 'Lessons can be taken online', 'Tutor must have filled the form', 'Shop closed on Sundays so lessons on Sat', ''])(
    'no status in %j',
    (text) => {
      expect(detectStatus(text)).toBeNull();
    },
  );
  it('non-string input and long evidence are handled', () => {
    expect(detectStatus(null)).toBeNull();
    const long = `Status: closed ${'x'.repeat(500)}`;
    expect([...(detectStatus(long)?.evidence ?? '')].length).toBe(120);
  });
});

describe('parseQualityScore — sum of points', () => {
  const full = {
    assignment_code: 'A1',
    academic_display_text: 'P5 Math',
    learning_mode: { mode: null, raw_text: null },
    address: ['Bishan'],
    postal_code: null,
    nearest_mrt: null,
    lesson_schedule: ['1x a week'],
    start_date: null,
    time_availability: { ...emptyTimeAvailability(), note: 'flexible' },
    rate: { min: 40, max: 50, raw_text: '$40-50/hr' },
    additional_remarks: null,
    postal_code_estimated: null,
    tutor_types: null,
    rate_breakdown: null,
  };
  it('all points: 3+1+2+1+2+1+1+1+1+1 = 14', () => {
    expect(parseQualityScore(full, { region: 'Central', nearestMrtComputed: 'Bishan', signals: { subjects: ['Math'], levels: ['Primary'] } })).toBe(14);
  });
  it('without signals/geo: 3+1+2+1+1+1 = 9', () => {
    expect(parseQualityScore(full, { region: null, nearestMrtComputed: null })).toBe(9);
  });
  it('empty values score nothing; specific levels count for the level point', () => {
    const empty = {
      ...full,
      assignment_code: ' ',
      academic_display_text: null,
      address: [' '],
      lesson_schedule: [],
      time_availability: emptyTimeAvailability(),
      rate: { min: null, max: null, raw_text: null },
    };
    expect(parseQualityScore(empty, { region: '', nearestMrtComputed: null, signals: { subjects: [], specific_student_levels: ['P5'] } })).toBe(1);
    expect(parseQualityScore(null, { region: null, nearestMrtComputed: null })).toBe(0);
  });
  it('one time slot is enough for the time point', () => {
    const ta = emptyTimeAvailability();
    ta.explicit.monday = ['19:00-21:00'];
    expect(parseQualityScore({ time_availability: ta }, { region: null, nearestMrtComputed: null })).toBe(1);
  });
});
