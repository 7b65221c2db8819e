import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareVersions, writeReports, type AbComparison, type FieldComparison } from '../src/ab/index.ts';
import { csvLine } from '../src/ab/report.ts';
import type { Queryable } from '../src/db/index.ts';
import { loadExamples } from '../src/extraction/index.ts';
import { scoreCase, summarize } from '../src/extraction/score.ts';
import { describeEachDatabase } from './support/databases.ts';

const EXAMPLES = loadExamples('test/fixtures/message_examples');
const ONE = 't.me/agency_one';
const TWO = 't.me/agency_two';
const SCRIPT_POST = 'Urgent P5 Math, "Bishan" area\n<script>alert("pwned")</script> apply now';

const day = (d: number, year = 2026) => new Date(Date.UTC(year, 0, d, 10));
const SINCE = new Date('2026-01-01T00:00:00Z');
const UNTIL = new Date('2026-02-01T00:00:00Z');

type Canon = Record<string, unknown>;

function canon(
  o: { code?: string | null; headline?: string | null; min?: number | string | null; address?: string[] | null; remarks?: string | null } = {},
): Canon {
  return {
    assignment_code: o.code ?? null,
    academic_display_text: o.headline ?? null,
    learning_mode: { mode: null, raw_text: null },
    address: o.address ?? null,
    postal_code: null,
    nearest_mrt: null,
    lesson_schedule: null,
    start_date: null,
    rate: { min: o.min ?? null, max: null, raw_text: null },
    additional_remarks: o.remarks ?? null,
    time_availability: { explicit: {}, estimated: {}, note: null },
    postal_code_estimated: null,
    tutor_types: null,
    rate_breakdown: null,
  };
}

function meta(o: { region: string | null; latency: number; usage: boolean; cacheHit: boolean; status?: string; items?: string[] }): Record<string, unknown> {
  return {
    extractor: {
      extractor: 'llm',
      model: 'm',
      latency_ms: o.latency,
      cache_hit: o.cacheHit,
      usage: o.usage ? { prompt_tokens: 80, completion_tokens: 20, total_tokens: 100 } : null,
    },
    stages: { load_raw_ms: 1, extract_ms: 10 },
    geo: { region: o.region },
    status_detection: o.status ? { status: o.status } : null,
    signals: { ok: true },
    ...(o.items ? { items: o.items.map((code) => ({ item_code: code, canonical: canon({ code, headline: `headline ${code}` }) })) } : {}),
  };
}

interface Job {
  status: string;
  canonical: Canon | null;
  meta: Record<string, unknown>;
}

const ok = (c: Canon, m: Record<string, unknown>): Job => ({ status: 'ok', canonical: c, meta: m });

/** Raw text of gold examples, with whitespace changed so matching must ignore it. */
const goldRaw = (i: number) => EXAMPLES[i]!.raw.replace(/\n/g, ' \n  ');

interface Msg {
  channel: string;
  date: Date;
  text: string;
  a: Job | null;
  b: Job | null;
  c?: Job;
}

/**
 * m1..m6 are the intersection in January; m7 only A, m8 only B (pending); m9 both, but in 2025; m10 only version C.
 * Hand-computed figures are in the assertions below.
 */
const MESSAGES: Msg[] = [
  {
    channel: ONE,
    date: day(1),
    text: goldRaw(0),
    a: ok(canon({ code: 'A1', min: 30, address: ['Blk 1 Ang Mo Kio', 'Bishan'] }), meta({ region: 'North', latency: 100, usage: false, cacheHit: true })),
    b: ok(
      canon({ code: 'a1 ', min: 30, address: ['bishan', 'Blk 1  Ang Mo Kio', 'Bishan'] }),
      meta({ region: 'North', latency: 50, usage: true, cacheHit: false }),
    ),
  },
  {
    channel: ONE,
    date: day(2),
    text: goldRaw(1),
    a: ok(canon({ code: 'A2', min: 40 }), meta({ region: 'North', latency: 200, usage: false, cacheHit: true })),
    b: ok(canon({ code: 'B2', min: 45 }), meta({ region: 'North', latency: 50, usage: true, cacheHit: false })),
  },
  {
    channel: ONE,
    date: day(3),
    text: goldRaw(2),
    a: ok(canon({ code: 'A3', address: ['Tampines'] }), meta({ region: 'North', latency: 300, usage: true, cacheHit: false })),
    b: ok(canon({ code: null, address: ['Tampines St 1'] }), meta({ region: 'North', latency: 50, usage: true, cacheHit: false, status: 'closed' })),
  },
  {
    channel: ONE,
    date: day(4),
    text: goldRaw(3),
    a: ok(canon({ code: null }), meta({ region: 'North', latency: 400, usage: true, cacheHit: false, items: ['C1', 'C2'] })),
    b: ok(canon({ code: null, min: 20 }), meta({ region: 'North', latency: 50, usage: true, cacheHit: false, items: ['C1', 'C2', 'C3'] })),
  },
  {
    channel: ONE,
    date: day(5),
    text: SCRIPT_POST,
    a: ok(canon({ code: 'A5', min: 25 }), meta({ region: 'North', latency: 500, usage: true, cacheHit: false })),
    b: ok(canon({ code: 'A5', min: '25', address: [] }), meta({ region: 'West', latency: 50, usage: true, cacheHit: false })),
  },
  {
    channel: TWO,
    date: day(6),
    text: goldRaw(5),
    a: ok(canon({ code: 'A6', min: 50, address: ['x'] }), meta({ region: 'East', latency: 600, usage: true, cacheHit: false })),
    b: { status: 'failed', canonical: null, meta: { stage: 'extract', stages: { load_raw_ms: 1 } } },
  },
  { channel: ONE, date: day(7), text: 'only A', a: ok(canon({ code: 'A7' }), meta({ region: 'North', latency: 700, usage: true, cacheHit: false })), b: null },
  { channel: ONE, date: day(8), text: 'only B', a: null, b: { status: 'pending', canonical: null, meta: {} } },
  {
    channel: ONE,
    date: day(9, 2025),
    text: 'last year',
    a: ok(canon({ code: 'OLD' }), meta({ region: 'North', latency: 1, usage: false, cacheHit: false })),
    b: ok(canon({ code: 'OLD' }), meta({ region: 'North', latency: 1, usage: false, cacheHit: false })),
  },
  {
    channel: ONE,
    date: day(10),
    text: 'other version',
    a: null,
    b: null,
    c: ok(canon({ code: 'C' }), meta({ region: null, latency: 1, usage: false, cacheHit: false })),
  },
];

async function seed(db: Queryable): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, m] of MESSAGES.entries()) {
    const [row] = await db.query<{ id: number }>(
      `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json) values ($1, $2, $3, $4, $5) returning id`,
      [m.channel, 100 + i, m.date.toISOString(), m.text, { id: 100 + i }],
    );
    const rawId = Number(row!.id);
    ids.push(rawId);
    for (const [version, job] of [
      ['vA', m.a],
      ['vB', m.b],
      ['vC', m.c ?? null],
    ] as const) {
      if (!job) continue;
      await db.query(
        `insert into telegram_extractions (raw_id, pipeline_version, status, channel_link, message_id, message_date, canonical_json, meta)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [rawId, version, job.status, m.channel, 100 + i, m.date.toISOString(), job.canonical, job.meta],
      );
    }
  }
  return ids;
}

const field = (c: AbComparison, name: string): FieldComparison => {
  const f = c.fields.find((x) => x.field === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
};

const withoutTime = (c: AbComparison) => ({ ...c, generated_at: '' });

/** A small RFC 4180 reader for the assertions. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
      i++;
    } else cur += ch;
  }
  if (cur !== '' || row.length) rows.push([...row, cur]);
  return rows;
}

describe('csv quoting', () => {
  it('quotes commas, quotes and newlines (RFC 4180)', () => {
    expect(csvLine(['plain', 'a,b', 'say "hi"', 'two\nlines', ''])).toBe('plain,"a,b","say ""hi""","two\nlines",\r\n');
    expect(parseCsv(csvLine(['a,b', 'say "hi"', 'two\nlines']))).toEqual([['a,b', 'say "hi"', 'two\nlines']]);
  });
});

describeEachDatabase('ab compare', (t) => {
  const base = { a: 'vA', b: 'vB', since: SINCE, until: UNTIL, channels: null, gold: null } as const;

  it('counts jobs per side, by status, intersection, both ok, only a / only b', async () => {
    await seed(t.db);
    const c = await compareVersions(t.db, base);
    expect(c.counts).toEqual({ a: 7, b: 7, intersection: 6, both_ok: 5, only_a: 1, only_b: 1 });
    expect(c.sides.a.by_status).toEqual({ ok: 7 });
    expect(c.sides.b.by_status).toEqual({ failed: 1, ok: 5, pending: 1 });
    expect(c.rows.map((r) => r.raw_id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.sides.a.compilation_jobs).toBe(1);
    expect(c.sides.a.items_total).toBe(8); // 6 single posts + 2 items
    expect(c.sides.b.items_total).toBe(7); // 4 single posts + 3 items
  });

  it('agreement excludes null/null, fill rates, disagreeing ids — the hand-computed fractions', async () => {
    await seed(t.db);
    const c = await compareVersions(t.db, base);
    // assignment_code: m1 agree (nt), m2 differ, m3 A only, m4 both empty, m5 agree, m6 B failed
    expect(field(c, 'assignment_code')).toMatchObject({
      kind: 'text',
      compared: 5,
      agree: 2,
      agreement: 2 / 5,
      both_empty: 1,
      fill_a: 5 / 6,
      fill_b: 3 / 6,
      compared_both_ok: 4,
      agree_both_ok: 2,
      agreement_both_ok: 2 / 4,
      disagreeing_raw_ids: [2, 3, 6],
    });
    // rate.min: m1 30=30, m2 40≠45, m3 empty, m4 B only, m5 25 = "25", m6 A only
    expect(field(c, 'rate.min')).toMatchObject({
      kind: 'number',
      compared: 5,
      agree: 2,
      agreement: 2 / 5,
      both_empty: 1,
      fill_a: 4 / 6,
      fill_b: 4 / 6,
      disagreeing_raw_ids: [2, 4, 6],
    });
    // address: m1 same set after nt/dedupe/sort, m3 differs, m6 A only; m2, m4, m5 ([] → empty) both empty
    expect(field(c, 'address')).toMatchObject({
      kind: 'list',
      compared: 3,
      agree: 1,
      agreement: 1 / 3,
      both_empty: 3,
      fill_a: 3 / 6,
      fill_b: 2 / 6,
      disagreeing_raw_ids: [3, 6],
    });
    // region from meta.geo: m5 North≠West, m6 B failed
    expect(field(c, 'region')).toMatchObject({ compared: 6, agree: 4, agreement: 4 / 6, both_empty: 0, fill_a: 1, fill_b: 5 / 6, disagreeing_raw_ids: [5, 6] });
    // status: open by default, B closed on m3
    expect(field(c, 'assignment_status')).toMatchObject({ compared: 6, agree: 4, disagreeing_raw_ids: [3, 6] });
    // compilation: m4 has 2 vs 3 items; the codes lists differ; never "empty vs empty"
    expect(field(c, 'items.count')).toMatchObject({ compared: 6, agree: 4, disagreeing_raw_ids: [4, 6] });
    expect(field(c, 'items.codes')).toMatchObject({ compared: 1, agree: 0, both_empty: 5, disagreeing_raw_ids: [4] });
    const m4 = c.rows.find((r) => r.raw_id === 4)!;
    expect(m4.a['items.codes']).toEqual(['c1', 'c2']);
    expect(m4.b['items.codes']).toEqual(['c1', 'c2', 'c3']);
    // nothing anywhere: both empty on every row, agreement undefined (null), never 100%
    expect(field(c, 'start_date')).toMatchObject({ compared: 0, agree: 0, agreement: null, both_empty: 6, fill_a: 0, fill_b: 0 });
    // m1 agrees on every field (equal after normalisation); m2..m6 each differ somewhere
    expect(c.disagreeing_messages).toBe(5);
    expect(c.samples.map((s) => s.raw_id)).toEqual([2, 3, 4, 5, 6]);
    expect(c.samples.find((s) => s.raw_id === 5)!.fields).toEqual([{ field: 'region', a: 'north', b: 'west' }]);
  });

  it('latency, stages, tokens and reuse per side', async () => {
    await seed(t.db);
    const c = await compareVersions(t.db, base);
    // A latencies 100..700 (7 jobs): nearest-rank p50 = 4th = 400, p95 = 7th = 700
    expect(c.sides.a.latency_ms).toEqual({ count: 7, p50: 400, p95: 700 });
    expect(c.sides.a.stages_total_ms).toEqual({ count: 7, p50: 11, p95: 11 });
    expect(c.sides.a.tokens).toEqual({ jobs_with_usage: 5, prompt: 400, completion: 100, total: 500, mean_total: 100 });
    expect(c.sides.a.reuse).toEqual({ ok_jobs: 7, cache_hits: 2, rate: 2 / 7 });
    expect(c.sides.b.latency_ms).toEqual({ count: 5, p50: 50, p95: 50 });
    expect(c.sides.b.stages_total_ms.count).toBe(6); // the failed job's stages count too
    expect(c.sides.b.reuse).toEqual({ ok_jobs: 5, cache_hits: 0, rate: 0 });
    expect(c.sides.a.gold).toBeNull();
  });

  it('channel filter and since/until are applied', async () => {
    await seed(t.db);
    const two = await compareVersions(t.db, { ...base, channels: ['T.ME/agency_two'] });
    expect(two.counts).toEqual({ a: 1, b: 1, intersection: 1, both_ok: 0, only_a: 0, only_b: 0 });
    expect(two.rows.map((r) => r.channel_link)).toEqual([TWO]);
    const early = await compareVersions(t.db, { ...base, until: day(4) });
    expect(early.rows.map((r) => r.raw_id)).toEqual([1, 2, 3]);
    const all = await compareVersions(t.db, { ...base, since: null, until: null });
    expect(all.counts.intersection).toBe(7); // m9 from 2025 joins
    expect(all.rows[0]!.raw_id).toBe(1);
    expect(all.rows.map((r) => r.raw_id)).toContain(9);
    const late = await compareVersions(t.db, { ...base, since: day(6) });
    expect(late.counts).toEqual({ a: 2, b: 2, intersection: 1, both_ok: 0, only_a: 1, only_b: 1 });
  });

  it('pagination: page size 1 and 2 give the same result as 1000', async () => {
    await seed(t.db);
    const big = await compareVersions(t.db, { ...base, since: null, pageSize: 1000 });
    const two = await compareVersions(t.db, { ...base, since: null, pageSize: 2 });
    const one = await compareVersions(t.db, { ...base, since: null, pageSize: 1 });
    expect(withoutTime(two)).toEqual(withoutTime(big));
    expect(withoutTime(one)).toEqual(withoutTime(big));
  });

  it('keyset pagination over many pages (250 messages, page size 7) — nothing truncated', async () => {
    await t.db.query(
      `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json)
       select $1, g, $2::timestamptz + make_interval(secs => g), 'post ' || g, jsonb_build_object('id', g) from generate_series(1, 250) g`,
      [ONE, SINCE.toISOString()],
    );
    await t.db.query(
      `insert into telegram_extractions (raw_id, pipeline_version, status, channel_link, message_id, message_date, canonical_json, meta)
       select r.id, v, 'ok', r.channel_link, r.message_id, r.message_date,
              jsonb_build_object('assignment_code', case when v = 'vB' and r.message_id % 3 = 0 then 'X' || r.message_id else 'C' || r.message_id end),
              '{}'::jsonb
         from telegram_messages_raw r cross join (values ('vA'), ('vB')) as vs(v)`,
    );
    const small = await compareVersions(t.db, { ...base, pageSize: 7 });
    const big = await compareVersions(t.db, { ...base, pageSize: 1000 });
    expect(small.counts).toEqual({ a: 250, b: 250, intersection: 250, both_ok: 250, only_a: 0, only_b: 0 });
    expect(field(small, 'assignment_code')).toMatchObject({ compared: 250, agree: 250 - 83, both_empty: 0 });
    expect(field(small, 'assignment_code').disagreeing_raw_ids).toHaveLength(83);
    expect(withoutTime(small)).toEqual(withoutTime(big));
  });

  it('gold accuracy equals scoreCase/summarize computed directly', async () => {
    await seed(t.db);
    const c = await compareVersions(t.db, { ...base, gold: EXAMPLES });
    const matched = [0, 1, 2, 3, 5]; // m1..m4 and m6 carry gold raw text; m5 does not
    expect(c.sides.a.gold!.matched).toBe(5);
    expect(c.sides.b.gold!.matched).toBe(5);
    const msgIndex = [0, 1, 2, 3, 5];
    const direct = (side: 'a' | 'b') =>
      summarize(
        matched.map((ex, k) => {
          const job = MESSAGES[msgIndex[k]!]![side]!;
          const s = scoreCase(EXAMPLES[ex]!.expected, job.status === 'ok' ? job.canonical : null);
          return { agency: EXAMPLES[ex]!.agency, perField: s.perField, total: s.total, exact: s.exact };
        }),
      );
    for (const side of ['a', 'b'] as const) {
      const d = direct(side);
      const g = c.sides[side].gold!;
      expect(g.micro).toBeCloseTo(d.micro, 10);
      expect(g.macro).toBeCloseTo(d.macro, 10);
      expect(g.exact_rate).toBe(d.exactRate);
      expect(g.per_field).toEqual(d.perField);
    }
    // identical canonical objects score identically against gold: a perfect copy scores 1
    const perfect = scoreCase(EXAMPLES[0]!.expected, EXAMPLES[0]!.expected);
    expect(perfect.total).toBe(1);
  });

  it('writes summary.json, side_by_side.csv and a self-contained escaped report.html', async () => {
    await seed(t.db);
    const c = await compareVersions(t.db, { ...base, gold: EXAMPLES });
    const out = join(mkdtempSync(join(tmpdir(), 'ab-')), 'nested', 'dir');
    const files = await writeReports(c, out);
    expect(files).toEqual({ summary: join(out, 'summary.json'), csv: join(out, 'side_by_side.csv'), html: join(out, 'report.html') });

    // summary.json round-trips, with sorted keys and no per-row data
    const summaryText = readFileSync(files.summary, 'utf8');
    const summary = JSON.parse(summaryText) as Record<string, unknown>;
    const { rows: _rows, ...rest } = c;
    expect(summary).toEqual(JSON.parse(JSON.stringify(rest)));
    expect(Object.keys(summary)).toEqual([...Object.keys(summary)].sort());
    expect(summaryText).toContain('\n  "counts": {');

    // CSV: header + one row per intersection message, _eq flags, quoting
    const rows = parseCsv(readFileSync(files.csv, 'utf8'));
    const header = rows[0]!;
    expect(header.slice(0, 7)).toEqual(['raw_id', 'channel_link', 'message_id', 'message_date', 'excerpt', 'status_a', 'status_b']);
    expect(header).toContain('assignment_code_a');
    expect(header).toContain('rate.min_eq');
    expect(header.length).toBe(7 + 3 * c.fields.length);
    expect(rows).toHaveLength(1 + 6);
    for (const r of rows) expect(r).toHaveLength(header.length);
    const col = (name: string) => header.indexOf(name);
    expect(rows.slice(1).map((r) => r[col('assignment_code_eq')])).toEqual(['1', '0', '0', '1', '1', '0']);
    expect(rows.slice(1).map((r) => r[col('status_b')])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'failed']);
    expect(rows[1]![col('address_a')]).toBe('bishan | blk 1 ang mo kio');
    expect(rows[5]![col('excerpt')]).toBe('Urgent P5 Math, "Bishan" area <script>alert("pwned")</script> apply now');
    expect(readFileSync(files.csv, 'utf8')).toContain('"Urgent P5 Math, ""Bishan"" area <script>alert(""pwned"")</script> apply now"');
    expect(rows[6]![col('assignment_code_b')]).toBe('');

    // HTML: one page, the table, the hostile post as text, no script tags, no network
    const html = readFileSync(files.html, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<table');
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=|@import|url\(|<link\b|<iframe|<img/i);
    expect(html).toContain('gold accuracy (micro)');
    expect(html).toMatch(/style="width:\d+(\.\d)?%"/);
    // every opened tag of the main structure is closed
    for (const tag of ['table', 'tbody', 'thead', 'pre', 'div', 'html', 'body', 'style']) {
      expect((html.match(new RegExp(`<${tag}[\\s>]`, 'g')) ?? []).length).toBe((html.match(new RegExp(`</${tag}>`, 'g')) ?? []).length);
    }
  });

  it('says so clearly when the intersection is empty', async () => {
    await seed(t.db);
    const c = await compareVersions(t.db, { ...base, b: 'vC' });
    expect(c.counts.intersection).toBe(0);
    expect(c.fields.every((f) => f.agreement === null && f.fill_a === null)).toBe(true);
    const out = mkdtempSync(join(tmpdir(), 'ab-empty-'));
    const files = await writeReports(c, out);
    expect(readFileSync(files.html, 'utf8')).toContain('nothing to compare');
    expect(parseCsv(readFileSync(files.csv, 'utf8'))).toHaveLength(1);
  });

  const chromium = '/usr/bin/chromium';
  it.skipIf(!existsSync(chromium) && !process.env.TUTORDEX_REQUIRE_BROWSER)(
    `renders report.html headless (${existsSync(chromium) ? 'chromium found' : 'SKIPPED: /usr/bin/chromium not installed'})`,
    async () => {
      await seed(t.db);
      const c = await compareVersions(t.db, { ...base, gold: EXAMPLES });
      const out = mkdtempSync(join(tmpdir(), 'ab-shot-'));
      const files = await writeReports(c, out);
      mkdirSync('test-results', { recursive: true });
      const png = resolve('test-results', `ab-report-${t.driver}.png`);
      copyFileSync(files.html, resolve('test-results', `ab-report-${t.driver}.html`));
      execFileSync(
        chromium,
        ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`, '--window-size=1200,1600', pathToFileURL(files.html).href],
        { stdio: 'ignore', timeout: 60_000 },
      );
      expect(existsSync(png)).toBe(true);
      expect(statSync(png).size).toBeGreaterThan(10_000);
    },
  );
});
