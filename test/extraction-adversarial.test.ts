import { describe, expect, it } from 'vitest';
import { matching, matchingItems, processed, sorted } from './support/extract.ts';

/**
 * A reviewer who had not read the extractor tried to break its promises (issue 16): nothing published that is
 * no job, no real job lost, one job one item, and no matching field grossly wrong. Each case is a shape it found,
 * written again here.
 */
const outcome = async (text: string) => (await processed(text)).outcome;

describe('nothing published that is no job', () => {
  it.each([
    'Hi parents! SMU undergrad here, 3 yrs tutoring experience.\nSec 1-2 Math & Science, $35/hr, Punggol/Sengkang, weekday evenings.\nWhatsapp 9123 4567',
    'P6 Science @ Hougang ($40/hr, Thu 5pm) — CLOSED, thanks all!',
    'Sec 2 Chem @ Bedok North Ave 3, $45/hr\n👉 TAKEN',
    'P3 English @ Clementi, $30/hr — tutor found, thank you!',
    'We are hiring tutors! Primary to JC subjects, earn $25-$80/hr. Register at example.sg',
    '✅ P4 Math @ Punggol\n✅ Sec 3 Chem @ Jurong West\n✅ JC1 GP @ Bishan\nApply at t.me/examplejobs',
    'Tutor looking for assignment: SMU Y3, can teach Sec 1-4 Math, Tampines, $30/hr, weekends',
    'Taking in more students for next year! Part-time tutor, 5 yrs exp, P4-P6 English at Yishun. $40/hr, weekday evenings. Free trial lesson! Text 9000 1111',
    "Hello! I'm Wei Ling, a Year 3 NTU student who has been tutoring for 2 years. Teaching P1-P6 Math at your home in Bedok or online. Rates from $30/hr.",
    '🌟 Tutor of the Month 🌟\nMr Koh – ex-MOE, 12 years\nSubjects: Sec 3-4 Physics\nRate: $80/hr\nWhatsApp us to engage Mr Koh',
    'Does your child struggle with Math? Parents who sign up for P3-P6 Math tuition this month get the first lesson free! Island-wide tutors. Call 6000 1111',
    'Parent feedback ⭐⭐⭐⭐⭐\n"Thanks to Mr Lee, my daughter\'s Sec 4 Chem went from D7 to A2! He came every Saturday, $50/hr well spent." — Mrs Tan',
    'anyone knows if sec 3 chem tutors usually charge $50/hr in bedok?',
    'Assignment cancelled by parent ❗\nP6 Math @ Hougang, Tue 5pm, $40/hr',
    'Sec 2 Math @ Bedok North St 1, $40/hr, Thu 7pm — parent no longer needs a tutor, sorry!',
    '6 new jobs just in! 🚨\nP3 English – $30/h – Bedok\nSec 2 Science – $40/h – Jurong East\nJC2 GP – $70/h – Online\n👉 Full details in our channel',
    'NEW CLASS 📣 Sec 2 Math weekly class at our Bishan centre\nSaturdays 10am-12pm, $240/month (4 lessons)\nSmall group, 6 pax only. Register at example.sg',
  ])('%s', async (text) => {
    expect(await outcome(text)).toBe('skipped');
  });
});

describe('no real job lost', () => {
  it.each([
    'P4 Math @ Bedok North Ave 3, $35/hr, Mon 5pm\nTutors who cannot commit for a year please do not apply.',
    'Any female tutor available? P4 Math @ Bedok North Ave 4, $35/hr, Sat 10am',
    'P3 English @ Clementi West St 2, $30/hr, Fri 4pm\n\nTutor Profile\nFemale, patient',
    'Part-time tutor needed at our Bishan centre 570111 for P5 Math classes, $35/h, Sat 9am-1pm',
    'Dear tutors, we have a P2 Chinese student at Punggol Field 820111, $30/h, Tue 5pm. Whatsapp us if keen.',
  ])('%s', async (text) => {
    expect(await outcome(text)).toBe('ok');
  });
});

describe('one job is one item; separate jobs are separate items', () => {
  it.each([
    ['Job ID: MF7788\nSec 2 student @ Punggol Drive 820111\n1. Math – $40/hr, 1.5h on Mon\n2. Science – $40/hr, 1.5h on Thu', 1],
    ['JC2 H2 Chemistry @ Bishan 570111, Sat afternoon\n1) Undergrad: $45-55/hr\n2) Full-timer: $60-75/hr', 1],
    ['Job Code: TT2301\nP5 Math @ Bedok North Ave 1 460111, $40/hr, Mon 5pm\n\nRef: 88231 – quote this ref when you apply', 1],
    ['P6 Math @ Bedok 460111, $40/hr, Mon 5pm #PSLE2026 #P6', 1],
    ['A1234 – P3 English @ Sengkang 540111, $30/hr, Tue 5pm\nA1235 – Sec 4 Chem @ Clementi 120111, $50/hr, Sat 2pm', 2],
  ])('%s', async (text, n) => {
    expect((await matchingItems(text)).length).toBe(n);
  });
});

describe('matching fields not grossly wrong', () => {
  it('online refused is not online: the distance check stays on', async () => {
    expect([null, 'face_to_face']).toContain((await matching('P6 Math @ Bukit Batok St 21 650111\nParent not keen on online lessons.\n$40/hr, Tue 5pm')).mode);
  });

  it.each([["Sec 4 Chem @ Yishun Ave 2 760111\nParent doesn't want Zoom/online; home tuition only\n$50/hr, Sun 10am", 'face_to_face']])(
    'mode: %s',
    async (text, mode) => {
      expect((await matching(text)).mode).toBe(mode);
    },
  );

  it.each([
    ['P6 Math @ Sengkang 540111, $40/hr\nBoth parents work full-time, lessons after 7.30pm on weekdays', []],
    ['P6 Math @ Sengkang 540111, $40/hr\nNo full-time tutors please; undergraduates only', ['student']],
  ])('tutor types: %s', async (text, types) => {
    expect(sorted((await matching(text)).tutor_types)).toEqual(sorted(types));
  });

  it.each([
    ['P6 Math @ Sengkang 540111\nBudget: $1.2k/month for 8 lessons (2h each)', null],
    ['P6 Math @ Sengkang 540111\nRate: $70 (1.5hr lesson)', 46.67],
  ])('rate: %s', async (text, hourly) => {
    expect((await matching(text)).rate_hourly_max).toBe(hourly);
  });

  it.each([
    ['P5 Math @ Hougang 530111, $38/hr, Mon 5pm\nStudent speaks Malay and Tamil at home', ['MATH.GENERAL']],
    ['P5 Math @ Hougang 530111, $38/hr, Mon 5pm\nNo need for Chinese', ['MATH.GENERAL']],
  ])('subjects: %s', async (text, codes) => {
    expect(sorted((await matching(text)).subjects)).toEqual(codes);
  });

  it.each([
    ['P5 Math @ Hougang 530111, $38/hr\nNot available: Sat, Sun', []],
    ['P5 Math @ Hougang 530111, $38/hr\nMon to Fri except Tue & Thu, 5pm', ['monday', 'wednesday', 'friday']],
  ])('days: %s', async (text, days) => {
    expect(sorted((await matching(text)).days ?? [])).toEqual(sorted(days));
  });

  it.each([
    ['P5 Math @ Hougang, $38/hr\nS530111\nMon 5pm', null],
    ['P5 Math @ Hougang 530111, $38/hr\n430pm: Mon / Wed', null],
  ])('no code from a postal code or a time: %s', async (text, code) => {
    const items = await matchingItems(text);
    expect(items.length).toBe(1);
    const r = await processed(text);
    expect(r.outcome === 'ok' ? r.items[0]!.canonical.assignment_code : 'skipped').toBe(code);
  });
});

describe('no real job lost, second round', () => {
  it.each([
    'Sec 2 Science @ Jurong West St 91, $40/hr, Sat 10am. Trial lesson first.',
    'Hi tutors 😊 I have a P4 student at Punggol Field for Math, $38/hr, Wed 5pm, 1.5h. Keen? PM me @coord_amy',
    'Sec 4 Physics crash course @ Tampines St 81 520111, $50/hr, Tue/Thu 7pm',
    'JC1 H2 Math group tuition for 3 friends (max 3 students), at Bishan St 22 570111. Rate: $90/hr for the group, Sunday 2pm',
    'JC1 H2 Math @ Serangoon Ave 2 550111 $70/hr, Wed 7pm\nSelling point: student is very motivated!',
    "I'm a school teacher myself but have no time to coach my own kid. Sec 3 Chemistry, at our home in Yew Tee 680111, $45/hr, Sat morning.",
    'P2 Math @ Bedok 460111, $30/h\nTutor profile: female undergrad, patient',
    '‼️IMPORTANT ANNOUNCEMENT‼️ Parent needs a P1 English tutor @ Yishun 760111 urgently, $30/h, start this week',
    'P6 English @ Pasir Ris 510111, $40/h, Mon 5pm\nLog in to your tutor account on our portal to apply for this job.',
    'P6 Science @ Hougang Ave 8, Tue & Thu evening. Tutor to quote.\nMore jobs? Check out our channel t.me/example',
    'Refer to previous post for address. P5 Science, $40/hr, Tues 6pm',
  ])('%s', async (text) => {
    expect(await outcome(text)).toBe('ok');
  });
});
