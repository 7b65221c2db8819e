import { describe, expect, it } from 'vitest';
import { DAYS, TimeAvailabilitySchema } from '../src/extraction/schema.ts';
import { extractTimeAvailability, normalizeText } from '../src/extraction/hardening/index.ts';

type Short = Record<string, string[]>;
const ABBR: Record<string, string> = { mon: 'monday', tue: 'tuesday', wed: 'wednesday', thu: 'thursday', fri: 'friday', sat: 'saturday', sun: 'sunday' };
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
const ALL = [...WEEKDAYS, 'sat', 'sun'];

/** Only non-empty days, with short keys, e.g. {mon: ["19:00-21:00"]}. */
function nonEmpty(map: Record<string, string[]>): Short {
  return Object.fromEntries(
    Object.entries(ABBR)
      .filter(([, d]) => (map[d] ?? []).length)
      .map(([a, d]) => [a, map[d] ?? []]),
  );
}
function days(list: string[], slots: string[]): Short {
  return Object.fromEntries(list.map((d) => [d, slots]));
}
function run(text: string) {
  const { value, meta } = extractTimeAvailability(text);
  return { ex: nonEmpty(value.explicit), est: nonEmpty(value.estimated), note: value.note, value, meta };
}

describe('time availability — reference cases', () => {
  it('1: Timing: TUESDAY AT 7PM', () => {
    const r = run('Timing: TUESDAY AT 7PM');
    expect(r.ex).toEqual({ tue: ['19:00-20:30'] });
    expect(r.est).toEqual({});
    expect(r.note).toBeNull();
    expect(r.meta.rules_fired).toEqual(['explicit_single_start_plus_lesson']);
  });
  it('2: Preferably Tuesday or Thursday after 3pm', () => {
    const r = run('Preferably Tuesday or Thursday after 3pm');
    expect(r.est).toEqual(days(['tue', 'thu'], ['15:00-23:00']));
    expect(r.ex).toEqual({});
    expect(r.meta.rules_fired).toEqual(['relative_time_rule']);
  });
  it('3: Saturdays, from 11.45am', () => {
    expect(run('Saturdays, from 11.45am').est).toEqual({ sat: ['11:45-23:00'] });
  });
  it('4 (the negated "No Sunday before 3pm" is dropped, not emitted as availability)', () => {
    const r = run('Weekdays at 730pm / Saturday flexible / No Sunday before 3pm');
    expect(r.est).toEqual(days(WEEKDAYS, ['19:30-21:00']));
    expect(r.ex).toEqual({});
    expect(r.note).toBe('flexible');
    expect(r.meta.parse_warnings).toContain('negation_detected_near_time');
    expect(r.meta.rules_fired).toEqual(expect.arrayContaining(['explicit_single_start_plus_lesson', 'note_hint', 'weekdays_keyword_seen']));
  });
  it('5: Days and time: tbc', () => {
    const r = run('Days and time: tbc');
    expect([r.ex, r.est]).toEqual([{}, {}]);
    expect(r.note).toBe('tbc');
    expect(r.meta.rules_fired).toEqual(['note_hint']);
  });
  it('6: Days and time: tutor to suggest', () => {
    const r = run('Days and time: tutor to suggest');
    expect([r.ex, r.est]).toEqual([{}, {}]);
    expect(r.note).toBe('tutor to suggest');
  });
  it('7: Timing: MONDAY / THURSDAY / FRIDAY - AFTER 4PM', () => {
    const r = run('Timing: MONDAY / THURSDAY / FRIDAY - AFTER 4PM');
    expect(r.est).toEqual(days(['mon', 'thu', 'fri'], ['16:00-23:00']));
    expect(r.meta.rules_fired).toEqual(['relative_time_rule', 'single_time_applies_to_all_days_in_line']);
  });
  it('8: days carried to the next line', () => {
    const r = run('Timing:\nMonday / Thursday / Friday\nAfter 4pm');
    expect(r.est).toEqual(days(['mon', 'thu', 'fri'], ['16:00-23:00']));
    expect(r.meta.rules_fired).toEqual(['carry_days_to_next_line', 'day_without_time']);
  });
  it('9: shape property over four inputs', () => {
    const expected: [string, 'explicit' | 'estimated', Short][] = [
      ['Timing: Tue 7pm', 'explicit', { tue: ['19:00-20:30'] }],
      ['Available weekdays', 'estimated', days(WEEKDAYS, ['08:00-23:00'])],
      ['Preferably Thurs after 3pm', 'estimated', { thu: ['15:00-23:00'] }],
      ['Saturday morning', 'estimated', { sat: ['08:00-12:00'] }],
    ];
    for (const [text, section, map] of expected) {
      const { value } = extractTimeAvailability(text);
      expect(TimeAvailabilitySchema.safeParse(value).success).toBe(true);
      for (const d of DAYS) for (const s of [...value.explicit[d], ...value.estimated[d]]) expect(s).toMatch(/^\d{2}:\d{2}-\d{2}:\d{2}$/);
      expect(nonEmpty(value[section])).toEqual(map);
    }
  });
});

describe('time availability — observed examples', () => {
  const cases: [string, string, Short, Short, string | null][] = [
    ['range 12h', 'Mon 7pm-9pm', { mon: ['19:00-21:00'] }, {}, null],
    ['range with "to"', 'Mon 7pm to 9pm', { mon: ['19:00-21:00'] }, {}, null],
    ['dotted range with spaces', 'Mon 9.00 pm - 10.30 pm', { mon: ['21:00-22:30'] }, {}, null],
    ['compact 12h range', 'Mon 730pm-930pm', { mon: ['19:30-21:30'] }, {}, null],
    ['compact 24h range after a day', 'Mon 1930-2100', { mon: ['19:30-21:00'] }, {}, null],
    ['fixed #19: 7-9pm borrows pm for the start', 'Mon 7-9pm', { mon: ['19:00-21:00'] }, {}, null],
    ['fixed #19: 2.30-5.30pm is one afternoon range', 'Mon 2.30-5.30pm', { mon: ['14:30-17:30'] }, {}, null],
    ['fixed #19: 4.30 - 6.30pm', 'Friday: 4.30 - 6.30pm', { fri: ['16:30-18:30'] }, {}, null],
    ['single am/pm with space', 'Sat 10 am', { sat: ['10:00-11:30'] }, {}, null],
    ['single 24h', 'Saturday 10:00', { sat: ['10:00-11:30'] }, {}, null],
    ['single compact after a day', 'Sun 900', { sun: ['09:00-10:30'] }, {}, null],
    ['12:30am', 'Mon 12:30am', { mon: ['00:30-02:00'] }, {}, null],
    ['12pm', 'Mon 12pm', { mon: ['12:00-13:30'] }, {}, null],
    ['13pm is invalid', 'Mon 13pm', {}, { mon: ['08:00-23:00'] }, null] /* issue 16: a day named without a time is an available day */,
    ['fixed #20: Thur', 'Thur evening', {}, { thu: ['16:00-21:00'] }, null],
    ['fixed #20: plural mornings', 'Fri mornings', {}, { fri: ['08:00-12:00'] }, null],
    ['fixed #20: plural evenings', 'Sun evenings', {}, { sun: ['16:00-21:00'] }, null],
    ['SAT exam', 'SAT Math prep', {}, {}, null],
    ['after', 'Tues after 5pm', {}, { tue: ['17:00-23:00'] }, null],
    ['after compact', 'Tue after 1700', {}, { tue: ['17:00-23:00'] }, null],
    ['before', 'Wed before 12pm', {}, { wed: ['08:00-12:00'] }, null],
    ['evening', 'Thurs evening', {}, { thu: ['16:00-21:00'] }, null],
    ['night', 'Thu night', {}, { thu: ['19:00-23:00'] }, null],
    ['morning', 'Fri morning', {}, { fri: ['08:00-12:00'] }, null],
    ['afternoon', 'Sat afternoon', {}, { sat: ['12:00-17:00'] }, null],
    ['day range', 'Mon-Fri 7pm', {}, days(WEEKDAYS, ['19:00-20:30']), null],
    ['day range with to', 'tue to thu 8pm', {}, days(['tue', 'wed', 'thu'], ['20:00-21:30']), null],
    ['day range with time range', 'Mon-Wed 7pm-9pm', {}, days(['mon', 'tue', 'wed'], ['19:00-21:00']), null],
    ['wrap-around range refused', 'Sat-Mon 3pm', { mon: ['15:00-16:30'], sat: ['15:00-16:30'] }, {}, null],
    ['weekends', 'Weekends', {}, days(['sat', 'sun'], ['08:00-23:00']), null],
    ['everyday', 'Everyday', {}, days(ALL, ['08:00-23:00']), null],
    ['all days', 'all days', {}, days(ALL, ['08:00-23:00']), null],
    ['weekend morning', 'Weekend morning', {}, days(['sat', 'sun'], ['08:00-12:00']), null],
    ['fixed #20: weekday evenings', 'weekday evenings', {}, days(WEEKDAYS, ['16:00-21:00']), null],
    ['weekdays after', 'Weekdays after 7pm', {}, days(WEEKDAYS, ['19:00-23:00']), null],
    ['every day after', 'every day after 6pm', {}, days(ALL, ['18:00-23:00']), null],
    ['daily', 'Daily 8pm', {}, days(ALL, ['20:00-21:30']), null],
    ['slash days', 'Mon/Wed 7pm', days(['mon', 'wed'], ['19:00-20:30']), {}, null],
    ['spaced slash days', 'Mon / Wed 7pm', days(['mon', 'wed'], ['19:00-20:30']), {}, null],
    ['pipe clauses', 'Mon 5pm | Wed 6pm', { mon: ['17:00-18:30'], wed: ['18:00-19:30'] }, {}, null],
    ['fixed #21: comma separates day–time groups', 'Mon 3pm - 5pm, Tue 4pm', { mon: ['15:00-17:00'], tue: ['16:00-17:30'] }, {}, null],
    ['slash clauses', 'Mon 3pm - 5pm / Tue 4pm', { mon: ['15:00-17:00'], tue: ['16:00-17:30'] }, {}, null],
    ['fixed #18: a year is not a time', 'Start date: Monday 5 Jan 2026', {}, {}, null],
    [
      'fixed #18: Blk number is not a time',
      'Mon, 1.5hrs at Blk 123',
      {},
      { mon: ['08:00-23:00'] },
      null,
    ] /* issue 16: a day named without a time is an available day */,
    ['fixed #18: a price is not a time', 'Mon $350/month', {}, { mon: ['08:00-23:00'] }, null] /* issue 16: a day named without a time is an available day */,
    ['fixed #24: Sun Plaza is a place', 'Sun Plaza, Mon 7pm', { mon: ['19:00-20:30'] }, {}, null],
    ['carried window replaces the broad default', 'Available weekdays\nafter 4pm', {}, days(WEEKDAYS, ['16:00-23:00']), null],
    ['header, days, fuzzy word on three lines', 'Timing:\nMon / Wed\nEvening', {}, days(['mon', 'wed'], ['16:00-21:00']), null],
    [
      'fixed #21: groups keep their own windows; the precise window wins over the fuzzy word',
      'Time: Weekday evenings (after 7pm) or Sat morning',
      {},
      { ...days(WEEKDAYS, ['19:00-23:00']), sat: ['08:00-12:00'] },
      null,
    ],
    ['fixed #22: negated day dropped', 'Mon not available, Tue 7pm', { tue: ['19:00-20:30'] }, {}, null],
    ['fixed #22: "except Sunday" dropped', 'except Sunday, Sat 9am', { sat: ['09:00-10:30'] }, {}, null],
    ['fixed #19: relative window clamped', 'Mon after 11:30pm', {}, { mon: ['23:30-23:59'] }, null],
    ['fixed #19: 10am-2 ends in the afternoon', 'Mon 10am-2', { mon: ['10:00-14:00'] }, {}, null],
    ['midnight range', 'Mon 12am-2am', { mon: ['00:00-02:00'] }, {}, null],
    ['fixed #20: Wed/Thur both kept', 'Wed/Thur afternoon', {}, days(['wed', 'thu'], ['12:00-17:00']), null],
    ['note flexible', 'Time: flexible', {}, {}, 'flexible'],
    ['note TBC', 'TBC', {}, {}, 'TBC'],
    ['note to be discussed', 'Timing: to be discussed', {}, {}, 'to be discussed'],
    ['note whole phrase', 'Tutors to propose all available timings', {}, {}, 'Tutors to propose all available timings'],
    ['no header, no carry (the day alone is an available day)', 'Monday\nAfter 4pm', {}, { mon: ['08:00-23:00'] }, null],
    ['header persists across blank and unrelated lines', 'Timing:\nMonday\n\nSubject: Math\nAfter 4pm', {}, { mon: ['16:00-23:00'] }, null],
    ['fixed #21: each group its own window', 'Mon & Wed 5pm-7pm, Sat 10am-12pm', { ...days(['mon', 'wed'], ['17:00-19:00']), sat: ['10:00-12:00'] }, {}, null],
    ['fixed #23: Mon-Fri without a time gets the default like "weekdays"', 'Mon-Fri', {}, days(WEEKDAYS, ['08:00-23:00']), null],
    ['broad default covers named days', 'Weekends or Mon', {}, days(['mon', 'sat', 'sun'], ['08:00-23:00']), null],
    ['fixed #20: between … and …', 'between 3pm and 5pm on Sat', { sat: ['15:00-17:00'] }, {}, null],
    ['fixed #20: onwards', 'Sat 5pm onwards', {}, { sat: ['17:00-23:00'] }, null],
    ['fixed #20: until', 'Sun until 5pm', {}, { sun: ['08:00-17:00'] }, null],
    [
      'fixed #18: year range is not a time range',
      'Academic year 2025-2026 Mon',
      {},
      { mon: ['08:00-23:00'] },
      null,
    ] /* issue 16: a day named without a time is an available day */,
    ['from … to … is a range', 'from 3pm to 5pm Sat', { sat: ['15:00-17:00'] }, {}, null],
  ];
  it.each(cases)('%s: %j', (_name, text, ex, est, note) => {
    const r = run(text);
    expect({ ex: r.ex, est: r.est, note: r.note }).toEqual({ ex, est, note });
  });

  it('meta: spans point into the normalised text and quote the raw text', () => {
    const { meta } = extractTimeAvailability('Code 1\nTiming: Tue 7.30 PM');
    const span = meta.matched_spans.find((s) => s.type === 'explicit');
    expect(span).toMatchObject({ days: ['tuesday'], normalized_substring: '7:30PM', window: '19:30-21:00' });
    expect(normalizeSlice('Code 1\nTiming: Tue 7.30 PM', span!.start_idx, span!.end_idx)).toBe('7:30PM');
  });

  it('blank and non-string input give the empty object', () => {
    for (const input of ['', '   \n ', null, 42]) {
      const { value, meta } = extractTimeAvailability(input);
      expect([nonEmpty(value.explicit), nonEmpty(value.estimated), value.note]).toEqual([{}, {}, null]);
      expect(meta.ok).toBe(true);
    }
  });
});

function normalizeSlice(raw: string, start: number, end: number): string {
  return normalizeText(raw).slice(start, end);
}
