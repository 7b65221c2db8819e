/**
 * Broadcast takeover and reopen under hostile orderings (migration 011, outbox announceGroupTakeover /
 * reannounceBroadcasts, job.ts), from a fresh-context adversarial review: each failed on 2e4a779.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { assignmentRows, post } from './support/assignments.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { deletePost, drain, postAndEnqueue, workOnly as workOnlyWith, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const CHANNEL = '@tutordex_test';
const H = 3_600_000;
const liveConfig = (env: Record<string, string> = {}) =>
  workerConfig({
    TELEGRAM_BOT_TOKEN: '123456:fake-token',
    TELEGRAM_BOT_API_URL: bot.url,
    BROADCAST_CHAT_ID: CHANNEL,
    EXTRACTION_WORKER_BROADCAST: '1',
    EXTRACTION_WORKER_DMS: '1',
    ...env,
  });
const broadcasts = () => bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === CHANNEL);
const TEXT = post('cocoassignments', 0);

const workOnly = (db: Database, now?: () => Date) => workOnlyWith(db, liveConfig(), now);
const del = deletePost;

describeEachDatabase('broadcast takeover / reopen under hostile orderings', (t) => {
  beforeEach(() => bot.reset());

  // Guarantee 1 — trigger path leaves the closed copy's PENDING broadcast pending; takeover queues the open copy
  // beside it; the reopened copy's old pending row then goes out too: two messages for one job.
  // Guarantee 1 — trigger path leaves the closed copy's PENDING broadcast pending; takeover queues the open copy
  // beside it; the reopened copy's old pending row then goes out too: two messages for one job.
  it('R1: deleted before its broadcast went out, taken over, then re-posted: the channel shows the job once', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await workOnly(t.db); // agency one: broadcast pending (dispatcher not yet run)
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await workOnly(t.db); // agency two: duplicate_of_existing
    await del(t.db, 't.me/agencyone', 1); // collector: trigger closes A, B takes over (A's pending row untouched)
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: TEXT }]);
    await workOnly(t.db); // A reopened; its old row is still 'pending'
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 3 — reopen keeps A's delete request because B is shown; B then closes before the dispatcher ran:
  // takeover counts A's doomed row as "shown" and inserts nothing; A's message is deleted; the channel is empty.
  it('R2: reopened while a twin is shown, then the twin deleted before the dispatcher ran: the open job stays shown', async () => {
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig()); // A shown
    await postAndEnqueue(t.db, [{ channel: 't.me/agencytwo', messageId: 7, text: TEXT }]);
    await drain(t.db, liveConfig()); // B grouped, not broadcast
    await del(t.db, 't.me/agencyone', 1); // A closed, delete requested; B takeover pending
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: TEXT }]);
    await workOnly(t.db); // A reopened; its delete is kept (B "shown")
    await del(t.db, 't.me/agencytwo', 7); // B closed; takeover to A sees A's row as shown
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db)).map((a) => a.status)).toEqual(['open', 'closed']);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 2 — reannounceBroadcasts has no SIDE_EFFECT_MAX_AGE_HOURS check.
  it('R3: a re-post processed after SIDE_EFFECT_MAX_AGE_HOURS (catch-up) reopens without re-broadcasting an old job', async () => {
    const t0 = Date.now() - 40 * H;
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT, date: new Date(t0) }]);
    await workOnly(t.db, () => new Date(t0 + 60_000)); // fresh when processed
    await drain(t.db, liveConfig());
    await del(t.db, 't.me/agencyone', 1);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    // the re-post is 38 h old when the worker (after an outage) gets to it
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 2, text: TEXT, date: new Date(t0 + 2 * H) }]);
    await drain(t.db, liveConfig());
    expect((await assignmentRows(t.db))[0]).toMatchObject({ status: 'open', message_id: 2 });
    expect(broadcasts()).toHaveLength(1); // only the original, fresh broadcast
  });

  // Guarantee 3 — the worker's duplicate_of_existing gate (joinedExisting: "another OPEN copy exists") counts open
  // copies that were never broadcast. (With a single ungrouped earlier copy it holds: joinedExisting is false when
  // a new group is formed, and queueBroadcasts' own check finds no shown copy.)
  it("R5: a fresh copy is shown even when the group's open copies were all historical (never broadcast)", async () => {
    await postAndEnqueue(t.db, [
      { channel: 't.me/agencytwo', messageId: 7, text: TEXT, date: new Date(Date.now() - 30 * H) },
      { channel: 't.me/agencythree', messageId: 9, text: TEXT, date: new Date(Date.now() - 29 * H) },
    ]);
    await drain(t.db, liveConfig()); // catch-up: stored and grouped, not announced
    expect(broadcasts()).toHaveLength(0);
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]); // fresh post of the same job
    await drain(t.db, liveConfig());
    const rows = await t.db.query<{ status: string; grouped: boolean }>(`select status, duplicate_group_id is not null as grouped from assignments`);
    expect(rows.every((a) => a.status === 'open' && a.grouped)).toBe(true);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  // Guarantee 3 — same gate, other cause: the first copies went through a drain with broadcasting off.
  it("R6: a fresh copy is shown even when the group's other copies came through a --no-broadcast drain", async () => {
    await postAndEnqueue(t.db, [
      { channel: 't.me/agencytwo', messageId: 7, text: TEXT },
      { channel: 't.me/agencythree', messageId: 9, text: TEXT },
    ]);
    await drain(t.db, liveConfig({ EXTRACTION_WORKER_BROADCAST: '0' }));
    await postAndEnqueue(t.db, [{ channel: 't.me/agencyone', messageId: 1, text: TEXT }]);
    await drain(t.db, liveConfig());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });
});
