import { afterAll, beforeAll, expect, it } from 'vitest';
import { runTutorBot } from '../../src/bot/index.ts';
import { describePostgres } from '../support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from '../support/fake-bot-api.ts';
import { BOT_TOKEN, insertAssignment, silentLog, until } from '../support/bot.ts';

let api: FakeBotApi;
beforeAll(async () => {
  api = await startFakeBotApi();
});
afterAll(async () => api.close());

const CHATS = Number(process.env.FAULT_BOT_CHATS ?? 400);
const PER_CHAT = 14; // under the per-chat burst, so every valid command must be answered
const PER_MINUTE = 20;
const FLOOD = 200;

/** A deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const VALID = [
  '/help',
  '/profile',
  '/rate 40',
  '/distance 7',
  '/area 520123',
  '/area East',
  '/subjects Math, Physics',
  '/levels Secondary, JC1',
  '/preview',
  '/limit 5',
  '/pause',
  '/resume',
  '/mode online',
  '/types',
  '/subjects',
  '/levels',
  '/mode',
];
const HOSTILE = [
  '/',
  '/ ',
  '/rate',
  '/area',
  '/rate NaN',
  '/rate 1e309',
  '/distance -0',
  '/limit 99999999999999999999',
  `/subjects ${'x,'.repeat(500)}`,
  '/levels \u0000\u0001',
  '/start@some_other_bot',
  '/PROFILE',
  '/frobnicate',
  'hello',
  '💥'.repeat(300),
  'a'.repeat(5000),
  '<b>html?</b> & stuff',
  '/area 000000',
  '/area 52 01 23',
];
const BAD_CALLBACKS = [
  'fb:filled:abc',
  'fb:no:',
  'fb:scam:99999999999',
  'pk:s:t:99999',
  'pk:q:d',
  'md:nope',
  'noop',
  '',
  'x'.repeat(64),
  'fb:filled:1:1',
  '\u0000',
];

describePostgres('fault: a flood of bot updates', (t) => {
  it(`~${CHATS * PER_CHAT + FLOOD} updates from ${CHATS} chats (random and malformed commands, bad callback data, a blocked chat, a flooding chat, groups): nothing crashes, memory bounded, every valid command answered once`, async () => {
    const assignmentIds: number[] = [];
    for (let i = 0; i < 30; i++)
      assignmentIds.push(
        await insertAssignment(t.db, { learningMode: i % 3 === 0 ? 'Online' : null, lat: 1.35 + (i % 5) * 0.01, lon: 103.94, rateMax: 30 + i }),
      );
    const random = rng(20260101);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const blocked = 900_000 + 7;
    api.failWhen((c) => (c.method === 'sendMessage' && String(c.chatId) === String(blocked) ? { status: 403 } : null));

    const texts = new Map<number, number>(); // chat → text messages pushed (each must get exactly one reply)
    const callbacks = new Map<number, number>(); // chat → button presses pushed (each must be answered once)
    let pushed = 0;
    let lastId = 0;
    const bump = (m: Map<number, number>, chat: number) => m.set(chat, (m.get(chat) ?? 0) + 1);

    for (let i = 0; i < CHATS; i++) {
      const chat = 900_000 + i;
      lastId = api.pushMessage(chat, '/start');
      bump(texts, chat);
      pushed++;
      for (let j = 1; j < PER_CHAT; j++) {
        const r = random();
        pushed++;
        if (r < 0.45) {
          lastId = api.pushMessage(chat, pick(VALID));
          bump(texts, chat);
        } else if (r < 0.7) {
          lastId = api.pushMessage(chat, pick(HOSTILE));
          bump(texts, chat);
        } else if (r < 0.85) {
          const data = random() < 0.5 ? pick(BAD_CALLBACKS) : `fb:${pick(['no', 'filled', 'scam'])}:${pick(assignmentIds)}`;
          lastId = api.pushCallback(chat, data, { messageId: 1 + Math.floor(random() * 3) });
          bump(callbacks, chat);
        } else if (r < 0.9) {
          lastId = api.pushUpdate({
            message: {
              message_id: j,
              date: 1,
              chat: { id: chat, type: 'private' },
              from: { id: chat, is_bot: false, first_name: 'S' },
              sticker: { file_id: 'x' },
            },
          });
        } else if (r < 0.95) {
          lastId = api.pushMessage(-(1_000_000 + i), pick(VALID), { chatType: pick(['group', 'supergroup'] as const), fromId: chat });
        } else {
          lastId = api.pushMessage(-(2_000_000 + i), pick(VALID), { chatType: 'channel' });
        }
      }
    }
    const floodChat = 899_999;
    for (let i = 0; i < FLOOD; i++) lastId = api.pushMessage(floodChat, i % 2 ? '/help' : '/profile');
    pushed += FLOOD;

    const ctrl = new AbortController();
    const heap0 = process.memoryUsage().heapUsed;
    let peak = heap0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 100);
    const t0 = Date.now();
    const run = runTutorBot({
      db: t.db,
      token: BOT_TOKEN,
      apiUrl: api.url,
      log: silentLog,
      signal: ctrl.signal,
      commandsPerMinute: PER_MINUTE,
      feedbackFilledThreshold: 3,
      pollTimeoutSeconds: 1,
      now: () => 0, // a frozen clock: no refill, so the flood figures are exact
    });
    let crashed: unknown = null;
    run.catch((err) => (crashed = err));
    await until(
      'every update to be processed',
      () => {
        if (crashed) throw crashed;
        return api.updatesDelivered() >= lastId && api.updatesQueued() === 0;
      },
      280_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    ctrl.abort();
    const tb = await run;
    clearInterval(sampler);

    // every text in a private chat answered exactly once (the blocked chat's answers were refused with 403)
    const sends = new Map<string, number>();
    for (const c of api.calls) if (c.method === 'sendMessage') sends.set(String(c.chatId), (sends.get(String(c.chatId)) ?? 0) + 1);
    const answers = api.calls.filter((c) => c.method === 'answerCallbackQuery').length;
    let expectedReplies = 0;
    for (const [chat, n] of texts) {
      expectedReplies += n;
      expect(sends.get(String(chat)) ?? 0, `chat ${chat}`).toBe(n);
    }
    let expectedAnswers = 0;
    for (const n of callbacks.values()) expectedAnswers += n;
    expect(answers).toBe(expectedAnswers);
    // groups and channels: never a word
    for (const chat of sends.keys()) expect(Number(chat)).toBeGreaterThan(0);
    // the flooding chat: a burst of PER_MINUTE answers, one "slow down", then silence
    expect(sends.get(String(floodChat))).toBe(PER_MINUTE + 1);
    // the blocked chat's tutor is paused, not crashed on
    const [b] = await t.db.query<{ active: boolean; inactive_reason: string | null }>('select active, inactive_reason from tutors where chat_id = $1', [
      blocked,
    ]);
    expect(b).toEqual({ active: false, inactive_reason: 'blocked_bot' });
    // feedback rows are only ever valid ones, once per (assignment, tutor, kind)
    const [fb] = await t.db.query<{ n: number; d: number }>(
      'select count(*)::int as n, count(distinct (assignment_id, tutor_id, kind))::int as d from assignment_feedback',
    );
    expect(fb!.n).toBe(fb!.d);
    expect(tb.stats.errors).toBe(0);
    expect(tb.limiter.size).toBeLessThanOrEqual(CHATS + 1);
    const growthMb = (peak - heap0) / 2 ** 20;
    expect(growthMb).toBeLessThan(300);
    const [tutors] = await t.db.query<{ n: number }>('select count(*)::int as n from tutors');
    console.log(
      `[fault] bot: ${pushed} updates from ${CHATS + 1} private chats (+ groups/channels) in ${seconds.toFixed(1)} s (${Math.round(pushed / seconds)}/s) · ` +
        `${expectedReplies} texts answered once each · ${expectedAnswers} button presses answered · ${fb!.n} feedback rows · ${tutors!.n} tutors · ` +
        `ignored ${tb.stats.ignored} · rate-limited ${tb.stats.rateLimited} · blocked 403s ${tb.stats.blocked} · errors ${tb.stats.errors} · ` +
        `heap ${(heap0 / 2 ** 20).toFixed(0)} → peak ${(peak / 2 ** 20).toFixed(0)} MB`,
    );
  });
});
