import { describe, expect, it } from 'vitest';
import { applyFills, coerceList, fillAddress, fillLearningMode, fillLessonSchedule, fillPostalCode, normalizeText } from '../src/extraction/hardening/index.ts';

describe('normalizeText', () => {
  it.each([
    ['N1 dashes', 'a–b — c − d ‒ e', 'a-b - c - d - e'],
    ['N2 academic tokens', 'sec3 jc2 p6 k2 year1 s3 j1', 'sec 3 jc 2 p 6 k 2 year 1 s 3 j 1'],
    ['N3 dotted times', 'Thu 7.30pm and 11.45AM', 'Thu 7:30pm and 11:45AM'],
    ['N4 dotted range', 'Available 2.30-5.30pm', 'Available 2:30-5:30pm'],
    ['N5 whitespace', 'a\t\tb   c\n\n\n\nd', 'a b c\n\nd'],
  ])('%s', (_name, input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it('keeps glued tokens, removes the space before am/pm, handles CR and null', () => {
    expect(normalizeText('P6Math')).toBe('P6Math');
    expect(normalizeText('7.30 pm')).toBe('7:30pm');
    expect(normalizeText('a\r\nb\rc')).toBe('a\nb\nc');
    expect(normalizeText(null)).toBe('');
  });

  it('fixed: dotted range with spaces around the dash ("4.30 - 6.30pm") also gets a colon on the left', () => {
    expect(normalizeText('Friday: 4.30 - 6.30pm')).toBe('Friday: 4:30 - 6:30pm');
  });

  it('U+2028 and other line separators become LF', () => {
    expect(normalizeText('a\u2028b\u2029c')).toBe('a\nb\nc');
  });
});

describe('coerceList', () => {
  it('wraps, flattens, trims, drops blanks', () => {
    expect(coerceList(null)).toBeNull();
    expect(coerceList('  x ')).toEqual(['x']);
    expect(coerceList('  ')).toBeNull();
    expect(coerceList([['a', ' b '], ['', null], 5])).toEqual(['a', 'b', '5']);
    expect(coerceList([])).toBeNull();
  });
  it('de-duplicates case-insensitively, keeping the first spelling', () => {
    expect(coerceList(['Bishan MRT', 'bishan mrt', 'a'])).toEqual(['Bishan MRT', 'a']);
  });
});

describe('fillPostalCode', () => {
  const codes = (raw: string, postal: unknown = null) => fillPostalCode({ postal_code: postal }, raw).parsed.postal_code;
  it('reference cases', () => {
    expect(codes('(S)642196')).toEqual(['642196']);
    expect(codes('Singapore 642196, 642196, 123456')).toEqual(['642196', '123456']);
    expect(codes('call 91234567')).toBeNull();
    expect(codes('S(560123)')).toEqual(['560123']);
    expect(codes('Postal code: 560123')).toEqual(['560123']);
    expect(codes('Postal Code - S560123')).toEqual(['560123']);
  });
  it('glued S / Singapore prefixes are accepted', () => {
    expect(codes('Blk 642 S642196')).toEqual(['642196']);
    expect(codes('Singapore642196')).toEqual(['642196']);
  });
  it('ids, prices, ranges, phone prefixes and bad sectors are rejected', () => {
    expect(codes('Job 123456')).toBeNull();
    expect(codes('Assignment ID: 123456')).toBeNull();
    expect(codes('S$123456 budget')).toBeNull();
    expect(codes('Rate $100000')).toBeNull();
    expect(codes('560123-1')).toBeNull();
    expect(codes('560123a')).toBeNull();
    expect(codes('code #560123')).toBeNull();
    expect(codes('+65 612345')).toBeNull();
    expect(codes('Address 990123')).toBeNull(); // sector 99 does not exist
    expect(codes('Address 000123')).toBeNull();
    expect(codes('１２３４５６')).toBeNull();
  });
  it('keeps a given code normalised to its 6 digits; invalid given codes fall back to the text', () => {
    expect(codes('nothing', 'S 642196')).toEqual(['642196']);
    expect(codes('nothing', ['(S)219014', '219014'])).toEqual(['219014']);
    expect(codes('Blk 1 (S)560123', 'S 111')).toEqual(['560123']);
    expect(fillPostalCode({}, 'no code').parsed).toEqual({ postal_code: null });
  });
});

describe('fillLearningMode', () => {
  const mode = (raw: string, existing: unknown = { mode: null, raw_text: null }) =>
    (fillLearningMode({ learning_mode: existing }, raw).parsed.learning_mode as { mode: string | null } | null)?.mode ?? null;
  it.each([
    ['Tuition venue: Online', 'Online'],
    ['Mode: Zoom', 'Online'],
    ['Online', 'Online'],
    ['🔹 ONLINE', 'Online'],
    ['Online lessons only please', 'Online'],
    ['We need an online interview first', null],
    ['Home tuition at Bishan', 'Face-to-Face'],
    ['- Face-to-Face Lessons', 'Face-to-Face'],
    ['Lesson mode: F2F', 'Face-to-Face'],
    ['Location: home', 'Face-to-Face'],
    ['[Physical]', null],
    ["Physical lessons at student's home", 'Face-to-Face'],
    ['Address: Online Lessons OR Jalan Batai\n- Face-to-Face OR Online Lessons', 'Hybrid'],
    ['P5 Math Tuition Assignment Online. $35/hr', 'Online'],
    ['Info: Sec 3 English via ONLINE CLASS on Mon-Fri', 'Online'],
    ['Location: Online, Remote', 'Online'],
    ['Remote work friendly', null],
    ['Looking for online lessons for my son', null],
    ['- one-to-one online lessons', 'Online'],
    ['Prefer online tuition', 'Online'],
    ['Can do online lessons only', 'Online'],
    ['Sec 3 @ online class', 'Online'],
    ['Tuition Assignment Zoom', 'Online'],
    ['Need online', null],
    ['Student prefers home lessons', 'Face-to-Face'],
    ['Mode: physical class', 'Face-to-Face'],
    ['Location: Physical', 'Face-to-Face'],
    ['Lessons at home', null],
    ['F2F preferred', null],
  ])('%j → %s', (raw, expected) => {
    expect(mode(raw)).toBe(expected);
  });
  it('an existing enum mode is kept', () => {
    expect(mode('Online', { mode: 'Face-to-Face', raw_text: null })).toBe('Face-to-Face');
  });
  it("the model's verbatim raw_text is kept, not overwritten with the enum label", () => {
    const out = fillLearningMode({ learning_mode: { mode: null, raw_text: '[Physical]' } }, '[Physical]\n- Face-to-Face Lessons');
    expect(out.parsed.learning_mode).toEqual({ mode: 'Face-to-Face', raw_text: '[Physical]' });
  });
  it('without a model snippet, raw_text is the line that proved the mode', () => {
    const out = fillLearningMode({ learning_mode: null }, 'Code: 1\nLesson mode: F2F');
    expect(out.parsed.learning_mode).toEqual({ mode: 'Face-to-Face', raw_text: 'Lesson mode: F2F' });
    expect(out.meta).toMatchObject({ ok: true, changed: true, inferred: 'Face-to-Face' });
  });
});

describe('fillLessonSchedule', () => {
  const sched = (raw: string, existing: unknown = null) => fillLessonSchedule({ lesson_schedule: existing }, raw).parsed.lesson_schedule;
  it.each([
    ['Frequency: 1.5 Hr, 1x A Week', ['1.5 Hr, 1x A Week']],
    ['Time: Weekday afternoon', ['Weekday afternoon']],
    ['1.5 Hrs, 1-2x A Week; $55-70/Hr', ['1.5 Hrs, 1-2x A Week']],
    ['$55/hr; 1.5 Hrs, 1x A Week', ['$55/hr; 1.5 Hrs, 1x A Week']],
    ['🕒 1 lesson/week, 1.5 hours/lesson', ['1 lesson/week, 1.5 hours/lesson']],
    ['• Twice a week', null],
    ['Info: Sec 3 English @ Bishan on Mon-Fri evening [1-2 lessons/week]', ['Mon-Fri evening [1-2 lessons/week]']],
    ['Lessons: 2x weekly', ['2x weekly']],
    ['Schedule:', null],
  ])('%j', (raw, expected) => {
    expect(sched(raw)).toEqual(expected);
  });
  it('existing values are coerced and kept; [] stays when nothing matches', () => {
    expect(sched('Frequency: weekly', '  Once a week ')).toEqual(['Once a week']);
    expect(sched('nothing here', [])).toEqual([]);
  });
  it('en dash separator and "Duration Per Lesson" / "No. of hour per lesson" labels are read', () => {
    expect(sched('Timing – Sat 3pm')).toEqual(['Sat 3pm']);
    expect(sched('Duration Per Lesson: 1.5h')).toEqual(['1.5h']);
    expect(sched('No. of hour per lesson: 2')).toEqual(['2']);
  });
  it('meta records the source and count', () => {
    expect(fillLessonSchedule({}, 'Frequency: 1x').meta).toEqual({ ok: true, changed: true, source: 'explicit_frequency_line', count: 1 });
  });
});

describe('fillAddress', () => {
  const addr = (raw: string) => fillAddress({ address: null }, raw).parsed.address;
  it.each([
    ["Address: 10 Norfolk Road, King's Court, (S)219014", ["10 Norfolk Road, King's Court, (S)219014"]],
    ['📍Location/Area: Lorong Lew Lian', ['Lorong Lew Lian']],
    ['Addre : Online Le on', null],
    ['Venue - Bishan St 22', ['Bishan St 22']],
    ['0706si: N1 Abacus @ 414 Jurong West Street 42 (S)640414', ['414 Jurong West Street 42 (S)640414']],
    ['2604xu: SMU Year 1 Law @ Online Lessons', null],
    ['1234AB: P5 Math @ Clementi on Mon [2x/week]', ['Clementi']],
    ['Address: Blk 1\nAddress: Blk 1', ['Blk 1']],
    ['Address: Online Lessons OR Jalan Batai', ['Jalan Batai']],
  ])('%j', (raw, expected) => {
    expect(addr(raw)).toEqual(expected);
  });
  it('an online parenthetical is dropped whole, the address is not mangled', () => {
    expect(addr('Location: Bukit Timah (online possible)')).toEqual(['Bukit Timah']);
  });
  it('"Tuition venue:" fills the address too', () => {
    expect(addr('Tuition venue: Tampines St 21')).toEqual(['Tampines St 21']);
  });
  it('an existing address is kept (coerced)', () => {
    expect(fillAddress({ address: ' Bishan ' }, 'Address: Other').parsed.address).toEqual(['Bishan']);
  });
});

describe('applyFills', () => {
  it('runs the four fills in order and reports meta for each', () => {
    const raw = 'Address: Blk 123 Bishan St 12 S570123\nLesson mode: F2F\nFrequency: 1x a week';
    const out = applyFills({ postal_code: null, address: null, lesson_schedule: null, learning_mode: { mode: null, raw_text: null } }, raw);
    expect(out.parsed).toMatchObject({
      postal_code: ['570123'],
      address: ['Blk 123 Bishan St 12 S570123'],
      lesson_schedule: ['1x a week'],
      learning_mode: { mode: 'Face-to-Face', raw_text: 'Lesson mode: F2F' },
    });
    expect(Object.keys(out.meta)).toEqual(['postal_code_fill', 'learning_mode_fill', 'lesson_schedule_fill', 'address_fill']);
  });
});
