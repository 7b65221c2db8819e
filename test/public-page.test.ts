import { afterAll, beforeAll, expect, it } from 'vitest';
import { haversineMeters, coordsForPostalCode } from '../src/extraction/index.ts';
import { createWebApp } from '../src/web/server.ts';
import { parsePublicQuery, queryPublicAssignments, encodeCursor } from '../src/web/public-query.ts';
import { describeEachDatabase } from './support/databases.ts';
import { duplicateGroup, putAssignment } from './support/public-assignments.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { drain, postAndEnqueue, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

/** Card ids in page order. */
const ids = (html: string) => [...html.matchAll(/data-testid="card" data-id="(\d+)"/g)].map((m) => Number(m[1]));
const total = (html: string) => Number(/data-testid="total">(\d+)</.exec(html)?.[1] ?? NaN);
/** Options of one filter select: value → count (null value: the disabled "not stated" bucket), plus "Any". */
function facet(html: string, name: string): { any: number; options: { value: string | null; label: string; count: number; selected: boolean }[] } {
  const body = new RegExp(`<select name="${name}"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1];
  if (body === undefined) throw new Error(`no select ${name}`);
  const all = [...body.matchAll(/<option( disabled)? value="([^"]*)"( selected)?>([^<]*) \((\d+)\)<\/option>/g)].map((m) => ({
    value: m[1] ? null : m[2]!,
    label: m[4]!,
    count: Number(m[5]),
    selected: Boolean(m[3]),
  }));
  const [any, ...options] = all;
  return { any: any!.count, options };
}
const nextLink = (html: string) =>
  /data-testid="next-page"/.test(html) ? /<a href="([^"]+)" data-testid="next-page"/.exec(html)![1]!.replace(/&#38;/g, '&') : null;

describeEachDatabase('public assignments page', (t) => {
  const app = (token: string | null = null) => createWebApp({ db: t.db, config: workerConfig(), token });
  const get = async (path: string) => {
    const res = await app().request(path);
    return { status: res.status, html: await res.text(), res };
  };

  /** A small varied set: 3 agencies, regions incl. one not stated, modes incl. online, rates, subjects, levels. */
  async function seed() {
    const a = {
      bishanMath: await putAssignment(t.db, {
        agency: 'Coco Tutors',
        title: 'P5 Maths at Bishan',
        subjects: ['Maths'],
        levels: ['Primary'],
        specificLevels: ['Primary 5'],
        region: 'Central',
        postal: '570123',
        rateMin: 35,
        rateMax: 45,
        minutesAgo: 10,
      }),
      tampinesChem: await putAssignment(t.db, {
        agency: 'Elite Agency',
        title: 'Sec 4 Chemistry',
        subjects: ['Chemistry'],
        levels: ['Secondary'],
        region: 'East',
        postal: '520123',
        rateMin: 50,
        rateMax: 60,
        minutesAgo: 20,
        bumps: 2,
        seenMinutesAgo: 5,
      }),
      jurongEng: await putAssignment(t.db, {
        agency: 'Coco Tutors',
        title: 'P3 English',
        subjects: ['English'],
        levels: ['Primary'],
        region: 'West',
        postal: '640123',
        rateMin: 25,
        rateMax: 30,
        minutesAgo: 30,
      }),
      onlinePhys: await putAssignment(t.db, {
        agency: 'Tuition Hub',
        title: 'JC1 H2 Physics online',
        subjects: ['Physics', 'Maths'],
        levels: ['Junior College'],
        region: null,
        mode: 'Online',
        rateMin: 80,
        minutesAgo: 40,
      }),
      woodlandsSci: await putAssignment(t.db, {
        agency: 'Elite Agency',
        title: 'P6 Science',
        subjects: ['Science'],
        levels: ['Primary'],
        region: 'North',
        postal: '730123',
        mode: null,
        minutesAgo: 50,
        remarks: 'Near Woodlands MRT, female tutor preferred',
      }),
      marinaMath: await putAssignment(t.db, {
        agency: 'Tuition Hub',
        title: 'Sec 2 E-Maths',
        subjects: ['Maths'],
        levels: ['Secondary'],
        region: 'Central',
        postal: '018956',
        rateMin: 40,
        rateMax: 40,
        minutesAgo: 60,
      }),
    };
    return a;
  }

  it('lists open assignments newest first with structured fields, freshness and the original post link; no login needed', async () => {
    const a = await seed();
    const res = await app('s3cret-token').request('/assignments', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(ids(html)).toEqual([a.tampinesChem, a.bishanMath, a.jurongEng, a.onlinePhys, a.woodlandsSci, a.marinaMath]);
    expect(total(html)).toBe(6);
    expect(html).toContain('posted 20 min ago, bumped 2×, last 5 min ago');
    expect(html).toContain('posted 10 min ago');
    expect(html).toContain('$35–45/h');
    expect(html).toMatch(/<a class="open" href="https:\/\/t\.me\/cocotutors\/\d+" rel="noopener noreferrer nofollow">Open the original post<\/a>/);
    expect(html).not.toContain('<script');
    // the freshness dot follows the source's age with the configured policy (green < 24 h ≤ yellow < 36 h ≤ orange < 48 h ≤ red)
    expect(html.match(/class="tier t-green"/g)).toHaveLength(6);
    await putAssignment(t.db, { title: 'Day and a half old', minutesAgo: 30 * 60, tier: null });
    await putAssignment(t.db, { title: 'Three days old', minutesAgo: 72 * 60, tier: 'green' });
    const older = await (await app().request('/assignments')).text();
    expect(older).toMatch(/t-yellow" title="recent"><\/span><span data-testid="freshness">posted 30 h ago/);
    expect(older).toMatch(/t-red" title="old"><\/span><span data-testid="freshness">posted 3 d ago/);
    // the dashboard itself still needs the token
    expect((await app('s3cret-token').request('/api/queue')).status).toBe(401);
  });

  it('filters narrow the results; facet counts use the other filters and single-valued facets add up to the total', async () => {
    const a = await seed();
    const all = await get('/assignments');
    for (const name of ['region', 'mode', 'agency']) {
      const f = facet(all.html, name);
      expect(f.any, name).toBe(6);
      expect(
        f.options.reduce((s, o) => s + o.count, 0),
        name,
      ).toBe(6);
    }
    expect(facet(all.html, 'region').options).toContainEqual({ value: null, label: 'Not stated', count: 1, selected: false });
    expect(facet(all.html, 'subject').options.find((o) => o.value === 'Maths')?.count).toBe(3);
    expect(facet(all.html, 'minrate').options.find((o) => o.value === '40')?.count).toBe(4);

    const maths = await get('/assignments?subject=Maths');
    expect(new Set(ids(maths.html))).toEqual(new Set([a.bishanMath, a.onlinePhys, a.marinaMath]));
    // the subject facet ignores its own filter; the region facet counts only Maths
    expect(facet(maths.html, 'subject').any).toBe(6);
    expect(facet(maths.html, 'subject').options.find((o) => o.value === 'Maths')).toMatchObject({ count: 3, selected: true });
    const regions = facet(maths.html, 'region');
    expect(regions.any).toBe(3);
    expect(regions.options.reduce((s, o) => s + o.count, 0)).toBe(3);
    expect(regions.options.find((o) => o.value === 'Central')?.count).toBe(2);

    const central = await get('/assignments?subject=Maths&region=Central');
    expect(new Set(ids(central.html))).toEqual(new Set([a.bishanMath, a.marinaMath]));
    expect(total(central.html)).toBe(facet(maths.html, 'region').options.find((o) => o.value === 'Central')!.count);
    // every option's count is what choosing it yields
    for (const o of facet(central.html, 'agency').options) {
      const narrowed = await get(`/assignments?subject=Maths&region=Central&agency=${o.value}`);
      expect(total(narrowed.html)).toBe(o.count);
      expect(ids(narrowed.html)).toHaveLength(o.count);
    }

    expect(ids((await get('/assignments?level=Secondary')).html).sort()).toEqual([a.tampinesChem, a.marinaMath].sort());
    expect(ids((await get('/assignments?mode=Online')).html)).toEqual([a.onlinePhys]);
    expect(ids((await get('/assignments?minrate=50')).html)).toEqual([a.tampinesChem, a.onlinePhys]);
    const empty = await get('/assignments?subject=Maths&region=West');
    expect(ids(empty.html)).toEqual([]);
    expect(empty.html).toContain('data-testid="empty"');
    // a chosen value that has no matches stays selected (count 0)
    expect(facet(empty.html, 'region').options.find((o) => o.value === 'West')).toMatchObject({ count: 0, selected: true });
  });

  it('free-text search: every word must appear in the assignment (title, remarks, subjects, agency …), case-insensitive', async () => {
    const a = await seed();
    expect(ids((await get('/assignments?q=chemistry')).html)).toEqual([a.tampinesChem]);
    expect(ids((await get('/assignments?q=woodlands+FEMALE')).html)).toEqual([a.woodlandsSci]);
    expect(ids((await get('/assignments?q=elite+science')).html)).toEqual([a.woodlandsSci]);
    expect(ids((await get('/assignments?q=woodlands+male+physics')).html)).toEqual([]);
    // LIKE wildcards are literal
    expect(ids((await get('/assignments?q=%25')).html)).toEqual([]);
    expect(ids((await get('/assignments?q=P_')).html)).toEqual([]);
    // SQL-looking text is just text
    const sql = await get(`/assignments?q=${encodeURIComponent("' or 1=1; drop table assignments; --")}`);
    expect(sql.status).toBe(200);
    expect(ids(sql.html)).toEqual([]);
    expect(sql.html).toContain('&#39; or 1=1; drop table assignments; --');
    expect((await t.db.query<{ n: number }>('select count(*)::int as n from assignments'))[0]!.n).toBe(6);
  });

  it('closed, expired, stale and non-primary duplicates never appear, in the list or in the counts', async () => {
    const open = await putAssignment(t.db, { title: 'Open one', minutesAgo: 5 });
    await putAssignment(t.db, { title: 'Closed one', status: 'closed', minutesAgo: 1 });
    await putAssignment(t.db, { title: 'Expired one', status: 'expired', minutesAgo: 2 });
    // older than ASSIGNMENT_EXPIRE_HOURS (168 h) but the expiry job has not run yet
    await putAssignment(t.db, { title: 'Stale one', minutesAgo: 169 * 60 });
    const g = await duplicateGroup(t.db);
    const primary = await putAssignment(t.db, { title: 'Group primary', group: g, primary: true, minutesAgo: 7 });
    await putAssignment(t.db, { title: 'Group copy', group: g, primary: false, minutesAgo: 6 });
    // a group whose primary closed shows one open member instead
    const g2 = await duplicateGroup(t.db);
    await putAssignment(t.db, { title: 'Closed primary', group: g2, primary: true, status: 'closed', minutesAgo: 8 });
    const survivor = await putAssignment(t.db, { title: 'Survivor', group: g2, primary: false, minutesAgo: 9 });
    await putAssignment(t.db, { title: 'Second copy', group: g2, primary: false, minutesAgo: 3 });

    const { html } = await get('/assignments');
    expect(ids(html)).toEqual([open, primary, survivor]);
    expect(total(html)).toBe(3);
    for (const gone of ['Closed one', 'Expired one', 'Stale one', 'Group copy', 'Closed primary', 'Second copy']) expect(html).not.toContain(gone);
    expect(facet(html, 'region').any).toBe(3);
    expect(facet(html, 'subject').options).toEqual([{ value: 'Maths', label: 'Maths', count: 3, selected: false }]);
    // a search or filter never reaches them either
    expect(ids((await get('/assignments?q=closed')).html)).toEqual([]);
    expect(ids((await get('/assignments?q=one')).html)).toEqual([open]);
  });

  it('distance sort from a postal code orders by straight-line distance; online and unlocated assignments go last', async () => {
    const a = await seed();
    const near = coordsForPostalCode('238801')!;
    const res = await get('/assignments?near=238801');
    expect(res.status).toBe(200);
    const order = ids(res.html);
    const located = [a.bishanMath, a.tampinesChem, a.jurongEng, a.woodlandsSci, a.marinaMath];
    const rows = await t.db.query<{ id: number; lat: number; lon: number }>(
      'select id, postal_lat as lat, postal_lon as lon from assignments where id = any($1::bigint[])',
      [located],
    );
    const expected = rows
      .map((r) => ({ id: Number(r.id), d: haversineMeters(near.lat, near.lon, r.lat, r.lon) }))
      .sort((x, y) => x.d - y.d)
      .map((r) => r.id);
    expect(order).toEqual([...expected, a.onlinePhys]);
    const shown = [...res.html.matchAll(/data-distance-m="(\d+)"/g)].map((m) => Number(m[1]));
    expect(shown).toHaveLength(5);
    expect([...shown].sort((x, y) => x - y)).toEqual(shown);
    expect(res.html).toContain('nearest to 238801 first');
    expect(res.html).toMatch(/data-testid="distance">(under 1 km|about [\d.]+ km)</);
    // "S238801" and "238 801" are accepted too; filters still apply
    expect(ids((await get('/assignments?near=S238801')).html)).toEqual(order);
    expect(ids((await get('/assignments?near=238+801&subject=Maths')).html)).toEqual(
      order.filter((id) => [a.bishanMath, a.marinaMath, a.onlinePhys].includes(id)),
    );
  });

  it('cursor paging covers every row exactly once, even when assignments are inserted between pages (newest and distance sorts)', async () => {
    const postals = ['570123', '520123', '640123', '730123', '018956', '238801', '460123', '550123'];
    const created: number[] = [];
    // 47 rows, many sharing a timestamp (ties broken by id), some without a location
    for (let i = 0; i < 47; i++)
      created.push(
        await putAssignment(t.db, { minutesAgo: 10 + Math.floor(i / 4), postal: i % 6 === 5 ? null : postals[i % postals.length]!, title: `Row ${i}` }),
      );
    for (const base of ['/assignments', '/assignments?near=570123']) {
      const seen: number[] = [];
      let url: string | null = base;
      let pages = 0;
      const inserted: number[] = [];
      while (url) {
        const page = await get(url);
        expect(page.status).toBe(200);
        expect(page.html).not.toMatch(/offset/i);
        seen.push(...ids(page.html));
        url = nextLink(page.html);
        pages++;
        // a new post arrives while the reader pages (newest, and close by)
        inserted.push(await putAssignment(t.db, { minutesAgo: 0, postal: '570123', title: `Inserted ${pages}` }));
        expect(pages).toBeLessThan(10);
      }
      expect(pages).toBe(3);
      const original = seen.filter((id) => created.includes(id));
      expect(original.sort((x, y) => x - y)).toEqual([...created].sort((x, y) => x - y));
      expect(new Set(seen).size).toBe(seen.length);
      // later pages never show what was inserted after the first page was read (newest sort)
      if (base === '/assignments') expect(seen.filter((id) => inserted.includes(id))).toEqual([]);
      await t.db.query('delete from assignments where id = any($1::bigint[])', [inserted]);
    }
    // the cursor is opaque base64url and refuses a different sort
    const first = await get('/assignments');
    const cursor = /cursor=([A-Za-z0-9_-]+)/.exec(first.html)![1]!;
    expect((await get(`/assignments?near=570123&cursor=${cursor}`)).status).toBe(400);
  });

  it('hostile query strings get a short 400 page with the reason, never a 500', async () => {
    await seed();
    const cases: [string, RegExp][] = [
      ['q=%00', /q: control characters/],
      ['subject=Maths%00', /subject: control characters/],
      [`q=${'a'.repeat(201)}`, /q: at most 200/],
      [`q=${'x'.repeat(3000)}`, /query string: at most 2000/],
      ['subject=Maths&subject=English', /subject: given more than once/],
      ['agency=abc', /agency: an agency number/],
      ['agency=1%20or%201%3D1', /agency: an agency number/],
      ['agency=1;drop%20table%20assignments', /agency: an agency number/],
      ['agency=99999999999999999', /agency/],
      ['minrate=-5', /minrate: a whole number/],
      ['minrate=1e3', /minrate: a whole number/],
      ['minrate=40.5', /minrate/],
      ['minrate=99999', /minrate/],
      ['near=abcdef', /near: a six-digit Singapore postal code/],
      ['near=999999', /near: a six-digit Singapore postal code/],
      ['near=570123;--', /near/],
      ['cursor=!!', /cursor/],
      [`cursor=${Buffer.from('{"s":"new","t":"x","id":1}').toString('base64url')}`, /cursor: not a page link/],
      [`cursor=${Buffer.from('not json').toString('base64url')}`, /cursor: not a page link/],
      [`cursor=${encodeCursor({ s: 'near', k: 10, id: 1 })}`, /cursor: belongs to a different sort/],
      [`cursor=${'A'.repeat(400)}`, /cursor: too long/],
      ['region=%1B%5B31m', /region: control characters/],
      ['q=a&q=b', /q: given more than once/],
    ];
    for (const [qs, reason] of cases) {
      const res = await get(`/assignments?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.res.headers.get('content-type'), qs).toContain('text/html');
      expect(res.html, qs).toMatch(reason);
      expect(res.html, qs).not.toMatch(/at \w+ \(|node_modules|Error:/);
      expect(res.html.length, qs).toBeLessThan(5000);
    }
    // tolerated: unknown parameters, empty values, malformed percent escapes, arrays-by-name, unicode
    for (const qs of ['utm_source=tg', 'subject=&level=&q=', 'q=%E0%A4%A', 'q=%', 'agency[]=1', 'q=%F0%9F%98%80+maths', 'subject=%3Cscript%3E', '']) {
      const res = await get(`/assignments?${qs}`);
      expect(res.status, qs).toBe(200);
    }
    // random junk: 400 or 200, never anything else
    let state = 7;
    const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['%00', '%', '&', '=', 'q', 'subject', 'agency', 'minrate', 'near', 'cursor', '1', 'x', '%27', '%22', '%3C', ';', '--', '%FF', '+', '[]'];
    for (let i = 0; i < 150; i++) {
      const qs = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      const res = await get(`/assignments?${qs}`);
      expect([200, 400], qs).toContain(res.status);
    }
  });

  it('renders every value from a post as text (XSS), including a real post through the worker', async () => {
    const xss = '<script>window.__pwned=1</script>';
    await putAssignment(t.db, {
      agency: `Evil ${xss}`,
      title: `P6 English ${xss}`,
      code: `"><img src=x onerror=alert(1)>`,
      subjects: [`Maths ${xss}`],
      region: `Central" onmouseover="alert(1)`,
      address: [`Blk 1 <b>bold</b>`],
      remarks: `</dd></dl><iframe src="https://evil.example"></iframe>`,
      link: 'javascript:alert(1)',
    });
    await postAndEnqueue(t.db, [{ channel: 't.me/hostile', messageId: 1, text: 'Sec 2 Math <script>window.__pwned=2</script> @ Bishan 570123\nRate: $40/hr' }]);
    await drain(t.db, workerConfig());
    const { html, status } = await get(`/assignments?q=${encodeURIComponent('<script>')}`);
    expect(status).toBe(200);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<iframe');
    expect(html).not.toContain('<b>bold');
    expect(html).not.toContain('javascript:');
    expect(html).not.toMatch(/ onmouseover="/);
    expect(html).toContain('P6 English &#60;script&#62;window.__pwned=1&#60;/script&#62;');
    expect(html).toContain('Evil &#60;script&#62;');
    // the worker's post is listed and searchable; whatever of its text is shown is escaped
    const worker = await get('/assignments?q=bishan');
    expect(ids(worker.html)).toHaveLength(1);
    expect(worker.html).not.toContain('<script');
    // the option values of the filters are escaped too
    expect(html).toContain('value="Maths &#60;script&#62;window.__pwned=1&#60;/script&#62;"');
  });

  it('shows no tutor data', async () => {
    await seed();
    await t.db.query(
      `insert into tutors (chat_id, display_name, subjects, levels, regions, postal_code, postal_lat, postal_lon, min_rate)
       values (987654321, 'Tutor Secretname', '{Maths}', '{Primary}', '{central}', '570123', 1.35, 103.84, 30)`,
    );
    await t.db.query(`insert into deliveries (assignment_id, kind, recipient, status) select id, 'dm', 'tutor:987654321', 'sent' from assignments limit 1`);
    for (const path of ['/assignments', '/assignments?near=570123', '/assignments?subject=Maths&region=Central']) {
      const { html } = await get(path);
      expect(html).not.toContain('987654321');
      expect(html).not.toMatch(/secretname/i);
      expect(html).not.toMatch(/tutor:/i);
    }
  });

  it('the query function agrees with the page and with a direct count', async () => {
    await seed();
    const q = parsePublicQuery('subject=Maths');
    const r = await queryPublicAssignments(t.db, q, { expireHours: 168 });
    const [{ n } = { n: -1 }] = await t.db.query<{ n: number }>(`select count(*)::int as n from assignments where status = 'open' and 'Maths' = any(subjects)`);
    expect(r.total).toBe(n);
    expect(r.cards.map((c) => c.id)).toEqual(ids((await get('/assignments?subject=Maths')).html));
  });
});
