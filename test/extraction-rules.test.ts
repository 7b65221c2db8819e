import { BACKTRACK_SHAPES } from './fixtures/adversarial-inputs.ts';
import { describe, expect, it } from 'vitest';
import { evaluateExamples } from '../src/extraction/evaluate.ts';
import { extractAcademic, findHeadline } from '../src/extraction/rules/academic.ts';
import { extractAddress, extractMrt } from '../src/extraction/rules/address.ts';
import { extractCode } from '../src/extraction/rules/code.ts';
import { RulesExtractor, extractRules } from '../src/extraction/rules/index.ts';
import { labelKind, parsePost } from '../src/extraction/rules/labels.ts';
import { extractMode } from '../src/extraction/rules/mode.ts';
import { findPostalCodes } from '../src/extraction/rules/postal.ts';
import { extractRate } from '../src/extraction/rules/rate.ts';
import { extractRemarks } from '../src/extraction/rules/remarks.ts';
import { extractSchedule, extractStart } from '../src/extraction/rules/schedule.ts';
import { LlmAssignmentSchema, type CanonicalAssignment } from '../src/extraction/schema.ts';

const p = parsePost;

describe('labels', () => {
  it('classifies labels across spellings', () => {
    expect(labelKind('Level & Subject')).toBe('levelSubject');
    expect(labelKind('Level and Subject(s)')).toBe('levelSubject');
    expect(labelKind('Hourly Budget')).toBe('rate');
    expect(labelKind('Lessons per week')).toBe('schedule');
    expect(labelKind('Student‘s Gender')).toBe('other');
    expect(labelKind('Favourite colour')).toBeNull();
  });

  it('parses emoji bullets, bold markers, full-width and dash separators, inline labels', () => {
    const post = p('🔶 **Subject**： Sec 1 Math\n▫️Venue - Bishan St 22\nJob ID: X123, Location: Ang Mo Kio');
    expect(post.labels.map((l) => [l.kind, l.value])).toEqual([
      ['subject', 'Sec 1 Math'],
      ['location', 'Bishan St 22'],
      ['code', 'X123'],
      ['location', 'Ang Mo Kio'],
    ]);
  });
});

describe('assignment code', () => {
  it('reads labelled codes', () => {
    expect(extractCode(p('Reference No: QX-7781\nSubject: P3 Math'))).toBe('QX-7781');
    expect(extractCode(p('Assignment ID - 55021'))).toBe('55021');
    expect(extractCode(p('Code ID: 2207kq (Group class)'))).toBe('2207kq');
  });
  it('reads #tags, compact items and lone code lines; null when ambiguous', () => {
    expect(extractCode(p('Sec 4 Chemistry #B1200\nRate: $50/h'))).toBe('B1200');
    expect(extractCode(p('#Primary_Math #P5 tags only'))).toBeNull();
    expect(extractCode(p('#B1200 and #B1201 both open'))).toBeNull();
    expect(extractCode(p('0412pk: P2 English @ Bedok'))).toBe('0412pk');
    expect(extractCode(p('P5 Science\n• ZZ40021'))).toBe('ZZ40021');
  });
});

describe('postal codes', () => {
  it('accepts prefixed forms and rejects guarded numbers', () => {
    expect(findPostalCodes('Blk 5, (S)310005 and S 560123, Singapore 238801, s(409051)')).toEqual(['310005', '560123', '238801', '409051']);
    expect(findPostalCodes('Job ID: 123456, $100000 budget, call +65 912345, 99999 12345678')).toEqual([]);
    expect(findPostalCodes('sector 99: 990123')).toEqual([]);
    expect(findPostalCodes('ref 240710CF9')).toEqual([]);
  });
});

describe('rate', () => {
  it('reads a unified range or single figure', () => {
    expect(extractRate(p('Fee: $45 - $55 per hour'))).toEqual({ min: 45, max: 55, raw_text: '$45 - $55 per hour' });
    expect(extractRate(p('Salary: 40 to 60 per hour'))).toEqual({ min: 40, max: 60, raw_text: '40 to 60 per hour' });
    expect(extractRate(p('Budget: $38/h. Negotiable for experienced tutors'))).toEqual({ min: 38, max: 38, raw_text: '$38/h' });
  });
  it('keeps tiers as raw text only', () => {
    expect(extractRate(p('Rate: PT: $30-40, FT: $45-55, MOE: $70'))).toEqual({ min: null, max: null, raw_text: 'PT: $30-40, FT: $45-55, MOE: $70' });
    expect(extractRate(p('Rates: $25/h for 1 student\n+$5/h per extra student'))).toEqual({
      min: null,
      max: null,
      raw_text: '$25/h for 1 student\n+$5/h per extra student',
    });
    expect(extractRate(p('Rate: Tutor to quote'))).toEqual({ min: null, max: null, raw_text: 'Tutor to quote' });
  });
  it('finds an unlabelled rate and drops a schedule parenthetical', () => {
    expect(extractRate(p('#Q100 Sec 3 Geography $42/h'))).toEqual({ min: 42, max: 42, raw_text: '$42/h' });
    expect(extractRate(p('Rate: $50/h (1.5h per lesson, twice a week)')).raw_text).toBe('$50/h');
  });
});

describe('schedule and start', () => {
  it('takes labelled frequency/duration lines, one item per line', () => {
    expect(extractSchedule(p('Duration: 2 hours\nSessions per week: 2\nTime: Mon 5pm'))).toEqual(['2 hours', '2']);
  });
  it('falls back to unlabelled and bracketed schedules', () => {
    expect(extractSchedule(p('Details:\nTwice a week, 1 hr each, commission 50%'))).toEqual(['Twice a week, 1 hr each']);
    expect(extractSchedule(p('Info: P1 Math @ Bedok on Sat [2 lessons/week, 1 hr/lesson]'))).toEqual(['[2 lessons/week, 1 hr/lesson]']);
    expect(extractSchedule(p('Subject: P1 Math'))).toBeNull();
  });
  it('reads start wording', () => {
    expect(extractStart(p('Commencement Date: 3 March 2026'))).toBe('3 March 2026');
    expect(extractStart(p('Parent hopes to start next week.'))).toBe('next week');
    expect(extractStart(p('Press Start or send /start to begin'))).toBeNull();
  });
});

describe('learning mode', () => {
  it('only commits when explicit', () => {
    expect(extractMode(p('Mode: Online (Zoom)'))).toEqual({ mode: 'Online', raw_text: 'Online (Zoom)' });
    expect(extractMode(p('- Physical lessons at student home'))).toEqual({ mode: 'Face-to-Face', raw_text: 'Physical lessons at student home' });
    expect(extractMode(p('Can do online or face-to-face.')).mode).toBe('Hybrid');
    expect(extractMode(p('We need an online interview first'))).toEqual({ mode: null, raw_text: null });
    // issue 16: a bracketed "[Physical]" tag states the mode (matching gold: "physical" is face_to_face)
    expect(extractMode(p('Notes: [Physical] weekly'))).toEqual({ mode: 'Face-to-Face', raw_text: '[Physical]' });
    expect(extractMode(p('Teach in tuition centre at Bedok'))).toEqual({ mode: null, raw_text: 'Teach in tuition centre' });
  });
});

describe('address and MRT', () => {
  it('copies location values without postal and direction fragments', () => {
    expect(extractAddress(p('Address: 12 Kent Road, (S)208567'), null)).toEqual(['12 Kent Road']);
    expect(extractAddress(p('Location: The Peak Condo, near Tai Seng MRT, bus 58'), null)).toEqual(['The Peak Condo']);
    expect(extractAddress(p('Area: Bedok/Tampines'), null)).toEqual(['Bedok', 'Tampines']);
    expect(extractAddress(p('Venue: Online lessons'), null)).toBeNull();
  });
  it('uses "@ place" from a headline when no label exists', () => {
    const post = p('P4 Science @ 21 Jalan Bukit Merah on Sat');
    expect(extractAddress(post, findHeadline(post))).toEqual(['21 Jalan Bukit Merah']);
  });
  it('finds named stations and nearest-MRT labels, never bare MRT', () => {
    expect(extractMrt(p('Location: Pasir Ris Drive 1 (5 min walk to Pasir Ris MRT)'))).toEqual(['Pasir Ris MRT']);
    expect(extractMrt(p('Nearest MRT: Clementi / Dover'))).toEqual(['Clementi', 'Dover']);
    expect(extractMrt(p('Location: near the MRT'))).toBeNull();
  });
});

describe('remarks and academic text', () => {
  it('copies an explicit remarks section and stops at the next field or boilerplate', () => {
    const post = p('Notes:\nStudent is weak in algebra.\nParent prefers female tutor.\n\nApply via our bot!\nRate: $40/h');
    expect(extractRemarks(post)).toBe('Student is weak in algebra.\nParent prefers female tutor.');
    expect(extractRemarks(p('Subject: P1 Math\nRate: $30/h'))).toBeNull();
    expect(extractRemarks(p('Comments\n\n- has a cat\n- quiet home'))).toBe('- has a cat\n- quiet home');
  });
  it('prefers a subject/level label, else cleans the headline', () => {
    expect(extractAcademic(p('Level/Subject: Sec 2 NA Math'), null)).toBe('Sec 2 NA Math');
    const post = p('✨ Urgent ✨\n⭐ JC2 H1 Economics @ Serangoon ⭐\nRate: $60/h');
    expect(extractAcademic(post, findHeadline(post))).toBe('JC2 H1 Economics');
    const post2 = p('New Assignment for P6 Maths (Online) - parent wants exam focus');
    expect(extractAcademic(post2, findHeadline(post2))).toBe('P6 Maths');
  });
});

describe('extractRules / RulesExtractor', () => {
  it('produces the full schema for a generic post', async () => {
    const post = [
      '📢 New Tuition Job',
      '👉 Job Code: NJ4410',
      '👉 Level & Subject: Pri 4 Higher Chinese',
      '👉 Address: 88 Bishan Street 21, S570088',
      '👉 Lesson Frequency: 1x per week, 1.5 hours',
      '👉 Budget: $35-45/hr',
      '👉 Start: Early Feb',
      '👉 Remarks: Tutor must be patient.',
    ].join('\n');
    const { assignment, meta } = await new RulesExtractor().extract(post, { channelLink: null });
    expect(meta.extractor).toBe('rules');
    expect(assignment).toEqual({
      assignment_code: 'NJ4410',
      academic_display_text: 'Pri 4 Higher Chinese',
      learning_mode: { mode: null, raw_text: null },
      address: ['88 Bishan Street 21'],
      postal_code: ['570088'],
      nearest_mrt: null,
      lesson_schedule: ['1x per week, 1.5 hours'],
      start_date: 'Early Feb',
      rate: { min: 35, max: 45, raw_text: '$35-45/hr' },
      additional_remarks: 'Tutor must be patient.',
    });
  });

  it('never throws and stays fast on nasty input', () => {
    const nasty = ['', '\u0000\u0001\u0002binary\uFFFD\uD800', '😀🎉🔥'.repeat(5000), 'مرحبا: عالم\n‏שלום: עולם', ...BACKTRACK_SHAPES];
    // (how fast: bench/extract.ts, "slowest adversarial input"; a catastrophic backtrack fails by the test timeout)
    for (const text of nasty) expect(LlmAssignmentSchema.safeParse(extractRules(text)).success).toBe(true);
    expect(() => extractRules(undefined as unknown as string)).not.toThrow();
  });

  it('reaches the corpus target on the message_examples fixtures', async () => {
    // the extractor's own output, before hardening (scored on display fields only)
    const report = await evaluateExamples('test/fixtures/message_examples', async (raw, ch) => [
      { canonical: extractRules(raw, ch) as unknown as CanonicalAssignment, signals: null, meta: {} },
    ]);
    expect(report.rows.length).toBe(77);
    expect(report.micro).toBeGreaterThanOrEqual(0.95);
    expect(report.macro).toBeGreaterThanOrEqual(0.95);
  });
});
