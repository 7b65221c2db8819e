/**
 * Adversarial review 4 of the delivery guarantees (issue 14 / 17 follow-up): the TutorCity poller and the closure
 * wording. Every `it` here failed on 4f4cf1d because a guarantee broke; kept as regression tests. Each comment
 * tells the input as found.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Queryable } from '../src/db/index.ts';
import { pollTutorCity } from '../src/sources/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { SAMPLE_ROWS, startFakeTutorCity, type FakeTutorCity } from './support/fake-tutorcity.ts';
import { drain, postAndEnqueue, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
let api: FakeTutorCity;
beforeAll(async () => {
  bot = await startFakeBotApi();
  api = await startFakeTutorCity();
});
afterAll(async () => {
  await bot.close();
  await api.close();
});

const CHANNEL = '@tutordex_test';
const config = (env: Record<string, string> = {}) =>
  workerConfig({
    TELEGRAM_BOT_TOKEN: '123456:fake-token',
    TELEGRAM_BOT_API_URL: bot.url,
    BROADCAST_CHAT_ID: CHANNEL,
    EXTRACTION_WORKER_BROADCAST: '1',
    TUTORCITY_API_URL: api.url,
    // the sample's 5 rows are a complete feed under this limit
    TUTORCITY_LIMIT: '10',
    TUTORCITY_TIMEOUT_SECONDS: '2',
    ...env,
  });
const sends = () => bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === CHANNEL);

async function byCode(db: Queryable) {
  const rows = await db.query<{ code: string; status: string }>(`select assignment_code as code, status from assignments order by id`);
  return rows.map((r) => `${r.code}:${r.status}`);
}

describeEachDatabase('adversarial 4: TutorCity and closure wording', (t) => {
  beforeEach(() => {
    bot.reset();
    api.rows = structuredClone(SAMPLE_ROWS);
    api.answer = null;
  });

  // Guarantee 4 / 2. One short answer that leaves a record out (a partial page, a record briefly hidden) marks
  // its raw row deleted; deleted_at is never cleared (upsertRawMessages), enqueue_raw_ids never queues a deleted
  // row, and markStillListed only touches open assignments. When the record is listed again, on every later poll,
  // its job stays closed and is never shown again: an open, listed job is lost for good.
  it('D2: a record missing from one short answer stays closed forever though listed again on every later poll', async () => {
    await pollTutorCity(t.db, config());
    await drain(t.db, config());
    const full = structuredClone(api.rows);
    api.rows = full.filter((r) => r.assignment_code !== '33954');
    expect((await pollTutorCity(t.db, config())).gone).toBe(1);
    await drain(t.db, config());
    api.rows = full; // back, and stays listed
    for (let i = 0; i < 2; i++) {
      await pollTutorCity(t.db, config());
      await drain(t.db, config());
    }
    expect(await byCode(t.db)).toContain('33954:open');
    expect(bot.messages(CHANNEL)).toHaveLength(4);
  });

  // Guarantee 4 (and 2). CLOSURE's "already (been) taken" and "(all|both) taken" match ordinary remarks about the
  // student ("has already taken the O Levels once", "weekends all taken by CCA"). A record with such a remark is
  // skipped as not_a_request/closed: never stored, never announced, no suppression reason on any assignment.
  it.each(['Student has already taken O Level Maths once and is retaking it this year.', 'Weekdays only, weekends all taken by CCA.'])(
    'D3: a new TutorCity record whose remarks mention "%s" is never announced',
    async (remark) => {
      api.rows = api.rows.map((r) => (r.assignment_code === '33954' ? { ...r, additional_remarks: remark } : r));
      await pollTutorCity(t.db, config());
      await drain(t.db, config());
      expect(await byCode(t.db)).toContain('33954:open');
      expect(sends()).toHaveLength(4);
    },
  );

  // Guarantee 4. The same wording added by an edit of the record (a changed record is re-queued as an edit)
  // makes closeForPost close the open job and delete its broadcast.
  it('D4: a TutorCity record edited to add "weekends all taken by CCA" closes the open job and deletes its broadcast', async () => {
    await pollTutorCity(t.db, config());
    await drain(t.db, config());
    expect(sends()).toHaveLength(4);
    api.rows = api.rows.map((r) => (r.assignment_code === '33954' ? { ...r, availability: 'Weekdays after 6pm (weekends all taken by CCA)' } : r));
    await pollTutorCity(t.db, config());
    await drain(t.db, config());
    expect(await byCode(t.db)).toContain('33954:open');
    expect(bot.messages(CHANNEL)).toHaveLength(4);
  });

  // Guarantee 4. The STILL_OPEN override exists only in readsAsClosure (the gate); status detection
  // (hardening/status.ts CLOSED_PHRASE) reads "the Monday slot is taken" as the job's status although the post
  // says the job is still available. The assignment is stored closed on arrival and suppressed as not_open.
  it('D5: "Monday slot is taken, Wed/Fri still available" stores the new job closed and never announces it', async () => {
    const job = 'Sec 2 Math @ Tampines St 81, S520123\n$35/h, twice a week\nMonday slot is taken, Wed/Fri still available';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: job }]);
    await drain(t.db, config());
    expect((await t.db.query<{ status: string }>(`select status from assignments`)).map((r) => r.status)).toEqual(['open']);
    expect(sends()).toHaveLength(1);
  });

  // Guarantee 2 / 3. The other way round: STILL_OPEN vetoes the closure for the whole text, so an agency's usual
  // closing reply that points tutors to its other jobs ("apply now", "still looking for tutors") is not read as a
  // closure. The reply only bumps the post: the taken job stays open and shown in the channel.
  it.each([
    'Job taken, thank you! Apply now for our other assignments on the channel.',
    'Sorry, already taken. We are still looking for tutors for other jobs!',
  ])('D6: a closing reply "%s" leaves the taken job open and shown', async (reply) => {
    const job = 'Sec 2 Math @ Tampines St 81, S520123\n$35/h, twice a week, Tue/Thu 7pm';
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 1, text: job }]);
    await drain(t.db, config());
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    await postAndEnqueue(t.db, [{ channel: 't.me/smallagency', messageId: 2, text: reply, replyTo: 1 }]);
    await drain(t.db, config());
    expect((await t.db.query<{ status: string }>(`select status from assignments`)).map((r) => r.status)).toEqual(['closed']);
    expect(bot.messages(CHANNEL)).toHaveLength(0);
  });
});
