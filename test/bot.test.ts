import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatRateLimiter, parseArea, parseFeedbackData, subjectOptions, levelOptions } from '../src/bot/index.ts';
import { createBotClient, keyboardFor } from '../src/delivery/index.ts';
import { getTutorByChatId, matchTutors, previewMatches } from '../src/tutors/index.ts';
import { createServer } from 'node:net';
import { runTutorBot, webhookSecret } from '../src/bot/index.ts';
import { silentLog } from './support/bot.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';
import { BOT_TOKEN, insertAssignment, sentTo, startBot, until, type RunningBot } from './support/bot.ts';

let api: FakeBotApi;
beforeAll(async () => {
  api = await startFakeBotApi();
});
afterAll(async () => api.close());

const TAMPINES = { lat: 1.3506711908826818, lon: 103.946920623596 }; // postal sector 52
const WOODLANDS = { lat: 1.435251777573187, lon: 103.78430931453542 }; // ~20 km away

describe('bot helpers', () => {
  it('parses feedback callback data strictly', () => {
    expect(parseFeedbackData('fb:no:12')).toEqual({ kind: 'not_for_me', assignmentId: 12 });
    expect(parseFeedbackData('fb:filled:7')).toEqual({ kind: 'filled', assignmentId: 7 });
    expect(parseFeedbackData('fb:scam:1')).toEqual({ kind: 'scam', assignmentId: 1 });
    for (const bad of [
      'fb:filled:',
      'fb:filled:0',
      'fb:filled:-1',
      'fb:filled:1.5',
      'fb:filled:9999999999999999',
      'fb:yes:1',
      'fb:filled:1:2',
      'FB:no:1',
      ' fb:no:1',
      '',
    ])
      expect(parseFeedbackData(bad), bad).toBeNull();
  });

  it('token bucket: burst, one warning, silence, refill; bounded table', () => {
    let now = 0;
    const rl = new ChatRateLimiter({ perMinute: 3, maxChats: 100, now: () => now });
    expect([rl.take(1), rl.take(1), rl.take(1), rl.take(1), rl.take(1), rl.take(1)]).toEqual(['ok', 'ok', 'ok', 'warn', 'drop', 'drop']);
    expect(rl.take(2)).toBe('ok');
    now += 20_000; // one token back
    expect([rl.take(1), rl.take(1)]).toEqual(['ok', 'warn']);
    for (let i = 0; i < 1000; i++) rl.take(1000 + i);
    expect(rl.size).toBeLessThanOrEqual(100);
  });

  it('area: postal codes, regions, refusals', () => {
    expect(parseArea('520123')).toMatchObject({ ok: true, value: { postal: { code: '520123' }, regions: [] } });
    expect(parseArea('North East, west')).toMatchObject({ ok: true, value: { regions: ['north-east', 'west'] } });
    expect(parseArea('999999')).toMatchObject({ ok: false });
    expect(parseArea('Mars')).toMatchObject({ ok: false });
  });
});

describeEachDatabase('tutor bot', (t) => {
  let running: RunningBot | null = null;
  afterEach(async () => {
    await running?.stop();
    running = null;
  });

  const start = async (opts: Parameters<typeof startBot>[2] = {}) => {
    api.reset();
    running = await startBot(api, t.db, opts);
    return running;
  };
  const say = async (chatId: number, text: string, opts?: Parameters<FakeBotApi['pushMessage']>[2]) => {
    const id = api.pushMessage(chatId, text, opts);
    await running!.processed(id);
  };
  const press = async (chatId: number, data: string, messageId: number, opts?: Parameters<FakeBotApi['pushCallback']>[2]) => {
    const id = api.pushCallback(chatId, data, { messageId, ...opts });
    await running!.processed(id);
  };
  const lastReply = (chatId: number) => sentTo(api, chatId).at(-1) ?? '';
  const lastMessageId = (chatId: number) => api.messages(chatId).at(-1)!.messageId;
  const tutorRow = async (chatId: number) =>
    (
      await t.db.query<Record<string, unknown>>(
        `select subjects, levels, regions, postal_code, postal_lat, postal_lon, max_distance_km::float8 as max_distance_km, min_rate::float8 as min_rate,
                learning_modes, tutor_types, dm_daily_limit, active, inactive_reason from tutors where chat_id = $1`,
        [chatId],
      )
    )[0];

  it('a tutor sets subjects, levels, area and rate by commands and button presses; the DB profile matches', async () => {
    await start();
    const chat = 5001;
    await say(chat, '/start');
    expect(lastReply(chat)).toContain('Welcome to TutorDex');
    expect(await tutorRow(chat)).toMatchObject({ subjects: [], levels: [], active: true, dm_daily_limit: 10 });

    // subjects: open the picker, toggle a category on page 1, page forward, toggle a code, toggle one off, Done
    await say(chat, '/subjects');
    const picker = lastMessageId(chat);
    expect(JSON.stringify(api.messages(chat).at(-1)!.replyMarkup)).toContain('pk:s:t:0');
    const subjects = subjectOptions();
    const physicsIdx = subjects.findIndex((o) => o.value === 'PHYSICS' || o.value.startsWith('SCIENCE.'));
    await press(chat, 'pk:s:t:0', picker); // MATH (any)
    await press(chat, `pk:s:p:${Math.floor(physicsIdx / 8)}`, picker);
    await press(chat, `pk:s:t:${physicsIdx}`, picker);
    await press(chat, 'pk:s:t:1', picker); // second category on, then off again
    await press(chat, 'pk:s:t:1', picker);
    expect(api.messages(chat).find((m) => m.messageId === picker)!.text).toContain(`Selected: ${subjects[0]!.label}, ${subjects[physicsIdx]!.label}`);
    expect((await tutorRow(chat))!.subjects).toEqual([]); // nothing saved before Done
    await press(chat, 'pk:s:d', picker);
    expect((await tutorRow(chat))!.subjects).toEqual([subjects[0]!.value, subjects[physicsIdx]!.value]);
    expect(lastReply(chat)).toContain(`Subjects: ${subjects[0]!.label}, ${subjects[physicsIdx]!.label}`); // labels, not taxonomy codes
    expect(subjects[physicsIdx]!.label).not.toMatch(/^[A-Z]+\.[A-Z_]+$/);
    expect(api.messages(chat).find((m) => m.messageId === picker)!.replyMarkup).toEqual({ inline_keyboard: [] });

    // levels by buttons (Secondary + Secondary 3), then by text (/levels JC1 replaces them)
    await say(chat, '/levels');
    const lp = lastMessageId(chat);
    const levels = levelOptions();
    const sec = levels.findIndex((o) => o.value === 'Secondary');
    const sec3 = levels.findIndex((o) => o.value === 'Secondary 3');
    await press(chat, `pk:l:t:${sec}`, lp);
    await press(chat, `pk:l:t:${sec3}`, lp);
    await press(chat, 'pk:l:d', lp);
    expect((await tutorRow(chat))!.levels).toEqual(['Secondary', 'Secondary 3']);
    await say(chat, '/levels Sec 4, JC1');
    expect((await tutorRow(chat))!.levels).toEqual(['Secondary 4', 'Junior College 1']);
    await say(chat, '/levels Secondary, Secondary 3');

    // area in two steps (state in the DB), rate inline, distance, mode by button, types by button, limit
    await say(chat, '/area');
    expect(lastReply(chat)).toContain('postal code');
    await say(chat, '520123');
    await say(chat, '/rate 40');
    await say(chat, '/distance 8');
    await say(chat, '/mode');
    await press(chat, 'md:f2f', lastMessageId(chat));
    await say(chat, '/types');
    const tp = lastMessageId(chat);
    await press(chat, 'pk:t:t:1', tp);
    await press(chat, 'pk:t:d', tp);
    await say(chat, '/limit 4');
    expect(await tutorRow(chat)).toMatchObject({
      subjects: [subjects[0]!.value, subjects[physicsIdx]!.value],
      levels: ['Secondary', 'Secondary 3'],
      postal_code: '520123',
      max_distance_km: 8,
      min_rate: 40,
      learning_modes: ['face-to-face'],
      tutor_types: ['full-timer'],
      dm_daily_limit: 4,
      active: true,
    });
    const row = (await tutorRow(chat))!;
    expect(row.postal_lat).toBeCloseTo(TAMPINES.lat, 6);
    await say(chat, '/profile');
    expect(lastReply(chat)).toContain('Area: postal code 520123\nDistance: within 8 km of it');
    expect(lastReply(chat)).toContain('Minimum rate: $40/h');
    // every button press was answered
    const presses = api.calls.filter((c) => c.method === 'answerCallbackQuery');
    expect(presses.length).toBe(12);
  });

  it('bad inputs keep the old values and say why', async () => {
    await start();
    const chat = 5002;
    await say(chat, '/start');
    await say(chat, '/subjects E Maths, Physics');
    await say(chat, '/levels Sec 3');
    await say(chat, '/area 520123');
    await say(chat, '/rate 40');
    const before = await tutorRow(chat);
    const cases: Array<[string, RegExp]> = [
      ['/subjects Underwater Basketweaving', /unknown subject "Underwater Basketweaving"/],
      ['/levels Year 99', /unknown level/],
      ['/area 999999', /not a Singapore postal code/],
      ['/area Atlantis', /neither a six-digit postal code nor a region/],
      ['/rate -5', /minimum rate must be/],
      ['/rate lots', /minimum rate must be/],
      ['/distance 500', /distance must be a number of km from 0.5 to 50/],
      ['/limit 0', /daily limit must be a whole number/],
      ['/mode sometimes', /not a mode/],
    ];
    for (const [text, reason] of cases) {
      await say(chat, text);
      expect(lastReply(chat), text).toMatch(/Not changed/);
      expect(lastReply(chat), text).toMatch(reason);
    }
    // two-step input refused too, then accepted
    await say(chat, '/area');
    await say(chat, 'somewhere nice');
    expect(lastReply(chat)).toMatch(/Not changed[\s\S]*Kept: 520123/);
    expect(await tutorRow(chat)).toEqual(before);
    // a picker's Done with nothing selected is refused with a toast; the stored subjects stay
    await say(chat, '/subjects');
    const p = lastMessageId(chat);
    await press(chat, 'pk:s:c', p);
    await press(chat, 'pk:s:d', p);
    expect(api.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1)!.body.text).toMatch(/at least one/);
    expect(await tutorRow(chat)).toEqual(before);
    // commands before /start
    await say(5003, '/rate 30');
    expect(lastReply(5003)).toContain('Send /start');
    await say(5003, '/frobnicate');
    expect(lastReply(5003)).toContain('Unknown command');
  });

  it('/preview counts equal a direct SQL query over open assignments and show the three newest', async () => {
    await start();
    const chat = 5010;
    await say(chat, '/start');
    await say(chat, '/subjects E Maths');
    await say(chat, '/levels Secondary');
    await say(chat, '/area 520123');
    await say(chat, '/distance 5');
    await say(chat, '/rate 35');
    // a spread of open assignments; some match, some fail one gate each
    const near = { lat: TAMPINES.lat + 0.005, lon: TAMPINES.lon };
    const specs = [
      { title: 'near ok', ...near, rateMax: 40, minutesAgo: 50 },
      { title: 'near no rate', ...near, minutesAgo: 40 },
      { title: 'online ok', learningMode: 'Online', rateMin: 50, minutesAgo: 5 },
      { title: 'far', ...WOODLANDS, rateMax: 60, minutesAgo: 1 },
      { title: 'cheap', ...near, rateMax: 25, minutesAgo: 2 },
      { title: 'wrong subject', ...near, subjectsCanonical: ['ENGLISH.SEC'], subjectsGeneral: ['ENGLISH'], minutesAgo: 3 },
      { title: 'wrong level', ...near, levels: ['Primary'], minutesAgo: 4 },
      { title: 'closed', ...near, status: 'closed' as const, minutesAgo: 6 },
      { title: 'duplicate', ...near, isPrimary: false, minutesAgo: 7 },
      { title: 'no location', minutesAgo: 30 },
      { title: 'specific level', ...near, levels: [], specificLevels: ['Secondary 2'], minutesAgo: 20 },
      { title: 'general and specific level', ...near, levels: ['Secondary'], specificLevels: ['Secondary 2'], minutesAgo: 25 },
    ];
    for (const s of specs) await insertAssignment(t.db, s);
    await say(chat, '/preview');
    const tutor = (await tutorRow(chat))!;
    const [direct] = await t.db.query<{ n: number }>(
      `select count(*)::int as n from assignments a
        where a.status = 'open' and a.is_primary
          and (a.subjects_canonical || a.subjects_general) && $1::text[]
          and (a.levels || a.specific_levels) && $2::text[]
          and (lower(coalesce(a.learning_mode, '')) = 'online'
               or (a.postal_lat is not null and 2 * 6371.0088 * asin(sqrt(power(sin(radians(a.postal_lat - $3) / 2), 2)
                    + cos(radians($3)) * cos(radians(a.postal_lat)) * power(sin(radians(a.postal_lon - $4) / 2), 2))) <= $5))
          and (greatest(a.rate_min, a.rate_max) is null or greatest(a.rate_min, a.rate_max) >= $6)`,
      [tutor.subjects, tutor.levels, tutor.postal_lat, tutor.postal_lon, tutor.max_distance_km, tutor.min_rate],
    );
    // a row with only a specific level (Secondary 2) does not match a tutor who chose Secondary, as in DM matching
    expect(direct!.n).toBe(4);
    const reply = lastReply(chat);
    expect(reply).toMatch(new RegExp(`^${direct!.n} open assignments match`));
    const shown = reply
      .split('\n')
      .filter((l) => l.startsWith('• '))
      .map((l) => l.slice(2).split(' · ')[0]);
    expect(shown).toEqual(['online ok', 'general and specific level', 'near no rate']);

    // /preview and DM matching agree assignment by assignment
    const tutorFull = (await getTutorByChatId(t.db, chat))!;
    const preview = await previewMatches(t.db, tutorFull, { limit: 50 });
    const ids = await t.db.query<{ id: number }>(`select id from assignments where status = 'open' and is_primary order by id`);
    const dmMatched: number[] = [];
    for (const { id } of ids) {
      const [r] = await t.db.query<Record<string, never>>(
        `select id, subjects_canonical as "subjectsCanonical", subjects_general as "subjectsGeneral", levels, specific_levels as "specificLevels",
                learning_mode as "learningMode", postal_lat as lat, postal_lon as lon, rate_min::float8 as "rateMin", rate_max::float8 as "rateMax",
                tutor_types as "tutorTypes" from assignments where id = $1`,
        [id],
      );
      if ((await matchTutors(t.db, r as never, { cap: 10 })).some((m) => m.chatId === String(chat))) dmMatched.push(id);
    }
    expect(preview.newest.map((x) => x.id).sort((x, y) => x - y)).toEqual(dmMatched);

    // paused: nothing; resumed: the same answer again
    await say(chat, '/pause');
    expect((await tutorRow(chat))!.active).toBe(false);
    await say(chat, '/preview');
    expect(lastReply(chat)).toMatch(/paused/);
    await say(chat, '/resume');
    await say(chat, '/preview');
    expect(lastReply(chat)).toMatch(/^4 open assignments/);
  });

  it('groups, channels and bots are ignored entirely', async () => {
    await start();
    await say(-100777, '/start', { chatType: 'group', fromId: 6001 });
    await say(-100778, '/help', { chatType: 'supergroup', fromId: 6001 });
    await say(-100779, '/start', { chatType: 'channel' });
    await press(-100777, 'fb:filled:1', 1, { chatType: 'group', fromId: 6001 });
    api.pushUpdate({ my_chat_member: { chat: { id: 6001, type: 'private' } } });
    const id = api.pushUpdate({
      edited_message: { message_id: 1, date: 1, chat: { id: 6001, type: 'private' }, from: { id: 6001, is_bot: false, first_name: 'x' }, text: '/start' },
    });
    await running!.processed(id);
    expect(api.calls.filter((c) => ['sendMessage', 'answerCallbackQuery', 'editMessageReplyMarkup'].includes(c.method))).toEqual([]);
    expect((await t.db.query<{ n: number }>('select count(*)::int as n from tutors'))[0]!.n).toBe(0);
  });

  it('rate limits commands per chat: a single "slow down", then silence', async () => {
    await start({ perMinute: 5 });
    for (let i = 0; i < 9; i++) api.pushMessage(7001, '/help');
    const last = api.pushMessage(7002, '/help');
    await running!.processed(last);
    const texts = sentTo(api, 7001);
    expect(texts.filter((x) => x.startsWith('TutorDex sends you'))).toHaveLength(5);
    expect(texts.filter((x) => /slow down/i.test(x))).toHaveLength(1);
    expect(texts).toHaveLength(6);
    expect(sentTo(api, 7002)).toHaveLength(1);
  });

  it('/stop deletes the profile, feedback, chat state and pending DMs', async () => {
    await start();
    const chat = 5020;
    await say(chat, '/start');
    await say(chat, '/subjects Math');
    await say(chat, '/levels Secondary');
    await say(chat, '/area'); // leaves chat state behind
    const a = await insertAssignment(t.db);
    const [tutor] = await t.db.query<{ id: number }>('select id from tutors where chat_id = $1', [chat]);
    await t.db.query(`insert into deliveries (assignment_id, kind, recipient, tutor_id) values ($1, 'dm', $2, $3)`, [a, String(chat), tutor!.id]);
    await press(chat, `fb:scam:${a}`, 1);
    expect((await t.db.query('select 1 from assignment_feedback')).length).toBe(1);
    await say(chat, '/stop');
    expect(lastReply(chat)).toContain('deleted');
    expect(await t.db.query('select 1 from tutors where chat_id = $1', [chat])).toEqual([]);
    expect(await t.db.query('select 1 from assignment_feedback')).toEqual([]);
    expect(await t.db.query('select 1 from bot_chat_state where chat_id = $1', [chat])).toEqual([]);
    expect(await t.db.query<{ status: string }>(`select status from deliveries where kind = 'dm'`)).toEqual([{ status: 'skipped' }]);
    await say(chat, '/profile');
    expect(lastReply(chat)).toContain('Send /start');
  });

  it('DM feedback: recorded once per tap kind, acknowledged in place; the filled threshold closes the assignment and deletes its broadcast', async () => {
    await start({ threshold: 3 });
    const tutors = [5101, 5102, 5103, 5104];
    for (const c of tutors) await say(c, '/start');
    const a = await insertAssignment(t.db, { title: 'Sec 3 E Maths @ Tampines' });
    // a sent broadcast of the assignment, and a DM with the feedback buttons in each tutor's chat
    const client = createBotClient({ token: BOT_TOKEN, apiUrl: api.url });
    const bcastId = await client.send('@tutordex_bcast', 'broadcast', null);
    await t.db.query(
      `insert into deliveries (assignment_id, kind, recipient, status, telegram_message_id, sent_at) values ($1, 'broadcast', '@tutordex_bcast', 'sent', $2, now())`,
      [a, bcastId],
    );
    const keyboard = keyboardFor('dm', a, 'https://t.me/x/1')!; // the DM keyboard the outbox sends
    const dm: Record<number, number> = {};
    for (const c of tutors) dm[c] = await client.send(String(c), 'DM', keyboard);

    await press(5101, `fb:no:${a}`, dm[5101]!);
    await press(5101, `fb:no:${a}`, dm[5101]!); // double tap
    await press(5101, `fb:filled:${a}`, dm[5101]!);
    await press(5101, `fb:filled:${a}`, dm[5101]!);
    const rows = await t.db.query<{ kind: string }>('select kind from assignment_feedback order by id');
    expect(rows.map((r) => r.kind)).toEqual(['not_for_me', 'filled']);
    const answers = api.calls.filter((c) => c.method === 'answerCallbackQuery').map((c) => c.body.text);
    expect(answers).toEqual([
      'Thanks! Recorded: Not for me.',
      'Already recorded. Thank you!',
      'Thanks! Recorded: Already filled.',
      'Already recorded. Thank you!',
    ]);
    const shown = JSON.stringify(api.messages(5101).find((m) => m.messageId === dm[5101])!.replyMarkup);
    expect(shown).toContain('✅ Not for me');
    expect(shown).toContain('✅ Already filled');
    expect(shown).toContain('"url":"https://t.me/x/1"');
    expect(shown).not.toContain('✅ Looks like a scam');
    expect(api.calls.filter((c) => c.method === 'editMessageReplyMarkup' && c.status === 200)).toHaveLength(2);

    await press(5102, `fb:filled:${a}`, dm[5102]!);
    expect((await t.db.query<{ status: string }>('select status from assignments where id = $1', [a]))[0]!.status).toBe('open');
    await press(5103, `fb:filled:${a}`, dm[5103]!);
    const [closed] = await t.db.query<{ status: string; closed_reason: string; closed_at: Date | null }>(
      'select status, closed_reason, closed_at from assignments where id = $1',
      [a],
    );
    expect(closed).toMatchObject({ status: 'closed', closed_reason: 'reported_filled' });
    expect(closed!.closed_at).not.toBeNull();
    const [sync] = await t.db.query<{ sync_action: string | null }>(`select sync_action from deliveries where kind = 'broadcast' and assignment_id = $1`, [a]);
    expect(sync!.sync_action).toBe('delete');
    // a fourth report is still recorded and changes nothing else
    await press(5104, `fb:filled:${a}`, dm[5104]!);
    expect((await t.db.query<{ n: number }>(`select count(*)::int as n from assignment_feedback where kind = 'filled'`))[0]!.n).toBe(4);
  });

  it('malformed callback data: an error toast, nothing written, the bot keeps going', async () => {
    await start();
    await say(5201, '/start');
    const a = await insertAssignment(t.db);
    const bad = [
      'fb:filled:abc',
      'fb:bogus:1',
      'fb:filled:',
      `fb:filled:${a}:x`,
      'x'.repeat(64),
      'pk:s:t:99999',
      'pk:z:d',
      'md:sometimes',
      '\u0000',
      'fb:filled:999999999',
    ];
    for (const data of bad) await press(5201, data, 1);
    const answers = api.calls.filter((c) => c.method === 'answerCallbackQuery');
    expect(answers).toHaveLength(bad.length);
    for (const ans of answers) expect(String(ans.body.text)).toMatch(/not valid|no longer/);
    expect(await t.db.query('select 1 from assignment_feedback')).toEqual([]);
    await say(5201, '/help');
    expect(lastReply(5201)).toContain('TutorDex sends you');
  });

  it('multi-step input survives a restart (state is in the database); no token in the logs', async () => {
    const lines: string[] = [];
    const pino = (await import('pino')).default;
    const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(s) });
    await start({ log });
    await say(5301, '/start');
    await say(5301, '/area');
    await running!.stop();
    running = null;
    running = await startBot(api, t.db, { log });
    await say(5301, '730123');
    expect((await tutorRow(5301))!.postal_code).toBe('730123');
    await press(5301, 'garbage', 1);
    await until('logs', () => lines.length > 0);
    expect(lines.join('\n')).not.toContain(BOT_TOKEN);
    expect(lines.join('\n')).not.toContain(BOT_TOKEN.split(':')[1]!);
  });

  it('a blocked bot (403 on sendMessage) pauses the tutor and does not stop the bot', async () => {
    await start();
    await say(5401, '/start');
    api.failWhen((c) => (c.method === 'sendMessage' && String(c.chatId) === '5401' ? { status: 403 } : null));
    await say(5401, '/help');
    expect(await tutorRow(5401)).toMatchObject({ active: false, inactive_reason: 'blocked_bot' });
    api.failWhen(null);
    await say(5402, '/help');
    expect(lastReply(5402)).toContain('TutorDex sends you');
  });

  it('DM matching respects the bot preferences: region without a postal code, pause, rate, mode, tutor type', async () => {
    await start();
    const chat = 5601;
    await say(chat, '/start');
    await say(chat, '/subjects Math');
    await say(chat, '/levels Secondary');
    await say(chat, '/area East');
    const ids = {
      east: await insertAssignment(t.db, { region: 'East', rateMax: 50 }),
      west: await insertAssignment(t.db, { region: 'West' }),
      online: await insertAssignment(t.db, { learningMode: 'Online', region: 'West' }),
      unknown: await insertAssignment(t.db, {}),
      cheap: await insertAssignment(t.db, { region: 'East', rateMax: 20 }),
      pt: await insertAssignment(t.db, { region: 'East', tutorTypes: ['part-timer'] }),
    };
    const matched = async () => {
      const out: string[] = [];
      for (const [name, id] of Object.entries(ids)) {
        const [r] = await t.db.query<Record<string, never>>(
          `select id, subjects_canonical as "subjectsCanonical", subjects_general as "subjectsGeneral", levels, specific_levels as "specificLevels",
                  learning_mode as "learningMode", postal_lat as lat, postal_lon as lon, rate_min::float8 as "rateMin", rate_max::float8 as "rateMax",
                  tutor_types as "tutorTypes" from assignments where id = $1`,
          [id],
        );
        if ((await matchTutors(t.db, r as never, { cap: 5 })).length > 0) out.push(name);
      }
      const preview = await previewMatches(t.db, (await getTutorByChatId(t.db, chat))!, { limit: 50 });
      expect(preview.count).toBe(out.length);
      return out.sort();
    };
    expect(await matched()).toEqual(['cheap', 'east', 'online', 'pt', 'unknown']);
    await say(chat, '/rate 30');
    await say(chat, '/types');
    const tp = lastMessageId(chat);
    await press(chat, 'pk:t:t:1', tp); // full-time
    await press(chat, 'pk:t:d', tp);
    expect(await matched()).toEqual(['east', 'online', 'unknown']);
    await say(chat, '/mode f2f');
    expect(await matched()).toEqual(['east', 'unknown']);
    await say(chat, '/pause');
    expect(await matched()).toEqual([]);
  });

  it('webhook mode: setWebhook with a secret, updates posted to our listener are answered, others refused', async () => {
    api.reset();
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const url = `http://127.0.0.1:${port}/tg/hook`;
    const ctrl = new AbortController();
    let ready = false;
    const run = runTutorBot({
      db: t.db,
      token: BOT_TOKEN,
      apiUrl: api.url,
      log: silentLog,
      signal: ctrl.signal,
      commandsPerMinute: 100,
      feedbackFilledThreshold: 3,
      webhook: { url, port, host: '127.0.0.1' },
      onReady: () => (ready = true),
    });
    try {
      await until('webhook ready', () => ready);
      expect(api.webhookUrl()).toBe(url);
      const update = {
        update_id: 1,
        message: { message_id: 1, date: 1, chat: { id: 5501, type: 'private' }, from: { id: 5501, is_bot: false, first_name: 'W' }, text: '/start' },
      };
      const post = (headers: Record<string, string>, path = '/tg/hook') =>
        fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
      expect((await post({})).status).toBe(401);
      expect((await post({ 'x-telegram-bot-api-secret-token': webhookSecret(BOT_TOKEN) }, '/other')).status).toBe(404);
      expect((await post({ 'x-telegram-bot-api-secret-token': webhookSecret(BOT_TOKEN) })).status).toBe(200);
      await until('reply', () => sentTo(api, 5501).length === 1);
      expect(sentTo(api, 5501)[0]).toContain('Welcome to TutorDex');
      expect(webhookSecret(BOT_TOKEN)).not.toContain(BOT_TOKEN.split(':')[1]!);
    } finally {
      ctrl.abort();
      await run;
    }
  });
});

describe('tutordex bot / start (CLI, embedded database)', () => {
  const TOKEN = '123456:AAbottokensecret'; // a registered test secret: the CLI output and logs are scanned for it

  it('bot without a token is a usage error', async () => {
    const { cliWorkspace } = await import('./support/cli.ts');
    const r = await cliWorkspace().run(['bot']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tutordex: the tutor bot needs TELEGRAM_BOT_TOKEN/);
  });

  it('`tutordex bot` answers over long polling until stopped, and `tutordex start` runs the bot beside the rest', async () => {
    const { cliWorkspace } = await import('./support/cli.ts');
    api.reset();
    const ws = cliWorkspace({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_BOT_API_URL: api.url, LOG_LEVEL: 'debug' });
    const ctrl = new AbortController();
    const outs: string[] = [];
    let health: string | null = null;
    const running = ws.run(
      ['bot'],
      { METRICS_PORT: '0' },
      { signal: ctrl.signal, out: (s) => outs.push(s), err: (s) => void (health ??= /(http:\/\/[\d.:]+)\/health/.exec(s)?.[1] ?? null) },
    );
    await until('the bot to start', () => outs.some((o) => o.includes('tutor bot @fake_bot is running (long polling)')), 60_000);
    // METRICS_PORT serves /health beside the bot (the compose file's healthcheck uses it)
    expect(health).not.toBeNull();
    expect((await fetch(`${health}/health`)).status).toBe(200);
    api.pushMessage(8001, '/start');
    api.pushCallback(8001, 'fb:filled:oops', { messageId: 1 });
    await until('replies', () => sentTo(api, 8001).length === 1 && api.calls.some((c) => c.method === 'answerCallbackQuery'));
    ctrl.abort();
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tutor bot stopped · updates 2 · ignored 0 · rate-limited 0 · errors 0/);
    expect(r.err).toContain('bot_feedback_malformed');
    expect(r.err).not.toContain('AAbottokensecret');

    // `start` following Telegram (the in-memory source stands for it; never the sample feed, which refuses a bot token)
    api.reset();
    const { MemorySource } = await import('../src/telegram/memory.ts');
    const telegram = new MemorySource().addChannel({ channelLink: 't.me/agency_a', channelId: '101', title: 'Agency A' });
    const stopStart = new AbortController();
    const startOut: string[] = [];
    const starting = ws.run(
      ['start', '--no-web'],
      { CHANNEL_LIST: 't.me/agency_a' },
      { telegramSource: () => telegram, signal: stopStart.signal, out: (o) => startOut.push(o) },
    );
    await until(
      'the bot to poll beside start',
      () => startOut.some((o) => o.includes('tutor bot: @fake_bot')) && api.calls.some((c) => c.method === 'getUpdates'),
      30_000,
    );
    stopStart.abort();
    const s = await starting;
    expect(s.code, s.err).toBe(0);
    expect(s.out).toContain('source: Telegram, 1 channel(s)');
    expect(s.out).toContain('tutor bot: @fake_bot (long polling)');
  }, 90_000);
});
