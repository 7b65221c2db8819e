/**
 * The delivery guarantees under forced interleavings, from a fresh-context adversarial review (issue 14). Each
 * `it` is one attack; those marked "(was broken)" failed on 3715e6d and are the regression tests of their fixes.
 *
 * Interleavings are forced with `gated(db)`: a pass-through Database (the real one, no mock) that holds one
 * chosen statement before (or after) it runs – the way a stalled process, a slow DB reply or a job committing at
 * that moment would.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { silentLog } from '../src/collector/index.ts';
import { loadConfig } from '../src/config/index.ts';
import type { Database, Queryable } from '../src/db/index.ts';
import { createBotClient, createDispatcher, queueBroadcasts, queueDms, requestBroadcastSync, resolveUncertain } from '../src/delivery/index.ts';
import { removeTutor } from '../src/tutors/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';

const TOKEN = '123456:secret-token-value';
const FRESHNESS = { greenHours: 24, yellowHours: 36, orangeHours: 48 };
const CHANNEL = '@tutordex_review';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bot: FakeBotApi;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

interface Gate {
  reached: Promise<void>;
  open(): void;
}

/** The real database, with one-shot gates that hold the first statement matching a pattern. */
function gated(db: Database) {
  const gates: { re: RegExp; when: 'before' | 'after'; hit: () => void; wait: Promise<void> }[] = [];
  const take = (sql: string, when: 'before' | 'after') => {
    const i = gates.findIndex((g) => g.when === when && g.re.test(sql));
    if (i < 0) return null;
    const [g] = gates.splice(i, 1);
    g!.hit();
    return g!.wait;
  };
  const wrapped: Database = {
    driver: db.driver,
    location: db.location,
    async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const b = take(sql, 'before');
      if (b) await b;
      const r = await db.query<T>(sql, params);
      const a = take(sql, 'after');
      if (a) await a;
      return r;
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    listen: (c, f) => db.listen(c, f),
    notify: (c, p) => db.notify(c, p),
    close: async () => {},
  };
  return {
    db: wrapped,
    gate(re: RegExp, when: 'before' | 'after' = 'before'): Gate {
      let hit!: () => void;
      let open!: () => void;
      const reached = new Promise<void>((r) => (hit = r));
      const wait = new Promise<void>((r) => (open = r));
      gates.push({ re, when, hit, wait });
      return { reached, open };
    },
  };
}

async function agency(db: Queryable): Promise<number> {
  const [r] = await db.query<{ id: number }>(
    `insert into agencies (channel_link, agency_display_name) values ('t.me/tutoranywhr', 'TutorAnywhr')
     on conflict (channel_link) do update set agency_display_name = excluded.agency_display_name returning id`,
  );
  return Number(r!.id);
}
async function assignment(db: Queryable, title = 'P5 Maths'): Promise<number> {
  const ag = await agency(db);
  const [r] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, academic_display_text, rate_min, rate_max, source_last_seen, published_at, message_link)
     values ($1, $2, 'open', $3, 40, 50, now(), now(), 'https://t.me/tutoranywhr/1') returning id`,
    [ag, `TA-${Math.random().toString(36).slice(2, 10)}`, title],
  );
  return Number(r!.id);
}
async function tutor(db: Queryable, chatId: number): Promise<number> {
  const [r] = await db.query<{ id: number }>(`insert into tutors (chat_id, dm_daily_limit) values ($1, 10) returning id`, [chatId]);
  return Number(r!.id);
}
const sendCalls = () => bot.calls.filter((c) => c.method === 'sendMessage');
const row = async (db: Queryable, id?: number) =>
  (
    await db.query<{ id: number; status: string; sync_action: string | null; attempts: number; error_json: { type?: string } | null }>(
      `select id, status, sync_action, attempts, error_json from deliveries ${id ? 'where id = $1' : 'order by id limit 1'}`,
      id ? [id] : [],
    )
  )[0]!;

describeEachDatabase('review: delivery guarantees under attack', (t) => {
  beforeEach(() => bot.reset());

  const client = () => createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 5 });
  const dispatcher = (extra: Partial<Parameters<typeof createDispatcher>[0]> = {}) =>
    createDispatcher({
      db: t.db,
      client: client(),
      log: silentLog,
      leaseOwner: `review:${Math.random()}`,
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
      ...extra,
    });
  /** a second database handle for a second dispatcher process (PGlite: the same single connection) */
  const otherDb = async (): Promise<Database> => (t.driver === 'postgres' ? t.connect(4) : t.db);

  // ---------------------------------------------------------------------------------------------------------
  // Guarantee 5
  it('G5 (was broken): /stop racing a job that queued a DM between its cancel and its delete: the removed tutor is not DMed', async () => {
    const a = await assignment(t.db);
    await tutor(t.db, 5001);
    const [{ id: tid }] = (await t.db.query<{ id: number }>(`select id from tutors where chat_id = 5001`)) as [{ id: number }];

    // /stop runs removeTutor without a transaction: cancelPendingDms, then delete. Hold it between the two.
    const rg = gated(t.db);
    const beforeDelete = rg.gate(/delete from tutors/);
    const removing = removeTutor(rg.db, 5001, { type: 'tutor_stopped', message: '/stop' });
    await beforeDelete.reached; // nothing was pending: 0 cancelled

    // a worker job that matched the (still present, active) tutor commits its DM right now
    await queueDms(t.db, a, [{ tutorId: Number(tid), chatId: '5001', distanceKm: 1 }]);

    // the dispatcher claims it (tutor present & active at claim time), then is slow before markSending
    const dg = gated(t.db);
    const beforeMark = dg.gate(/set status = 'sending'/);
    const running = dispatcher({ db: dg.db }).runOnce();
    await beforeMark.reached;

    beforeDelete.open();
    expect((await removing).removed).toBe(true); // the tutor is gone; the DM row now has tutor_id null, still pending
    beforeMark.open();
    await running;

    expect(sendCalls().map((c) => String(c.chatId))).toEqual([]); // was ['5001']: markSending re-checks the tutor
    expect(await row(t.db)).toMatchObject({ status: 'skipped', error_json: { type: 'tutor_removed' } });
  });

  // ---------------------------------------------------------------------------------------------------------
  // Guarantee 3
  it('G3 BREAKS: after a bot-wide pause every dispatcher sends its own "probe" at once (probing is per process)', async () => {
    const dbB = await otherDb();
    const A = dispatcher({ leaseOwner: 'review:A' });
    const B = createDispatcher({
      db: dbB,
      client: client(),
      log: silentLog,
      leaseOwner: 'review:B',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
    });
    await queueBroadcasts(t.db, await assignment(t.db), ['-2000']);
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await A.runOnce(); // 429 → the bot is paused for 1 s in delivery_bot_pauses
    await queueBroadcasts(t.db, await assignment(t.db), ['-2001', '-2002', '-2003', '-2004', '-2005', '-2006']);
    await A.runOnce(); // both see the pause: probing = true in each
    await B.runOnce();
    expect(sendCalls()).toHaveLength(1);
    await sleep(1300);
    bot.misbehaveNext('sendMessage', { delayMs: 500 }, 20); // every answer takes 500 ms
    const t0 = Date.now();
    await Promise.all([A.runOnce(), B.runOnce()]);
    const beforeFirstAnswer = sendCalls().filter((c) => c.at > t0 && c.at < t0 + 400);
    expect(beforeFirstAnswer).toHaveLength(1); // observed: 2 (one probe per dispatcher)
  });

  it('G3 BREAKS: a dispatcher that slept through a short pause (or started after it) sends a full batch alongside the probe', async () => {
    const dbB = await otherDb();
    const A = dispatcher({ leaseOwner: 'review:A' });
    await queueBroadcasts(t.db, await assignment(t.db), ['-2100']);
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await A.runOnce();
    await queueBroadcasts(t.db, await assignment(t.db), ['-2101', '-2102', '-2103', '-2104']);
    await A.runOnce(); // A knows it must probe
    await sleep(1300);
    // B (a restarted process, or one idle through the 1 s pause) never saw the pause
    const B = createDispatcher({
      db: dbB,
      client: client(),
      log: silentLog,
      leaseOwner: 'review:B',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
    });
    bot.misbehaveNext('sendMessage', { delayMs: 500 }, 20);
    const t0 = Date.now();
    await Promise.all([A.runOnce(), B.runOnce()]);
    expect(sendCalls().filter((c) => c.at > t0 && c.at < t0 + 400)).toHaveLength(1); // observed: 5
  });

  it("G3 BREAKS: the pause is written and read on each dispatcher's own clock: one 2 min behind makes a 60 s pause void for the others", async () => {
    const dbB = await otherDb();
    const skewed = dispatcher({ leaseOwner: 'review:slowclock', now: () => new Date(Date.now() - 120_000) });
    await queueBroadcasts(t.db, await assignment(t.db), ['-2200']);
    bot.failNext('sendMessage', { status: 429, retryAfter: 60 });
    await skewed.runOnce(); // Telegram: retry after 60 s; the whole bot must be quiet for 60 s
    await queueBroadcasts(t.db, await assignment(t.db), ['-2201']);
    const B = createDispatcher({
      db: dbB,
      client: client(),
      log: silentLog,
      leaseOwner: 'review:B',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
    });
    await B.runOnce();
    expect(sendCalls()).toHaveLength(1); // observed: 3 – B sent both rows during the flood wait
  });

  it('G3 held: a 429 on a row that already had an uncertain try keeps its uncertain count; no extra re-send', async () => {
    await queueBroadcasts(t.db, await assignment(t.db), [CHANNEL]);
    // the re-send waits 0.5 s, so a slow loop cannot make it due within the first round
    const d = dispatcher({ uncertainRetries: 1, maxAttempts: 5, backoffBaseMs: 500, backoffMaxMs: 500 });
    bot.misbehaveNext('sendMessage', { drop: true }); // try 1: maybe delivered → one re-send allowed
    await d.runOnce();
    expect((await row(t.db)).status).toBe('pending');
    await sleep(600);
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 }); // try 2: 429 – no attempt spent
    await d.runOnce();
    expect((await row(t.db)).attempts).toBe(1);
    await sleep(1200);
    bot.misbehaveNext('sendMessage', { drop: true }); // try 3: maybe again → the re-send budget is spent
    await d.runOnce();
    await sleep(600);
    await d.runOnce();
    expect((await row(t.db)).status).toBe('uncertain');
    expect(sendCalls()).toHaveLength(3);
  });

  // ---------------------------------------------------------------------------------------------------------
  // Guarantees 1, 2, 3 vs. the sending lease
  it('G2/G3 (was broken): a sending lease shorter than twice the Bot API timeout is refused; a call outliving its lease that ends in a 429 goes back to pending, not uncertain', async () => {
    expect(() => loadConfig({ env: { DELIVERY_SENDING_LEASE_SECONDS: '59' }, envFile: null })).toThrow(
      'DELIVERY_SENDING_LEASE_SECONDS (59) must be at least twice TELEGRAM_BOT_TIMEOUT_SECONDS (30): a send still in flight would be taken for one whose process died',
    );
    expect(() => loadConfig({ env: { DELIVERY_SENDING_LEASE_SECONDS: '2', TELEGRAM_BOT_TIMEOUT_SECONDS: '1' }, envFile: null })).not.toThrow();
    await queueBroadcasts(t.db, await assignment(t.db), [CHANNEL]);
    const A = dispatcher({ leaseSeconds: 1 });
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 });
    bot.misbehaveNext('sendMessage', { delayMs: 2500 }); // Telegram answers 429 (not sent) after 2.5 s
    const running = A.runOnce();
    await sleep(1700);
    const B = dispatcher({ leaseSeconds: 1, leaseOwner: 'review:B' });
    expect(await B.reconcile()).toBe(1); // still 'sending' past the lease → uncertain, while the call is in flight
    await running;
    expect(bot.messages(CHANNEL)).toHaveLength(0); // nothing was delivered, Telegram said so
    expect((await row(t.db)).status).toBe('pending'); // was 'uncertain': stranded until an operator looked
  });

  it('G1/G7 (was broken): a dispatcher stalled after markSending past the lease, operator --resend (chat is empty): the stalled dispatcher never makes its late call', async () => {
    const a = await assignment(t.db);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    const ag = gated(t.db);
    const afterMark = ag.gate(/set status = 'sending'/, 'after'); // the DB reply to markSending is late (or the process stalls)
    const A = dispatcher({ db: ag.db, leaseSeconds: 2, leaseOwner: 'review:A' });
    const running = A.runOnce();
    await afterMark.reached;
    await sleep(2300);
    const B = dispatcher({ leaseSeconds: 2, leaseOwner: 'review:B' });
    expect(await B.reconcile()).toBe(1); // 'interrupted_mid_send' → uncertain
    expect(bot.messages(CHANNEL)).toHaveLength(0); // the operator looks: not in the chat
    const { id } = await row(t.db);
    await resolveUncertain(t.db, Number(id), { resend: true });
    expect(await B.runOnce()).toMatchObject({ sent: 1 });
    afterMark.open(); // A wakes up and makes the call it was about to make
    await running;
    expect(bot.messages(CHANNEL)).toHaveLength(1); // was 2
  });

  it('G1 held: killed right after markSending (call never made) → uncertain after the lease, never re-sent by another dispatcher', async () => {
    await queueBroadcasts(t.db, await assignment(t.db), [CHANNEL]);
    const ag = gated(t.db);
    const afterMark = ag.gate(/set status = 'sending'/, 'after');
    void dispatcher({ db: ag.db, leaseSeconds: 1, leaseOwner: 'review:killed' }).runOnce(); // "killed": never resumes
    await afterMark.reached;
    await sleep(1200);
    const B = dispatcher({ leaseSeconds: 1, leaseOwner: 'review:B' });
    expect(await B.runOnce()).toMatchObject({ uncertain: 1, sent: 0 });
    expect(await B.runOnce()).toMatchObject({ sent: 0 });
    expect(sendCalls()).toHaveLength(0);
  });

  it('G1 held: a stale claim (dispatcher B claimed the head row, A sent it meanwhile) is not sent again', async () => {
    await queueBroadcasts(t.db, await assignment(t.db), [CHANNEL]);
    const bg = gated(t.db);
    const beforeMark = bg.gate(/set status = 'sending'/);
    const runningB = dispatcher({ db: bg.db, leaseOwner: 'review:B' }).runOnce();
    await beforeMark.reached;
    expect(await dispatcher({ leaseOwner: 'review:A' }).runOnce()).toMatchObject({ sent: 1 });
    beforeMark.open();
    await runningB;
    expect(sendCalls()).toHaveLength(1);
  });

  it('G1/G2 held: three dispatchers through a refused-connection outage, many chats: each message exactly once, order kept', async () => {
    const dbs = [t.db, await otherDb(), await otherDb()];
    const ds = dbs.map((db, i) =>
      createDispatcher({
        db,
        client: client(),
        log: silentLog,
        leaseOwner: `review:${i}`,
        maxAttempts: 2,
        backoffBaseMs: 5,
        backoffMaxMs: 20,
        outageBackoffMaxMs: 20,
        freshness: FRESHNESS,
      }),
    );
    const chats = ['-3001', '-3002', '-3003', '-3004'];
    for (let i = 0; i < 6; i++) await queueBroadcasts(t.db, await assignment(t.db, `m${i}`), chats);
    await bot.setOutage('refuse');
    for (let r = 0; r < 8; r++) await Promise.all(ds.map((d) => d.runOnce()));
    await bot.setOutage(false);
    for (let r = 0; r < 40; r++) {
      await Promise.all(ds.map((d) => d.runOnce()));
      const [p] = await t.db.query<{ n: number }>(`select count(*)::int as n from deliveries where status <> 'sent'`);
      if (p!.n === 0) break;
      await sleep(20);
    }
    for (const c of chats) expect(bot.messages(c).map((m) => m.text.split('\n')[0])).toEqual(Array.from({ length: 6 }, (_, i) => `<b>m${i}</b>`));
  });

  // ---------------------------------------------------------------------------------------------------------
  // Guarantee 4
  it('G4 (was broken): an edit requested while the broadcast is in flight is dropped with the row when the send then fails (400)', async () => {
    const a = await assignment(t.db);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.failNext('sendMessage', { status: 400, description: 'Bad Request: chat not found' });
    bot.misbehaveNext('sendMessage', { delayMs: 400 });
    const running = dispatcher().runOnce();
    for (let i = 0; i < 100 && (await row(t.db)).status !== 'sending'; i++) await sleep(10);
    await t.db.query(`update assignments set academic_display_text = 'P5 Maths (edited)' where id = $1`, [a]);
    expect(await requestBroadcastSync(t.db, a, 'edit')).toBe(1);
    await running;
    const r = await row(t.db);
    expect(r.status).toBe('failed');
    expect(r.sync_action).toBeNull(); // was 'edit': listed as waiting (deliveries list --status failed) forever
  });

  it('G4 held: a delete requested while the send is in flight deletes the message right after', async () => {
    const a = await assignment(t.db);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { delayMs: 300 });
    const d = dispatcher();
    const running = d.runOnce();
    for (let i = 0; i < 100 && (await row(t.db)).status !== 'sending'; i++) await sleep(10);
    await t.db.query(`update assignments set status = 'closed' where id = $1`, [a]);
    await requestBroadcastSync(t.db, a, 'delete');
    await running;
    await d.runOnce();
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    expect(sendCalls()).toHaveLength(1);
  });

  // ---------------------------------------------------------------------------------------------------------
  // Guarantee 7
  it('G7 held: resolve racing the dispatcher – --found and --resend only act on uncertain rows; a resend of a closed assignment is skipped', async () => {
    const a = await assignment(t.db);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { drop: true });
    const d = dispatcher();
    expect(await d.runOnce()).toMatchObject({ uncertain: 1 });
    const { id } = await row(t.db);
    await expect(resolveUncertain(t.db, Number(id), { found: 1 })).resolves.toContain('recorded as sent');
    await expect(resolveUncertain(t.db, Number(id), { resend: true })).rejects.toThrow(/is sent, not uncertain/);
    await d.runOnce();
    expect(sendCalls()).toHaveLength(1);
  });
});

// -----------------------------------------------------------------------------------------------------------
// Guarantees 6 and 7 (no database needed for these)
import { describe } from 'vitest';
import { cliWorkspace } from './support/cli.ts';

describe('review: secrets and operator input', () => {
  it('G6 held: no Bot API failure mode puts the token in the error (refused, reset, late answer, 500, 401)', async () => {
    bot.reset();
    const c = createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 1 });
    const messages: string[] = [];
    const grab = async (p: Promise<unknown>) =>
      p.then(
        () => messages.push('ok'),
        (e: Error) => messages.push(`${e.message}\n${e.stack ?? ''}`),
      );
    bot.misbehaveNext('sendMessage', { drop: true });
    await grab(c.send(CHANNEL, 'x', null));
    bot.misbehaveNext('sendMessage', { delayMs: 1500 });
    await grab(c.send(CHANNEL, 'x', null));
    bot.failNext('sendMessage', { status: 500, description: `Internal: ${TOKEN}` });
    await grab(c.send(CHANNEL, 'x', null));
    bot.failNext('sendMessage', { status: 401, description: 'Unauthorized' });
    await grab(c.send(CHANNEL, 'x', null));
    await bot.setOutage('refuse');
    await grab(c.send(CHANNEL, 'x', null));
    await bot.setOutage(false);
    expect(messages).toHaveLength(5);
    for (const m of messages) expect(m).not.toContain('secret-token-value');
  });

  it('G7 held: bad operator input is one line on stderr, non-zero exit, nothing changed', async () => {
    const ws = cliWorkspace();
    for (const argv of [
      ['deliveries', 'resolve', '1', '--found', '-5'],
      ['deliveries', 'resolve', '1', '--found', '1.5'],
      ['deliveries', 'resolve', '1', '--found', '99999999999999999999'],
      ['deliveries', 'resolve', '0', '--lost'],
      ['deliveries', 'list', '--limit', '0'],
      ['deliveries', 'list', '--limit', 'lots'],
    ]) {
      const r = await ws.run(argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.out).toBe('');
      expect(r.err.trim().split('\n'), argv.join(' ')).toHaveLength(1);
    }
  });

  it('G7 (was broken): a missing option value is one line (error and usage hint together), exit 2', async () => {
    const ws = cliWorkspace();
    const r = await ws.run(['deliveries', 'resolve', '1', '--found']);
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split('\n')).toHaveLength(1); // was two: the error, then "(run tutordex --help for usage)"
    expect(r.err).toBe("error: option '--found <message-id>' argument missing (run tutordex --help for usage)");
  });
});
