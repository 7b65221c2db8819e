import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pollTutorCity } from '../src/sources/index.ts';
import { cliWorkspace } from './support/cli.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { SAMPLE_ROWS, startFakeTutorCity, type FakeTutorCity } from './support/fake-tutorcity.ts';
import { drain, workerConfig } from './support/worker.ts';

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
    TUTORCITY_LIMIT: '5',
    TUTORCITY_TIMEOUT_SECONDS: '1',
    ...env,
  });
const broadcasts = () => bot.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === CHANNEL);

describeEachDatabase('TutorCity: its public assignments API as a source (fake API on 127.0.0.1)', (t) => {
  beforeEach(() => {
    bot.reset();
    api.rows = structuredClone(SAMPLE_ROWS);
    api.answer = null;
  });

  const assignments = () =>
    t.db.query<{ code: string; status: string; subjects: string[]; levels: string[]; link: string; agency: string; postal: string[] }>(
      `select a.assignment_code as code, a.status, a.subjects_canonical as subjects, a.specific_levels as levels, a.message_link as link,
              g.agency_display_name as agency, a.postal_code as postal
         from assignments a join agencies g on g.id = a.agency_id order by a.assignment_code`,
    );

  it('the real sample: 5 rows → 4 assignments (D2388 with both subjects), mapped without an LLM, each broadcast once with its own page as the link', async () => {
    const r = await pollTutorCity(t.db, config());
    expect(r).toMatchObject({ rows: 5, assignments: 4, inserted: 4, changed: 0, enqueued: 4, gone: 0, completeFeed: false });
    expect(api.requests.at(-1)).toBe('/api/tuition-assignments/?limit=5');
    await drain(t.db, config());
    const rows = await assignments();
    expect(rows.map((a) => a.code)).toEqual(['33503', '33952', '33954', 'D2388']);
    const d2388 = rows.find((a) => a.code === 'D2388')!;
    expect(d2388.subjects).toEqual(expect.arrayContaining([expect.stringMatching(/^MATH/), expect.stringMatching(/^ENGLISH/)]));
    expect(d2388.levels).toEqual(['Primary 6']);
    expect(rows.find((a) => a.code === '33952')).toMatchObject({ levels: ['Primary 4'], postal: ['269748'], agency: 'TutorCity' });
    expect(rows.find((a) => a.code === '33503')!.levels).toEqual(['Secondary 3']);
    for (const a of rows) expect(a.link).toBe(`https://tutorcity.sg/tuition-assignments?assignment_code=${a.code}`);
    expect(broadcasts()).toHaveLength(4);
    const buttons = JSON.stringify(bot.messages(CHANNEL).map((m) => m.replyMarkup));
    expect(buttons).toContain('https://tutorcity.sg/tuition-assignments?assignment_code=D2388');
    const jobs = await t.db.query<{ extractor: string }>(`select meta->'extractor'->>'extractor' as extractor from telegram_extractions`);
    expect(jobs.every((j) => j.extractor === 'structured')).toBe(true);
  });

  it('a second poll: unchanged records queue nothing; a changed one updates its assignment and edits its broadcast; one gone from the feed closes and its broadcast goes', async () => {
    await pollTutorCity(t.db, config());
    await drain(t.db, config());
    expect(await pollTutorCity(t.db, config())).toMatchObject({ inserted: 0, changed: 0, enqueued: 0, gone: 0 });
    api.rows = api.rows.filter((r) => r.assignment_code !== '33954').map((r) => (r.assignment_code === '33952' ? { ...r, hourly_rate: '60-90 p/h' } : r));
    expect(await pollTutorCity(t.db, config())).toMatchObject({ rows: 4, assignments: 3, changed: 1, gone: 1 });
    await drain(t.db, config());
    const rows = await assignments();
    expect(rows.find((a) => a.code === '33954')!.status).toBe('closed');
    expect(rows.filter((a) => a.status === 'open')).toHaveLength(3);
    const [rate] = await t.db.query<{ rate_min: number; rate_max: number }>(
      `select rate_min::float8, rate_max::float8 from assignments where assignment_code = '33952'`,
    );
    expect(rate).toEqual({ rate_min: 60, rate_max: 90 });
    expect(bot.calls.filter((c) => c.method === 'editMessageText')).toHaveLength(1);
    expect(bot.calls.filter((c) => c.method === 'deleteMessage')).toHaveLength(1);
    expect(bot.messages(CHANNEL)).toHaveLength(3);
    expect(broadcasts()).toHaveLength(4); // nothing sent twice
  });

  it('a reparse reads the raw log, never the API again', async () => {
    await pollTutorCity(t.db, config());
    await drain(t.db, config());
    const asked = api.requests.length;
    const { enqueueRawIds } = await import('../src/queue/index.ts');
    const ids = (await t.db.query<{ id: number }>(`select id from telegram_messages_raw where channel_link = 'tutorcity.sg'`)).map((r) => Number(r.id));
    await enqueueRawIds(t.db, 'v2', ids, false);
    await drain(t.db, config({ EXTRACTION_PIPELINE_VERSION: 'v2' }), { analysisOnly: true });
    const v2 = await t.db.query<{ status: string }>(`select status from telegram_extractions where pipeline_version = 'v2'`);
    expect(v2.map((j) => j.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(api.requests.length).toBe(asked);
  });

  it('a full feed (rows = limit) closes nothing it does not list: older records may just be off its page', async () => {
    await pollTutorCity(t.db, config());
    api.rows = [
      ...api.rows.slice(0, 2),
      { ...api.rows[0]!, assignment_code: '40001' },
      { ...api.rows[0]!, assignment_code: '40002' },
      { ...api.rows[0]!, assignment_code: '40003' },
    ];
    expect(await pollTutorCity(t.db, config())).toMatchObject({ rows: 5, completeFeed: false, gone: 0 });
  });

  it('two polls at once: an older answer never closes a record a newer poll listed', async () => {
    const t1 = new Date();
    await pollTutorCity(t.db, config(), { now: () => t1 }); // the newer poll lists all five rows (four records)
    api.rows = api.rows.filter((r) => r.assignment_code !== '33954'); // the other poll's answer, fetched earlier
    expect(await pollTutorCity(t.db, config(), { now: () => new Date(t1.getTime() - 60_000) })).toMatchObject({ completeFeed: true, gone: 0 });
    expect(await t.db.query(`select count(*)::int as n from telegram_messages_raw where deleted_at is not null`)).toEqual([{ n: 0 }]);
  });

  it('malformed, failing, slow and empty answers write nothing and close nothing', async () => {
    await pollTutorCity(t.db, config());
    const before = await t.db.query(`select id, raw_text, deleted_at from telegram_messages_raw order by id`);
    for (const [answer, message] of [
      [{ body: 'not json' }, /not JSON/],
      [{ body: JSON.stringify({ all_assignments_data: [{ subjects: ['12'] }] }) }, /unexpected shape at all_assignments_data\.0\.assignment_code/],
      [{ body: JSON.stringify({ data: [] }) }, /unexpected shape at all_assignments_data/],
      [{ status: 503 }, /HTTP 503/],
      [{ delayMs: 2500 }, /did not answer within 1 s/],
    ] as const) {
      api.answer = answer;
      await expect(pollTutorCity(t.db, config())).rejects.toThrow(message);
    }
    api.answer = { body: JSON.stringify({ all_assignments_data: [] }) };
    expect(await pollTutorCity(t.db, config())).toMatchObject({ rows: 0, gone: 0 });
    expect(await t.db.query(`select id, raw_text, deleted_at from telegram_messages_raw order by id`)).toEqual(before);
  });
});

describe('tutordex poll tutorcity (command line, embedded database)', () => {
  it('--once prints one line; an unreachable API is one line on stderr and exit 1', async () => {
    const ws = cliWorkspace({ TUTORCITY_API_URL: api.url, TUTORCITY_LIMIT: '50', EXTRACTION_PIPELINE_VERSION: 'v1' });
    api.rows = structuredClone(SAMPLE_ROWS);
    api.answer = null;
    const ok = await ws.run(['poll', 'tutorcity', '--once']);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out).toBe('tutorcity: 5 rows → 4 assignments; 4 new, 0 changed, 0 gone; 4 jobs queued');
    const down = await ws.run(['poll', 'tutorcity', '--once'], { TUTORCITY_API_URL: 'http://127.0.0.1:9/api' });
    expect(down.code).toBe(1);
    expect(down.err.trim().split('\n')).toHaveLength(1);
    expect(down.err).toMatch(/TutorCity is unreachable \(http:\/\/127\.0\.0\.1:9\)/);
    const bad = await ws.run(['poll', 'tutorcity', '--interval', '3']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--interval must be a number of seconds between 10 and 86400/);
  });
});
