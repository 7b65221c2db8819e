import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../src/db/index.ts';
import { silentLog } from '../src/collector/index.ts';
import { counterValue, metrics } from '../src/metrics/index.ts';
import {
  BotError,
  createBotClient,
  createDispatcher,
  loadAssignmentForMessage,
  queueBroadcasts,
  queueDms,
  renderAssignment,
  requestBroadcastSync,
  type AssignmentForMessage,
  type DispatchStats,
} from '../src/delivery/index.ts';
import { removeTutor, upsertTutor } from '../src/tutors/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';

const TOKEN = '123456:secret-token-value';
const FRESHNESS = { greenHours: 24, yellowHours: 36, orangeHours: 48 };
const CHANNEL = '@tutordex_test';
const NOW = new Date('2026-01-10T12:00:00Z');

let bot: FakeBotApi;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const example: AssignmentForMessage = {
  id: 1,
  status: 'open',
  academicDisplayText: 'P5 Maths & Science',
  rateMin: 40,
  rateMax: 50,
  rateRawText: null,
  address: ['Blk 1 Woodlands Ave', 'Blk 1 Woodlands Ave'],
  nearestMrt: ['Woodlands MRT'],
  postalCode: ['730001'],
  postalCodeEstimated: [],
  startDate: 'ASAP',
  lessonSchedule: ['1x a week', '1.5h'],
  timeAvailabilityNote: 'Weekday evenings\n\n  Sat morning  ',
  assignmentCode: 'TA-1 <x>',
  additionalRemarks: 'Female tutor pref',
  learningMode: 'Face-to-Face',
  postalCoordsEstimated: false,
  sourceLastSeen: new Date(NOW.getTime() - 30 * 3_600_000),
  publishedAt: null,
  messageLink: 'https://t.me/tutoranywhr/1',
  agencyDisplayName: 'TutorAnywhr',
  agencyChannelName: 'TutorAnywhr Channel',
  agencyChannelLink: 't.me/tutoranywhr',
};

const GOLDEN = `<b>P5 Maths &amp; Science</b>
💰 40-50
📍 Blk 1 Woodlands Ave
🚇 Woodlands MRT
Postal: 730001
🟡 Probably open
🗓️ ASAP
📆 1x a week
📆 1.5h
🕒 Weekday evenings
🕒 Sat morning
🆔 TA-1 &lt;x&gt;
📝 Female tutor pref

🏷️ Source: TutorAnywhr | TutorAnywhr Channel`;

/** Every tag and entity in `html` is complete (nothing cut in the middle). */
function wellFormed(html: string): boolean {
  const noTags = html.replace(/<\/?b>/g, '');
  if (/[<>]/.test(noTags)) return false;
  return !/&(?!(amp|lt|gt);)/.test(noTags) && (html.match(/<b>/g) ?? []).length === (html.match(/<\/b>/g) ?? []).length;
}

describe('renderAssignment', () => {
  it('renders the reference example exactly', () => {
    expect(renderAssignment(example, { kind: 'broadcast', now: NOW, freshness: FRESHNESS })).toBe(GOLDEN);
  });

  it('freshness label follows source_last_seen, else published_at; none without a date', () => {
    const at = (h: number | null, p: number | null = null) =>
      renderAssignment(
        {
          ...example,
          sourceLastSeen: h == null ? null : new Date(NOW.getTime() - h * 3_600_000),
          publishedAt: p == null ? null : new Date(NOW.getTime() - p * 3_600_000),
        },
        { kind: 'broadcast', now: NOW, freshness: FRESHNESS },
      );
    expect(at(1)).toContain('🟢 Likely open');
    expect(at(40)).toContain('🟠 Uncertain');
    expect(at(100)).toContain('🔴 Likely closed');
    expect(at(null, 1)).toContain('🟢 Likely open');
    expect(at(null)).not.toMatch(/🟢|🟡|🟠|🔴/);
  });

  it('escapes <script> and &, fills defaults, single rate, estimated postal, source without duplicate B', () => {
    const html = renderAssignment(
      {
        ...example,
        academicDisplayText: null,
        rateMin: 45,
        rateMax: null,
        address: ['<script>alert(1)</script> & co'],
        postalCode: [],
        postalCodeEstimated: ['730002'],
        agencyChannelName: 'TutorAnywhr',
      },
      { kind: 'broadcast', now: NOW, freshness: FRESHNESS },
    );
    expect(html.startsWith('<b>Tuition Assignment</b>\n💰 45\n📍 &lt;script&gt;alert(1)&lt;/script&gt; &amp; co\n')).toBe(true);
    expect(html).toContain('\nPostal (estimated): 730002\n');
    expect(html.endsWith('\n\n🏷️ Source: TutorAnywhr')).toBe(true);
    expect(html).not.toContain('<script>');
    expect(renderAssignment({ ...example, rateRawText: '$40/h <neg>' }, { kind: 'broadcast', now: NOW, freshness: FRESHNESS })).toContain(
      '💰 $40/h &lt;neg&gt;\n',
    );
  });

  it('DM: distance line (estimated suffix), none for online, no freshness line', () => {
    const dm = renderAssignment({ ...example, postalCoordsEstimated: true }, { kind: 'dm', distanceKm: 3.14159, now: NOW, freshness: FRESHNESS });
    expect(dm.split('\n').slice(0, 4)).toEqual(['<b>P5 Maths &amp; Science</b>', '💰 40-50', '📏 Distance: ~3.1 km (estimated)', '📍 Blk 1 Woodlands Ave']);
    expect(dm).not.toMatch(/🟢|🟡|🟠|🔴/);
    expect(renderAssignment(example, { kind: 'dm', distanceKm: 2, now: NOW, freshness: FRESHNESS })).toContain('📏 Distance: ~2.0 km\n');
    expect(renderAssignment({ ...example, learningMode: ' Online ' }, { kind: 'dm', distanceKm: 2, now: NOW, freshness: FRESHNESS })).not.toContain('📏');
    expect(renderAssignment(example, { kind: 'dm', distanceKm: null, now: NOW, freshness: FRESHNESS })).not.toContain('📏');
  });

  it('remarks over 800 chars are middle-truncated', () => {
    const html = renderAssignment({ ...example, additionalRemarks: 'a'.repeat(500) + 'b'.repeat(500) }, { kind: 'broadcast', now: NOW, freshness: FRESHNESS });
    const line = html.split('\n').find((l) => l.startsWith('📝'))!;
    expect(line).toBe(`📝 ${'a'.repeat(399)}...${'b'.repeat(398)}`);
  });

  it('too long: prunes prunable lines from the bottom first', () => {
    const a = { ...example, lessonSchedule: Array.from({ length: 300 }, (_, i) => `slot ${i} & more`) };
    const html = renderAssignment(a, { kind: 'broadcast', now: NOW, freshness: FRESHNESS });
    expect(html.length).toBeLessThanOrEqual(4096);
    expect(html).not.toContain('🏷️ Source'); // bottom lines went first
    expect(html).not.toContain('📝');
    expect(html).not.toContain('🆔');
    expect(html).not.toContain('🕒');
    expect(html).toContain('📆 slot 0 &amp; more'); // the top of the schedule survived
    expect(html).toContain('🗓️ ASAP');
    expect(wellFormed(html)).toBe(true);
  });

  it('still too long after pruning: truncates text before escaping, never cutting a tag or entity', () => {
    for (const n of [3000, 5000, 9000]) {
      const a = { ...example, academicDisplayText: '<&>'.repeat(n), address: ['&'.repeat(n)] };
      const html = renderAssignment(a, { kind: 'broadcast', now: NOW, freshness: FRESHNESS });
      expect(html.length).toBeLessThanOrEqual(4096);
      expect(html.startsWith('<b>&lt;&amp;&gt;')).toBe(true);
      expect(html).toContain('</b>\n💰 40-50\n📍 &amp;');
      expect(wellFormed(html)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

async function agency(db: Queryable, name = 'TutorAnywhr', channel: string | null = 'TutorAnywhr Channel', link = 't.me/tutoranywhr'): Promise<number> {
  const [r] = await db.query<{ id: number }>(
    `insert into agencies (channel_link, agency_display_name, agency_telegram_channel_name) values ($1, $2, $3) returning id`,
    [link, name, channel],
  );
  return r!.id;
}

async function assignment(db: Queryable, agencyId: number, p: { code?: string; group?: number | null; status?: string; title?: string } = {}): Promise<number> {
  const code = p.code ?? `TA-${Math.random().toString(36).slice(2, 8)}`;
  const [r] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, assignment_code, academic_display_text, rate_min, rate_max, address, nearest_mrt, postal_code,
                              start_date, lesson_schedule, time_availability, additional_remarks, source_last_seen, published_at, message_link, duplicate_group_id)
     values ($1, $2, $3, $2, $4, 40, 50, '{"Blk 1 Woodlands Ave"}', '{"Woodlands MRT"}', '{"730001"}', 'ASAP', '{"1x a week"}', $5, 'Female tutor pref',
             now() - interval '1 hour', now() - interval '1 hour', 'https://t.me/tutoranywhr/1', $6)
     returning id`,
    [agencyId, code, p.status ?? 'open', p.title ?? 'P5 Maths & Science', { note: 'Weekday evenings' }, p.group ?? null],
  );
  return r!.id;
}

async function group(db: Queryable): Promise<number> {
  const [r] = await db.query<{ id: number }>(`insert into duplicate_groups default values returning id`);
  return r!.id;
}

async function tutor(db: Queryable, chatId: number): Promise<number> {
  const [r] = await db.query<{ id: number }>(`insert into tutors (chat_id) values ($1) returning id`, [chatId]);
  return r!.id;
}

interface Row {
  id: number;
  assignment_id: number;
  kind: string;
  recipient: string;
  status: string;
  attempts: number;
  telegram_message_id: number | null;
  error_json: { type: string; message: string } | null;
  message_html: string | null;
  sync_action: string | null;
  deleted_at: Date | null;
}
const rows = (db: Queryable) => db.query<Row>(`select * from deliveries order by id`);
const sends = () => bot.calls.filter((c) => c.method === 'sendMessage');

describeEachDatabase('delivery outbox and dispatcher (fake Bot API on 127.0.0.1)', (t) => {
  beforeEach(() => bot.reset());

  const client = () => createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 5 });
  const dispatcher = (extra: Partial<Parameters<typeof createDispatcher>[0]> = {}) =>
    createDispatcher({
      db: t.db,
      client: client(),
      log: silentLog,
      leaseOwner: 'test:1',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
      ...extra,
    });

  /** runOnce until nothing is pending (backoffs are a few ms). */
  async function settle(d: ReturnType<typeof dispatcher>, db: Database = t.db): Promise<DispatchStats> {
    const total: DispatchStats = { sent: 0, failed: 0, retried: 0, skipped: 0, edited: 0, deleted: 0, uncertain: 0 };
    for (let i = 0; i < 200; i++) {
      const s = await d.runOnce();
      for (const k of Object.keys(total) as (keyof DispatchStats)[]) total[k] += s[k];
      const [p] = await db.query<{ n: number }>(
        `select count(*)::int as n from deliveries where status in ('pending', 'sending') or (sync_action is not null and status = 'sent' and deleted_at is null)`,
      );
      if (p!.n === 0) return total;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('deliveries did not settle');
  }

  it('loadAssignmentForMessage joins the agency and renders like the reference', async () => {
    const a = await assignment(t.db, await agency(t.db), { code: 'TA-1 <x>' });
    const loaded = (await loadAssignmentForMessage(t.db, a))!;
    expect(loaded).toMatchObject({
      id: a,
      status: 'open',
      rateMin: 40,
      rateMax: 50,
      timeAvailabilityNote: 'Weekday evenings',
      agencyDisplayName: 'TutorAnywhr',
    });
    const html = renderAssignment(loaded, { kind: 'broadcast', now: new Date(), freshness: FRESHNESS });
    expect(html).toContain('<b>P5 Maths &amp; Science</b>\n💰 40-50\n📍 Blk 1 Woodlands Ave\n🚇 Woodlands MRT\nPostal: 730001\n🟢 Likely open\n🗓️ ASAP');
    expect(html.endsWith('🆔 TA-1 &lt;x&gt;\n📝 Female tutor pref\n\n🏷️ Source: TutorAnywhr | TutorAnywhr Channel')).toBe(true);
    expect(await loadAssignmentForMessage(t.db, 999_999)).toBeNull();
  });

  it('queue + dispatch: exactly one sendMessage per row, ids recorded; re-running and re-queueing send nothing', async () => {
    const ag = await agency(t.db);
    const a1 = await assignment(t.db, ag);
    const a2 = await assignment(t.db, ag);
    const tid = await tutor(t.db, 1001);
    expect(await queueBroadcasts(t.db, a1, [CHANNEL, '-100200'])).toBe(2);
    expect(await queueBroadcasts(t.db, a2, [CHANNEL])).toBe(1);
    expect(await queueDms(t.db, a1, [{ tutorId: tid, chatId: '1001', distanceKm: 1.25 }])).toEqual({ queued: 1, alreadyDelivered: 0 });
    const sentBefore = await counterValue(metrics.deliveries, { kind: 'broadcast', outcome: 'sent' });

    const d = dispatcher();
    const stats = await d.runOnce();
    expect(stats).toMatchObject({ sent: 4, failed: 0, skipped: 0 });
    expect(sends()).toHaveLength(4);
    expect(await counterValue(metrics.deliveries, { kind: 'broadcast', outcome: 'sent' })).toBe(sentBefore + 3);
    const r = await rows(t.db);
    expect(r.map((x) => [x.recipient, x.status, x.attempts, x.telegram_message_id])).toEqual([
      [CHANNEL, 'sent', 1, 1],
      ['-100200', 'sent', 1, 1],
      [CHANNEL, 'sent', 1, 2],
      ['1001', 'sent', 1, 1],
    ]);
    expect(bot.messages(CHANNEL).map((m) => m.text)).toEqual([r[0]!.message_html, r[2]!.message_html]);
    const body = sends()[0]!.body;
    expect(body).toMatchObject({
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      reply_markup: { inline_keyboard: [[{ text: 'Open original post', url: 'https://t.me/tutoranywhr/1' }]] },
    });
    expect(r[3]!.message_html).toContain('📏 Distance: ~1.3 km');

    // Again: nothing to do, nothing sent. Re-queueing is a no-op.
    expect(await d.runOnce()).toMatchObject({ sent: 0, failed: 0 });
    expect(
      await createDispatcher({ db: t.db, client: client(), log: silentLog, leaseOwner: 'other', maxAttempts: 3, freshness: FRESHNESS }).runOnce(),
    ).toMatchObject({ sent: 0 });
    expect(await queueBroadcasts(t.db, a1, [CHANNEL, '-100200'])).toBe(0);
    expect(await queueDms(t.db, a1, [{ tutorId: tid, chatId: '1001', distanceKm: 1 }])).toEqual({ queued: 0, alreadyDelivered: 1 });
    await d.runOnce();
    expect(sends()).toHaveLength(4);
  });

  it('queueing notifies tutordex_deliveries; run() wakes on it and stops promptly on abort', async () => {
    const a = await assignment(t.db, await agency(t.db));
    const payloads: string[] = [];
    const un = await t.db.listen('tutordex_deliveries', (p) => payloads.push(p));
    const abort = new AbortController();
    const running = dispatcher({ idleMs: 60_000 }).run(abort.signal);
    await new Promise((r) => setTimeout(r, 100));
    await t.db.transaction((tx) => queueBroadcasts(tx, a, [CHANNEL]));
    const deadline = Date.now() + 5000;
    while (sends().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sends()).toHaveLength(1);
    const started = Date.now();
    abort.abort();
    await running;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(payloads).toContain('new');
    await un();
    expect((await rows(t.db))[0]!.status).toBe('sent');
  });

  it('run() during a 429 pause: the row waits pending (attempt not spent) and abort returns promptly', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.failNext('sendMessage', { status: 429, retryAfter: 30 });
    const abort = new AbortController();
    const running = dispatcher().run(abort.signal);
    const deadline = Date.now() + 5000;
    while (sends().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect((await rows(t.db))[0]).toMatchObject({ status: 'pending', attempts: 0, error_json: { type: 'rate_limited' } });
    const started = Date.now();
    abort.abort();
    await running;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sends()).toHaveLength(1);
    expect(await dispatcher().runOnce()).toMatchObject({ sent: 0 }); // still paused
    expect(sends()).toHaveLength(1);
    await t.db.query(`update delivery_bot_pauses set paused_until = now()`); // 30 s later
    expect(await dispatcher({ now: () => new Date(Date.now() + 31_000) }).runOnce()).toMatchObject({ sent: 1 });
    expect(bot.messages(CHANNEL)).toHaveLength(1);
  });

  it('DMs (and broadcasts): never twice to a tutor for one assignment nor across its cross-agency duplicate group', async () => {
    const g = await group(t.db);
    const a1 = await assignment(t.db, await agency(t.db), { group: g });
    const a2 = await assignment(t.db, await agency(t.db, 'Other', null, 't.me/other'), { group: g });
    const a3 = await assignment(t.db, await agency(t.db, 'Third', null, 't.me/third')); // not a duplicate
    const t1 = await tutor(t.db, 1001);
    const t2 = await tutor(t.db, 1002);
    expect(await queueDms(t.db, a1, [{ tutorId: t1, chatId: '1001', distanceKm: null }])).toEqual({ queued: 1, alreadyDelivered: 0 });
    expect(
      await queueDms(t.db, a2, [
        { tutorId: t1, chatId: '1001', distanceKm: null },
        { tutorId: t2, chatId: '1002', distanceKm: 2 },
      ]),
    ).toEqual({ queued: 1, alreadyDelivered: 1 });
    expect(await queueDms(t.db, a3, [{ tutorId: t1, chatId: '1001', distanceKm: null }])).toEqual({ queued: 1, alreadyDelivered: 0 });
    // Broadcasts: a chat shows one assignment of a duplicate group.
    expect(await queueBroadcasts(t.db, a1, [CHANNEL])).toBe(1);
    expect(await queueBroadcasts(t.db, a2, [CHANNEL, '-100200'])).toBe(1);
    await settle(dispatcher());
    expect(
      sends()
        .map((c) => String(c.chatId))
        .sort(),
    ).toEqual(['-100200', '1001', '1001', '1002', CHANNEL]);
    expect(await queueDms(t.db, a2, [{ tutorId: t1, chatId: '1001', distanceKm: null }])).toEqual({ queued: 0, alreadyDelivered: 1 });
  });

  it('429 with retry_after is waited out and the same call retried: one message delivered, no attempt spent', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.failNext('sendMessage', { status: 429, retryAfter: 1 });
    const limited = await counterValue(metrics.deliveryRateLimited);
    const started = Date.now();
    const stats = await settle(dispatcher());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(stats).toMatchObject({ sent: 1, failed: 0, retried: 0 });
    expect(sends()).toHaveLength(2);
    expect(sends()[1]!.at - sends()[0]!.at).toBeGreaterThanOrEqual(950);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect(await counterValue(metrics.deliveryRateLimited)).toBe(limited + 1);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'sent', attempts: 1, telegram_message_id: 1 });
  });

  /**
   * A test clock for the dispatcher (not_before) that also moves the database's flood pause by as much (the pause
   * is kept on the database clock, which a test cannot move).
   */
  function testClock(start = '2026-03-02T02:00:00Z') {
    let at = new Date(start);
    return {
      now: () => at,
      async advance(ms: number) {
        at = new Date(at.getTime() + ms);
        await t.db.query(
          `update delivery_bot_pauses set paused_until = paused_until - make_interval(secs => $1::float8), probe_until = probe_until - make_interval(secs => $1::float8)`,
          [ms / 1000],
        );
      },
    };
  }

  it('issue 14 #11: a flood wait of hours is honoured in full, never spends an attempt, and pauses the whole bot', async () => {
    const ag = await agency(t.db);
    const chats = ['-1001', '-1002', '-1003'];
    for (const chat of chats) await queueBroadcasts(t.db, await assignment(t.db, ag), [chat]);
    const clock = testClock();
    const d = dispatcher({ now: clock.now, maxAttempts: 2 });
    // Telegram keeps the bot under flood control for 3 h, answering every call with the time left.
    const floodEnds = clock.now().getTime() + 3 * 3600_000;
    bot.failWhen((c) =>
      c.method === 'sendMessage' && clock.now().getTime() < floodEnds
        ? { status: 429, retryAfter: Math.ceil((floodEnds - clock.now().getTime()) / 1000) }
        : null,
    );
    await d.runOnce(); // one batch: every call on the wire before the first 429 came back is answered 429
    const limited = sends().length;
    expect(limited).toBeGreaterThanOrEqual(1);
    expect(limited).toBeLessThanOrEqual(3);
    for (let i = 0; i < 11; i++) {
      await clock.advance(15 * 60_000); // every 15 min for 2 h 45 min: still paused, not a single call
      await d.runOnce();
    }
    expect(sends()).toHaveLength(limited);
    expect((await rows(t.db)).map((r) => [r.status, r.attempts])).toEqual(chats.map(() => ['pending', 0]));
    // Another process sharing the bot token knows of the pause from the database and calls nothing either.
    await clock.advance(floodEnds - 60_000 - clock.now().getTime());
    expect(await dispatcher({ now: clock.now, leaseOwner: 'other:2' }).runOnce()).toMatchObject({ sent: 0 });
    expect(sends()).toHaveLength(limited);
    // Past the pause: one call goes first; only after it is answered do the others follow.
    await clock.advance(61_000);
    expect(await d.runOnce()).toMatchObject({ sent: 3, failed: 0 });
    expect(
      sends()
        .slice(limited)
        .map((c) => c.status),
    ).toEqual([200, 200, 200]);
    expect((await rows(t.db)).map((r) => [r.status, r.attempts])).toEqual(chats.map(() => ['sent', 1]));
  });

  it('issue 14 #11: after a pause the probe call alone meets a renewed flood wait; the batch does not all retry at once', async () => {
    const ag = await agency(t.db);
    for (const chat of ['-1001', '-1002', '-1003', '-1004']) await queueBroadcasts(t.db, await assignment(t.db, ag), [chat]);
    const clock = testClock();
    const d = dispatcher({ now: clock.now });
    bot.failWhen((c) => (c.method === 'sendMessage' ? { status: 429, retryAfter: 600 } : null));
    await d.runOnce();
    // calls of the batch not yet on the wire when the first 429 came back are not made (the bot is paused)
    const first = sends().length;
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThanOrEqual(4);
    await clock.advance(601_000);
    await d.runOnce(); // the probe gets 429 again: nothing else was tried
    expect(sends()).toHaveLength(first + 1);
    bot.failWhen(null);
    await clock.advance(601_000);
    expect(await d.runOnce()).toMatchObject({ sent: 4 });
    expect(sends()).toHaveLength(first + 5);
  });

  it('issue 14 #11: one probe for the whole bot: other dispatchers, even ones that never saw the 429, wait for its answer', async () => {
    const ag = await agency(t.db);
    for (const chat of ['-1001', '-1002', '-1003', '-1004', '-1005', '-1006']) await queueBroadcasts(t.db, await assignment(t.db, ag), [chat]);
    const clock = testClock();
    const a = dispatcher({ now: clock.now, leaseOwner: 'a:1', batchSize: 2 });
    bot.failNext('sendMessage', { status: 429, retryAfter: 30 });
    await a.runOnce();
    const before = sends().length;
    await clock.advance(31_000);
    // The probe's answer comes late (within the timeout): meanwhile a fresh dispatcher (restarted, or asleep
    // through the pause) finds the probe taken and sends nothing.
    bot.misbehaveNext('sendMessage', { delayMs: 500 });
    const probe = a.runOnce();
    while (sends().length === before) await new Promise((r) => setTimeout(r, 10));
    const fresh = dispatcher({ now: clock.now, leaseOwner: 'b:2' });
    expect(await fresh.runOnce()).toMatchObject({ sent: 0 });
    expect(sends()).toHaveLength(before + 1);
    await probe;
    expect(await fresh.runOnce()).toMatchObject({ failed: 0 });
    expect((await rows(t.db)).every((r) => r.status === 'sent')).toBe(true);
    expect(sends().filter((c) => c.status === 200)).toHaveLength(6);
  });

  it('simulation finding: a probe holder that died mid-call stalls the bot only for its own call time, not a fixed minute', async () => {
    // CI, simulation seed 1 on Postgres: a worker killed while holding the probe left 23 broadcasts pending
    // until the run's deadline – every other dispatcher waited out a 60 s probe lease although the probe call
    // itself could not outlive the client's 5 s timeout.
    const ag = await agency(t.db);
    for (const chat of ['-1001', '-1002', '-1003']) await queueBroadcasts(t.db, await assignment(t.db, ag), [chat]);
    const clock = testClock();
    const dying = dispatcher({ now: clock.now, leaseOwner: 'dying:1', batchSize: 1 });
    bot.failNext('sendMessage', { status: 429, retryAfter: 30 });
    await dying.runOnce();
    await clock.advance(31_000);
    const before = sends().length;
    bot.misbehaveNext('sendMessage', { delayMs: 1500 });
    const abandoned = dying.runOnce(); // takes the probe; its process is treated as killed from here on
    while (sends().length === before) await new Promise((r) => setTimeout(r, 10));
    const other = dispatcher({ now: clock.now, leaseOwner: 'other:2' });
    expect(await other.runOnce()).toMatchObject({ sent: 0 }); // the probe is out: wait for it
    await clock.advance(11_000); // past twice the holder's 5 s call timeout: it is dead
    const stats = await other.runOnce();
    expect(stats.sent).toBeGreaterThanOrEqual(1);
    await abandoned;
    await settle(other);
    expect((await rows(t.db)).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(sends().filter((c) => c.status === 200)).toHaveLength(3);
  });

  it('issue 14 #11: the pause is kept on the database clock, so a dispatcher whose clock is behind cannot shorten it', async () => {
    const ag = await agency(t.db);
    for (const chat of ['-1001', '-1002', '-1003']) await queueBroadcasts(t.db, await assignment(t.db, ag), [chat]);
    const behind = dispatcher({ now: () => new Date(Date.now() - 120_000), leaseOwner: 'slow:1', batchSize: 1 });
    bot.failNext('sendMessage', { status: 429, retryAfter: 60 });
    await behind.runOnce();
    expect(sends()).toHaveLength(1);
    expect(await dispatcher({ leaseOwner: 'right:2' }).runOnce()).toMatchObject({ sent: 0 });
    expect(sends()).toHaveLength(1);
    const [p] = await t.db.query<{ s: number }>(`select extract(epoch from paused_until - now())::float8 as s from delivery_bot_pauses`);
    expect(p!.s).toBeGreaterThan(55);
  });

  it('issue 14 #11: an edit or delete meeting a 429 waits out the bot pause, attempt not spent', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    const clock = testClock();
    const d = dispatcher({ now: clock.now, maxAttempts: 1 });
    expect(await d.runOnce()).toMatchObject({ sent: 1 });
    await t.db.query(`update assignments set academic_display_text = 'P6 Maths (flood)'`);
    await requestBroadcastSync(t.db, a, 'edit');
    bot.failNext('editMessageText', { status: 429, retryAfter: 7200 });
    expect(await d.runOnce()).toMatchObject({ edited: 0, failed: 0, retried: 0 });
    await clock.advance(3600_000);
    expect(await d.runOnce()).toMatchObject({ edited: 0 });
    expect(bot.calls.filter((c) => c.method === 'editMessageText')).toHaveLength(1);
    const [pause] = await t.db.query<{ retry_after_seconds: number; method: string }>(`select retry_after_seconds, method from delivery_bot_pauses`);
    expect(pause).toMatchObject({ retry_after_seconds: 7200, method: 'editMessageText' });
    await clock.advance(3601_000);
    await t.db.query(`update deliveries set sync_requested_at = now()`); // the edit's retry time moved with the pause
    expect(await d.runOnce()).toMatchObject({ edited: 1, failed: 0 });
    expect(bot.messages(CHANNEL)[0]!.text.startsWith('<b>P6 Maths (flood)</b>')).toBe(true);
  });

  it('500 twice then ok: with DELIVERY_UNCERTAIN_RETRIES 2, retried with backoff, delivered once', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.failNext('sendMessage', { status: 500 }, 2);
    const stats = await settle(dispatcher({ uncertainRetries: 2 }));
    expect(stats).toMatchObject({ sent: 1, retried: 2, failed: 0, uncertain: 0 });
    expect(sends()).toHaveLength(3);
    expect(bot.messages(CHANNEL)).toHaveLength(1);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'sent', attempts: 3, error_json: null });
  });

  it('persistent 500 → uncertain once maxAttempts is spent (a 500 may have been sent); the token never leaks', async () => {
    const ag = await agency(t.db);
    const a = await assignment(t.db, ag);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.failWhen(() => ({ status: 500 }));
    const stats = await settle(dispatcher({ uncertainRetries: 10 }));
    expect(stats).toMatchObject({ sent: 0, retried: 2, failed: 0, uncertain: 1 });
    expect(sends()).toHaveLength(3);
    const [r] = await rows(t.db);
    expect(r).toMatchObject({ status: 'uncertain', attempts: 3, error_json: { type: 'maybe_delivered', error: 'server', code: 500, uncertain_tries: 3 } });
    expect(JSON.stringify(r!.error_json)).not.toContain('secret-token-value');
    await bot.setOutage('drop');
    const err = await client()
      .send('1', 'x', null)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BotError);
    expect((err as BotError).kind).toBe('network');
    expect(String((err as BotError).message)).not.toContain('secret-token-value');
  });

  it('a Bot API outage of refused connections outlasts maxAttempts without failing rows; delivered once each, per-chat order kept', async () => {
    const ag = await agency(t.db);
    const a = await assignment(t.db, ag);
    const b = await assignment(t.db, ag);
    await queueBroadcasts(t.db, a, ['-100300']);
    await queueBroadcasts(t.db, b, ['-100300']);
    const d = dispatcher({ maxAttempts: 2, outageBackoffMaxMs: 20 });
    await bot.setOutage('refuse');
    for (let round = 0; round < 6; round++) {
      await d.runOnce();
      await new Promise((r) => setTimeout(r, 25));
    }
    const during = await t.db.query<{ status: string; attempts: number; error_json: { type: string; reached_telegram: string; outage_tries: number } }>(
      `select status, attempts, error_json from deliveries order by id`,
    );
    expect(during[0]).toMatchObject({ status: 'pending', attempts: 0, error_json: { type: 'network', reached_telegram: 'no' } });
    expect(during[0]!.error_json.outage_tries).toBeGreaterThan(2); // many more tries than maxAttempts (2)
    expect(during[1]).toMatchObject({ status: 'pending', attempts: 0, error_json: null }); // the chat's second row waits behind the first
    await bot.setOutage(false);
    const stats = await settle(d);
    expect(stats).toMatchObject({ failed: 0, uncertain: 0 });
    expect(sends()).toHaveLength(2); // no refused call reached the server: each message was sent exactly once
    const r = await rows(t.db);
    expect(r.map((x) => [x.status, x.attempts, x.telegram_message_id])).toEqual([
      ['sent', 1, 1],
      ['sent', 1, 2],
    ]);
    // per-chat order: the second message never overtook the first
    expect(bot.messages('-100300').map((m) => m.text)).toEqual([r[0]!.message_html, r[1]!.message_html]);
  });

  it('issue 14 #1: a send answered after the client timeout is uncertain, not re-sent', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { delayMs: 1500 }); // Telegram posts it, the answer comes after the 0.3 s timeout
    const before = await counterValue(metrics.deliveries, { kind: 'broadcast', outcome: 'uncertain' });
    const d = createDispatcher({
      db: t.db,
      client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 0.3 }),
      log: silentLog,
      leaseOwner: 'test:1',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      outageBackoffMaxMs: 10,
      freshness: FRESHNESS,
    });
    const stats = await settle(d);
    for (let round = 0; round < 3; round++) {
      await new Promise((r) => setTimeout(r, 20));
      await d.runOnce();
    }
    expect(stats).toMatchObject({ sent: 0, uncertain: 1, retried: 0 });
    expect(sends()).toHaveLength(1);
    expect(bot.messages(CHANNEL)).toHaveLength(1); // it did arrive, once
    const [r] = await rows(t.db);
    expect(r).toMatchObject({
      status: 'uncertain',
      attempts: 1,
      telegram_message_id: null,
      error_json: { type: 'maybe_delivered', error: 'network', uncertain_tries: 1 },
    });
    expect(r!.error_json!.message).toMatch(/timed out/);
    expect(JSON.stringify(r!.error_json)).not.toContain('secret-token-value');
    expect(await counterValue(metrics.deliveries, { kind: 'broadcast', outcome: 'uncertain' })).toBe(before + 1);
  });

  it('issue 14 #1: a connection reset after the request was read, and any 5xx answer (502/503/504/500), are uncertain, not re-sent', async () => {
    const ag = await agency(t.db);
    const chats = ['-1001', '-1002', '-1003', '-1004', '-1005', '-1006'];
    for (const chat of chats) await queueBroadcasts(t.db, await assignment(t.db, ag), [chat]);
    bot.misbehaveNext('sendMessage', { drop: true }); // the first call (-1001, batches of one): carried out, then the connection reset
    const answers: Record<string, number> = { '-1002': 502, '-1003': 503, '-1004': 504, '-1005': 500 };
    bot.failWhen((c) => (answers[String(c.chatId)] ? { status: answers[String(c.chatId)]! } : null));
    const stats = await settle(dispatcher({ outageBackoffMaxMs: 10, batchSize: 1 }));
    expect(stats).toMatchObject({ sent: 1, uncertain: 5, failed: 0 });
    expect(sends()).toHaveLength(6); // none sent twice
    const r = await rows(t.db);
    expect(r.map((x) => [x.status, x.error_json?.type ?? null, (x.error_json as { code?: number } | null)?.code ?? null])).toEqual([
      ['uncertain', 'maybe_delivered', null],
      ['uncertain', 'maybe_delivered', 502],
      ['uncertain', 'maybe_delivered', 503],
      ['uncertain', 'maybe_delivered', 504],
      ['uncertain', 'maybe_delivered', 500],
      ['sent', null, null],
    ]);
    expect(bot.messages('-1001')).toHaveLength(1); // the dropped call did post its message
  });

  it('issue 14 #1: DELIVERY_UNCERTAIN_RETRIES allows that many re-sends after an uncertain failure, no more', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { delayMs: 1000 }, 5);
    const d = createDispatcher({
      db: t.db,
      client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 0.2 }),
      log: silentLog,
      leaseOwner: 'test:1',
      maxAttempts: 5,
      uncertainRetries: 1,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
    });
    expect(await settle(d)).toMatchObject({ retried: 1, uncertain: 1, sent: 0 });
    expect(sends()).toHaveLength(2); // the first try and one re-send
    expect(bot.messages(CHANNEL)).toHaveLength(2); // the trade-off: both arrived
    expect((await rows(t.db))[0]).toMatchObject({ status: 'uncertain', attempts: 2, error_json: { type: 'maybe_delivered', uncertain_tries: 2 } });
  });

  it('issue 14 #1: the client tells "never reached Telegram" (refused, DNS, TLS) from "maybe reached" (timeout, reset, 5xx) and "answered"', async () => {
    const reach = async (c: ReturnType<typeof createBotClient>) => {
      const e = (await c.send(CHANNEL, 'x', null).catch((err: unknown) => err)) as BotError;
      expect(e).toBeInstanceOf(BotError);
      expect(e.message).not.toContain('secret-token-value');
      return e.reachedTelegram;
    };
    const closed = await startFakeBotApi();
    await closed.setOutage('refuse');
    expect(await reach(createBotClient({ token: TOKEN, apiUrl: closed.url, timeoutSeconds: 5 }))).toBe('no');
    await closed.close();
    expect(await reach(createBotClient({ token: TOKEN, apiUrl: 'http://tutordex-no-such-host.invalid', timeoutSeconds: 5 }))).toBe('no');
    expect(await reach(createBotClient({ token: TOKEN, apiUrl: bot.url.replace('http:', 'https:'), timeoutSeconds: 5 }))).toBe('no'); // TLS handshake fails
    bot.misbehaveNext('sendMessage', { delayMs: 1000 });
    expect(await reach(createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 0.2 }))).toBe('maybe');
    bot.misbehaveNext('sendMessage', { drop: true });
    expect(await reach(client())).toBe('maybe');
    for (const status of [500, 502, 503, 504]) {
      bot.failNext('sendMessage', { status });
      expect(await reach(client())).toBe('maybe');
    }
    for (const status of [400, 403, 429]) {
      bot.failNext('sendMessage', { status });
      expect(await reach(client())).toBe('yes');
    }
    expect(bot.messages(CHANNEL)).toHaveLength(2); // the late and the dropped one were posted
  });

  it("issue 14 #13: tutors remove cancels the tutor's pending DMs, like /stop; a DM left for a removed tutor is never sent", async () => {
    const ag = await agency(t.db);
    const a1 = await assignment(t.db, ag);
    const a2 = await assignment(t.db, ag);
    await upsertTutor(t.db, { chatId: 4242, subjects: 'Math', levels: 'Primary' });
    const [{ id: tid }] = (await t.db.query<{ id: number }>(`select id from tutors where chat_id = 4242`)) as [{ id: number }];
    const other = await tutor(t.db, 4343);
    await queueDms(t.db, a1, [
      { tutorId: tid, chatId: '4242', distanceKm: null },
      { tutorId: other, chatId: '4343', distanceKm: null },
    ]);
    expect(await removeTutor(t.db, '4242')).toEqual({ removed: true, cancelledDms: 1 });
    // a DM queued by a job that matched the tutor just before the removal (its row outlives the tutor)
    await t.db.query(`insert into deliveries (assignment_id, kind, recipient, tutor_id, status) values ($1, 'dm', '4242', null, 'pending')`, [a2]);
    const stats = await settle(dispatcher());
    expect(stats).toMatchObject({ sent: 1, skipped: 1 }); // the first was cancelled by the removal itself
    expect(sends().map((c) => String(c.chatId))).toEqual(['4343']);
    const r = await t.db.query<{ recipient: string; status: string; error_json: { type: string } | null }>(
      `select recipient, status, error_json from deliveries order by id`,
    );
    expect(r.map((x) => [x.recipient, x.status, x.error_json?.type ?? null])).toEqual([
      ['4242', 'skipped', 'tutor_removed'],
      ['4343', 'sent', null],
      ['4242', 'skipped', 'tutor_removed'],
    ]);
  });

  it('403 on a DM: the tutor is deactivated (blocked_bot), the row failed, not retried; other DMs to them skipped', async () => {
    const ag = await agency(t.db);
    const a1 = await assignment(t.db, ag);
    const a2 = await assignment(t.db, ag);
    const tid = await tutor(t.db, 1001);
    await queueDms(t.db, a1, [{ tutorId: tid, chatId: '1001', distanceKm: 1 }]);
    await queueDms(t.db, a2, [{ tutorId: tid, chatId: '1001', distanceKm: 1 }]);
    bot.failNext('sendMessage', { status: 403 });
    const stats = await settle(dispatcher());
    expect(stats).toMatchObject({ sent: 0, failed: 1, retried: 0, skipped: 1 });
    expect(sends()).toHaveLength(1);
    expect((await rows(t.db)).map((r) => [r.status, r.error_json?.type])).toEqual([
      ['failed', 'forbidden'],
      ['skipped', 'tutor_inactive'],
    ]);
    expect(await t.db.query(`select active, inactive_reason from tutors`)).toEqual([{ active: false, inactive_reason: 'blocked_bot' }]);
  });

  it('403 / 400 on a broadcast: failed with the description, no retry', async () => {
    const ag = await agency(t.db);
    await queueBroadcasts(t.db, await assignment(t.db, ag), ['-1001']);
    await queueBroadcasts(t.db, await assignment(t.db, ag), ['-1002']);
    bot.failWhen((c) =>
      c.chatId === '-1001'
        ? { status: 403, description: 'Forbidden: bot is not a member of the channel chat' }
        : { status: 400, description: 'Bad Request: chat not found' },
    );
    expect(await settle(dispatcher())).toMatchObject({ failed: 2, retried: 0 });
    const r = await rows(t.db);
    expect(r[0]!.error_json).toMatchObject({ type: 'forbidden', message: expect.stringContaining('bot is not a member') });
    expect(r[1]!.error_json).toMatchObject({ type: 'bad_request', message: expect.stringContaining('chat not found') });
  });

  it('an assignment closed before the send is skipped without a call', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await queueDms(t.db, a, [{ tutorId: await tutor(t.db, 1001), chatId: '1001', distanceKm: 1 }]);
    await t.db.query(`update assignments set status = 'closed'`);
    expect(await dispatcher().runOnce()).toMatchObject({ sent: 0, skipped: 2 });
    expect(bot.calls).toHaveLength(0);
    expect((await rows(t.db)).map((r) => [r.status, r.error_json?.type])).toEqual([
      ['skipped', 'assignment_not_open'],
      ['skipped', 'assignment_not_open'],
    ]);
  });

  it('an assignment closed while its broadcast is in flight gets that message deleted right after', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { delayMs: 600 }); // posted, answered within the client timeout
    const running = settle(dispatcher());
    while (sends().length === 0) await new Promise((r) => setTimeout(r, 20));
    await t.db.query(`update assignments set status = 'closed'`);
    expect(await requestBroadcastSync(t.db, a, 'delete')).toBe(1); // the 'sending' row carries the request
    const stats = await running;
    expect(stats).toMatchObject({ sent: 1, deleted: 1 });
    expect(bot.calls.map((c) => c.method)).toEqual(['sendMessage', 'deleteMessage']);
    expect(bot.messages(CHANNEL)).toHaveLength(0);
  });

  it('issue 14 #7: an edit that lands while its broadcast is in flight is applied right after the send', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { delayMs: 600 });
    const running = settle(dispatcher());
    while (sends().length === 0) await new Promise((r) => setTimeout(r, 20));
    await t.db.query(`update assignments set academic_display_text = 'P6 Maths (edited in flight)'`);
    expect(await requestBroadcastSync(t.db, a, 'edit')).toBe(1);
    expect(await running).toMatchObject({ sent: 1, edited: 1 });
    expect(bot.calls.map((c) => c.method)).toEqual(['sendMessage', 'editMessageText']);
    expect(bot.messages(CHANNEL)[0]!.text.startsWith('<b>P6 Maths (edited in flight)</b>')).toBe(true);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'sent', sync_action: null });
  });

  it('issue 14 #7: an edit requested while the broadcast is pending is kept: checked once sent, no needless edit call', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await t.db.query(`update assignments set academic_display_text = 'P6 Maths (before send)'`);
    expect(await requestBroadcastSync(t.db, a, 'edit')).toBe(1); // it may have been rendered already, from the old text
    expect((await rows(t.db))[0]).toMatchObject({ status: 'pending', sync_action: 'edit' });
    expect(await settle(dispatcher())).toMatchObject({ sent: 1, edited: 0 });
    expect(bot.calls.map((c) => c.method)).toEqual(['sendMessage']); // rendered after the change: nothing to edit
    expect(bot.messages(CHANNEL)[0]!.text.startsWith('<b>P6 Maths (before send)</b>')).toBe(true);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'sent', sync_action: null });
  });

  it('an uncertain broadcast of an assignment that closed meanwhile carries the delete request (timeout and crash alike)', async () => {
    const ag = await agency(t.db);
    const a = await assignment(t.db, ag);
    const b = await assignment(t.db, ag);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await queueBroadcasts(t.db, b, ['-100555']);
    // a: its send is reset after Telegram has it; b: its process died mid-send; both assignments close meanwhile
    await t.db.query(`update assignments set status = 'closed' where id in ($1, $2)`, [a, b]);
    await t.db.query(
      `update deliveries set status = 'sending', attempts = 1, lease_owner = 'dead', sending_started_at = now() - interval '10 minutes' where assignment_id = $1`,
      [b],
    );
    await t.db.query(`update assignments set status = 'open' where id = $1`, [a]);
    bot.misbehaveNext('sendMessage', { delayMs: 2000 }); // answered after the 0.5 s timeout
    const d = dispatcher({ client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 0.5 }) });
    const sending = d.runOnce();
    while (sends().length === 0) await new Promise((r) => setTimeout(r, 10));
    await t.db.query(`update assignments set status = 'closed' where id = $1`, [a]);
    await sending;
    expect((await rows(t.db)).map((r) => [r.assignment_id, r.status, r.sync_action])).toEqual([
      [a, 'uncertain', 'delete'],
      [b, 'uncertain', 'delete'],
    ]);
  });

  it('issue 14 #7: an edit or delete of an uncertain broadcast is recorded for the operator, not dropped', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    bot.misbehaveNext('sendMessage', { drop: true }); // posted, then the connection reset: uncertain
    expect(await settle(dispatcher())).toMatchObject({ uncertain: 1 });
    await t.db.query(`update assignments set academic_display_text = 'P6 Maths (edited)'`);
    expect(await requestBroadcastSync(t.db, a, 'edit')).toBe(1);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'uncertain', sync_action: 'edit' });
    await t.db.query(`update assignments set status = 'closed'`);
    expect(await requestBroadcastSync(t.db, a, 'delete')).toBe(1);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'uncertain', sync_action: 'delete' });
    await settle(dispatcher());
    expect(bot.calls.map((c) => c.method)).toEqual(['sendMessage']); // no message id: the dispatcher cannot act alone
  });

  it('requestBroadcastSync("delete") skips pending broadcasts (assignment_closed)', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    expect(await requestBroadcastSync(t.db, a, 'delete')).toBe(1);
    expect((await rows(t.db))[0]).toMatchObject({ status: 'skipped', error_json: { type: 'assignment_closed' } });
    await dispatcher().runOnce();
    expect(bot.calls).toHaveLength(0);
  });

  it('edit sync: editMessageText only when the text changed; delete sync deletes; delete wins over edit', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL, '-100200']);
    const d = dispatcher();
    await d.runOnce();
    expect(sends()).toHaveLength(2);

    // Nothing visible changed: the edit request is cleared without a call.
    expect(await requestBroadcastSync(t.db, a, 'edit')).toBe(2);
    expect(await d.runOnce()).toMatchObject({ edited: 0 });
    expect(bot.calls.filter((c) => c.method === 'editMessageText')).toHaveLength(0);
    expect((await rows(t.db)).every((r) => r.sync_action === null)).toBe(true);

    await t.db.query(`update assignments set academic_display_text = 'P6 Maths <new>'`);
    await requestBroadcastSync(t.db, a, 'edit');
    expect(await d.runOnce()).toMatchObject({ edited: 2 });
    const edits = bot.calls.filter((c) => c.method === 'editMessageText');
    expect(edits).toHaveLength(2);
    expect(bot.messages(CHANNEL)[0]!.text.startsWith('<b>P6 Maths &lt;new&gt;</b>')).toBe(true);
    expect((await rows(t.db))[0]!.message_html!.startsWith('<b>P6 Maths &lt;new&gt;</b>')).toBe(true);

    // A pending delete is not downgraded by a later edit request.
    await t.db.query(`update assignments set status = 'closed'`);
    expect(await requestBroadcastSync(t.db, a, 'delete')).toBe(2);
    expect(await requestBroadcastSync(t.db, a, 'edit')).toBe(0);
    expect((await rows(t.db)).map((r) => r.sync_action)).toEqual(['delete', 'delete']);
    bot.failNext('deleteMessage', { status: 500 });
    const s = await settle(d);
    expect(s).toMatchObject({ deleted: 2, retried: 1 });
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    expect(bot.messages('-100200')).toHaveLength(0);
    const r = await rows(t.db);
    expect(r.every((x) => x.deleted_at !== null && x.sync_action === null && x.status === 'sent')).toBe(true);
    // Deleted rows are not synced again.
    expect(await requestBroadcastSync(t.db, a, 'delete')).toBe(0);
  });

  it('an edit sync during a Bot API outage waits it out (more tries than maxAttempts), then edits once', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    const d = dispatcher({ maxAttempts: 2, outageBackoffMaxMs: 10 });
    await d.runOnce();
    await t.db.query(`update assignments set academic_display_text = 'P6 Maths (outage)'`);
    await requestBroadcastSync(t.db, a, 'edit');
    bot.setOutage('drop'); // each request read, then its connection dropped: an edit may be re-sent, that is harmless
    for (let i = 0; i < 5; i++) {
      await d.runOnce();
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(bot.calls.filter((c) => c.method === 'editMessageText').length).toBeGreaterThan(2);
    expect((await rows(t.db))[0]).toMatchObject({ sync_action: 'edit', error_json: { type: 'edit_network', attempt: 0 } });
    await bot.setOutage(false);
    expect(await settle(d)).toMatchObject({ edited: 1, failed: 0 });
    expect(bot.messages(CHANNEL)[0]!.text.startsWith('<b>P6 Maths (outage)</b>')).toBe(true);
  });

  it('client: edit of an unchanged or missing message and delete of a missing message count as done', async () => {
    const c = client();
    const id = await c.send(CHANNEL, '<b>x</b>', null);
    await c.edit(CHANNEL, id, '<b>x</b>', null); // not modified
    await c.edit(CHANNEL, 999, 'y', null); // not found
    await c.remove(CHANNEL, 999);
    await c.remove(CHANNEL, id);
    await c.remove(CHANNEL, id);
    expect(bot.messages(CHANNEL)).toHaveLength(0);
    bot.failNext('sendMessage', { status: 429, retryAfter: 7 });
    const e = (await c.send(CHANNEL, 'x', null).catch((err: unknown) => err)) as BotError;
    expect([e.kind, e.retryAfterSeconds]).toEqual(['rate_limited', 7]);
  });

  it('a row left "sending" past the lease becomes uncertain and is never re-sent', async () => {
    const a = await assignment(t.db, await agency(t.db));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await queueDms(t.db, a, [{ tutorId: await tutor(t.db, 1001), chatId: '1001', distanceKm: 1 }]);
    await t.db.query(
      `update deliveries set status = 'sending', attempts = 1, lease_owner = 'crashed', sending_started_at = now() - interval '10 minutes' where kind = 'dm'`,
    );
    await t.db.query(`update deliveries set status = 'sending', attempts = 1, lease_owner = 'alive', sending_started_at = now() where kind = 'broadcast'`);
    const before = await counterValue(metrics.deliveries, { kind: 'dm', outcome: 'uncertain' });
    const d = dispatcher();
    expect(await d.runOnce()).toMatchObject({ uncertain: 1, sent: 0 });
    expect(bot.calls).toHaveLength(0); // the fresh 'sending' row is someone else's in-flight call
    expect(await counterValue(metrics.deliveries, { kind: 'dm', outcome: 'uncertain' })).toBe(before + 1);
    const r = await rows(t.db);
    expect(r.map((x) => [x.kind, x.status, x.error_json?.type ?? null])).toEqual([
      ['broadcast', 'sending', null],
      ['dm', 'uncertain', 'interrupted_mid_send'],
    ]);
    expect(await d.reconcile()).toBe(0);
    await d.runOnce();
    expect(bot.calls).toHaveLength(0);
  });

  it('per-chat order: when the first message of a chat gets a 500, the second is not sent before it', async () => {
    const ag = await agency(t.db);
    const a1 = await assignment(t.db, ag, { title: 'first' });
    const a2 = await assignment(t.db, ag, { title: 'second' });
    const a3 = await assignment(t.db, ag, { title: 'third' });
    await queueBroadcasts(t.db, a1, [CHANNEL]);
    await queueBroadcasts(t.db, a2, [CHANNEL, '-100200']);
    await queueBroadcasts(t.db, a3, [CHANNEL]);
    let failed = false;
    bot.failWhen((c) => (c.method === 'sendMessage' && c.chatId === CHANNEL && !failed ? ((failed = true), { status: 500 }) : null));
    const d = dispatcher({ backoffBaseMs: 200, uncertainRetries: 1 });
    const s = await d.runOnce();
    expect(s).toMatchObject({ retried: 1, sent: 1 }); // only the other chat went out
    expect(
      sends()
        .map((c) => [String(c.chatId), c.status])
        .sort(),
    ).toEqual([
      ['-100200', 200],
      [CHANNEL, 500],
    ]);
    await settle(d);
    expect(bot.messages(CHANNEL).map((m) => m.text.split('\n')[0])).toEqual(['<b>first</b>', '<b>second</b>', '<b>third</b>']);
  });

  it('two dispatchers at once never send a row twice and keep per-chat order', async () => {
    if (t.driver !== 'postgres') return; // PGlite has one connection; the claim is the same SQL
    const other = await t.connect(4);
    const ag = await agency(t.db);
    for (let i = 0; i < 12; i++) await queueBroadcasts(t.db, await assignment(t.db, ag, { title: `n${i}` }), [CHANNEL, `-10${i % 3}`]);
    const d1 = dispatcher();
    const d2 = createDispatcher({ db: other, client: client(), log: silentLog, leaseOwner: 'test:2', maxAttempts: 3, backoffBaseMs: 10, freshness: FRESHNESS });
    await Promise.all([d1.runOnce(), d2.runOnce(), d1.runOnce(), d2.runOnce()]);
    await settle(d1);
    expect(sends()).toHaveLength(24);
    expect(bot.messages(CHANNEL).map((m) => m.text.split('\n')[0])).toEqual(Array.from({ length: 12 }, (_, i) => `<b>n${i}</b>`));
  });
});
