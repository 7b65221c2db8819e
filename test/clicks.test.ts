import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { TOKEN_PATTERN } from '../src/clicks/index.ts';
import { silentLog } from '../src/collector/index.ts';
import type { Queryable } from '../src/db/index.ts';
import { createBotClient, createDispatcher, queueBroadcasts, queueDms, requestBroadcastSync } from '../src/delivery/index.ts';
import type { AgenciesResponse, AssignmentDetail } from '../src/web/api-types.ts';
import { createWebApp } from '../src/web/server.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';
import { workerConfig } from './support/worker.ts';

const FRESHNESS = { greenHours: 24, yellowHours: 36, orangeHours: 48 };
const CHANNEL = '@tutordex_test';
const BASE = 'https://tutordex.example.com';
const POST = 'https://t.me/tutoranywhr/7';

let bot: FakeBotApi;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

async function agency(db: Queryable, link: string, name: string): Promise<number> {
  const [r] = await db.query<{ id: number }>(`insert into agencies (channel_link, agency_display_name) values ($1, $2) returning id`, [link, name]);
  return r!.id;
}

async function assignment(db: Queryable, agencyId: number, title = 'P5 Maths'): Promise<number> {
  const [r] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, academic_display_text, rate_min, rate_max, source_last_seen, published_at, message_link)
     values ($1, $2, 'open', $3, 40, 50, now(), now(), $4) returning id`,
    [agencyId, `TA-${Math.random().toString(36).slice(2, 10)}`, title, POST],
  );
  return r!.id;
}

async function tutor(db: Queryable, chatId: number): Promise<number> {
  const [r] = await db.query<{ id: number }>(`insert into tutors (chat_id) values ($1) returning id`, [chatId]);
  return r!.id;
}

type Markup = { inline_keyboard: { text: string; url?: string; callback_data?: string }[][] };
const sends = () => bot.calls.filter((c) => c.method === 'sendMessage' && c.status === 200);
const urlOf = (call: { body: Record<string, unknown> }) => (call.body.reply_markup as Markup).inline_keyboard[0]![0]!.url!;
const tokenOf = (url: string) => url.slice(`${BASE}/r/`.length);

describeEachDatabase('click tracking: /r/<token> links, redirect, dashboard counts', (t) => {
  beforeEach(() => bot.reset());

  const dispatcher = (publicBaseUrl: string | null) =>
    createDispatcher({
      db: t.db,
      client: createBotClient({ token: '123456:fake', apiUrl: bot.url, timeoutSeconds: 5 }),
      log: silentLog,
      leaseOwner: 'test:clicks',
      maxAttempts: 3,
      backoffBaseMs: 10,
      freshness: FRESHNESS,
      publicBaseUrl,
    });
  const app = (token: string | null = null) => createWebApp({ db: t.db, config: workerConfig(), token });

  /** One broadcast and one DM of a fresh assignment, sent through PUBLIC_BASE_URL links. */
  async function delivered() {
    const ag = await agency(t.db, 't.me/tutoranywhr', 'TutorAnywhr');
    const a = await assignment(t.db, ag);
    const tid = await tutor(t.db, 7001);
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await queueDms(t.db, a, [{ tutorId: tid, chatId: '7001', distanceKm: null }]);
    expect(await dispatcher(BASE).runOnce()).toMatchObject({ sent: 2 });
    const [b, d] = [sends().find((c) => String(c.chatId) === CHANNEL)!, sends().find((c) => String(c.chatId) === '7001')!];
    return { ag, a, tid, broadcastUrl: urlOf(b), dmUrl: urlOf(d), dmMarkup: d.body.reply_markup as Markup };
  }

  it('with PUBLIC_BASE_URL, broadcast and DM links go through /r/<random token>; callbacks unchanged', async () => {
    const { a, broadcastUrl, dmUrl, dmMarkup } = await delivered();
    for (const u of [broadcastUrl, dmUrl]) {
      expect(u.startsWith(`${BASE}/r/`)).toBe(true);
      expect(tokenOf(u)).toMatch(TOKEN_PATTERN);
    }
    expect(broadcastUrl).not.toBe(dmUrl);
    expect(dmMarkup.inline_keyboard[1]!.map((b) => b.callback_data)).toEqual([`fb:no:${a}`, `fb:filled:${a}`, `fb:scam:${a}`]);
    const links = await t.db.query<{ kind: string; chat_id: string; tutor_id: number | null; target_url: string }>(
      `select kind, chat_id, tutor_id, target_url from click_links order by id`,
    );
    expect(links).toEqual([
      { kind: 'broadcast', chat_id: CHANNEL, tutor_id: null, target_url: POST },
      { kind: 'dm', chat_id: '7001', tutor_id: expect.any(Number), target_url: POST },
    ]);
  });

  it('without PUBLIC_BASE_URL the buttons point straight at the post and no link is stored', async () => {
    const a = await assignment(t.db, await agency(t.db, 't.me/x', 'X'));
    await queueBroadcasts(t.db, a, [CHANNEL]);
    await dispatcher(null).runOnce();
    expect(urlOf(sends()[0]!)).toBe(POST);
    expect(await t.db.query(`select 1 from click_links`)).toHaveLength(0);
  });

  it('GET /r/<token> records the click (assignment, channel or DM, tutor) and 302s to the post, with or without a dashboard token', async () => {
    const { a, tid, broadcastUrl, dmUrl } = await delivered();
    const res = await app().request(`/r/${tokenOf(broadcastUrl)}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(POST);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const locked = await app('dashboard-secret').request(`/r/${tokenOf(dmUrl)}`);
    expect(locked.status).toBe(302);
    expect(locked.headers.get('location')).toBe(POST);
    await app().request(`/r/${tokenOf(dmUrl)}`);
    const clicks = await t.db.query<{ assignment_id: number; kind: string; chat_id: string; tutor_id: number | null }>(
      `select assignment_id, kind, chat_id, tutor_id from link_clicks order by id`,
    );
    expect(clicks).toEqual([
      { assignment_id: a, kind: 'broadcast', chat_id: CHANNEL, tutor_id: null },
      { assignment_id: a, kind: 'dm', chat_id: '7001', tutor_id: tid },
      { assignment_id: a, kind: 'dm', chat_id: '7001', tutor_id: tid },
    ]);
    const cols = await t.db.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'link_clicks' order by column_name`,
    );
    expect(cols.map((c) => c.column_name)).toEqual(['assignment_id', 'chat_id', 'clicked_at', 'id', 'kind', 'link_id', 'tutor_id']); // nothing about the visitor
  });

  it('unknown, malformed and hostile tokens are 404 (never 500) and record nothing', async () => {
    await delivered();
    const hostile = [
      '/r/AAAAAAAAAAAAAAAAAAAAAA', // well-formed, unknown
      '/r/',
      '/r/x',
      `/r/${'A'.repeat(5000)}`,
      "/r/'%20or%201=1--",
      '/r/%00',
      '/r/%E0%A4%A',
      '/r/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/r/AAAAAAAAAAAAAAAAAAAAAA/extra',
      '/r/%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80',
      '/r/AAAAAAAAAAAAAAAAAAAAAA?x=1',
      '/r/%41AAAAAAAAAAAAAAAAAAAAA',
    ];
    for (const token of [null, 'dashboard-secret']) {
      for (const path of hostile) {
        const res = await app(token).request(path);
        expect([path, res.status]).toEqual([path, 404]);
      }
    }
    expect(await t.db.query(`select 1 from link_clicks`)).toHaveLength(0);
  });

  it('an edited broadcast keeps its link (same token)', async () => {
    const { a, broadcastUrl } = await delivered();
    await t.db.query(`update assignments set academic_display_text = 'P6 Maths' where id = $1`, [a]);
    await requestBroadcastSync(t.db, a, 'edit');
    expect(await dispatcher(BASE).runOnce()).toMatchObject({ edited: 1 });
    const edit = bot.calls.find((c) => c.method === 'editMessageText')!;
    expect(urlOf(edit)).toBe(broadcastUrl);
    expect(await t.db.query(`select 1 from click_links`)).toHaveLength(2);
  });

  it('dashboard API: click and feedback counts on the assignment detail and per agency', async () => {
    const { ag, a, tid, broadcastUrl, dmUrl } = await delivered();
    const other = await assignment(t.db, await agency(t.db, 't.me/quiet', 'Quiet Agency'));
    for (const u of [broadcastUrl, broadcastUrl, dmUrl]) expect((await app().request(`/r/${tokenOf(u)}`)).status).toBe(302);
    const t2 = await tutor(t.db, 7002);
    await t.db.query(`insert into assignment_feedback (assignment_id, tutor_id, kind) values ($1, $2, 'scam'), ($1, $3, 'scam'), ($1, $3, 'not_for_me')`, [
      a,
      tid,
      t2,
    ]);
    const res = await app().request(`/api/assignments/${a}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as AssignmentDetail;
    expect(detail.clicks).toMatchObject({ total: 3, broadcast: 2, dm: 1, chats: 2 });
    expect(detail.clicks!.last_click_at).toEqual(expect.any(String));
    expect(detail.feedback).toEqual({ not_for_me: 1, filled: 0, scam: 2, total: 3 });

    const quiet = (await (await app().request(`/api/assignments/${other}`)).json()) as AssignmentDetail;
    expect(quiet.clicks).toEqual({ total: 0, broadcast: 0, dm: 0, chats: 0, last_click_at: null });

    const agencies = (await (await app().request('/api/agencies')).json()) as AgenciesResponse;
    expect(agencies.agencies.map((x) => x.agency)).toEqual(['TutorAnywhr', 'Quiet Agency']); // most clicked first
    expect(agencies.agencies[0]).toMatchObject({
      agency_id: ag,
      assignments: 1,
      open: 1,
      broadcasts_sent: 1,
      dms_sent: 1,
      clicks: { total: 3, broadcast: 2, dm: 1 },
    });
    expect(agencies.agencies[0]!.feedback).toEqual({ not_for_me: 1, filled: 0, scam: 2, total: 3 });
    expect(agencies.agencies[1]).toMatchObject({ assignments: 1, clicks: { total: 0 } });

    // the dashboard page knows the new sections; the API needs the token when one is set
    const html = await (await app().request('/')).text();
    expect(html).toContain('data-testid="agencies"');
    expect(html).toContain("'/api/agencies'");
    expect((await app('dashboard-secret').request('/api/agencies')).status).toBe(401);
  });
});
