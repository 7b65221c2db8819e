import { describe, expect, it } from 'vitest';
import { canonicalizeSubjects, extractSubjects, parseAcademicRequests } from '../src/extraction/signals/index.ts';

const req = (level: string | null, specific: string | null, stream: string | null, subjects: string[]) =>
  expect.objectContaining({ level, specific_student_level: specific, stream, subjects });

describe('parseAcademicRequests', () => {
  it('#1 P4 English and P6 Math', () => {
    const r = parseAcademicRequests('P4 English and P6 Math');
    expect(r.subjects).toEqual(['English', 'Maths']);
    expect(r.specific_student_levels).toEqual(['Primary 4', 'Primary 6']);
    expect(r.levels).toEqual(['Primary']);
    expect(r.streams).toEqual([]);
    expect(r.academic_requests).toEqual([req('Primary', 'Primary 4', null, ['English']), req('Primary', 'Primary 6', null, ['Maths'])]);
    expect(r.confidence_flags.ambiguous_academic_mapping).toBe(false);
    expect(r.subjects_canonical).toEqual(['ENGLISH.GENERAL', 'MATH.GENERAL']);
    expect(r.subjects_general).toEqual(['ENGLISH', 'MATH']);
  });

  it('#2 Secondary 2 Science and Secondary 4 Express E-Maths (2026)', () => {
    const r = parseAcademicRequests('Secondary 2 Science and Secondary 4 Express E-Maths (2026)');
    expect(r.subjects).toEqual(['Science', 'E Maths']);
    expect(r.streams).toEqual(['Express']);
    expect(r.levels).toEqual(['Secondary']);
    expect(r.specific_student_levels).toEqual(['Secondary 2', 'Secondary 4']);
    expect(r.academic_requests).toEqual([req('Secondary', 'Secondary 2', null, ['Science']), req('Secondary', 'Secondary 4', 'Express', ['E Maths'])]);
    expect(r.subjects_canonical).toEqual(['SCIENCE.GENERAL', 'MATH.SEC_EMATH']);
    expect(r.subjects_general).toEqual(['SCIENCE', 'MATH']);
  });

  it('#3 Sec 3 G3 English and G2 Math', () => {
    const r = parseAcademicRequests('Sec 3 G3 English and G2 Math');
    expect(r.specific_student_levels).toEqual(['Secondary 3']);
    expect(r.streams).toEqual(['G3', 'G2']);
    expect(r.academic_requests).toEqual([req('Secondary', 'Secondary 3', 'G3', ['English']), req('Secondary', 'Secondary 3', 'G2', ['Maths'])]);
    expect(r.subjects_canonical).toEqual(['ENGLISH.GENERAL', 'MATH.SEC_UNKNOWN']);
  });

  it('#4 Pri Eng/Math/Sci/Chinese, Sec Eng/Creative Writing (canonical codes per request, not [] for two levels)', () => {
    const r = parseAcademicRequests('Pri Eng/Math/Sci/Chinese, Sec Eng/Creative Writing');
    expect(r.levels).toEqual(['Primary', 'Secondary']);
    expect(r.specific_student_levels).toEqual([]);
    expect(r.subjects).toEqual(['English', 'Maths', 'Science', 'Chinese', 'Creative Writing']);
    expect(r.academic_requests).toEqual([
      req('Primary', null, null, ['English', 'Maths', 'Science', 'Chinese']),
      req('Secondary', null, null, ['English', 'Creative Writing']),
    ]);
    // reference: [] because two levels were present; Creative Writing has one code at every level that lists it
    expect(r.subjects_canonical).toEqual(['ENGLISH.GENERAL', 'MATH.GENERAL', 'SCIENCE.GENERAL', 'MTL.CHINESE', 'ENGLISH.CREATIVE_WRITING']);
    expect(r.academic_requests![0]!.subjects_canonical).toContain('MATH.GENERAL');
  });

  it('#5 IB Year 1 HL Language & Literature (English) (maps to the IB literature code)', () => {
    const r = parseAcademicRequests('IB Year 1 HL Language & Literature (English)');
    expect(r.levels).toContain('IB');
    expect(r.specific_student_levels).toContain('IB Year 1');
    expect(r.streams).toContain('HL');
    expect(r.subjects).toContain('English Literature (IB/IGCSE)');
    expect(r.academic_requests).toEqual([req('IB', 'IB Year 1', 'HL', ['English Literature (IB/IGCSE)'])]);
    expect(r.subjects_canonical).toEqual(['ENGLISH.IBIGCSE_LITERATURE']); // reference: []
  });

  it('#6 K1 English, PSLE Maths (per-request codes)', () => {
    const r = parseAcademicRequests('K1 English, PSLE Maths');
    expect(r.specific_student_levels).toContain('K1');
    expect(r.levels).toEqual(['Pre-School', 'Primary']);
    expect(r.subjects).toEqual(['English', 'Maths']);
    expect(r.academic_requests).toEqual([req('Pre-School', 'K1', null, ['English']), req('Primary', null, null, ['Maths'])]);
    expect(r.subjects_canonical).toEqual(['ENGLISH.GENERAL', 'MATH.GENERAL']); // reference: []
  });

  it('#7 O Levels Physics / N level Maths (identical level requests are merged)', () => {
    const r = parseAcademicRequests('O Levels Physics / N level Maths');
    expect(r.levels).toEqual(['Secondary']);
    expect(r.specific_student_levels).toEqual([]);
    expect(r.subjects).toEqual(['Physics', 'Maths']);
    expect(r.academic_requests).toEqual([req('Secondary', null, null, ['Physics', 'Maths'])]);
    expect(r.subjects_canonical).toEqual(['SCIENCE.PHYSICS', 'MATH.SEC_UNKNOWN']);
  });

  it('#8 A Level H2 Maths', () => {
    const r = parseAcademicRequests('A Level H2 Maths');
    expect(r.levels).toContain('Junior College');
    expect(r.streams).toContain('H2');
    expect(r.academic_requests).toEqual([req('Junior College', null, 'H2', ['Maths'])]);
    expect(r.subjects_canonical).toEqual(['MATH.JC_UNKNOWN']);
  });

  it('#9 Sec 2 Normal Academic English; Sec 3 Integrated Programme Math', () => {
    const r = parseAcademicRequests('Sec 2 Normal Academic English; Sec 3 Integrated Programme Math');
    expect(r.specific_student_levels).toEqual(['Secondary 2', 'Secondary 3']);
    expect(r.streams).toEqual(['NA', 'IP']);
    expect(r.subjects).toEqual(['English', 'Maths']);
    expect(r.academic_requests).toEqual([req('Secondary', 'Secondary 2', 'NA', ['English']), req('Secondary', 'Secondary 3', 'IP', ['Maths'])]);
    expect(r.subjects_canonical).toEqual(['ENGLISH.GENERAL', 'MATH.SEC_UNKNOWN']);
  });

  it('#10 IB Year 5 Higher Level Chemistry and Standard Level Maths', () => {
    const r = parseAcademicRequests('IB Year 5 Higher Level Chemistry and Standard Level Maths');
    expect(r.levels).toContain('IB');
    expect(r.specific_student_levels).toContain('IB Year 5');
    expect(r.streams).toEqual(['HL', 'SL']);
    expect(r.academic_requests).toEqual([req('IB', 'IB Year 5', 'HL', ['Chemistry']), req('IB', 'IB Year 5', 'SL', ['Maths'])]);
    expect(r.subjects_canonical).toEqual(['SCIENCE.CHEMISTRY', 'MATH.IBIGCSE_MATH']);
  });
});

describe('extractSubjects display labels', () => {
  const labels = (t: string) => extractSubjects(t).map((m) => m.canonical);
  it('#1 E.Maths, A-Math, add maths', () => expect(labels('Need E.Maths and A-Math, also add maths')).toEqual(['E Maths', 'A Maths', 'Additional Maths']));
  it('#2 combined science, phy/chem', () => expect(labels('Sec 2 combined science, phy/chem')).toEqual(['Science', 'Physics/Chem']));
  it('#3 SS. + Hist. + POA. + Soc. Studies', () =>
    expect(labels('SS. + Hist. + POA. + Soc. Studies')).toEqual(['Social Studies', 'History', 'Accounting (POA)', 'Social Studies']));
  it('#4 GP. PW. TOK. EE.', () => expect(labels('GP. PW. TOK. EE.')).toEqual(['General Paper', 'Project Work', 'Theory of Knowledge', 'Extended Essay']));
  it('#5 HCL and Higher CL, MT Chinese, ML, TL', () =>
    expect(labels('HCL and Higher CL, MT Chinese, ML, TL')).toEqual(['Higher Chinese', 'Higher Chinese', 'Chinese', 'Malay', 'Tamil']));
  it('matches carry offsets and matched text', () => {
    const [m] = extractSubjects('Sec 3 E.Maths');
    expect(m).toMatchObject({ canonical: 'E Maths', key: 'E_MATHS', start: 6, end: 13, matched_text: 'E.Maths', source: 'taxonomy' });
  });
});

describe('subject/level edge cases', () => {
  const labels = (t: string) => extractSubjects(t).map((m) => m.canonical);
  it('C++, C# and labels ending in ")" match (look-around boundaries); "Accounting (POA)" is one subject', () => {
    expect(labels('C++ and C#')).toEqual(['C++', 'C#']);
    expect(labels('Accounting (POA)')).toEqual(['Accounting (POA)']);
  });
  it('"E Math" is E Maths and canonicalises', () => {
    expect(labels('E Math')).toEqual(['E Maths']);
    expect(canonicalizeSubjects('Secondary', ['E Math']).subjects_canonical).toEqual(['MATH.SEC_EMATH']);
  });
  it('common shorthands (econs, eng lit, geog, phy, computer science, add math, emath)', () => {
    expect(labels('JC 1 Econs')).toEqual(['Economics']);
    expect(labels('Eng Lit, Geog, Phy')).toEqual(['Literature', 'Geography', 'Physics']);
    expect(labels('Computer Science')).toEqual(['Computing']);
    expect(labels('Add Math and Emath')).toEqual(['Additional Maths', 'E Maths']);
  });
  it('H3 Math and Math Olympiad are reachable', () => {
    expect(parseAcademicRequests('JC 2 H3 Math').subjects_canonical).toEqual(['MATH.JC_H3']);
    expect(canonicalizeSubjects('Primary', ['Math Olympiad']).subjects_canonical.length).toBeGreaterThan(0);
  });
  it('display labels are properly cased ("Piano", "Python")', () => expect(labels('piano and python')).toEqual(['Piano', 'Python']));
  it('language describing the tutor and "Others:" boilerplate are not subjects', () => {
    expect(labels('Sec 3 Maths. Chinese female tutor preferred. Others: must be patient')).toEqual(['Maths']);
  });
  it('"need a maths tutor" is Maths, not A Maths (lower-case article)', () => expect(labels('need a maths tutor')).toEqual(['Maths']));
  it('bare exp / NA / IP / SL are not streams away from a level', () => {
    expect(parseAcademicRequests('Tutor with 2 years exp. Rate: NA. IP address. SL').streams).toEqual([]);
    expect(parseAcademicRequests('Sec 4 Exp Math').streams).toEqual(['Express']);
  });
  it('subject/stream before the level on the same line attach to it ("Math P5", "IP Sec 2 Math")', () => {
    const a = parseAcademicRequests('Math P5');
    expect(a.academic_requests).toEqual([req('Primary', 'Primary 5', null, ['Maths'])]);
    expect(a.confidence_flags.ambiguous_academic_mapping).toBe(false);
    expect(parseAcademicRequests('IP Sec 2 Math').academic_requests).toEqual([req('Secondary', 'Secondary 2', 'IP', ['Maths'])]);
  });
  it('subjects with no level anywhere stay unattached and ambiguous', () => {
    const r = parseAcademicRequests('English and Maths');
    expect(r.academic_requests).toBeNull();
    expect(r.confidence_flags.ambiguous_academic_mapping).toBe(true);
    expect(r.subjects).toEqual(['English', 'Maths']);
  });
  it('ranges and lists expand ("Sec 1-4", "P5/6", "K1-K2", "P1 to P6")', () => {
    expect(parseAcademicRequests('Sec 1-4 Math').specific_student_levels).toEqual(['Secondary 1', 'Secondary 2', 'Secondary 3', 'Secondary 4']);
    expect(parseAcademicRequests('P5/6 Science').academic_requests).toEqual([
      req('Primary', 'Primary 5', null, ['Science']),
      req('Primary', 'Primary 6', null, ['Science']),
    ]);
    expect(parseAcademicRequests('K1-K2 english').academic_requests).toHaveLength(2);
    expect(parseAcademicRequests('P1 to P6').specific_student_levels).toHaveLength(6);
    expect(parseAcademicRequests('P7 Math, Sec 6').specific_student_levels).toEqual([]);
  });
  it('university / degree levels are detected', () => {
    expect(parseAcademicRequests('University Calculus').levels).toEqual(['Degree']);
  });
  it('IB/IGCSE level falls back to the IB then IGCSE tables', () => {
    expect(canonicalizeSubjects('IB/IGCSE', ['Physics']).subjects_canonical.length).toBeGreaterThan(0);
  });
  it('IB-math fallback uses whole words ("Maths at Tai Seng" is not IB Math AI)', () => {
    expect(canonicalizeSubjects('IB', ['Math AA HL']).subjects_canonical).toEqual(['MATH.IB_MATH_AA_HL']);
    expect(canonicalizeSubjects('IB', ['Maths at Tai Seng']).debug.resolved_subject_keys).toEqual([]);
  });
  it('level-dependent maths codes', () => {
    expect(canonicalizeSubjects('Secondary', 'Maths').subjects_canonical).toEqual(['MATH.SEC_UNKNOWN']);
    expect(canonicalizeSubjects('Junior College', ['Maths']).subjects_canonical).toEqual(['MATH.JC_UNKNOWN']);
    expect(canonicalizeSubjects('Pre-School', ['Maths']).subjects_canonical).toEqual(['MATH.GENERAL']);
    expect(canonicalizeSubjects(null, ['Maths']).subjects_canonical).toEqual([]);
    expect(canonicalizeSubjects(null, ['Piano']).subjects_general).toEqual(['MUSIC']);
    expect(canonicalizeSubjects('Diploma', ['Maths']).debug.unmapped_subjects).toEqual(['Maths']);
  });
});
