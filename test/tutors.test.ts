import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.ts';
import { coordsForPostalCode } from '../src/extraction/index.ts';
import { UserError } from '../src/errors.ts';
import {
  importTutors,
  listTutors,
  markDmQueued,
  matchTutors,
  removeTutor,
  resolveLevels,
  resolveSubjects,
  TutorInputSchema,
  upsertTutor,
  type MatchableAssignment,
  type TutorInput,
} from '../src/tutors/index.ts';
import { describeEachDatabase } from './support/databases.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-tutors-'));
  dirs.push(dir);
  return dir;
}

const POSTAL = '238823';
const HOME = coordsForPostalCode(POSTAL)!;
const KM_PER_DEGREE = (Math.PI / 180) * 6371.0088;
/** A point `km` due north of the tutor's postal code. */
const north = (km: number) => ({ lat: HOME.lat + km / KM_PER_DEGREE, lon: HOME.lon });

function assignment(over: Partial<MatchableAssignment> & { km?: number } = {}): MatchableAssignment {
  const { km = 1, ...rest } = over;
  return {
    id: 1,
    subjectsCanonical: ['MATH.SEC_EMATH'],
    subjectsGeneral: ['MATH'],
    levels: ['Secondary'],
    specificLevels: ['Secondary 3'],
    learningMode: 'Face-to-Face',
    ...north(km),
    rateMin: null,
    rateMax: null,
    tutorTypes: [],
    ...rest,
  };
}

describe('resolveSubjects / resolveLevels', () => {
  it.each([
    [['E Maths'], ['MATH.SEC_EMATH']],
    [['e-maths'], ['MATH.SEC_EMATH']],
    [['physics'], ['SCIENCE.PHYSICS']],
    [
      ['Chem', 'BIOLOGY'],
      ['SCIENCE.CHEMISTRY', 'SCIENCE.BIOLOGY'],
    ],
    [['Math'], ['MATH']],
    [['science'], ['SCIENCE']],
    [['math.sec_amath'], ['MATH.SEC_AMATH']],
    [['MATH.SEC_EMATH', 'E Maths', ' '], ['MATH.SEC_EMATH']],
  ])('subjects %j → %j', (input, codes) => {
    expect(resolveSubjects(input)).toEqual(codes);
  });

  it('an unknown subject is a UserError naming it', () => {
    expect(() => resolveSubjects(['physics', 'basket weaving'])).toThrow(UserError);
    expect(() => resolveSubjects(['basket weaving'])).toThrow(/unknown subject "basket weaving"/);
    expect(() => resolveSubjects(['MATH.NOPE'])).toThrow(/MATH\.NOPE/);
  });

  it.each([
    [['Secondary'], ['Secondary']],
    [['sec'], ['Secondary']],
    [['Sec 3'], ['Secondary 3']],
    [
      ['sec3', 'S4'],
      ['Secondary 3', 'Secondary 4'],
    ],
    [['P5'], ['Primary 5']],
    [['Primary 6'], ['Primary 6']],
    [['JC1'], ['Junior College 1']],
    [['jc 2'], ['Junior College 2']],
    [['jc'], ['Junior College']],
    [['o level'], ['Secondary']],
    [
      ['pre-school', 'IB'],
      ['Pre-School', 'IB'],
    ],
  ])('levels %j → %j', (input, levels) => {
    expect(resolveLevels(input)).toEqual(levels);
  });

  it.each([['Sec 9'], ['P7'], ['JC3'], ['grade school']])('unknown level %s is a UserError naming it', (level) => {
    expect(() => resolveLevels([level])).toThrow(UserError);
    expect(() => resolveLevels([level])).toThrow(`unknown level "${level}"`);
  });
});

describe('TutorInputSchema', () => {
  const base = { chatId: '42', subjects: 'E Maths', levels: 'Sec 3' };
  it.each([
    [0.3, 0.5],
    [100, 50],
    [0, 5],
    [-1, 5],
    [null, 5],
    ['8', 8],
  ])('max distance %j → %j km', (given, km) => {
    expect(TutorInputSchema.parse({ ...base, maxDistanceKm: given }).maxDistanceKm).toBe(km);
  });

  it('normalises lists, modes and types', () => {
    const t = TutorInputSchema.parse({
      ...base,
      subjects: 'E Maths; physics|Math',
      learningModes: 'Online, F2F',
      tutorTypes: ['Full-Time', 'ex-MOE ', 'full-time'],
    });
    expect(t.subjects).toEqual(['MATH.SEC_EMATH', 'SCIENCE.PHYSICS', 'MATH']);
    expect(t.learningModes).toEqual(['online', 'face-to-face']);
    expect(t.tutorTypes).toEqual(['full-time', 'ex-moe']);
  });

  it.each([
    [{ ...base, chatId: 'abc' }, /chatId/],
    [{ subjects: 'E Maths', levels: 'Sec 3' }, /chatId/],
    [{ ...base, learningModes: 'carrier pigeon' }, /learning mode/],
    [{ ...base, minRate: -5 }, /min rate/],
    [{ ...base, subjects: '' }, /subject/],
    [{ ...base, levels: [] }, /level/],
    [{ ...base, postalCode: '999999' }, /postal/],
    [{ ...base, colour: 'blue' }, /colour|unrecognized/i],
  ])('rejects %j', (input, message) => {
    const r = TutorInputSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues)).toMatch(message);
  });
});

const csvText = [
  'chat_id,name,subjects,levels,postal_code,max_distance_km,min_rate,learning_modes,tutor_types,active',
  '101,Alice,"E Maths;A Maths",Sec 3|Sec 4,238823,8,40,online;face-to-face,full-time,true',
  '102,Bob,physics,JC1,,,,,,',
  '103,"Chan, C",Math,Primary,560123,100,0,hybrid,ex-moe|part-time,no',
].join('\n');

const jsonText = JSON.stringify([
  { chatId: 201, displayName: 'Dee', subjects: ['chemistry'], levels: ['Secondary'], postalCode: '560123' },
  { chat_id: '202', subjects: 'English', levels: 'P5;P6', learning_modes: ['Online'] },
]);

describeEachDatabase('tutors store', (t) => {
  it('upsert geocodes the postal code, keeps omitted fields, and updates by chat id', async () => {
    const a = await upsertTutor(t.db, { chatId: '5001', subjects: ['E Maths'], levels: ['Sec 3'], postalCode: 'S(238823)', displayName: 'Ann' });
    expect(a).toMatchObject({
      chatId: '5001',
      subjects: ['MATH.SEC_EMATH'],
      levels: ['Secondary 3'],
      postalCode: '238823',
      maxDistanceKm: 5,
      active: true,
      displayName: 'Ann',
    });
    expect(a.lat).toBeCloseTo(HOME.lat, 6);
    expect(a.lon).toBeCloseTo(HOME.lon, 6);
    const b = await upsertTutor(t.db, { chatId: 5001, subjects: 'physics', levels: 'JC1', maxDistanceKm: 12, active: false });
    expect(b.id).toBe(a.id);
    expect(b).toMatchObject({
      subjects: ['SCIENCE.PHYSICS'],
      levels: ['Junior College 1'],
      postalCode: '238823',
      maxDistanceKm: 12,
      displayName: 'Ann',
      active: false,
      inactiveReason: 'manual',
    });
    const c = await upsertTutor(t.db, { chatId: 5001, subjects: 'physics', levels: 'JC1', postalCode: '' });
    expect(c).toMatchObject({ postalCode: null, lat: null, lon: null });
    expect(await listTutors(t.db)).toHaveLength(1);
    expect(await listTutors(t.db, { activeOnly: true })).toHaveLength(0);
  });

  it('a bad postal code is a UserError and nothing is written', async () => {
    await expect(upsertTutor(t.db, { chatId: 1, subjects: 'Math', levels: 'Primary', postalCode: '999999' })).rejects.toThrow(UserError);
    await expect(upsertTutor(t.db, { chatId: 1, subjects: 'Math', levels: 'Primary', postalCode: '12' })).rejects.toThrow(
      /postalCode: invalid postal code "12"/,
    );
    expect(await listTutors(t.db)).toEqual([]);
  });

  it('removeTutor reports whether a tutor was removed', async () => {
    await upsertTutor(t.db, { chatId: 7, subjects: 'Math', levels: 'Primary' });
    expect(await removeTutor(t.db, '7')).toEqual({ removed: true, cancelledDms: 0 });
    expect(await removeTutor(t.db, 7)).toEqual({ removed: false, cancelledDms: 0 });
    await expect(removeTutor(t.db, 'seven')).rejects.toThrow(UserError);
  });

  it('imports CSV: lists split on ; and |, quoted cells, inserted then updated', async () => {
    const file = path.join(tempDir(), 'tutors.csv');
    writeFileSync(file, csvText);
    expect(await importTutors(t.db, file)).toEqual({ inserted: 3, updated: 0 });
    const all = await listTutors(t.db);
    expect(all.map((x) => x.chatId)).toEqual(['101', '102', '103']);
    expect(all[0]).toMatchObject({
      displayName: 'Alice',
      subjects: ['MATH.SEC_EMATH', 'MATH.SEC_AMATH'],
      levels: ['Secondary 3', 'Secondary 4'],
      maxDistanceKm: 8,
      minRate: 40,
      learningModes: ['online', 'face-to-face'],
      tutorTypes: ['full-time'],
    });
    expect(all[1]).toMatchObject({
      displayName: 'Bob',
      subjects: ['SCIENCE.PHYSICS'],
      levels: ['Junior College 1'],
      postalCode: null,
      maxDistanceKm: 5,
      minRate: null,
      active: true,
    });
    expect(all[2]).toMatchObject({
      displayName: 'Chan, C',
      subjects: ['MATH'],
      maxDistanceKm: 50,
      minRate: 0,
      learningModes: ['hybrid'],
      tutorTypes: ['ex-moe', 'part-time'],
      active: false,
    });
    expect(await importTutors(t.db, file)).toEqual({ inserted: 0, updated: 3 });
  });

  it('imports CSV with a BOM, CRLF line ends, a quoted multi-line cell and blank lines', async () => {
    const file = path.join(tempDir(), 'windows.csv');
    writeFileSync(file, '\uFEFFChat ID,Display Name,Subjects,Levels\r\n\r\n11,"Line one\r\nline two",Math,P5\r\n12,Zed,"physics|chem",JC2\r\n');
    expect(await importTutors(t.db, file)).toEqual({ inserted: 2, updated: 0 });
    const all = await listTutors(t.db);
    expect(all.map((x) => [x.chatId, x.displayName, x.subjects, x.levels])).toEqual([
      ['11', 'Line one\r\nline two', ['MATH'], ['Primary 5']],
      ['12', 'Zed', ['SCIENCE.PHYSICS', 'SCIENCE.CHEMISTRY'], ['Junior College 2']],
    ]);
    writeFileSync(file, 'chat_id,subjects,levels\n1,Math,P5\n\n2,Math,"P9"\n');
    await expect(importTutors(t.db, file)).rejects.toThrow(/^line 4: levels: unknown level "P9"/);
  });

  it('imports JSON (by extension and by content)', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.json'), jsonText);
    writeFileSync(path.join(dir, 'b.txt'), `\n  ${jsonText}`);
    expect(await importTutors(t.db, path.join(dir, 'a.json'))).toEqual({ inserted: 2, updated: 0 });
    expect(await importTutors(t.db, path.join(dir, 'b.txt'))).toEqual({ inserted: 0, updated: 2 });
    const all = await listTutors(t.db);
    expect(all[0]).toMatchObject({ chatId: '201', displayName: 'Dee', subjects: ['SCIENCE.CHEMISTRY'], postalCode: '560123' });
    expect(all[1]).toMatchObject({ chatId: '202', subjects: ['ENGLISH'], levels: ['Primary 5', 'Primary 6'], learningModes: ['online'] });
  });

  it.each([
    ['csv', csvText.replace('102,Bob,physics,JC1', '102,Bob,underwater basket weaving,JC1'), /^line 3: subjects: unknown subject "underwater basket weaving"/],
    ['csv', csvText.replace('560123,100', '999999,100'), /^line 4: postalCode: invalid postal code "999999"/],
    ['csv', csvText.replace('online;face-to-face', 'telepathy'), /^line 2: learningModes: unknown learning mode "telepathy"/],
    ['csv', csvText.replace('103,', '101,'), /^line 4: chatId: chat id 101 already appears at line 2/],
    ['csv', csvText.replace('chat_id,name', 'chat_id,nickname'), /^line 1: unknown column "nickname"/],
    ['json', jsonText.replace('"P5;P6"', '"P9"'), /^row 2: levels: unknown level "P9"/],
    ['json', jsonText.replace('"chatId":201', '"chatId":"x1"'), /^row 1: chatId: /],
  ])('a bad %s row fails the whole import, naming the line and field', async (ext, text, message) => {
    await upsertTutor(t.db, { chatId: 101, subjects: 'English', levels: 'Primary', displayName: 'before' });
    const file = path.join(tempDir(), `bad.${ext}`);
    writeFileSync(file, text);
    const err = await importTutors(t.db, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
    const all = await listTutors(t.db);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ chatId: '101', displayName: 'before', subjects: ['ENGLISH'] });
  });

  it('a database failure mid-import rolls every row back', async () => {
    // rows are valid, but the database refuses the second one (a test-only trigger): the first must roll back too
    const file = path.join(tempDir(), 'huge.json');
    writeFileSync(
      file,
      JSON.stringify([
        { chatId: 301, subjects: 'Math', levels: 'P5' },
        { chatId: 302, subjects: 'Math', levels: 'P5' },
      ]),
    );
    await t.db.exec(`create or replace function tutors_reject_302() returns trigger language plpgsql as $$
      begin if new.chat_id = 302 then raise exception 'no 302'; end if; return new; end $$;
      create trigger tutors_reject_302 before insert on tutors for each row execute function tutors_reject_302();`);
    try {
      await expect(importTutors(t.db, file)).rejects.toThrow(/no 302/);
      expect(await listTutors(t.db)).toEqual([]);
    } finally {
      await t.db.exec('drop trigger tutors_reject_302 on tutors; drop function tutors_reject_302();');
    }
  });
});

interface MatchCase {
  name: string;
  tutor?: Partial<TutorInput>;
  /** raw SQL run against the tutor row after it is saved (values the input schema would not accept). */
  sql?: string;
  a?: Partial<MatchableAssignment> & { km?: number };
  match: boolean;
}

const CASES: MatchCase[] = [
  { name: 'subject + level intersection', match: true },
  { name: 'subject mismatch', a: { subjectsCanonical: ['SCIENCE.PHYSICS'], subjectsGeneral: ['SCIENCE'] }, match: false },
  { name: 'level mismatch', a: { levels: ['Primary'], specificLevels: ['Primary 5'] }, match: false },
  {
    name: 'case-insensitive codes and levels',
    a: { subjectsCanonical: ['math.sec_emath'], subjectsGeneral: [], levels: ['secondary'], specificLevels: [] },
    match: true,
  },
  {
    name: 'general category tutor ("Math") matches subjects_general',
    tutor: { subjects: ['Math'] },
    a: { subjectsCanonical: ['MATH.SEC_AMATH'] },
    match: true,
  },
  { name: 'canonical code matches without a general code', a: { subjectsGeneral: [] }, match: true },
  { name: 'specific level Sec 3 matches Secondary 3', tutor: { levels: ['Sec 3'] }, match: true },
  { name: 'specific level Sec 4 does not match Secondary 3', tutor: { levels: ['Sec 4'] }, match: false },
  {
    name: 'JC1 tutor matches the extractor spelling "JC 1"',
    tutor: { levels: ['JC1'] },
    a: { levels: ['Junior College'], specificLevels: ['JC 1'] },
    match: true,
  },
  { name: 'no subjects on the assignment (no signals) matches nobody', a: { subjectsCanonical: [], subjectsGeneral: [] }, match: false },
  { name: 'no levels on the assignment matches nobody', a: { levels: [], specificLevels: [] }, match: false },
  { name: 'a tutor with no subjects matches nothing', sql: `update tutors set subjects = '{}'`, match: false },
  { name: 'a tutor with no levels matches nothing', sql: `update tutors set levels = '{}'`, match: false },
  { name: 'an inactive tutor is excluded', tutor: { active: false }, match: false },
  { name: 'tutor without coordinates passes at any distance', tutor: { postalCode: null }, a: { km: 100 }, match: true },
  { name: 'tutor without coordinates passes an assignment without coordinates', tutor: { postalCode: null }, a: { lat: null, lon: null }, match: true },
  { name: 'online passes despite 100 km', a: { km: 100, learningMode: 'Online' }, match: true },
  { name: 'online is case-insensitive', a: { km: 100, learningMode: 'ONLINE' }, match: true },
  { name: 'Face-to-Face at 100 km does not count as online', a: { km: 100, learningMode: 'Face-to-Face' }, match: false },
  { name: 'Hybrid at 100 km does not count as online', a: { km: 100, learningMode: 'Hybrid' }, match: false },
  { name: '8 km within a 10 km radius passes', tutor: { maxDistanceKm: 10 }, a: { km: 8 }, match: true },
  { name: '7 km beyond the default 5 km fails', a: { km: 7 }, match: false },
  { name: 'missing distance fails when the tutor has coordinates', a: { lat: null, lon: null }, match: false },
  { name: 'default radius is 5 km (4.9 passes)', a: { km: 4.9 }, match: true },
  { name: 'default radius is 5 km (5.1 fails)', a: { km: 5.1 }, match: false },
  { name: 'radius 0.3 clamps to 0.5 (0.45 passes)', sql: 'update tutors set max_distance_km = 0.3', a: { km: 0.45 }, match: true },
  { name: 'radius 0.3 clamps to 0.5 (0.6 fails)', sql: 'update tutors set max_distance_km = 0.3', a: { km: 0.6 }, match: false },
  { name: 'radius 100 clamps to 50 (49 passes)', sql: 'update tutors set max_distance_km = 100', a: { km: 49 }, match: true },
  { name: 'radius 100 clamps to 50 (51 fails)', sql: 'update tutors set max_distance_km = 100', a: { km: 51 }, match: false },
  { name: 'radius 0 → 5 (4.9 passes)', sql: 'update tutors set max_distance_km = 0', a: { km: 4.9 }, match: true },
  { name: 'radius 0 → 5 (5.5 fails)', sql: 'update tutors set max_distance_km = 0', a: { km: 5.5 }, match: false },
  { name: 'radius -1 → 5 (4.9 passes)', sql: 'update tutors set max_distance_km = -1', a: { km: 4.9 }, match: true },
  { name: 'radius -1 → 5 (5.5 fails)', sql: 'update tutors set max_distance_km = -1', a: { km: 5.5 }, match: false },
  { name: 'radius null → 5 (4.9 passes)', sql: 'update tutors set max_distance_km = null', a: { km: 4.9 }, match: true },
  { name: 'radius null → 5 (5.5 fails)', sql: 'update tutors set max_distance_km = null', a: { km: 5.5 }, match: false },
  { name: 'rate floor: max rate below the floor fails', tutor: { minRate: 40 }, a: { rateMin: 30, rateMax: 35 }, match: false },
  { name: 'rate floor: max rate reaching the floor passes', tutor: { minRate: 40 }, a: { rateMin: 30, rateMax: 40 }, match: true },
  { name: 'rate floor: only rate_min known, above the floor', tutor: { minRate: 40 }, a: { rateMin: 50 }, match: true },
  { name: 'rate floor: unknown rate passes', tutor: { minRate: 40 }, match: true },
  { name: 'no rate floor: any rate passes', a: { rateMin: 10, rateMax: 15 }, match: true },
  { name: 'mode: online-only tutor vs Face-to-Face fails', tutor: { learningModes: ['online'] }, match: false },
  { name: 'mode: online-only tutor vs Online passes', tutor: { learningModes: ['online'] }, a: { learningMode: 'Online' }, match: true },
  { name: 'mode: face-to-face tutor vs Online fails', tutor: { learningModes: ['face-to-face'] }, a: { learningMode: 'Online' }, match: false },
  { name: 'mode: face-to-face tutor vs Face-to-Face passes', tutor: { learningModes: ['face-to-face'] }, match: true },
  { name: 'mode: hybrid tutor vs Online passes', tutor: { learningModes: ['hybrid'] }, a: { learningMode: 'Online' }, match: true },
  { name: 'mode: hybrid tutor vs Face-to-Face passes', tutor: { learningModes: ['hybrid'] }, match: true },
  { name: 'mode: online tutor vs Hybrid passes', tutor: { learningModes: ['online'] }, a: { learningMode: 'Hybrid' }, match: true },
  { name: 'mode: unknown assignment mode passes', tutor: { learningModes: ['online'] }, a: { learningMode: null }, match: true },
  { name: 'tutor types intersect case-insensitively', tutor: { tutorTypes: ['full-time'] }, a: { tutorTypes: ['Full-Time', 'Ex-MOE'] }, match: true },
  { name: 'tutor types disjoint fails', tutor: { tutorTypes: ['full-time'] }, a: { tutorTypes: ['Part-Time'] }, match: false },
  { name: 'tutor types: assignment lists none → pass', tutor: { tutorTypes: ['full-time'] }, match: true },
  { name: 'tutor types: tutor lists none → pass', a: { tutorTypes: ['Part-Time'] }, match: true },
];

describeEachDatabase('matchTutors', (t) => {
  const addTutor = (chatId: number, over: Partial<TutorInput> = {}) =>
    upsertTutor(t.db, { chatId, subjects: ['E Maths'], levels: ['Secondary'], postalCode: POSTAL, ...over });

  it.each(CASES)('$name', async (c) => {
    const tutor = await addTutor(9001, c.tutor);
    if (c.sql) await t.db.exec(`${c.sql} where id = ${tutor.id}`);
    const matches = await matchTutors(t.db, assignment(c.a), { cap: 50 });
    expect(matches.map((m) => m.chatId)).toEqual(c.match ? ['9001'] : []);
  });

  it('returns chat id, distance and reasons', async () => {
    const near = await addTutor(1, { maxDistanceKm: 10, minRate: 20 });
    await addTutor(2, { postalCode: null });
    const m = await matchTutors(t.db, assignment({ km: 3, rateMax: 30 }), { cap: 50 });
    expect(m).toHaveLength(2);
    expect(m[0]).toEqual({
      tutorId: near.id,
      chatId: '1',
      distanceKm: expect.closeTo(3, 2) as unknown as number,
      reasons: ['subject', 'level', 'distance', 'rate'],
    });
    expect(m[1]).toMatchObject({ chatId: '2', distanceKm: null, reasons: ['subject', 'level', 'no_location'] });
    const online = await matchTutors(t.db, assignment({ learningMode: 'Online' }), { cap: 50 });
    expect(online.every((x) => x.distanceKm === null && x.reasons.includes('online'))).toBe(true);
  });

  it('orders nearer first among never-DMed tutors, and caps', async () => {
    // postal codes all map to the same sector point; spread tutors by moving their coordinates north
    for (let i = 1; i <= 5; i++) await addTutor(i, { maxDistanceKm: 20 });
    for (let i = 1; i <= 5; i++) await t.db.query('update tutors set postal_lat = $1 where chat_id = $2', [north(i).lat, 6 - i]);
    const m = await matchTutors(t.db, assignment({ km: 0 }), { cap: 3 });
    expect(m.map((x) => x.chatId)).toEqual(['5', '4', '3']);
    expect(await matchTutors(t.db, assignment(), { cap: 0 })).toEqual([]);
  });

  it('least recently DMed first beats distance', async () => {
    await addTutor(1);
    await addTutor(2, { postalCode: null });
    const first = await matchTutors(t.db, assignment(), { cap: 1 });
    expect(first.map((x) => x.chatId)).toEqual(['1']);
    await markDmQueued(t.db, [first[0]!.tutorId]);
    expect((await matchTutors(t.db, assignment(), { cap: 1 })).map((x) => x.chatId)).toEqual(['2']);
  });

  it('fairness: 10 equal tutors, cap 3 – every tutor is reached within 4 rounds', async () => {
    for (let i = 1; i <= 10; i++) await addTutor(100 + i, { postalCode: null });
    const reached = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const m = await matchTutors(t.db, assignment({ id: 500 + round }), { cap: 3 });
      expect(m).toHaveLength(3);
      m.forEach((x) => {
        reached.add(x.chatId);
      });
      await markDmQueued(
        t.db,
        m.map((x) => x.tutorId),
      );
    }
    expect(reached.size).toBe(10);
  });

  it('ties are not broken by tutor id: different assignments pick different first tutors', async () => {
    for (let i = 1; i <= 10; i++) await addTutor(200 + i, { postalCode: null });
    const firsts = new Set<string>();
    for (let id = 1; id <= 10; id++) firsts.add((await matchTutors(t.db, assignment({ id }), { cap: 1 }))[0]!.chatId);
    expect(firsts.size).toBeGreaterThan(2);
  });
});

describeEachDatabase('tutors CLI', (t) => {
  async function cli(argv: string[], env: Record<string, string>, cwd: string) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s), errStream: { write: (s: string) => err.push(s) }, env, cwd });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const setup = () => {
    const cwd = tempDir();
    const env: Record<string, string> = t.driver === 'postgres' ? { DATABASE_URL: t.url! } : { TUTORDEX_DATA_DIR: path.join(cwd, 'db') };
    return { cwd, run: (argv: string[]) => cli(argv, env, cwd) };
  };

  it('add, list, remove', async () => {
    const { run } = setup();
    const add = await run([
      'tutors',
      'add',
      '--chat-id',
      '777',
      '--subjects',
      'E Maths;physics',
      '--levels',
      'Sec 3,Sec 4',
      '--postal',
      '238823',
      '--max-distance',
      '8',
      '--min-rate',
      '35',
      '--modes',
      'online|hybrid',
      '--types',
      'Full-Time',
      '--name',
      'Mei Ling',
    ]);
    expect(add.err).toBe('');
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/^saved tutor 777 \(id \d+\)/);
    expect(add.out).toContain('MATH.SEC_EMATH, SCIENCE.PHYSICS');
    expect(add.out).toContain('Secondary 3, Secondary 4');
    expect(add.out).toMatch(/postal code:\s+238823 \(1\.\d+, 103\.\d+\)/);
    expect(add.out).toMatch(/max distance:\s+8 km/);
    expect(add.out).toMatch(/learning modes:\s+online, hybrid/);

    const again = await run(['tutors', 'add', '--chat-id', '777', '--subjects', 'Math', '--levels', 'Secondary', '--inactive']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/active:\s+no/);
    expect(again.out).toMatch(/max distance:\s+8 km/); // kept

    await run(['tutors', 'add', '--chat-id', '778', '--subjects', 'English', '--levels', 'P5']);
    const list = await run(['tutors', 'list']);
    expect(list.code).toBe(0);
    expect(list.out).toContain('chat id');
    expect(list.out).toContain('777');
    expect(list.out).toContain('778');
    expect(list.out).toContain('2 tutors');
    const active = await run(['tutors', 'list', '--active', '--json']);
    const parsed = JSON.parse(active.out) as Array<{ chatId: string; levels: string[] }>;
    expect(parsed.map((x) => x.chatId)).toEqual(['778']);
    expect(parsed[0]!.levels).toEqual(['Primary 5']);

    const rm = await run(['tutors', 'remove', '777']);
    expect(rm).toMatchObject({ code: 0, out: 'removed tutor 777' }); // no DM was waiting for them
    const missing = await run(['tutors', 'remove', '777']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('tutordex: no tutor with chat id 777');
  });

  it('add with a bad value: one line naming the field, exit 1, nothing saved', async () => {
    const { run } = setup();
    const bad = await run(['tutors', 'add', '--chat-id', '5', '--subjects', 'Quidditch', '--levels', 'Sec 3']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^tutordex: subjects: unknown subject "Quidditch"/);
    expect(bad.err.split('\n')).toHaveLength(1);
    const postal = await run(['tutors', 'add', '--chat-id', '5', '--subjects', 'Math', '--levels', 'Sec 3', '--postal', '99']);
    expect(postal.code).toBe(1);
    expect(postal.err).toMatch(/postalCode: invalid postal code "99"/);
    const missing = await run(['tutors', 'add', '--chat-id', '5', '--levels', 'Sec 3']);
    expect(missing.code).toBe(2);
    expect((await run(['tutors', 'list'])).out).toMatch(/^no tutors yet/);
  });

  it('import prints counts; a bad file names the line and writes nothing', async () => {
    const { cwd, run } = setup();
    writeFileSync(path.join(cwd, 'tutors.csv'), csvText);
    const ok = await run(['tutors', 'import', 'tutors.csv']);
    expect(ok).toMatchObject({ code: 0, out: 'imported 3 tutors: 3 inserted, 0 updated' });
    writeFileSync(
      path.join(cwd, 'more.json'),
      JSON.stringify([
        { chatId: 101, subjects: 'English', levels: 'P6' },
        { chatId: 999, subjects: 'Math', levels: 'P1' },
      ]),
    );
    expect((await run(['tutors', 'import', 'more.json'])).out).toBe('imported 2 tutors: 1 inserted, 1 updated');
    writeFileSync(path.join(cwd, 'bad.csv'), 'chat_id,subjects,levels\n1,Math,P5\n2,Math,Sec 7\n');
    const bad = await run(['tutors', 'import', 'bad.csv']);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('tutordex: line 3: levels: unknown level "Sec 7" (use a level like "Secondary" or a specific level like "Sec 3", "P5", "JC1")');
    const nofile = await run(['tutors', 'import', 'nope.csv']);
    expect(nofile.code).toBe(1);
    expect(nofile.err).toMatch(/cannot read .*nope\.csv: no such file/);
    const all = JSON.parse((await run(['tutors', 'list', '--json'])).out) as Array<{ chatId: string }>;
    expect(all.map((x) => x.chatId).sort()).toEqual(['101', '102', '103', '999']);
  });
});
