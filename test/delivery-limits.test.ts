import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../src/collector/index.ts';
import { loadConfig, parseQuietHours } from '../src/config/index.ts';
import type { Queryable } from '../src/db/index.ts';
import { createBotClient, createDispatcher, queueBroadcasts, queueDms, type DispatchStats } from '../src/delivery/index.ts';
import { inQuietHours, quietHoursEnd, sgtDay } from '../src/delivery/schedule.ts';
import { counterValue, metrics } from '../src/metrics/index.ts';
import { post } from './support/assignments.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';
import { drain, postAndEnqueue, workerConfig } from './support/worker.ts';

const TOKEN = '123456:secret-token-value';
const FRESHNESS = { greenHours: 24, yellowHours: 36, orangeHours: 48 };
const CHANNEL = '@tutordex_test';
const QUIET = parseQuietHours('23:00-07:00');

let bot: FakeBotApi;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

async function agency(db: Queryable): Promise<number> {
  const [r] = await db.query<{ id: number }>(
    `insert into agencies (channel_link, agency_display_name) values ('t.me/tutoranywhr', 'TutorAnywhr') returning id`,
  );
  return r!.id;
}

async function assignment(db: Queryable, agencyId: number, link: string | null = 'https://t.me/tutoranywhr/1'): Promise<number> {
  const [r] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, academic_display_text, rate_min, rate_max, source_last_seen, published_at, message_link)
     values ($1, $2, 'open', 'P5 Maths', 40, 50, now(), now(), $3) returning id`,
    [agencyId, `TA-${Math.random().toString(36).slice(2, 10)}`, link],
  );
  return r!.id;
}

async function tutor(db: Queryable, chatId: number, dailyLimit?: number): Promise<number> {
  const [r] = await db.query<{ id: number }>(`insert into tutors (chat_id, dm_daily_limit) values ($1, coalesce($2::int, 10)) returning id`, [
    chatId,
    dailyLimit ?? null,
  ]);
  return r!.id;
}

const sends = () => bot.calls.filter((c) => c.method === 'sendMessage' && c.status === 200);
const sendsTo = (chat: string | number) => sends().filter((c) => String(c.chatId) === String(chat));

describe('Singapore day and quiet-hours arithmetic', () => {
  it('sgtDay is the UTC+8 calendar day; the window wraps midnight; its end is the next 07:00 SGT', () => {
    expect(sgtDay(new Date('2026-03-01T15:59:59Z'))).toBe('2026-03-01');
    expect(sgtDay(new Date('2026-03-01T16:00:00Z'))).toBe('2026-03-02');
    expect(inQuietHours(new Date('2026-03-01T14:59:59Z'), QUIET)).toBe(false); // 22:59:59 SGT
    expect(inQuietHours(new Date('2026-03-01T15:00:00Z'), QUIET)).toBe(true); // 23:00 SGT
    expect(inQuietHours(new Date('2026-03-01T22:59:59Z'), QUIET)).toBe(true); // 06:59:59 SGT
    expect(inQuietHours(new Date('2026-03-01T23:00:00Z'), QUIET)).toBe(false); // 07:00 SGT
    expect(inQuietHours(new Date('2026-03-01T15:30:00Z'), null)).toBe(false);
    expect(quietHoursEnd(new Date('2026-03-01T15:30:00Z'), QUIET!).toISOString()).toBe('2026-03-01T23:00:00.000Z'); // 23:30 → 07:00 next SGT day
    expect(quietHoursEnd(new Date('2026-03-01T18:00:00Z'), QUIET!).toISOString()).toBe('2026-03-01T23:00:00.000Z'); // 02:00 → 07:00 same SGT day
    const day = parseQuietHours('13:00-14:30')!;
    expect(inQuietHours(new Date('2026-03-01T05:00:00Z'), day)).toBe(true);
    expect(inQuietHours(new Date('2026-03-01T06:30:00Z'), day)).toBe(false);
  });

  it('DM_QUIET_HOURS: default 23:00-07:00, off disables, nonsense is refused; PUBLIC_BASE_URL must be http(s)', () => {
    const cfg = (env: Record<string, string>) => loadConfig({ env, envFile: null });
    expect(cfg({}).delivery.dmQuietHours).toEqual({ startMinute: 23 * 60, endMinute: 7 * 60 });
    expect(cfg({ DM_QUIET_HOURS: 'off' }).delivery.dmQuietHours).toBeNull();
    expect(cfg({ DM_QUIET_HOURS: '22:30-6:00' }).delivery.dmQuietHours).toEqual({ startMinute: 22 * 60 + 30, endMinute: 6 * 60 });
    for (const bad of ['23-07', '25:00-07:00', '07:00-07:00', 'sometimes']) expect(() => cfg({ DM_QUIET_HOURS: bad })).toThrow(/DM_QUIET_HOURS/);
    expect(cfg({}).delivery.publicBaseUrl).toBeNull();
    expect(cfg({ PUBLIC_BASE_URL: 'https://tutordex.example.com/' }).delivery.publicBaseUrl).toBe('https://tutordex.example.com');
    expect(cfg({ PUBLIC_BASE_URL: 'https://example.com/base/' }).delivery.publicBaseUrl).toBe('https://example.com/base');
    for (const bad of ['ftp://x.com', 'javascript:alert(1)', 'https://x.com/?a=1', 'https://u:p@x.com', 'not a url'])
      expect(() => cfg({ PUBLIC_BASE_URL: bad })).toThrow(/PUBLIC_BASE_URL/);
  });
});

describeEachDatabase('DM buttons, daily limit and quiet hours (fake Bot API, injected clock)', (t) => {
  beforeEach(() => bot.reset());

  let clock = new Date('2026-03-01T04:00:00Z'); // 12:00 SGT
  const dispatcher = (extra: Partial<Parameters<typeof createDispatcher>[0]> = {}) =>
    createDispatcher({
      db: t.db,
      client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 5 }),
      log: silentLog,
      leaseOwner: 'test:limits',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
      now: () => clock,
      ...extra,
    });
  const rows = () =>
    t.db.query<{
      id: number;
      assignment_id: number;
      kind: string;
      recipient: string;
      status: string;
      not_before: Date | null;
      error_json: { type: string; message: string } | null;
      send_day: string | Date | null;
    }>(`select id, assignment_id, kind, recipient, status, not_before, error_json, send_day::text as send_day from deliveries order by id`);
  async function drainOnce(d: ReturnType<typeof dispatcher>): Promise<DispatchStats> {
    return d.runOnce();
  }

  it('every DM carries Apply + the three feedback callbacks (exact callback data); broadcasts keep one URL button', async () => {
    clock = new Date('2026-03-01T04:00:00Z');
    const ag = await agency(t.db);
    const a = await assignment(t.db, ag);
    const noLink = await assignment(t.db, ag, null);
    const tid = await tutor(t.db, 5001);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await queueDms(t.db, a, [{ tutorId: tid, chatId: '5001', distanceKm: 1 }]);
    await queueDms(t.db, noLink, [{ tutorId: tid, chatId: '5001', distanceKm: 1 }]);
    expect(await drainOnce(dispatcher())).toMatchObject({ sent: 3, failed: 0, skipped: 0 });
    expect(sendsTo(CHANNEL)[0]!.body.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Open original post', url: 'https://t.me/tutoranywhr/1' }]] });
    const feedback = (id: number) => [
      { text: 'Not for me', callback_data: `fb:no:${id}` },
      { text: 'Already filled', callback_data: `fb:filled:${id}` },
      { text: 'Looks like a scam', callback_data: `fb:scam:${id}` },
    ];
    const dms = sendsTo(5001);
    expect(dms).toHaveLength(2);
    expect(dms[0]!.body.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Apply / open post', url: 'https://t.me/tutoranywhr/1' }], feedback(a)] });
    expect(dms[1]!.body.reply_markup).toEqual({ inline_keyboard: [feedback(noLink)] }); // no usable link: feedback only
    for (const b of feedback(a)) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
  });

  it('daily limit: the 11th matching assignment of the Singapore day is skipped (daily_limit); the counter resets at SGT midnight', async () => {
    const ag = await agency(t.db);
    const tid = await tutor(t.db, 5002); // dm_daily_limit default 10
    const other = await tutor(t.db, 5003, 2);
    const ids: number[] = [];
    for (let i = 0; i < 11; i++) ids.push(await assignment(t.db, ag));
    clock = new Date('2026-03-01T14:00:00Z'); // 22:00 SGT on 1 March (quiet hours off for this test)
    const d = dispatcher({ quietHours: null });
    for (const id of ids) {
      await queueDms(t.db, id, [
        { tutorId: tid, chatId: '5002', distanceKm: null },
        { tutorId: other, chatId: '5003', distanceKm: null },
      ]);
      await queueBroadcasts(t.db, id, [CHANNEL]);
      await drainOnce(d);
    }
    expect(sendsTo(5002)).toHaveLength(10);
    expect(sendsTo(5003)).toHaveLength(2); // a tutor's own dm_daily_limit
    expect(sendsTo(CHANNEL)).toHaveLength(11); // broadcasts have no limit
    const r = await rows();
    const mine = r.filter((x) => x.recipient === '5002');
    expect(mine.map((x) => x.status)).toEqual([...Array(10).fill('sent'), 'skipped']);
    expect(mine[10]!.assignment_id).toBe(ids[10]);
    expect(mine[10]!.error_json).toMatchObject({ type: 'daily_limit' });
    expect(mine[10]!.error_json!.message).toContain('2026-03-01');
    expect(mine.slice(0, 10).every((x) => String(x.send_day) === '2026-03-01')).toBe(true);
    expect(r.filter((x) => x.recipient === '5003').map((x) => x.error_json?.type ?? x.status)).toEqual(['sent', 'sent', ...Array(9).fill('daily_limit')]);

    // 23:59 SGT: still the same day (though the UTC date would not tell).
    clock = new Date('2026-03-01T15:59:00Z');
    const late = await assignment(t.db, ag);
    await queueDms(t.db, late, [{ tutorId: tid, chatId: '5002', distanceKm: null }]);
    await drainOnce(d);
    expect(sendsTo(5002)).toHaveLength(10);

    // 00:00 SGT on 2 March (still 1 March in UTC): a new day, a new budget.
    clock = new Date('2026-03-01T16:00:00Z');
    const next: number[] = [];
    for (let i = 0; i < 11; i++) next.push(await assignment(t.db, ag));
    for (const id of next) {
      await queueDms(t.db, id, [{ tutorId: tid, chatId: '5002', distanceKm: null }]);
      await drainOnce(d);
    }
    expect(sendsTo(5002)).toHaveLength(20);
    const day2 = (await rows()).filter((x) => x.recipient === '5002' && next.includes(x.assignment_id));
    expect(day2.map((x) => x.status)).toEqual([...Array(10).fill('sent'), 'skipped']);
    expect(day2.slice(0, 10).every((x) => String(x.send_day) === '2026-03-02')).toBe(true);
  });

  it('a DM that failed does not use up the day', async () => {
    clock = new Date('2026-03-01T04:00:00Z');
    const ag = await agency(t.db);
    const tid = await tutor(t.db, 5004, 1);
    const a1 = await assignment(t.db, ag);
    const a2 = await assignment(t.db, ag);
    await queueDms(t.db, a1, [{ tutorId: tid, chatId: '5004', distanceKm: null }]);
    await queueDms(t.db, a2, [{ tutorId: tid, chatId: '5004', distanceKm: null }]);
    bot.failNext('sendMessage', { status: 400, description: 'Bad Request: chat not found' });
    const d = dispatcher({ quietHours: null });
    await drainOnce(d);
    const r = await rows();
    expect(r.map((x) => x.status)).toEqual(['failed', 'sent']);
  });

  it('quiet hours: a DM arriving at 23:30 SGT is held and sent at 07:00; broadcasts go out at once; order kept', async () => {
    const ag = await agency(t.db);
    const tid = await tutor(t.db, 5005);
    const a1 = await assignment(t.db, ag);
    const a2 = await assignment(t.db, ag);
    clock = new Date('2026-03-01T15:30:00Z'); // 23:30 SGT
    const d = dispatcher({ quietHours: QUIET });
    const heldBefore = await counterValue(metrics.deliveries, { kind: 'dm', outcome: 'held' });
    await queueDms(t.db, a1, [{ tutorId: tid, chatId: '5005', distanceKm: null }]);
    await queueBroadcasts(t.db, a1, [CHANNEL]);
    await queueDms(t.db, a2, [{ tutorId: tid, chatId: '5005', distanceKm: null }]);
    expect(await drainOnce(d)).toMatchObject({ sent: 1, skipped: 0, failed: 0 });
    expect(sendsTo(CHANNEL)).toHaveLength(1);
    expect(sendsTo(5005)).toHaveLength(0);
    const held = (await rows()).filter((x) => x.kind === 'dm');
    expect(held[0]).toMatchObject({ status: 'pending' });
    expect(new Date(held[0]!.not_before!).toISOString()).toBe('2026-03-01T23:00:00.000Z'); // 07:00 SGT
    expect(await counterValue(metrics.deliveries, { kind: 'dm', outcome: 'held' })).toBe(heldBefore + 1); // the chat's head row was held

    clock = new Date('2026-03-01T20:00:00Z'); // 04:00 SGT
    await drainOnce(d);
    clock = new Date('2026-03-01T22:59:59Z'); // 06:59:59 SGT
    await drainOnce(d);
    expect(sendsTo(5005)).toHaveLength(0);

    clock = new Date('2026-03-01T23:00:00Z'); // 07:00 SGT
    expect(await drainOnce(d)).toMatchObject({ sent: 2 });
    const dms = sendsTo(5005);
    expect(dms.map((c) => (c.body.reply_markup as { inline_keyboard: { callback_data?: string }[][] }).inline_keyboard[1]![0]!.callback_data)).toEqual([
      `fb:no:${a1}`,
      `fb:no:${a2}`,
    ]);
    const after = (await rows()).filter((x) => x.kind === 'dm');
    expect(after.map((x) => [x.status, String(x.send_day)])).toEqual([
      ['sent', '2026-03-02'],
      ['sent', '2026-03-02'],
    ]);
    expect(await drainOnce(d)).toMatchObject({ sent: 0 });
    expect(sendsTo(5005)).toHaveLength(2);
  });

  it("quiet hours 'off' (and the default when none is given): DMs go out at 23:30", async () => {
    const ag = await agency(t.db);
    const tid = await tutor(t.db, 5006);
    const a = await assignment(t.db, ag);
    const b = await assignment(t.db, ag);
    clock = new Date('2026-03-01T15:30:00Z');
    await queueDms(t.db, a, [{ tutorId: tid, chatId: '5006', distanceKm: null }]);
    expect(await drainOnce(dispatcher({ quietHours: loadConfig({ env: { DM_QUIET_HOURS: 'off' }, envFile: null }).delivery.dmQuietHours }))).toMatchObject({
      sent: 1,
    });
    await queueDms(t.db, b, [{ tutorId: tid, chatId: '5006', distanceKm: null }]);
    expect(await drainOnce(dispatcher())).toMatchObject({ sent: 1 });
    expect(sendsTo(5006)).toHaveLength(2);
  });

  it('the worker wires DM_QUIET_HOURS and PUBLIC_BASE_URL from its configuration', async () => {
    // the latest 23:30 SGT before the real time (the outbox rows carry real database timestamps)
    const real = Date.now();
    let at = Date.UTC(
      new Date(real + 8 * 3_600_000).getUTCFullYear(),
      new Date(real + 8 * 3_600_000).getUTCMonth(),
      new Date(real + 8 * 3_600_000).getUTCDate(),
      15,
      30,
    );
    while (at > real) at -= 86_400_000;
    const lateEvening = new Date(at);
    await t.db.query(`insert into tutors (chat_id, subjects, levels) values (5008, '{MATH}', '{Secondary}')`);
    await postAndEnqueue(t.db, [
      { channel: 't.me/cocoassignments', messageId: 1, text: post('cocoassignments', 0), title: 'CocoTutors', date: new Date(at - 5 * 60_000) },
    ]);
    const config = workerConfig({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_BOT_API_URL: bot.url,
      BROADCAST_CHAT_ID: CHANNEL,
      EXTRACTION_WORKER_BROADCAST: '1',
      EXTRACTION_WORKER_DMS: '1',
      DM_QUIET_HOURS: '23:00-07:00',
      PUBLIC_BASE_URL: 'https://tutordex.example.com/',
    });
    await drain(t.db, config, {}, { now: () => lateEvening });
    expect(sendsTo(CHANNEL)).toHaveLength(1);
    expect((sendsTo(CHANNEL)[0]!.body.reply_markup as { inline_keyboard: { url: string }[][] }).inline_keyboard[0]![0]!.url).toMatch(
      /^https:\/\/tutordex\.example\.com\/r\/[A-Za-z0-9_-]{22}$/,
    );
    expect(sendsTo(5008)).toHaveLength(0);
    const [dm] = (await rows()).filter((x) => x.kind === 'dm');
    expect(dm).toMatchObject({ status: 'pending' });
    expect(new Date(dm!.not_before!).toISOString()).toBe(new Date(at + 7.5 * 3_600_000).toISOString()); // 07:00 SGT
  });

  it('a held DM that comes due during quiet hours after a retry is held again, never lost', async () => {
    const ag = await agency(t.db);
    const tid = await tutor(t.db, 5007);
    const a = await assignment(t.db, ag);
    clock = new Date('2026-03-01T14:59:59Z'); // 22:59:59 SGT
    await queueDms(t.db, a, [{ tutorId: tid, chatId: '5007', distanceKm: null }]);
    bot.failNext('sendMessage', { status: 500 });
    const d = dispatcher({ quietHours: QUIET, backoffBaseMs: 5000, uncertainRetries: 1 }); // a 500 may have been sent: re-sent only when allowed
    expect(await drainOnce(d)).toMatchObject({ retried: 1 });
    clock = new Date('2026-03-01T15:00:10Z'); // 23:00:10 SGT: the retry is due, but it is quiet now
    expect(await drainOnce(d)).toMatchObject({ sent: 0, retried: 0, failed: 0 });
    const [r] = await rows();
    expect(r).toMatchObject({ status: 'pending' });
    expect(new Date(r!.not_before!).toISOString()).toBe('2026-03-01T23:00:00.000Z');
    clock = new Date('2026-03-01T23:00:01Z');
    expect(await drainOnce(d)).toMatchObject({ sent: 1 });
    expect(sendsTo(5007)).toHaveLength(1);
  });
});
