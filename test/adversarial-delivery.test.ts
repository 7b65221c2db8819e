/**
 * Adversarial review of the delivery guarantees (at most once, nothing lost, nothing published that should not be),
 * by a reviewer who saw only the guarantees and the code (issue 14). Every `it` A1–A7 was a reproduction that
 * failed on the reviewed code because the guarantee broke; they are kept as regression tests, with the follow-ups
 * written while fixing them (A2b, A3c, A5c, A5d).
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { silentLog } from '../src/collector/index.ts';
import type { Database, Queryable } from '../src/db/index.ts';
import { createBotClient, createDispatcher } from '../src/delivery/index.ts';
import { RulesExtractor } from '../src/extraction/index.ts';
import { claim } from '../src/queue/index.ts';
import { processJob, runMaintenance } from '../src/worker/index.ts';
import { assignmentRows, post } from './support/assignments.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { VERSION, deletePost, drain, postAndEnqueue, workOnly as workOnlyWith, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const CHANNEL = '@tutordex_test';
const H = 3_600_000;
const TOKEN = '123456:fake-token';
const FRESHNESS = { greenHours: 24, yellowHours: 36, orangeHours: 48 };
const liveConfig = (env: Record<string, string> = {}) =>
  workerConfig({
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_BOT_API_URL: bot.url,
    BROADCAST_CHAT_ID: CHANNEL,
    EXTRACTION_WORKER_BROADCAST: '1',
    EXTRACTION_WORKER_DMS: '1',
    ...env,
  });
const broadcasts = () => bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === CHANNEL);
const TEXT = post('cocoassignments', 0);

const workOnly = (db: Database, now?: () => Date, env: Record<string, string> = {}) => workOnlyWith(db, liveConfig(env), now);
const del = deletePost;

/** The real database; inside its transactions, the first statement matching `re` waits until `open` is called. */
function pausedAt(db: Database, re: RegExp) {
  let hit!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((r) => (hit = r));
  const wait = new Promise<void>((r) => (open = r));
  let armed = true;
  const wrapTx = (tx: Queryable): Queryable =>
    ({
      async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
        if (armed && re.test(sql)) {
          armed = false;
          hit();
          await wait;
        }
        return tx.query<T>(sql, params);
      },
    }) as Queryable;
  const wrapped: Database = {
    ...db,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction((tx) => fn(wrapTx(tx))),
    listen: (c, f) => db.listen(c, f),
    notify: (c, p) => db.notify(c, p),
    close: async () => {},
  };
  return { db: wrapped, reached, open };
}

describeEachDatabase('adversarial: delivery guarantees', (t) => {
  beforeEach(() => bot.reset());

  const dispatcher = (extra: Partial<Parameters<typeof createDispatcher>[0]> = {}) =>
    createDispatcher({
      db: t.db,
      client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 5 }),
      log: silentLog,
      leaseOwner: `adv:${Math.random()}`,
      maxAttempts: 5,
      backoffBaseMs: 60_000,
      backoffMaxMs: 60_000,
      freshness: FRESHNESS,
      ...extra,
    });

  // Guarantee 2. Agency one's copy is queued (broadcast 'pending': dispatcher behind, a flood pause, a backlog);
  // agency two's copy joins the group and is suppressed as duplicate_of_existing because the pending row counts as
  // "about to be shown". Agency one deletes its post: the trigger first turns the pending broadcast into 'skipped',
  // then announce_group_takeover looks for the closed copy's rows in ('pending','sending','sent','uncertain') –
  // there are none any more – so the open copy is never announced anywhere.
  it('A1: shown copy deleted while its broadcast is still pending: the open twin is never announced', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await workOnly(t.db); // A: broadcast pending
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await workOnly(t.db); // B: grouped, duplicate_of_existing
    await del(t.db, 't.me/agencyone', 1); // collector hears the delete
    await drain(t.db, liveConfig());
    const rows = await assignmentRows(t.db);
    expect(rows.map((a) => a.status)).toEqual(['closed', 'open']);
    expect(rows[1]!.duplicate_group_id).not.toBeNull();
    // the job is still open (agency two) and was never suppressed for a reason of its own
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  it("A1b: the announced copy's post is deleted while its broadcast is in flight: the open twin takes over once the send is known", async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await workOnly(t.db); // A: broadcast pending
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await workOnly(t.db); // B: grouped, suppressed
    bot.misbehaveNext('sendMessage', { delayMs: 600 }); // A's broadcast reaches Telegram, its answer comes late
    const sending = dispatcher().runOnce();
    while (!bot.calls.some((c) => c.method === 'sendMessage')) await new Promise((r) => setTimeout(r, 10));
    await del(t.db, 't.me/agencyone', 1); // while A's send is in flight
    expect(await t.db.query(`select count(*)::int as n from deliveries where assignment_id = (select id from assignments where status = 'open')`)).toEqual([
      { n: 0 },
    ]);
    await sending;
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect(bot.messages(CHANNEL)[0]!.text).toContain('agencytwo');
  });

  it('A1c: … and when that in-flight send ends uncertain, the twin waits for the operator (the job may be in the chat already)', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await workOnly(t.db);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await workOnly(t.db);
    bot.misbehaveNext('sendMessage', { delayMs: 1500 }); // answered after the client's 1 s timeout
    const sending = dispatcher({ client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 1 }) }).runOnce();
    while (!bot.calls.some((c) => c.method === 'sendMessage')) await new Promise((r) => setTimeout(r, 10));
    await del(t.db, 't.me/agencyone', 1);
    await sending;
    await drain(t.db, liveConfig());
    expect(await t.db.query(`select status, sync_action from deliveries where kind = 'broadcast'`)).toEqual([{ status: 'uncertain', sync_action: 'delete' }]);
    expect(broadcasts()).toHaveLength(1);
  });

  // Guarantee 2. The shown broadcast's delete (post deleted) hits a transient error (5xx) and is retried later
  // (sync_requested_at in the future). Meanwhile the agency re-posts the job: the assignment reopens, but
  // reannounceBroadcasts turns a delete into an edit only when sync_requested_at <= now(), and re-queues only rows
  // already deleted – the row is neither. The retried delete then removes the message of an OPEN assignment and
  // nothing ever announces it again.
  it('A2: re-posted while the deletion of its broadcast waits for a retry: the reopened job ends with no message', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await del(t.db, 't.me/agencyone', 1); // delete requested
    bot.failNext('deleteMessage', { status: 500, description: 'Internal Server Error' });
    await dispatcher().runOnce(); // the delete fails; retried in 60 s
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: TEXT }]); // re-post
    await workOnly(t.db); // reopened
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open', message_id: 2 });
    await t.db.query(`update deliveries set sync_requested_at = now() where sync_action is not null`); // the retry comes due
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open' });
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 2 and 3. The most common way an agency closes a job is to edit the post: "TAKEN" on its own line
  // (or "… — CLOSED", "❌ FILLED"). The assignment gate reads that closure marker as "not a request" and the edit's
  // job is skipped (not_assignment: not_a_request) before persist ever sees the post: the assignment stays OPEN,
  // the shown broadcast is neither deleted nor edited, and the job stays on the public list.
  it('A3: the agency edits its post to "… TAKEN": the broadcast of the filled job stays in the channel', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: `${TEXT}\n\nTAKEN` }], { force: true, reason: 'edit' });
    await drain(t.db, liveConfig());
    const [job] = await t.db.query<{ status: string; meta: { skip_reason?: string } }>(`select status, meta from telegram_extractions`);
    expect(job).toMatchObject({ status: 'skipped' }); // the edit was read, and dropped
    expect((await assignmentRows(t.db))[0]!.status).not.toBe('open');
    expect(bot.messages(CHANNEL)).toHaveLength(0);
  });

  // Guarantee 3, same hole: the job is queued (broadcast and a DM pending: the dispatcher is behind, or in a flood
  // pause) when the agency marks the post "[TAKEN]". The edit is dropped by the gate, so the filled job is then
  // broadcast and DMed anyway.
  it('A3b: a post marked "[TAKEN]" before its broadcast and DM went out is still broadcast and DMed', async () => {
    await t.db.query(`insert into tutors (chat_id, subjects, levels) values (1001, '{MATH}', '{Secondary}')`);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await workOnly(t.db); // queued: broadcast + DM pending
    expect(await t.db.query(`select kind from deliveries where status = 'pending' order by kind`)).toEqual([{ kind: 'broadcast' }, { kind: 'dm' }]);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: `[TAKEN]\n${TEXT}` }], { force: true, reason: 'edit' });
    // the edit's job runs before the dispatcher gets to the queued messages (a drain runs both at once, and a
    // send that wins that race is deleted afterwards: A3)
    await workOnly(t.db);
    await drain(t.db, liveConfig());
    expect(bot.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(0);
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'closed', closed_reason: 'closed_notice' });
  });

  it('A2b: re-posted while the deletion of its broadcast is in flight: the message is gone, so it is sent again, once', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig());
    await del(t.db, 't.me/agencyone', 1);
    bot.misbehaveNext('deleteMessage', { delayMs: 600 }); // carried out at once, answered 0.6 s later
    const deleting = dispatcher().runOnce();
    while (!bot.calls.some((c) => c.method === 'deleteMessage')) await new Promise((r) => setTimeout(r, 10));
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: TEXT }]); // re-post lands meanwhile
    await workOnly(t.db);
    await deleting;
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open', message_id: 2 });
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect(broadcasts()).toHaveLength(2); // the first, deleted; then one more
  });

  it('A3c: a reply under the post saying it is taken closes the job and deletes its broadcast; "still available" does not', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: 'Still available!', replyTo: 1 }]);
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open', bump_count: 0 });
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 3, text: 'Taken, thank you all!', replyTo: 1 }]);
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'closed', closed_reason: 'closed_notice' });
    expect(bot.messages(CHANNEL)).toHaveLength(0);
  });

  // Guarantee 2. An expired assignment (not seen for ASSIGNMENT_EXPIRE_HOURS; its broadcast deleted) is reopened by
  // a reply in the agency's channel ("Still available!": bumpFromReply sets it 'open' with a fresh
  // source_last_seen) but is never re-queued: reannounceBroadcasts runs only for a re-post (persist action
  // 'reopened'), not for a reply bump. The job is open and fresh again and shown nowhere.
  it('A4: an expired job reopened by a fresh "Still available!" reply is not announced again', async () => {
    const t0 = Date.now() - 3 * H;
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT, date: new Date(t0) }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await runMaintenance(t.db, liveConfig({ ASSIGNMENT_EXPIRE_HOURS: '2' }), { touchBroadcasts: true }); // expired
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 5, text: 'Still available!', replyTo: 1 }]);
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open' });
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 1. A code-less compilation ("Assignment 1: … Assignment 2: …") is keyed by item number. The agency
  // edits the post to drop the filled first job: what is left is a single post (item key ''), which no stored
  // assignment is linked to (sources are (raw, '1') and (raw, '2'); the fingerprint covers the whole text, and
  // there is no code), so it is INSERTED as a new assignment, and the edit's job (enqueue_reason 'edit') may
  // announce: the second job is broadcast and DMed a second time. (Same agency: no duplicate group can catch it.)
  // The dropped first job also stays open with its broadcast.
  it('A5: an edit that drops one job of a code-less compilation re-broadcasts and re-DMs the job that is left', async () => {
    await t.db.query(`insert into tutors (chat_id, subjects, levels) values (1001, '{MATH}', '{Secondary}')`);
    const both = 'Assignment 1:\nP4 Chinese @ Hougang\n$30/h, weekly\n\nAssignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: both }]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(2);
    const dm = () => bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === '1001');
    expect(dm()).toHaveLength(1); // the Sec 1 Math job
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: 'Assignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week' }], {
      force: true,
      reason: 'edit',
    });
    await drain(t.db, liveConfig());
    const math = bot.messages(CHANNEL).filter((m) => m.text.includes('Sec 1'));
    expect({ sec1Messages: math.length, sec1Dms: dm().length }).toEqual({ sec1Messages: 1, sec1Dms: 1 });
  });

  // Guarantee 1, the other direction: a code-less single post edited to add a second job becomes a compilation;
  // its first item (key '1') is linked to nothing stored and is inserted: the original job is announced again.
  it('A5b: a code-less post edited to add a second job re-broadcasts and re-DMs the first job', async () => {
    await t.db.query(`insert into tutors (chat_id, subjects, levels) values (1001, '{MATH}', '{Secondary}')`);
    const one = 'Assignment 1:\nSec 1 Math @ Punggol\n$40/h, twice a week';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: one }]);
    await drain(t.db, liveConfig());
    expect(broadcasts()).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: `${one}\n\nAssignment 2:\nP4 Chinese @ Hougang\n$30/h, weekly` }], {
      force: true,
      reason: 'edit',
    });
    await drain(t.db, liveConfig());
    const math = bot.messages(CHANNEL).filter((m) => m.text.includes('Sec 1'));
    const dm = bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === '1001');
    expect({ sec1Messages: math.length, sec1Dms: dm.length }).toEqual({ sec1Messages: 1, sec1Dms: 1 });
  });

  it('A5c: the job an edit removed from a compilation closes and its broadcast goes; the other is kept as it was', async () => {
    const both = 'Assignment 1:\nP4 Chinese @ Hougang\n$30/h, weekly\n\nAssignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: both }]);
    await drain(t.db, liveConfig());
    const before = await t.db.query<{ id: number; subjects: string[] }>(`select id, subjects from assignments order by id`);
    expect(before).toHaveLength(2);
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: 'Assignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week' }], {
      force: true,
      reason: 'edit',
    });
    await drain(t.db, liveConfig());
    const after = await t.db.query<{ id: number; status: string; closed_reason: string | null }>(
      `select id, status, closed_reason from assignments order by id`,
    );
    expect(after).toEqual([
      { id: before[0]!.id, status: 'closed', closed_reason: 'closed_notice' }, // P4 Chinese: removed by the agency
      { id: before[1]!.id, status: 'open', closed_reason: null },
    ]);
    expect(bot.messages(CHANNEL).map((m) => m.text.includes('Sec 1'))).toEqual([true]);
  });

  it("A5d: a forced reparse that reads fewer items closes nothing (only the agency's edit removes a job)", async () => {
    const both = 'Assignment 1:\nP4 Chinese @ Hougang\n$30/h, weekly\n\nAssignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week';
    const [rawId] = await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: both }]);
    await drain(t.db, liveConfig());
    // the stored text changes under the same version without an edit event (what a different extractor reading
    // one item would look like to the worker): a forced reparse
    await t.db.query(`update telegram_messages_raw set raw_text = $2 where id = $1`, [rawId, 'Assignment 2:\nSec 1 Math @ Punggol\n$40/h, twice a week']);
    const { enqueueRawIds } = await import('../src/queue/index.ts');
    await enqueueRawIds(t.db, VERSION, [rawId!], true);
    await drain(t.db, liveConfig());
    expect((await t.db.query<{ status: string }>(`select status from assignments order by id`)).map((r) => r.status)).toEqual(['open', 'open']);
    expect(bot.messages(CHANNEL)).toHaveLength(2);
  });

  it('A5e: the agency re-posts a code-less job with its text touched ("URGENT!"): the same assignment, not announced or DMed again', async () => {
    await t.db.query(`insert into tutors (chat_id, subjects, levels) values (1001, '{MATH}', '{Secondary}')`);
    const job = 'Sec 1 Math @ Punggol Field, S820123\n$40/h, twice a week';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: job, date: new Date(Date.now() - 8 * H) }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 2, text: `URGENT!!\n${job}\nPls apply fast` }]);
    // a look-alike of the agency's at another address is another job
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 3, text: 'Sec 1 Math @ Tampines St 81, S520123\n$45/h, once a week' }]);
    await drain(t.db, liveConfig());
    expect(await t.db.query(`select message_id::int as message_id, bump_count from assignments order by id`)).toEqual([
      { message_id: 2, bump_count: 1 },
      { message_id: 3, bump_count: 0 },
    ]);
    expect(broadcasts()).toHaveLength(2);
    expect(bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === '1001')).toHaveLength(2);
  });

  // Guarantee 2. Agency one's copy is shown; agency two posts the same job later and is suppressed
  // (duplicate_of_existing). Agency one's copy then expires (its own post is older than ASSIGNMENT_EXPIRE_HOURS)
  // and its broadcast is deleted – but takeover runs only for closed_reason 'source_deleted', so agency two's copy,
  // open and fresh, is shown nowhere for the rest of its life.
  it('A6: the shown copy expires while a fresher copy of the same job is open: the channel shows nothing', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT, date: new Date(Date.now() - 4.5 * H) }]);
    await drain(t.db, liveConfig());
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT, date: new Date(Date.now() - 1 * H) }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await runMaintenance(t.db, liveConfig({ ASSIGNMENT_EXPIRE_HOURS: '4' }), { touchBroadcasts: true });
    await drain(t.db, liveConfig({ ASSIGNMENT_EXPIRE_HOURS: '4' }));
    const rows = await assignmentRows(t.db);
    expect(rows.map((a) => a.status)).toEqual(['expired', 'open']);
    expect(rows[0]!.duplicate_group_id).toBe(rows[1]!.duplicate_group_id);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 2 (Postgres: two processes). Agency two's copy B is shown (it took over from agency one's deleted
  // post). Agency one re-posts (A reopens) while agency two deletes its post, at the same moment. The worker's
  // reannounceBroadcasts(A) sees B still shown (the delete not committed) and re-queues nothing; the delete
  // trigger's announce_group_takeover(B) sees A still closed (the worker not committed) and hands over to nobody.
  // The trigger takes no duplicate-grouping lock, so nothing orders the two. Result: A open, no message anywhere.
  it('A7 (Postgres): re-post of one copy racing the delete of the shown twin: the open job ends with no message', async () => {
    if (t.driver !== 'postgres') return;
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig()); // A shown
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await drain(t.db, liveConfig()); // B grouped, suppressed
    await del(t.db, 't.me/agencyone', 1);
    await drain(t.db, liveConfig()); // A's message deleted, B takes over and is sent
    expect(bot.messages(CHANNEL).map((m) => m.text)).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: TEXT }]); // agency one re-posts
    const p = pausedAt(t.db, /update telegram_extractions e\s+set status = 'ok'/); // the worker, just before commit
    const [job] = await claim(t.db, VERSION, 1);
    const working = processJob(job!, {
      db: p.db,
      config: liveConfig(),
      extractor: new RulesExtractor(),
      live: true,
      broadcastOn: true,
      dmsOn: true,
      now: () => new Date(),
      signal: new AbortController().signal,
    });
    await p.reached; // A reopened and reannounce done, uncommitted
    const collector = await t.connect(2);
    try {
      // agency two deletes its post at this moment: its trigger now waits for the worker's grouping lock (it used
      // to commit at once, unordered with the reopen)
      const deleting = del(collector, 't.me/agencytwo', 7);
      await new Promise((r) => setTimeout(r, 300));
      p.open();
      expect(await working).toBe('ok');
      await deleting;
    } finally {
      await collector.close();
    }
    await drain(t.db, liveConfig());
    const rows = await assignmentRows(t.db);
    expect(rows.map((a) => a.status)).toEqual(['open', 'closed']);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 2, DMs. A matching tutor's DM for agency one's copy is queued (pending); agency two's copy is DMed to
  // nobody because queueDms counts the other copy's *pending* DM as "already delivered". Agency one deletes its
  // post before the DM goes out: the DM is skipped (assignment_not_open) and nothing re-queues it for the open
  // copy (takeover is broadcast-only): the tutor is never told about a job that is still open.
  it('A1-dm: the copy whose DM was still pending is deleted: the matching tutor is never DMed about the open twin', async () => {
    await t.db.query(`insert into tutors (chat_id, subjects, levels) values (1001, '{MATH}', '{Secondary}')`);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await workOnly(t.db); // A: DM pending
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await workOnly(t.db); // B: DM suppressed against A's pending one
    await del(t.db, 't.me/agencyone', 1);
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db)).map((a) => a.status)).toEqual(['closed', 'open']);
    expect(bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === '1001')).toHaveLength(1);
  });
});
