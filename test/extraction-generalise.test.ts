import { describe, expect, it } from 'vitest';
import { canonical, matching, sorted } from './support/extract.ts';

/**
 * Failure classes seen on real posts of agencies outside the fixtures (issue 16), each tried on posts written
 * here in shapes the fixtures do not have. What is checked is what matching reads (matchingItemFrom).
 */

describe('tutor types: student tutors, qualifications, "and above"', () => {
  it.each([
    ['Job 88: P5 Maths @ Tampines 520123\nTutor type: Undergrad / Poly student\nRate: $25/h', ['student']],
    ['Sec 1 English at Hougang 530456\nBudget: $30-40/hr (NUS undergrad)\nMon 4pm', ['student']],
    ['Sec 2 Science, Woodlands 730111\nPT tutors & above welcome. $35/h', ['part_time', 'full_time', 'moe']],
    ['JC1 Chemistry @ Bishan 570222\n$70/hr\nRequirements: female, Full Time / Graduate Tutor', ['full_time']],
    ['P6 Science @ Pasir Ris 510333\nStudent is shy and needs patience; looking for an ex-MOE teacher. $80/h', ['moe']],
    ['P3 Chinese @ Yishun 760444\nPart-time (non-student) tutors only, $30/h', ['part_time']],
    ['Sec 4 Physics @ Bedok 460555, $50/h\nFamiliar with the MOE syllabus please', []],
    ['Sec 3 A Math @ Clementi 120666\nRates: Student $25-30/h | Full-timer $45-55/h', ['student', 'full_time']],
  ])('%s', async (text, types) => {
    expect(sorted((await matching(text)).tutor_types)).toEqual(sorted(types));
  });
});

describe('subjects: every subject a post names gets its code; the student and the format are no subjects', () => {
  it.each([
    ['Lvl: Sec 2 | Subj: A Math | Loc: Punggol 820111 | $40/h', ['MATH.SEC_AMATH']],
    ['Sec 4 Maths (Elementary & Additional) at Jurong West 640222, $55/h', ['MATH.SEC_AMATH', 'MATH.SEC_EMATH']],
    ['Sec 3 Comb Sci (Phy/Chem) @ Serangoon 550333, $45/h', ['SCIENCE.COMBINED_PHYS_CHEM']],
    ['S4 Combined Bio + Chem, Tampines 520444, $50/h', ['SCIENCE.COMBINED_BIO_CHEM']],
    ['P4 Maths and Science Olympiad @ Bukit Timah 589555, $60/h', ['MATH.OLYMPIAD', 'SCIENCE.OLYMPIAD']],
    ['Sec 1 Higher Chinese @ Bedok 460666, $40/h. Tags: #Chinese #Secondary', ['MTL.CHINESE_HIGHER']],
    ['K2 English Phonics @ Sengkang 540777, $30/h', ['ENGLISH.PHONICS']],
    ['Sec 3 Physics @ Toa Payoh 310888, $45/h\nOther details:\nMalay boy, quiet.\nGroup tuition of 3 is fine.', ['SCIENCE.PHYSICS']],
    ['P5 English @ Yishun 760999, $35/h\n- Tutor to be bilingual in English & Chinese\nLooking for a Chinese female tutor', ['ENGLISH.GENERAL']],
    ['N2 Science @ Clementi 120123, $30/h', ['SCIENCE.GENERAL']],
    ['Sec 2 Creative Writing @ Bishan 570234, $40/h', ['ENGLISH.CREATIVE_WRITING']],
    ['Poly Year 2 Engineering Maths @ Woodlands 730345, $60/h', ['TERTIARY.ENGINEERING_APPLIED']],
    ['Secondary E-Math @ Punggol 820456, $40/h\nRemarks: S2 NA Maths, weak in algebra', ['MATH.SEC_EMATH']],
  ])('%s', async (text, codes) => {
    expect(sorted((await matching(text)).subjects)).toEqual(sorted(codes));
  });

  it("a language of a P6 request stays beside another request's higher language", async () => {
    expect(sorted((await matching('P6 Chinese and Sec 1 Higher Chinese, Hougang 530111, $40/h')).subjects)).toEqual(['MTL.CHINESE', 'MTL.CHINESE_HIGHER']);
  });
});

describe('levels: what the student is, not what the tutor holds', () => {
  it.each([
    ['P6 Maths @ Bedok 460111\nRate: $30-35/hr (Poly student) or $45/hr (Degree holder)', ['Primary'], ['Primary 6']],
    ['Sec 2 English @ Tampines 520111\nFees: $35/h Part Time/Undergrad Tutor', ['Secondary'], ['Secondary 2']],
    ['Y3 IP Chemistry @ Bishan 570111, $60/h', ['Secondary'], ['Secondary 3']],
    ['IP Year 5 Economics @ Bukit Timah 589111, $80/h', ['Junior College'], ['JC 1']],
    ['Grade 7 Science (international school) @ Novena 307111, $60/h', ['Secondary'], []],
    ['Grade 10 Physics (IGCSE) @ Holland 278111, $70/h', ['IGCSE'], []],
    ['Pri 3 and 4 Maths (siblings) @ Jurong 640111, $40/h, 2 hours', ['Primary'], ['Primary 3', 'Primary 4']],
    ['Sec 4NA Maths @ Woodlands 730111, $40/h', ['Secondary'], ['Secondary 4']],
    ['K1/K2 Phonics @ Punggol 820111, $30/h', ['Pre-School'], ['K1', 'K2']],
    ['Nursery 1 English @ Yishun 760111, $30/h', ['Pre-School'], ['Nursery']],
    ['Working adult learning Korean, online, $40/h', ['Independent Learner - Languages'], []],
  ])('%s', async (text, levels, specific) => {
    const m = await matching(text);
    expect({ levels: sorted(m.levels), specific: sorted(m.specific_levels) }).toEqual({ levels: sorted(levels), specific: sorted(specific) });
  });

  it("a remark's grades do not replace the lesson's own", async () => {
    const m = await matching('P4 English @ Clementi 120309, $35/h\nSpecial request: able to teach P1, P2 & Oral');
    expect(m.specific_levels).toEqual(['Primary 4']);
  });
});

describe('mode phrases', () => {
  it.each([
    ['Sec 1 Maths @ Bedok 460111, $40/h\nStrictly F2F, no online lessons please', 'face_to_face'],
    ['P3 English, $35/h\nLesson: Online OR at Tampines 520111', 'hybrid'],
    ['P5 Science @ Yishun 760111, $35/h\nHome tuition, 1.5h weekly', 'face_to_face'],
    ['Sec 2 Chinese, Punggol 820111, $40/h [Physical]', 'face_to_face'],
    ['JC2 Econs @ Clementi 120111, $70/h\nOnline is ok if you stay far', 'hybrid'],
    ['Sec 3 Physics @ Hougang 530111, $50/h\nOnline only', 'online'],
    ['P6 Maths @ Bishan 570111, $40/h\nLooking for a home tutor, Tue 5pm', 'face_to_face'],
    ['P4 Maths @ Jurong 640111, $40/h, Tue 5pm', null],
  ])('%s', async (text, mode) => {
    expect((await matching(text)).mode).toBe(mode);
  });
});

describe('days and times', () => {
  const hardened = async (text: string) => (await canonical(text)).time_availability;
  const slots = (map: Record<string, string[]>) => Object.fromEntries(Object.entries(map).filter(([, v]) => v.length > 0));

  it.each([
    ['P5 Maths @ Bedok 460111, $40/h\nAvailable: tues and sat', ['tuesday', 'saturday']],
    ['Sec 1 Science @ Tampines 520111, $40/h\nDays: Weekdays (except Thursday) 5-6:30pm', ['monday', 'tuesday', 'wednesday', 'friday']],
    ['P3 English @ Yishun 760111, $30/h\nPrefers Fri. Other days can be discussed.', ['friday']],
  ])('%s', async (text, days) => {
    expect(sorted((await matching(text)).days ?? [])).toEqual(sorted(days));
  });

  it('a start with no end is one lesson long: as the post says, else 1.5 h', async () => {
    expect(slots((await hardened('Sec 2 Maths @ Bishan 570111, $45/h\n2 hrs per lesson, once a week\nWednesday or Thursday 5pm')).explicit)).toEqual({
      wednesday: ['17:00-19:00'],
      thursday: ['17:00-19:00'],
    });
    expect(slots((await hardened('Sec 2 Maths @ Bishan 570111, $45/h\nTime: Sat 10am')).explicit)).toEqual({ saturday: ['10:00-11:30'] });
    // an open end stays an open end: "after 6pm" is from 6pm on
    expect(slots((await hardened('Sec 2 Maths @ Bishan 570111, $45/h\nMon after 6pm')).estimated)).toEqual({ monday: ['18:00-23:00'] });
  });
});

describe('rates: the overall hourly range matching compares', () => {
  it.each([
    ['Sec 3 A Math @ Bishan 570111\nBudget: $45 - $55 per hour', 45, 55],
    ['Sec 3 A Math @ Bishan 570111\nFee: $55/hr to $60/hr', 55, 60],
    ['P3 English @ Tampines 520111\n$60/1.5h, once a week', 40, 40],
    ['P6 Maths @ Bedok 460111\nRates: PT $30-35/h | FT $45-50/h | Ex-MOE $70/h', 30, 70],
    ['Sec 1 Science @ Yishun 760111\nPer hour: 45', 45, 45],
    ['JC1 Chemistry @ Bishan 570111\nRate: mkt rate', null, null],
    ['Sec 2 Maths @ Bishan 570111\nFees: experience based, pls quote', null, null],
    ['Full-time tutor for a tuition centre @ Jurong 640111, Sec Maths\nSalary: $3,500/month', null, null],
  ])('%s', async (text, min, max) => {
    const m = await matching(text);
    expect([m.rate_hourly_min, m.rate_hourly_max]).toEqual([min, max]);
  });

  it('a postal code on the line before an hourly label is no rate', async () => {
    const m = await matching('Sec 3 A Math @ Bishan 570111\nPer hour: 45');
    expect(m.postal_code).toBe('570111');
    expect(m.rate_hourly_max).toBe(45);
  });
});

describe('labels never seen before for known fields', () => {
  it.each([
    ['Assignment #1234\nSec 3 A Math @ Bishan 570111, $50/h', '1234'],
    ['Job no. 5521 — P6 Science @ Tampines 520111, $40/h', '5521'],
    ['4521 | Sec 2 English | Tampines 520111 | $40/h', '4521'],
    ['P5 Maths | TX88 | Bedok 460111 | $35/h', 'TX88'],
    ['Sec 1 Maths | Punggol 820111 | $40/h | Tue 5pm', null],
  ])('code: %s', async (text, code) => {
    expect((await canonical(text)).assignment_code).toBe(code);
  });

  it.each([
    ['Sec 3 Chem @ Bishan 570111 $50/h\nRequirement: patient tutor with O level experience', 'patient tutor with O level experience'],
    ['Sec 3 Chem @ Bishan 570111 $50/h\nNotes: student is weak in mole concept', 'student is weak in mole concept'],
    ['Sec 3 Chem @ Bishan 570111 $50/h\nNote to tutor: please bring past papers', 'please bring past papers'],
  ])('remarks: %s', async (text, remarks) => {
    expect((await canonical(text)).additional_remarks).toBe(remarks);
  });

  it.each([
    ['Sec 3 Chem @ Bishan 570111\nBudget: $45-55/h', 45, 55],
    ['Sec 3 Chem @ Bishan 570111\nSalary: $50/hr', 50, 50],
    ['Sec 3 Chem @ Bishan 570111\nFee: $48 per hour', 48, 48],
  ])('rate: %s', async (text, min, max) => {
    const c = await canonical(text);
    expect([c.rate.min, c.rate.max]).toEqual([min, max]);
  });
});

describe("tutor profiles: a subject name means its codes at the tutor's levels", () => {
  it('"Maths" with P5, P6 is primary maths only; with Sec 3 secondary maths; with no level, every level\'s', async () => {
    const { resolveSubjects, TutorInputSchema } = await import('../src/tutors/index.ts');
    expect(resolveSubjects(['Maths'], ['Primary 5', 'Primary 6'])).toEqual(['MATH.GENERAL']);
    expect(resolveSubjects(['Maths'], ['Secondary 3'])).toEqual(['MATH.SEC_UNKNOWN']);
    // a category name ("Science") stays the category: it matches every science
    expect(resolveSubjects(['Maths', 'Science'], ['Primary'])).toEqual(['MATH.GENERAL', 'SCIENCE']);
    expect(resolveSubjects(['Maths'])).toEqual(expect.arrayContaining(['MATH.GENERAL', 'MATH.SEC_UNKNOWN', 'MATH.JC_UNKNOWN']));
    // a code is taken as given, whatever the levels
    expect(resolveSubjects(['MATH.SEC_EMATH'], ['Primary 5'])).toEqual(['MATH.SEC_EMATH']);
    // a subject none of the levels lists keeps every code it has
    expect(resolveSubjects(['Creative Writing'], ['Secondary 2'])).toEqual(['ENGLISH.CREATIVE_WRITING']);
    const parsed = TutorInputSchema.parse({ chatId: 1001, subjects: 'Maths;English', levels: 'P5;P6' });
    expect(parsed.subjects).toEqual(['MATH.GENERAL', 'ENGLISH']);
  });
});

describe('addresses on the headline line, and streets with no block number', () => {
  it.each([
    ['Sec 3 A Math @ Blk 123 Bishan St 12 (570123) Female tutor\nRate: $50/h', 'Sec 3 A Math', ['Blk 123 Bishan St 12']],
    ['P5 Science | 38 Jalan Kembangan | $40/h', 'P5 Science', ['38 Jalan Kembangan']],
    ['Sec 1 English at Tampines Avenue 4, $35/h', 'Sec 1 English', ['Tampines Avenue 4']],
    ['P4 Maths @ Upper Thomson Road, $40/h', 'P4 Maths', ['Upper Thomson Road']],
    ['JC1 Econs - Jalan Bukit Merah - $70/h - Tue 7pm', 'JC1 Econs', ['Jalan Bukit Merah']],
    ['Sec 3 Maths - Good at algebra, weak in geometry\nLocation: Bedok 460111\n$45/h', 'Sec 3 Maths', ['Bedok']],
  ])('%s', async (text, headline, address) => {
    const c = await canonical(text);
    expect({ headline: c.academic_display_text, address: c.address }).toEqual({ headline, address });
  });
});
