import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertNotLive, listVersions, loadVariant, pruneVersion, runAb } from '../src/ab/index.ts';
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
  llm = await startFakeLlm();
});
afterAll(async () => {
  await bot.close();
  await llm.close();
});

const COCO = 't.me/cocoassignments';
const posts = EXAMPLES.slice(0, 5).map((e, i) => ({ channel: COCO, messageId: i + 1, text: e.raw }));

function envFile(name: string, lines: Record<string, string>): string {
  const file = path.join(dir, name);
  writeFileSync(file, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n'));
  return file;
}

describeEachDatabase('ab run and versions', (t) => {
  const base = () => {
    const liveEnv = { TELEGRAM_BOT_TOKEN: '123:fake', TELEGRAM_BOT_API_URL: bot.url, BROADCAST_CHAT_ID: '@tutordex_test', EXTRACTION_WORKER_BROADCAST: '1', EXTRACTION_PIPELINE_VERSION: 'v1' };
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
    const sides = await runAb({ db: t.db, log: recordingLog(), signal: new AbortController().signal, variants, channels: null, window: { since: null, until: null }, maxMessages: null, force: false, report: (l) => lines.push(l) });
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
    const again = await runAb({ db: t.db, log: recordingLog(), signal: new AbortController().signal, variants, channels: null, window: { since: null, until: null }, maxMessages: null, force: false, report: () => {} });
    expect(again.map((s) => [s.reused, s.processed])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    const forced = await runAb({ db: t.db, log: recordingLog(), signal: new AbortController().signal, variants: variants.slice(0, 1), channels: null, window: { since: null, until: null }, maxMessages: 2, force: true, report: () => {} });
    expect(forced[0]!.processed).toBe(2);
  });

  it('versions list shows every version with counts, model and the live marker; prune deletes only that version', async () => {
    await postAndEnqueue(t.db, posts);
    await postAndEnqueue(t.db, posts, { version: 'old' });
    await drain(t.db, workerConfig());
    await drain(t.db, workerConfig(), { pipelineVersion: 'old' });
    await setLiveVersion(t.db, 'v1');
    const config = workerConfig();
    const list = await listVersions(t.db, config);
    expect(list.map((v) => [v.version, v.live, v.jobs])).toEqual(expect.arrayContaining([['v1', true, 5], ['old', false, 5]]));
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
    await expect(assertNotLive(t.db, config, [loadVariant('A', 'v1', undefined, b), loadVariant('B', 'x', undefined, b)])).rejects.toThrow(/--a v1 is the live pipeline version/);
    await expect(assertNotLive(t.db, config, [loadVariant('A', 'x', undefined, b), loadVariant('B', 'x', undefined, b)])).rejects.toThrow(/must be different versions/);
    expect(() => loadVariant('A', 'x', 'missing.env', b)).toThrow(/^--a-env: missing.env does not exist$/);
    expect(() => loadVariant('B', 'x', envFile('db.env', { DATABASE_URL: 'postgres://elsewhere/db' }), b)).toThrow(/sets DATABASE_URL, which a variant may not change/);
    expect(() => loadVariant('B', 'x', envFile('bad.env', { EXTRACTION_MODE: 'gpt' }), b)).toThrow(/^variant B .*EXTRACTION_MODE/);
    expect(() => loadVariant('A', 'no spaces', undefined, b)).toThrow(/not a usable pipeline version/);
    await expect(
      runAb({ db: t.db, log: recordingLog(), signal: new AbortController().signal, variants: [loadVariant('A', 'x', undefined, b)], channels: null, window: { since: new Date('2020-01-01T00:00:00Z'), until: new Date('2020-01-02T00:00:00Z') }, maxMessages: null, force: false, report: () => {} }),
    ).rejects.toThrow(/the window holds no raw messages/);
    expect(await t.db.query('select count(*)::int as n from telegram_extractions')).toEqual([{ n: 0 }]);
  });
});
