import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertNotLive, compareVersions, listVersions, loadVariant, pruneVersion, runAb, writeReports } from '../src/ab/index.ts';
import { nt } from '../src/extraction/score.ts';
import { parseCsv } from '../src/tutors/index.ts';
import { readFileSync } from 'node:fs';
import { setLiveVersion } from '../src/assignments/index.ts';
import { describeEachDatabase } from './support/databases.ts';
import { EXAMPLES } from './support/assignments.ts';
import { recordingLog } from './support/collector.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { startFakeLlm } from './support/fake-llm.ts';
import { drain, jobRows, postAndEnqueue, workerConfig } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
let llm: Awaited<ReturnType<typeof startFakeLlm>>;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-ab-'));
beforeAll(async () => {
  bot = await startFakeBotApi();
  // B's model: the gold answer for the first three fixture posts, a headline the post does not contain for the rest
  llm = await startFakeLlm({
    answer: (text) => {
      const i = EXAMPLES.slice(0, 6).findIndex((e) => text.includes(e.raw.trim().slice(0, 60)));
      if (i >= 0 && i < 3) return EXAMPLES[i]!.expected as Record<string, never>;
      return { academic_display_text: 'Quantum Basket Weaving' };
    },
  });
});
afterAll(async () => {
  await bot.close();
  await llm.close();
});

const COCO = 't.me/cocoassignments';
const posts = EXAMPLES.slice(0, 5).map((e, i) => ({ channel: COCO, messageId: i + 1, text: e.raw }));

function envFile(name: string, lines: Record<string, string>): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    Object.entries(lines)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return file;
}

describeEachDatabase('ab run and versions', (t) => {
  const base = () => {
    const liveEnv = {
      TELEGRAM_BOT_TOKEN: '123:fake',
      TELEGRAM_BOT_API_URL: bot.url,
      BROADCAST_CHAT_ID: '@tutordex_test',
      EXTRACTION_WORKER_BROADCAST: '1',
      EXTRACTION_PIPELINE_VERSION: 'v1',
    };
    return { env: { ...liveEnv, TUTORDEX_ENV_FILE: '' }, cwd: dir, liveEnv };
  };

  it('isolation: two variants (rules, fake LLM) extract the window; assignments, deliveries and the Bot API are untouched', async () => {
    const b = base();
    await postAndEnqueue(t.db, posts);
    await drain(t.db, workerConfig(b.liveEnv)); // the live pipeline announced these
    const snapshot = async () =>
      JSON.stringify([
        await t.db.query('select * from assignments order by id'),
        await t.db.query('select * from deliveries order by id'),
        await t.db.query('select * from agencies order by id'),
        await t.db.query("select id, status, meta, canonical_json from telegram_extractions where pipeline_version = 'v1' order by id"),
      ]);
    const before = await snapshot();
    const calls = bot.calls.length;
    // a variant file that even asks for broadcasts and DMs
    const aEnv = envFile('a.env', { EXTRACTION_MODE: 'rules', EXTRACTION_WORKER_BROADCAST: '1', EXTRACTION_WORKER_DMS: '1' });
    const bEnv = envFile('b.env', { EXTRACTION_MODE: 'llm', LLM_API_URL: llm.url, LLM_MODEL_NAME: 'fake-model' });
    const variants = [loadVariant('A', 'exp-a', aEnv, b), loadVariant('B', 'exp-b', bEnv, b)];
    const lines: string[] = [];
    const sides = await runAb({
      db: t.db,
      log: recordingLog(),
      signal: new AbortController().signal,
      variants,
      channels: null,
      window: { since: null, until: null },
      maxMessages: null,
      force: false,
      report: (l) => lines.push(l),
    });
    expect(sides.map((s) => [s.version, s.enqueued, s.ok + s.skipped + s.failed])).toEqual([
      ['exp-a', 5, 5],
      ['exp-b', 5, 5],
    ]);
    expect(lines.some((l) => l.startsWith('A exp-a: 5 messages in the window, 5 to extract · rules'))).toBe(true);
    expect(lines.some((l) => /^B exp-b: extracted 5\/5/.test(l))).toBe(true);
    expect((await jobRows(t.db, 'exp-b')).every((j) => j.status === 'ok' && (j.meta.extractor as { extractor: string }).extractor === 'llm')).toBe(true);
    expect(await snapshot()).toBe(before);
    expect(bot.calls.length).toBe(calls);

    // re-running resumes: nothing is recomputed without --force
    const again = await runAb({
      db: t.db,
      log: recordingLog(),
      signal: new AbortController().signal,
      variants,
      channels: null,
      window: { since: null, until: null },
      maxMessages: null,
      force: false,
      report: () => {},
    });
    expect(again.map((s) => [s.reused, s.processed])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    const forced = await runAb({
      db: t.db,
      log: recordingLog(),
      signal: new AbortController().signal,
      variants: variants.slice(0, 1),
      channels: null,
      window: { since: null, until: null },
      maxMessages: 2,
      force: true,
      report: () => {},
    });
    expect(forced[0]!.processed).toBe(2);
  });

  it('rules vs a fake LLM (gold for some posts, wrong for others): summary figures equal hand-computed values', async () => {
    const b = base();
    await postAndEnqueue(
      t.db,
      EXAMPLES.slice(0, 6).map((e, i) => ({ channel: COCO, messageId: i + 1, text: e.raw })),
      { version: 'unused' },
    );
    const bEnv = envFile('gold.env', { EXTRACTION_MODE: 'llm', LLM_API_URL: llm.url });
    const variants = [loadVariant('A', 'rules-a', undefined, b), loadVariant('B', 'llm-b', bEnv, b)];
    await runAb({
      db: t.db,
      log: recordingLog(),
      signal: new AbortController().signal,
      variants,
      channels: null,
      window: { since: null, until: null },
      maxMessages: null,
      force: false,
      report: () => {},
    });
    const comparison = await compareVersions(t.db, { a: 'rules-a', b: 'llm-b', since: null, until: null, channels: null, gold: EXAMPLES });
    expect(comparison.counts).toMatchObject({ a: 6, b: 6, intersection: 6, both_ok: 6 });
    // hand-computed from the job rows: B has the gold headline on posts 1-3; the invented one is nulled by hardening
    const a = await jobRows(t.db, 'rules-a');
    const bRows = await jobRows(t.db, 'llm-b');
    const head = (j: { canonical_json: unknown }) => (j.canonical_json as { academic_display_text: string | null }).academic_display_text;
    expect(bRows.map(head).slice(3)).toEqual([null, null, null]);
    const agree = [0, 1, 2].filter((i) => head(a[i]!) && nt(head(a[i]!)!) === nt(head(bRows[i]!)!)).length;
    const field = comparison.fields.find((f) => f.field === 'academic_display_text')!;
    expect(field).toMatchObject({ compared: 6, agree, filled_a: 6, filled_b: 3, fill_b: 0.5, both_empty: 0 });
    expect(field.agreement).toBeCloseTo(agree / 6, 10);
    expect(comparison.sides.b.gold).not.toBeNull();
    expect(comparison.sides.a.gold!.micro!).toBeGreaterThan(comparison.sides.b.gold!.micro!); // half of B's answers are wrong
    const files = await writeReports(comparison, path.join(dir, `gold-${t.driver}`));
    const [header, ...rows] = parseCsv(readFileSync(files.csv, 'utf8')).map((r) => r.cells);
    const eq = header!.indexOf('academic_display_text_eq');
    expect(rows).toHaveLength(6);
    expect(rows.slice(3).map((r) => r[eq])).toEqual(['0', '0', '0']);
    expect(rows.slice(0, 3).filter((r) => r[eq] === '1')).toHaveLength(agree);
  });

  it('versions list shows every version with counts, model and the live marker; prune deletes only that version', async () => {
    await postAndEnqueue(t.db, posts);
    await postAndEnqueue(t.db, posts, { version: 'old' });
    await drain(t.db, workerConfig());
    await drain(t.db, workerConfig(), { pipelineVersion: 'old' });
    await setLiveVersion(t.db, 'v1');
    const config = workerConfig();
    const list = await listVersions(t.db, config);
    expect(list.map((v) => [v.version, v.live, v.jobs])).toEqual(
      expect.arrayContaining([
        ['v1', true, 5],
        ['old', false, 5],
      ]),
    );
    expect(list.find((v) => v.version === 'old')!.byStatus.ok).toBeGreaterThan(0);
    await expect(pruneVersion(t.db, config, 'v1', true)).rejects.toThrow(/is the live pipeline version; it cannot be pruned/);
    await expect(pruneVersion(t.db, config, 'nope', true)).rejects.toThrow(/no pipeline version nope in the queue/);
    expect(await pruneVersion(t.db, config, 'old', false)).toBe(5); // dry count
    expect(await t.db.query("select count(*)::int as n from telegram_extractions where pipeline_version = 'old'")).toEqual([{ n: 5 }]);
    expect(await pruneVersion(t.db, config, 'old', true)).toBe(5);
    expect(await t.db.query('select pipeline_version, count(*)::int as n from telegram_extractions group by 1')).toEqual([{ pipeline_version: 'v1', n: 5 }]);
    expect(await t.db.query('select count(*)::int as n from telegram_messages_raw')).toEqual([{ n: 5 }]);
  });

  it('bad input: the live version, equal versions, missing or hostile env files, an empty window', async () => {
    const b = base();
    const config = workerConfig();
    await expect(assertNotLive(t.db, config, [loadVariant('A', 'v1', undefined, b), loadVariant('B', 'x', undefined, b)])).rejects.toThrow(
      /--a v1 is the live pipeline version/,
    );
    await expect(assertNotLive(t.db, config, [loadVariant('A', 'x', undefined, b), loadVariant('B', 'x', undefined, b)])).rejects.toThrow(
      /must be different versions/,
    );
    expect(() => loadVariant('A', 'x', 'missing.env', b)).toThrow(/^--a-env: missing.env does not exist$/);
    expect(() => loadVariant('B', 'x', envFile('db.env', { DATABASE_URL: 'postgres://elsewhere/db' }), b)).toThrow(
      /sets DATABASE_URL, which a variant may not change/,
    );
    expect(() => loadVariant('B', 'x', envFile('bad.env', { EXTRACTION_MODE: 'gpt' }), b)).toThrow(/^variant B .*EXTRACTION_MODE/);
    expect(() => loadVariant('A', 'no spaces', undefined, b)).toThrow(/not a usable pipeline version/);
    await expect(
      runAb({
        db: t.db,
        log: recordingLog(),
        signal: new AbortController().signal,
        variants: [loadVariant('A', 'x', undefined, b)],
        channels: null,
        window: { since: new Date('2020-01-01T00:00:00Z'), until: new Date('2020-01-02T00:00:00Z') },
        maxMessages: null,
        force: false,
        report: () => {},
      }),
    ).rejects.toThrow(/the window holds no raw messages/);
    expect(await t.db.query('select count(*)::int as n from telegram_extractions')).toEqual([{ n: 0 }]);
  });
});
