import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Queryable } from '../src/db/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { assignmentRows, post } from './support/assignments.ts';
import { until } from './support/bot.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { RulesExtractor } from '../src/extraction/index.ts';
import { claim } from '../src/queue/index.ts';
import { processJob } from '../src/worker/index.ts';
import { resolveUncertain } from '../src/delivery/index.ts';
import { VERSION, drain, gatedExtractor, jobRows, postAndEnqueue, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const CHANNEL = '@tutordex_test';
const COCO = 't.me/cocoassignments';
const liveConfig = (env: Record<string, string> = {}) =>
  workerConfig({
    TELEGRAM_BOT_TOKEN: '123456:fake-token',
    TELEGRAM_BOT_API_URL: bot.url,
    BROADCAST_CHAT_ID: CHANNEL,
    EXTRACTION_WORKER_BROADCAST: '1',
    EXTRACTION_WORKER_DMS: '1',
    ...env,
  });

const sends = () => bot.calls.filter((c) => c.method === 'sendMessage');
const broadcasts = () => sends().filter((c) => String(c.chatId) === CHANNEL);
const dmsTo = (chatId: number) => sends().filter((c) => String(c.chatId) === String(chatId));

/** Tutor rows written directly (the tutors module has its own tests); subjects are taxonomy codes. */
async function tutor(
  db: Queryable,
  chatId: number,
  p: { subjects: string[]; levels: string[]; lat?: number; lon?: number; km?: number; minRate?: number; modes?: string[] },
) {
  await db.query(
    `insert into tutors (chat_id, subjects, levels, postal_lat, postal_lon, max_distance_km, min_rate, learning_modes) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [chatId, p.subjects, p.levels, p.lat ?? null, p.lon ?? null, p.km ?? null, p.minRate ?? null, p.modes ?? []],
  );
}

describeEachDatabase('worker with delivery (fake Bot API on 127.0.0.1)', (t) => {
  beforeEach(() => bot.reset());

  it('end to end: posts → raw → queue → assignments → exactly one broadcast each, DMs only to matching tutors', async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] }); // any secondary maths, anywhere
    await tutor(t.db, 1002, { subjects: ['ENGLISH'], levels: ['Primary'] }); // matches nothing below
    await tutor(t.db, 1003, { subjects: ['MATH'], levels: ['Secondary'], lat: 1.29, lon: 103.85, km: 2 }); // CBD, 2 km: too far from Yishun
    await postAndEnqueue(t.db, [
      { channel: COCO, messageId: 1, text: post('cocoassignments', 0), title: 'CocoTutors' }, // Sec 3 A Math @ Yishun
      { channel: COCO, messageId: 2, text: post('cocoassignments', 2), title: 'CocoTutors' }, // P6 Science & Math
    ]);
    const { result } = await drain(t.db, liveConfig());
    expect(result).toMatchObject({ live: true, broadcast: true, dms: true });
    const rows = await assignmentRows(t.db);
    expect(rows).toHaveLength(2);
    expect(broadcasts()).toHaveLength(2);
    // one broadcast per assignment, in whichever order the workers finished them
    for (const b of broadcasts()) expect(b.body).toMatchObject({ parse_mode: 'HTML' });
    const texts = broadcasts().map((b) => String(b.body.text));
    expect(texts.filter((x) => x.includes('Sec 3 A Math'))).toHaveLength(1);
    expect(texts.filter((x) => x.includes('P6 Science'))).toHaveLength(1);
    expect(dmsTo(1001)).toHaveLength(1);
    expect(dmsTo(1002)).toHaveLength(0);
    expect(dmsTo(1003)).toHaveLength(0);
    const delivered = await t.db.query<{ kind: string; status: string; telegram_message_id: number | null }>(
      'select kind, status, telegram_message_id from deliveries order by id',
    );
    expect(delivered.every((d) => d.status === 'sent' && d.telegram_message_id !== null)).toBe(true);
  });

  it('a worker re-run over the same jobs sends nothing again; a --force reparse has no side effects', async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    const ids = await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    await drain(t.db, liveConfig());
    expect(sends()).toHaveLength(2);
    const { enqueueRawIds } = await import('../src/queue/index.ts');
    await enqueueRawIds(t.db, 'v1', ids, true); // operator reparse
    await drain(t.db, liveConfig());
    const [job] = await jobRows(t.db);
    expect((job!.meta.assignments as { broadcast: unknown }[])[0]!.broadcast).toEqual({ suppressed: 'forced_reparse' });
    expect(sends()).toHaveLength(2);
  });

  it('issue 14 #9: a forced enqueue of a job never processed does not swallow its first broadcast', async () => {
    const ids = await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    const { enqueueRawIds } = await import('../src/queue/index.ts');
    await enqueueRawIds(t.db, 'v1', ids, true); // `enqueue --force` before any worker got to the job
    await drain(t.db, liveConfig());
    const [job] = await jobRows(t.db);
    expect(job!.meta.enqueue_reason).toBe('new');
    expect((job!.meta.assignments as { broadcast: unknown }[])[0]!.broadcast).toEqual({ queued: 1 });
    expect(broadcasts()).toHaveLength(1);
  });

  it('an assignment detected as closed on arrival is neither broadcast nor DMed', async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: `${post('cocoassignments', 0)}\nStatus: Closed` }]);
    await drain(t.db, liveConfig());
    expect(sends()).toHaveLength(0);
  });

  it('historical posts (backfill) are stored but never announced', async () => {
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0), date: new Date(Date.now() - 30 * 3_600_000) }]);
    await drain(t.db, liveConfig());
    expect(await assignmentRows(t.db)).toHaveLength(1);
    expect(sends()).toHaveLength(0);
  });

  it('re-post → bump without a new broadcast; edit → broadcast edited; closed notice → broadcast deleted', async () => {
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text, date: new Date(Date.now() - 8 * 3_600_000) }]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 2, text }]); // re-post 8 h later
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
    expect((await assignmentRows(t.db))[0]).toMatchObject({ bump_count: 1, message_id: 2 });
    // the text is the same, but the button now opens the re-post
    expect(bot.calls.filter((c) => c.method === 'editMessageText')).toHaveLength(1);
    // the agency edits the post: the rate changes
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 2, text: text.replace('Yishun', 'Yishun\nRate: $55/hr') }], { force: true, reason: 'edit' });
    await drain(t.db, liveConfig());
    expect(bot.calls.filter((c) => c.method === 'editMessageText')).toHaveLength(2);
    // then marks it taken
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 2, text: `${text}\nStatus: Taken` }], { force: true, reason: 'edit' });
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]!.status).toBe('closed');
    expect(bot.calls.filter((c) => c.method === 'deleteMessage')).toHaveLength(1);
    expect(broadcasts()).toHaveLength(1);
  });

  it('deleting the source post closes the assignment and deletes its broadcast', async () => {
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 1`);
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'closed', closed_reason: 'source_deleted' });
    expect(bot.calls.filter((c) => c.method === 'deleteMessage')).toHaveLength(1);
  });

  it('the same assignment posted by two agencies is broadcast once and DMs each tutor once', async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    await drain(t.db, liveConfig());
    expect(await assignmentRows(t.db)).toHaveLength(2);
    expect(broadcasts()).toHaveLength(1);
    expect(dmsTo(1001)).toHaveLength(1);
  });

  it('issue 14 #5: the items of a compilation post without codes are separate assignments, each announced', async () => {
    const text = 'Assignment 1:\nP4 Chinese @ Hougang\n$30/h, weekly\n\nAssignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    const rows = await assignmentRows(t.db);
    expect(rows.map((r) => r.academic_display_text)).toEqual([expect.stringContaining('P4 Chinese'), expect.stringContaining('Sec 1 Math')]);
    expect(broadcasts()).toHaveLength(2);
    const [job] = await jobRows(t.db);
    expect((job!.meta.assignments as { action: string }[]).map((a) => a.action)).toEqual(['inserted', 'inserted']);
    // the same compilation re-posted later is the same two assignments, each found again by its own item
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 2, text }]);
    await drain(t.db, liveConfig());
    expect(await assignmentRows(t.db)).toHaveLength(2);
    const reposted = (await jobRows(t.db)).find((j) => j.message_id === 2)!;
    expect((reposted.meta.assignments as { assignment_id: number; matched_by: string }[]).map((a) => [a.assignment_id, a.matched_by])).toEqual(
      rows.map((r) => [r.id, 'text']),
    );
    expect(broadcasts()).toHaveLength(2);
  });

  const openRows = async () => (await assignmentRows(t.db)).filter((r) => r.status === 'open');

  it('issue 14 #6: a post deleted while it is being extracted is neither announced nor left open', async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    const gate = gatedExtractor();
    const running = drain(t.db, liveConfig(), {}, { extractor: gate.extractor });
    await gate.entered();
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 1`);
    gate.open();
    await running;
    expect(await openRows()).toEqual([]);
    expect(await t.db.query(`select count(*)::int as n from deliveries`)).toEqual([{ n: 0 }]);
    expect(sends()).toHaveLength(0);
    const [job] = await jobRows(t.db);
    expect(job).toMatchObject({ status: 'skipped', meta: { skip_reason: 'deleted' } });
  });

  it('issue 14 #6: a deletion that lands while the job is persisting closes the assignment (persist waits for it)', async () => {
    if (t.driver !== 'postgres') return; // PGlite has one connection: a deletion cannot land inside another transaction
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    const gate = gatedExtractor();
    const running = drain(t.db, liveConfig(), {}, { extractor: gate.extractor });
    await gate.entered();
    const other = await t.connect(1);
    await other.transaction(async (tx) => {
      // the collector's delete mark, not committed yet: its trigger ran and saw no assignment for the post
      await tx.query(`update telegram_messages_raw set deleted_at = now() where message_id = 1`);
      gate.open();
      await until('the persisting job to wait for the delete mark', async () => {
        const [w] = await t.db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
        return w!.n > 0;
      });
    });
    await running;
    expect(await openRows()).toEqual([]);
    expect(sends()).toHaveLength(0);
  });

  it('issue 14 #6: a post deleted after its job persisted closes the assignment; its broadcast is never sent, or deleted once sent', async () => {
    await postAndEnqueue(t.db, [
      { channel: COCO, messageId: 1, text: post('cocoassignments', 0) },
      { channel: COCO, messageId: 2, text: post('cocoassignments', 1) },
    ]);
    const config = liveConfig();
    const deps = {
      db: t.db,
      config,
      extractor: new RulesExtractor(),
      live: true,
      broadcastOn: true,
      dmsOn: true,
      now: () => new Date(),
      signal: new AbortController().signal,
    };
    for (const job of await claim(t.db, VERSION, 2)) expect(await processJob(job, deps)).toBe('ok');
    // post 1 is deleted before the dispatcher ran: its broadcast is still pending
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 1`);
    const [first, second] = await assignmentRows(t.db);
    expect(first).toMatchObject({ status: 'closed', closed_reason: 'source_deleted' });
    await drain(t.db, config);
    expect(broadcasts()).toHaveLength(1);
    expect(await t.db.query(`select assignment_id, status from deliveries where kind = 'broadcast' order by assignment_id`)).toEqual([
      { assignment_id: first!.id, status: 'skipped' },
      { assignment_id: second!.id, status: 'sent' },
    ]);
    // post 2 is deleted after its broadcast was sent: the assignment closes and the broadcast gets a delete request
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 2`);
    expect((await assignmentRows(t.db))[1]).toMatchObject({ status: 'closed', closed_reason: 'source_deleted' });
    expect(await t.db.query(`select sync_action from deliveries where assignment_id = $1`, [second!.id])).toEqual([{ sync_action: 'delete' }]);
    await drain(t.db, config);
    expect(bot.calls.filter((c) => c.method === 'deleteMessage')).toHaveLength(1);
  });

  it("simulation finding: when the announced copy's post is deleted, another agency's open copy takes over the broadcast (no DM twice)", async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
    expect(dmsTo(1001)).toHaveLength(1);
    // agency one deletes its post; agency two's copy is still up: the channel must still show the job
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/agencyone'`);
    await drain(t.db, liveConfig());
    expect(bot.calls.filter((c) => c.method === 'deleteMessage')).toHaveLength(1);
    expect(broadcasts()).toHaveLength(2);
    expect(bot.messages(CHANNEL)).toHaveLength(1); // one message shows the job: agency two's copy
    expect(bot.messages(CHANNEL)[0]!.text).toContain('agencytwo');
    expect(dmsTo(1001)).toHaveLength(1); // the tutor is not DMed again for the same job
    // and when agency two deletes too, nothing is left
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/agencytwo'`);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(0);
  });

  it("simulation finding (seed 101): the announced copy's send ended uncertain, then its post was deleted: no second copy goes to that chat until the operator settles the uncertain one", async () => {
    const text = post('cocoassignments', 0);
    bot.misbehaveNext('sendMessage', { drop: true }); // Telegram shows agency one's broadcast, the answer is lost
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/agencyone'`);
    await drain(t.db, liveConfig());
    // the uncertain message may be in the chat (here it is): announcing agency two now could show the job twice
    expect(broadcasts()).toHaveLength(1);
    const [closedRow] = await t.db.query<{ id: number; status: string; sync_action: string | null }>(
      `select d.id, d.status, d.sync_action from deliveries d join assignments a on a.id = d.assignment_id where d.kind = 'broadcast' and a.status = 'closed'`,
    );
    expect(closedRow).toMatchObject({ status: 'uncertain', sync_action: 'delete' });
    // the operator finds it in the chat: it is deleted, and agency two's copy takes over
    const shown = bot.messages(CHANNEL)[0]!.messageId;
    await resolveUncertain(t.db, Number(closedRow!.id), { found: shown });
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect(bot.messages(CHANNEL)[0]!.text).toContain('agencytwo');
  });

  it('simulation finding: an uncertain announcement settled as lost hands the chat to the open copy', async () => {
    const text = post('cocoassignments', 0);
    bot.misbehaveNext('sendMessage', { drop: true });
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    await drain(t.db, liveConfig());
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/agencyone'`);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
    const [row] = await t.db.query<{ id: number }>(`select id from deliveries where kind = 'broadcast' and status = 'uncertain'`);
    await resolveUncertain(t.db, Number(row!.id), { lost: true });
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(2);
    expect(broadcasts()[1]!.body.text).toContain('agencytwo');
  });

  it("simulation finding: an edit that makes the announced copy a different job leaves the other agency's copy announced", async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    // agency one re-uses its post for another job: a P4 English lesson elsewhere
    const other = text
      .replaceAll('Sec 3 A Math (think! Topic 1 to 5)', 'P4 English')
      .replaceAll('762673 (Yishun)', '520123 (Tampines)')
      .replace('@ Yishun', '@ Tampines');
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: other }], { force: true, reason: 'edit' });
    await drain(t.db, liveConfig());
    const rows = await t.db.query<{ channel: string; grouped: boolean }>(
      `select split_part(message_link, '/', 4) as channel, duplicate_group_id is not null as grouped from assignments where status = 'open' order by id`,
    );
    expect(rows).toEqual([
      { channel: 'agencyone', grouped: false },
      { channel: 'agencytwo', grouped: false },
    ]);
    const texts = bot.messages(CHANNEL).map((m) => m.text);
    expect(texts).toHaveLength(2); // the edited post (P4 English) and the job it used to show, now by agency two
    expect(texts.filter((x) => x.includes('P4 English'))).toHaveLength(1);
    expect(texts.filter((x) => x.includes('A Math') && x.includes('agencytwo'))).toHaveLength(1);
    expect(dmsTo(1001)).toHaveLength(1); // the tutor had the A Math job already
  });

  it('simulation finding (seed 1): a copy posted after the first agency deleted its post is broadcast, but its tutors are not DMed twice', async () => {
    await tutor(t.db, 1001, { subjects: ['MATH'], levels: ['Secondary'] });
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/agencyone'`);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1); // the job is advertised again, by agency two
    expect(dmsTo(1001)).toHaveLength(1); // the tutor already had it
    const rows = await t.db.query<{ status: string; is_primary: boolean; grouped: boolean }>(
      `select status, is_primary, duplicate_group_id is not null as grouped from assignments order by id`,
    );
    expect(rows).toEqual([
      { status: 'closed', is_primary: false, grouped: true },
      { status: 'open', is_primary: true, grouped: true },
    ]);
  });

  it("simulation finding (seed 1): a copy posted after its twin was deleted but before that twin's broadcast went out is still broadcast", async () => {
    const text = post('cocoassignments', 0);
    const config = liveConfig();
    const deps = {
      db: t.db,
      config,
      extractor: new RulesExtractor(),
      live: true,
      broadcastOn: true,
      dmsOn: true,
      now: () => new Date(),
      signal: new AbortController().signal,
    };
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text }]);
    for (const job of await claim(t.db, VERSION, 1)) expect(await processJob(job, deps)).toBe('ok');
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where channel_link = 't.me/agencyone'`); // its broadcast still pending
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text }]);
    for (const job of await claim(t.db, VERSION, 1)) expect(await processJob(job, deps)).toBe('ok');
    await drain(t.db, config);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect(bot.messages(CHANNEL)[0]!.text).toContain('agencytwo');
  });

  it('simulation finding: deleting a re-post while the original post is still up keeps the assignment open, pointing at the original', async () => {
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text, date: new Date(Date.now() - 8 * 3_600_000) }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 2, text }]); // re-posted 8 h later
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open', message_id: 2 });
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 2`); // the re-post is deleted
    await drain(t.db, liveConfig());
    expect(await t.db.query(`select status, message_id::int as message_id, message_link from assignments`)).toEqual([
      { status: 'open', message_id: 1, message_link: 'https://t.me/cocoassignments/1' },
    ]);
    expect(bot.messages(CHANNEL)).toHaveLength(1); // still shown
    expect(bot.calls.filter((c) => c.method === 'deleteMessage')).toHaveLength(0);
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 1`); // now the last post goes
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'closed', closed_reason: 'source_deleted' });
    expect(bot.messages(CHANNEL)).toHaveLength(0);
  });

  it('README known limit: the "Open original post" button follows the post the assignment points at (a re-post, then the re-post deleted)', async () => {
    const text = post('cocoassignments', 0);
    const buttonUrls = () => JSON.stringify(bot.messages(CHANNEL).map((m) => m.replyMarkup)).match(/https:\/\/t\.me\/cocoassignments\/\d+/g);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text, date: new Date(Date.now() - 8 * 3_600_000) }]);
    await drain(t.db, liveConfig());
    expect(buttonUrls()).toEqual(['https://t.me/cocoassignments/1']);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 2, text }]); // re-posted: the same text, a new link
    await drain(t.db, liveConfig());
    expect(buttonUrls()).toEqual(['https://t.me/cocoassignments/2']);
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 2`);
    await drain(t.db, liveConfig());
    expect(buttonUrls()).toEqual(['https://t.me/cocoassignments/1']);
    expect(broadcasts()).toHaveLength(1); // edited, never sent again
  });

  it('simulation finding: a post deleted and then posted again is shown again', async () => {
    const text = post('cocoassignments', 0);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text }]);
    await drain(t.db, liveConfig());
    await t.db.query(`update telegram_messages_raw set deleted_at = now() where message_id = 1`);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 2, text }]); // the agency posts it again
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open', message_id: 2 });
    expect(broadcasts()).toHaveLength(2);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect(await t.db.query(`select status, error_json->>'type' as type from deliveries where kind = 'broadcast'`)).toEqual([{ status: 'sent', type: null }]);
  });

  it('a job taken over by the stale sweep still gets its side effects exactly once (the reference lost them)', async () => {
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    await t.db.query(`update telegram_extractions set meta = meta || '{"requeue_reason": "stale_processing"}'`);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
  });

  it('every broadcast is tracked per (assignment, chat) with its message id; a restart re-posts nothing', async () => {
    await postAndEnqueue(t.db, [
      { channel: COCO, messageId: 1, text: post('cocoassignments', 0) },
      { channel: COCO, messageId: 2, text: post('cocoassignments', 1) },
    ]);
    await drain(t.db, liveConfig({ BROADCAST_CHAT_ID: `${CHANNEL},-1001234567890` }));
    const tracked = await t.db.query<{ recipient: string; telegram_message_id: number | null; message_html: string | null }>(
      `select recipient, telegram_message_id, message_html from deliveries where kind = 'broadcast' order by assignment_id, recipient`,
    );
    expect(tracked).toHaveLength(4);
    expect(new Set(tracked.map((r) => r.recipient))).toEqual(new Set([CHANNEL, '-1001234567890']));
    expect(tracked.every((r) => r.telegram_message_id !== null && r.message_html?.startsWith('<b>'))).toBe(true);
    const before = bot.calls.length;
    await drain(t.db, liveConfig({ BROADCAST_CHAT_ID: `${CHANNEL},-1001234567890` })); // restart: no "sync" re-post
    expect(bot.calls.length).toBe(before);
  });

  it('a Mode 4 drain with a bot configured makes no Bot API call at all', async () => {
    const posts = [
      { channel: COCO, messageId: 1, text: post('cocoassignments', 0) },
      { channel: COCO, messageId: 2, text: 'ASSIGNMENT CLOSED' },
      { channel: COCO, messageId: 3, text: 'Compiled Tuition Assignments\n\n0706si: N1 Abacus @ Jurong\n\n0706ts: N1 Phonics @ Clementi' },
    ];
    await postAndEnqueue(t.db, posts, { version: 'v2' });
    const { result } = await drain(t.db, liveConfig(), { pipelineVersion: 'v2', broadcast: false, dms: false });
    expect(result).toMatchObject({ live: false, delivery: null, claimed: 3 });
    expect(bot.calls).toEqual([]);
  });

  it('issue 14 #8: muting a live lane that broadcasts and DMs is refused; its jobs are then announced by the live worker', async () => {
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    await expect(drain(t.db, liveConfig(), { broadcast: false, dms: false })).rejects.toThrow(/^--no-broadcast on the live pipeline version v1 /);
    await expect(drain(t.db, liveConfig(), { dms: false })).rejects.toThrow(/^--no-dms on the live pipeline version v1 /);
    expect((await jobRows(t.db)).map((j) => j.status)).toEqual(['pending']);
    expect(bot.calls).toEqual([]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
  });

  it('Bot API 429 with retry_after is waited out: delivered once', async () => {
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await postAndEnqueue(t.db, [{ channel: COCO, messageId: 1, text: post('cocoassignments', 0) }]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(2); // the refused call and the accepted one
    expect(await t.db.query(`select status from deliveries`)).toEqual([{ status: 'sent' }]);
  });
});
