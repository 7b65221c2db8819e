import { expect, it } from 'vitest';
import { bumpFromReply, detectDuplicates, duplicateMatch, persistAssignment, refreshFreshness, type DuplicateCandidate } from '../src/assignments/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { assignmentInput, assignmentRows, post } from './support/assignments.ts';

const T = new Date('2026-03-01T08:00:00Z');
const h = (n: number) => new Date(T.getTime() + n * 3_600_000);
const BUMP = { bumpMinSeconds: 6 * 3600 };
const COCO = 't.me/cocoassignments';

describeEachDatabase('assignments projection', (t) => {
  const persist = async (m: Parameters<typeof assignmentInput>[1], version = 'v1') =>
    t.db.transaction(async (tx) => persistAssignment(tx, await assignmentInput(tx, m, version), BUMP));

  it('inserts one open row per assignment with an agency per channel and a code-based id', async () => {
    const r = await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T, title: 'Coco Tutors' });
    expect(r).toMatchObject({ action: 'inserted', status: 'open', matchedBy: 'new', externalId: 'code:1673' });
    const [row] = await assignmentRows(t.db);
    expect(row).toMatchObject({ status: 'open', bump_count: 0, message_id: 10, assignment_code: '1673' });
    expect(row!.published_at.toISOString()).toBe(T.toISOString());
    const [agency] = await t.db.query<{ agency_display_name: string; channel_link: string }>('select agency_display_name, channel_link from agencies');
    expect(agency).toEqual({ agency_display_name: 'Coco Tutors', channel_link: COCO });
  });

  it('two unknown channels are two agencies, so the same code never merges across them', async () => {
    const text = post('cocoassignments', 0);
    await persist({ channel: 't.me/agencyone', messageId: 1, text, date: T });
    await persist({ channel: 't.me/agencytwo', messageId: 1, text, date: T });
    const rows = await assignmentRows(t.db);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.agency_id)).size).toBe(2);
    const names = await t.db.query<{ agency_display_name: string }>('select agency_display_name from agencies order by id');
    expect(names.map((n) => n.agency_display_name)).toEqual(['agencyone', 'agencytwo']);
  });

  it('re-post of the same code 7 h later bumps, moves the message pointer and keeps published_at', async () => {
    await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    const r = await persist({ channel: COCO, messageId: 30, text: post('cocoassignments', 0), date: h(7) });
    expect(r).toMatchObject({ action: 'bumped', matchedBy: 'code' });
    const [row] = await assignmentRows(t.db);
    expect(row).toMatchObject({ bump_count: 1, message_id: 30 });
    expect(row!.published_at.toISOString()).toBe(T.toISOString());
    expect(row!.source_last_seen.toISOString()).toBe(h(7).toISOString());
  });

  it('a re-post 2 h after the last sighting updates without a bump', async () => {
    await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    const r = await persist({ channel: COCO, messageId: 11, text: post('cocoassignments', 0), date: h(2) });
    expect(r.action).toBe('updated');
    expect((await assignmentRows(t.db))[0]!.bump_count).toBe(0);
  });

  it('an older message processed after a newer one never moves pointers or source time back', async () => {
    await persist({ channel: COCO, messageId: 30, text: post('cocoassignments', 0), date: h(7) });
    await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    const [row] = await assignmentRows(t.db);
    expect(row).toMatchObject({ message_id: 30, bump_count: 0 });
    expect(row!.source_last_seen.toISOString()).toBe(h(7).toISOString());
    expect(row!.published_at.toISOString()).toBe(T.toISOString()); // first seen, even if processed later
  });

  it('a reparse that changes the code keeps the same row (found through the raw message)', async () => {
    const text = post('cocoassignments', 0);
    await persist({ channel: COCO, messageId: 10, text, date: T });
    const again = await assignmentInput(t.db, { channel: COCO, messageId: 10, text, date: T }, 'v2');
    again.canonical = { ...again.canonical, assignment_code: null };
    const r = await t.db.transaction((tx) => persistAssignment(tx, again, BUMP));
    expect(r).toMatchObject({ matchedBy: 'source', action: 'updated' });
    expect(await assignmentRows(t.db)).toHaveLength(1);
  });

  it('an edit updates the row in place and reports a display change', async () => {
    const text = post('cocoassignments', 0);
    await persist({ channel: COCO, messageId: 10, text, date: T });
    const r = await persist({ channel: COCO, messageId: 10, text: text.replaceAll('Sec 3 A Math', 'Sec 4 A Math'), date: T, editDate: h(1) });
    expect(r).toMatchObject({ action: 'updated', matchedBy: 'source', displayChanged: true });
    const rows = await assignmentRows(t.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.academic_display_text).toContain('Sec 4');
  });

  it('a code-less re-post of the same text by the same agency is the same assignment', async () => {
    const text = 'Sec 2 Math tutor needed at Bishan, $40/h, weekday evenings. Apply now!';
    await persist({ channel: 't.me/smallagency', messageId: 1, text, date: T });
    const r = await persist({ channel: 't.me/smallagency', messageId: 2, text, date: h(8) });
    expect(r).toMatchObject({ matchedBy: 'text', action: 'bumped' });
    expect(await assignmentRows(t.db)).toHaveLength(1);
  });

  it('a newer post saying "Status: Closed" closes it; a later genuine re-post reopens it', async () => {
    const text = post('cocoassignments', 0);
    await persist({ channel: COCO, messageId: 10, text, date: T });
    const closed = await persist({ channel: COCO, messageId: 11, text: `${text}\nStatus: Closed`, date: h(1) });
    expect(closed).toMatchObject({ status: 'closed', closedNow: true });
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'closed', closed_reason: 'closed_notice' });
    const reopened = await persist({ channel: COCO, messageId: 12, text, date: h(30) });
    expect(reopened).toMatchObject({ action: 'reopened', status: 'open' });
  });

  it('an insert detected as closed is stored closed', async () => {
    const r = await persist({ channel: COCO, messageId: 10, text: `${post('cocoassignments', 1)}\nStatus: Taken`, date: T });
    expect(r).toMatchObject({ action: 'inserted', status: 'closed' });
  });

  it('deleting the current source post closes the assignment; deleting an older re-post does not', async () => {
    await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    await persist({ channel: COCO, messageId: 30, text: post('cocoassignments', 0), date: h(7) });
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 10`);
    expect((await assignmentRows(t.db))[0]!.status).toBe('open');
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 30`);
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'closed', closed_reason: 'source_deleted' });
  });

  it('a reply to a post bumps its assignment', async () => {
    await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    const ids = await bumpFromReply(t.db, { channelLink: COCO, parentMessageId: 10, replyDate: h(10), bumpMinSeconds: BUMP.bumpMinSeconds });
    expect(ids).toEqual({ bumped: [expect.any(Number)], reopened: [] });
    const [row] = await assignmentRows(t.db);
    expect(row!.bump_count).toBe(1);
    expect(row!.source_last_seen.toISOString()).toBe(h(10).toISOString());
  });

  it('concurrent inserts of the same (agency, code) produce exactly one row', async () => {
    const a = await assignmentInput(t.db, { channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    const b = await assignmentInput(t.db, { channel: COCO, messageId: 11, text: post('cocoassignments', 0), date: T });
    const results = await Promise.all([a, b].map((input) => t.db.transaction((tx) => persistAssignment(tx, input, BUMP))));
    expect(results.map((r) => r.action).sort()).toEqual(['inserted', 'updated']);
    expect(await assignmentRows(t.db)).toHaveLength(1);
  });

  it('freshness tiers and expiry come from source time, not processing time', async () => {
    await persist({ channel: COCO, messageId: 10, text: post('cocoassignments', 0), date: T });
    await persist({ channel: COCO, messageId: 20, text: post('cocoassignments', 1), date: h(-30) });
    await persist({ channel: COCO, messageId: 30, text: post('cocoassignments', 2), date: h(-200) });
    const policy = { greenHours: 24, yellowHours: 36, orangeHours: 48, expireHours: 168 };
    const r = await refreshFreshness(t.db, policy, h(1));
    expect(r.expired).toHaveLength(1);
    const rows = await assignmentRows(t.db);
    expect(rows.map((x) => [x.message_id, x.status, x.freshness_tier])).toEqual([
      [10, 'open', 'green'],
      [20, 'open', 'yellow'],
      [30, 'expired', 'red'],
    ]);
    expect(await refreshFreshness(t.db, policy, h(1))).toEqual({ retiered: [], expired: [] }); // idempotent
  });

  it('the same assignment from two agencies forms one group with one primary, and re-detection never inflates it', async () => {
    const text = post('cocoassignments', 0);
    const a = await persist({ channel: 't.me/agencyone', messageId: 1, text, date: T });
    const b = await persist({ channel: 't.me/agencytwo', messageId: 1, text, date: h(1) });
    expect((await detectDuplicates(t.db, a.assignmentId, { minScore: 70 })).groupId).not.toBeNull(); // b is already there
    const again = await detectDuplicates(t.db, b.assignmentId, { minScore: 70 });
    expect(again.joinedExisting).toBe(false);
    for (let i = 0; i < 3; i++) await detectDuplicates(t.db, a.assignmentId, { minScore: 70 }); // re-detection on updates
    const c = await persist({ channel: 't.me/agencythree', messageId: 1, text, date: h(2) });
    const joined = await detectDuplicates(t.db, c.assignmentId, { minScore: 70 });
    expect(joined).toMatchObject({ joinedExisting: true, isPrimary: false });
    const rows = await assignmentRows(t.db);
    expect(new Set(rows.map((r) => r.duplicate_group_id)).size).toBe(1);
    expect(rows.filter((r) => r.is_primary).map((r) => r.id)).toEqual([a.assignmentId]); // earliest of equal quality
    expect(await t.db.query('select count(*)::int as n from duplicate_groups')).toEqual([{ n: 1 }]);
  });
});

it('duplicate match: rule-outs first, then the score (issue 14 #4)', () => {
  const base: DuplicateCandidate = {
    id: 1,
    agency_id: 1,
    postal: '560123',
    lat: 1.37,
    lon: 103.85,
    subjects: ['MATH.SEC_AMATH'],
    subject_names: ['A Math'],
    levels: ['Secondary'],
    specific_levels: ['Secondary 3'],
    rate_min: null,
    rate_max: null,
    published_at: T,
    code: null,
    days: [],
    parse_quality_score: 5,
    duplicate_group_id: null,
    is_primary: true,
  };
  const other = (o: Partial<DuplicateCandidate>): DuplicateCandidate => ({ ...base, id: 2, agency_id: 2, ...o });
  expect(duplicateMatch(base, other({}))).toEqual({ score: 100, ruledOut: null }); // 50+35+25+10 capped
  expect(duplicateMatch(base, other({ postal: '560124', subjects: [], published_at: h(200) })).score).toBe(45 + 25); // no subjects on one side: no points, no rule-out
  expect(duplicateMatch(base, other({ postal: null, lat: 1.372, lon: 103.851 })).score).toBe(30 + 35 + 25 + 10); // placed by area, within 1.5 km
  expect(duplicateMatch(base, other({ postal: null, lat: 1.37, lon: 103.875 })).score).toBe(20 + 35 + 25 + 10); // 2.8 km
  expect(duplicateMatch(base, other({ subjects: ['MATH.SEC_UNKNOWN', 'SCIENCE.PHYSICS'], specific_levels: ['Secondary 3', 'Secondary 4'] })).score).toBe(
    Math.round(50 + 35 / 2 + 25 / 2 + 10),
  );
  expect(
    duplicateMatch(
      { ...base, rate_min: 40, rate_max: 50, days: ['monday'], code: 'A1' },
      other({ rate_min: 45, rate_max: 60, days: ['monday', 'friday'], code: 'a1', published_at: h(100) }),
    ).score,
  ).toBe(100);
  // what rules a pair out, whatever else it shares
  const ruledOut = (o: Partial<DuplicateCandidate>, self: Partial<DuplicateCandidate> = {}) => duplicateMatch({ ...base, ...self }, other(o)).ruledOut;
  expect(ruledOut({ postal: '560200' })).toBe('postal_codes_differ');
  expect(ruledOut({ postal: null, lat: 1.44, lon: 103.85 })).toBe('too_far');
  expect(ruledOut({ postal: null, lat: null, lon: null })).toBe('no_location');
  expect(ruledOut({ postal: null, lat: null, lon: null }, { postal: null, lat: null, lon: null })).toBe('no_location'); // two online posts
  expect(ruledOut({ subjects: ['ENGLISH.GENERAL'] })).toBe('subjects_differ');
  expect(ruledOut({ subjects: ['MATH.SEC_EMATH'] })).toBe('subjects_differ'); // E Math is not A Math
  expect(ruledOut({ subjects: ['MATH.SEC_UNKNOWN'] })).toBeNull(); // "Sec 3 Math" may be either
  // …but placed by area alone, a generic subject against a specific one is not the same job (issue 16: a Grade 8
  // "Science" near a Combined Science (Bio/Chem) post of another agency)
  expect(ruledOut({ postal: null, lat: 1.372, lon: 103.851, subjects: ['MATH.SEC_UNKNOWN'] })).toBe('subjects_differ');
  expect(ruledOut({ postal: null, lat: 1.372, lon: 103.851, subjects: ['SCIENCE.GENERAL'] }, { subjects: ['SCIENCE.COMBINED_BIO_CHEM'] })).toBe(
    'subjects_differ',
  );
  expect(ruledOut({ subjects: ['SCIENCE.BIOLOGY', 'SCIENCE.CHEMISTRY'] }, { subjects: ['SCIENCE.COMBINED_BIO_CHEM'] })).toBeNull();
  expect(ruledOut({ subjects: ['MATH.GENERAL', 'ENGLISH.GENERAL'] }, { subjects: ['MATH.GENERAL', 'SCIENCE.GENERAL'] })).toBe('subjects_differ'); // share 1 of 3
  expect(ruledOut({ postal: null, subjects: ['MATH.GENERAL', 'SCIENCE.GENERAL'] }, { subjects: ['SCIENCE.GENERAL'] })).toBe('subjects_differ'); // placed by area: all the same
  expect(ruledOut({ subjects: ['MATH.GENERAL', 'SCIENCE.GENERAL'] }, { subjects: ['SCIENCE.GENERAL'] })).toBeNull();
  expect(ruledOut({ subjects: [], subject_names: ['Abacus'] }, { subjects: [], subject_names: ['Chess'] })).toBe('subjects_differ');
  expect(ruledOut({ subjects: [], subject_names: ['Y4 IP Chemistry'] })).toBeNull(); // a name against a code: unknown
  expect(ruledOut({ specific_levels: ['Secondary 4'] })).toBe('levels_differ');
  expect(ruledOut({ specific_levels: ['Secondary 3'] }, { specific_levels: ['Secondary 1', 'Secondary 2', 'Secondary 3'] })).toBe('levels_differ');
  expect(ruledOut({ specific_levels: [], levels: ['Primary'] })).toBe('levels_differ');
  expect(ruledOut({ days: ['saturday'] }, { days: ['monday', 'wednesday'] })).toBe('days_differ');
  expect(ruledOut({ postal: null, rate_min: 45, rate_max: 50 }, { postal: null, rate_min: 30, rate_max: 30 })).toBe('rates_differ');
  expect(ruledOut({ rate_min: 45, rate_max: 50 }, { rate_min: 30, rate_max: 30 })).toBeNull(); // same postal code: agencies mark rates up differently
});
