import path from 'node:path';
import { expect, it } from 'vitest';
import { describePostgres, type TestDatabase } from '../support/databases.ts';
import type { FaultFeed } from './support/collector-child.ts';
import { loadCatchupCursors } from '../../src/collector/index.ts';
import { RUN_ABANDONED_AFTER_SECONDS } from '../../src/collector/runs.ts';
import { buildFeed, FAULT_VERSION, killAt, rawCount, runToEnd, scratch, spawnCollector, writeFeed } from './support/collector-kill.ts';

/**
 * Collector killed -9 during a backfill and during the live mode's catch-up, then rerun: every post of the window
 * is in telegram_messages_raw exactly once (no gap, no duplicate), versions are consistent with the raw text,
 * every raw row has exactly one extraction job of the pipeline version, and the killed runs do not look `ok`.
 */
const CHANNELS = Number(process.env.FAULT_COLLECTOR_CHANNELS ?? 4);
const PER_CHANNEL = Number(process.env.FAULT_COLLECTOR_MESSAGES ?? 750);
const ROUNDS = Number(process.env.FAULT_COLLECTOR_ROUNDS ?? 3);
const PAGE_DELAY_MS = Number(process.env.FAULT_COLLECTOR_PAGE_DELAY_MS ?? 15);

interface Expected {
  link: string;
  /** message id → its two possible texts (original, after edit) and the edit date */
  posts: Map<number, { text: string; editedText: string | null; editDate: string | null }>;
}

function expectedFrom(feed: FaultFeed, keep: (date: Date) => boolean): Expected[] {
  return feed.channels.map((c) => ({
    link: c.link,
    posts: new Map(
      c.posts.filter((p) => keep(new Date(p.date))).map((p) => [p.id, { text: p.text, editedText: p.editedText ?? null, editDate: p.editDate ?? null }]),
    ),
  }));
}

function baseEnv(url: string, dir: string): Record<string, string> {
  return {
    DATABASE_URL: url,
    EXTRACTION_PIPELINE_VERSION: FAULT_VERSION,
    EXTRACTION_QUEUE_ENABLED: '1',
    LOG_LEVEL: 'warn',
    RECOVERY_CATCHUP_STATE_FILE: path.join(dir, 'catchup-state.json'),
    FAULT_PAGE_SIZE: '50',
    FAULT_PAGE_DELAY_MS: String(PAGE_DELAY_MS),
  };
}

interface Figures {
  raw: number;
  versions: number;
  twoVersionRows: number;
  editedRaw: number;
  jobs: number;
}

/** Everything the scenario promises about the raw log of these channels; returns figures to print. */
async function verify(t: TestDatabase, expected: Expected[]): Promise<Figures> {
  const links = expected.map((e) => e.link);
  const total = expected.reduce((a, e) => a + e.posts.size, 0);

  // no duplicate (channel, message_id), no gap, nothing outside the window
  const dupes = await t.db.query<{ n: number }>(
    `select count(*)::int as n from (select channel_link, message_id from telegram_messages_raw where channel_link = any($1::text[]) group by 1, 2 having count(*) > 1) d`,
    [links],
  );
  expect(dupes[0]!.n, 'duplicate raw rows').toBe(0);
  const perChannel = await t.db.query<{ channel_link: string; n: number; distinct_ids: number; min_id: number; max_id: number }>(
    `select channel_link, count(*)::int as n, count(distinct message_id)::int as distinct_ids, min(message_id)::int as min_id, max(message_id)::int as max_id
       from telegram_messages_raw where channel_link = any($1::text[]) group by channel_link order by channel_link`,
    [links],
  );
  for (const e of expected) {
    const ids = [...e.posts.keys()];
    const row = perChannel.find((r) => r.channel_link === e.link);
    expect(row, `raw rows of ${e.link}`).toBeDefined();
    expect({ n: row!.n, distinct: row!.distinct_ids, min: row!.min_id, max: row!.max_id }, `ids of ${e.link}`).toEqual({
      n: ids.length,
      distinct: ids.length,
      min: Math.min(...ids),
      max: Math.max(...ids),
    });
  }
  expect(await rawCount(t.db, links)).toBe(total);

  // raw text is one of the texts the post ever had, and its edit date matches the text
  const rows = await t.db.query<{ id: number; channel_link: string; message_id: number; raw_text: string | null; edit_date: Date | null }>(
    `select id, channel_link, message_id::int as message_id, raw_text, edit_date from telegram_messages_raw where channel_link = any($1::text[])`,
    [links],
  );
  const byLink = new Map(expected.map((e) => [e.link, e]));
  const bad: string[] = [];
  let editedRaw = 0;
  for (const r of rows) {
    const p = byLink.get(r.channel_link)!.posts.get(r.message_id)!;
    if (r.raw_text === p.editedText) {
      editedRaw++;
      if (r.edit_date?.toISOString() !== p.editDate) bad.push(`${r.channel_link}/${r.message_id}: edited text with edit_date ${r.edit_date?.toISOString()}`);
    } else if (r.raw_text !== p.text || r.edit_date !== null)
      bad.push(`${r.channel_link}/${r.message_id}: raw text ${JSON.stringify(r.raw_text)} edit ${String(r.edit_date)}`);
  }
  expect(bad.slice(0, 5), 'raw text / edit date').toEqual([]);

  // versions: distinct texts only, each a text the post had, the latest one equal to the raw text
  const versions = await t.db.query<{
    raw_id: number;
    texts: (string | null)[];
    shas: number;
    n: number;
    raw_text: string | null;
    channel_link: string;
    message_id: number;
  }>(
    `select r.id as raw_id, r.channel_link, r.message_id::int as message_id, r.raw_text,
            array_agg(v.raw_text order by v.edit_date asc nulls first, v.id) as texts,
            count(distinct v.text_sha256)::int as shas, count(v.id)::int as n
       from telegram_messages_raw r left join telegram_message_versions v on v.raw_id = r.id
      where r.channel_link = any($1::text[]) group by r.id`,
    [links],
  );
  let versionRows = 0;
  let twoVersionRows = 0;
  for (const v of versions) {
    const p = byLink.get(v.channel_link)!.posts.get(v.message_id)!;
    versionRows += v.n;
    if (v.n === 2) twoVersionRows++;
    const allowed = new Set([p.text, p.editedText].filter((x) => x !== null));
    if (v.n === 0 || v.n !== v.shas || v.n > allowed.size || v.texts.some((x) => x === null || !allowed.has(x)) || v.texts[v.texts.length - 1] !== v.raw_text) {
      bad.push(`${v.channel_link}/${v.message_id}: versions ${JSON.stringify(v.texts)} (${v.shas} distinct) vs raw ${JSON.stringify(v.raw_text)}`);
    }
  }
  expect(bad.slice(0, 5), 'versions').toEqual([]);

  // exactly one extraction job of the pipeline version per raw row
  const jobs = await t.db.query<{ n: number; off: number }>(
    `select count(*)::int as n, count(*) filter (where jobs <> 1)::int as off from (
       select r.id, count(e.id) as jobs from telegram_messages_raw r
         left join telegram_extractions e on e.raw_id = r.id and e.pipeline_version = $2
        where r.channel_link = any($1::text[]) group by r.id) x`,
    [links, FAULT_VERSION],
  );
  expect(jobs[0]!.off, 'raw rows without exactly one job').toBe(0);
  const [{ n: jobCount }] = (await t.db.query<{ n: number }>(
    `select count(*)::int as n from telegram_extractions e join telegram_messages_raw r on r.id = e.raw_id where r.channel_link = any($1::text[]) and e.pipeline_version = $2`,
    [links, FAULT_VERSION],
  )) as [{ n: number }];
  return { raw: rows.length, versions: versionRows, twoVersionRows, editedRaw, jobs: jobCount };
}

async function runsSince(t: TestDatabase, afterId: number) {
  return t.db.query<{ id: number; run_type: string; status: string; finished_at: Date | null; meta: Record<string, unknown> }>(
    'select id::int as id, run_type, status, finished_at, meta from ingestion_runs where id > $1 order by id',
    [afterId],
  );
}

async function maxRunId(t: TestDatabase): Promise<number> {
  const [row] = await t.db.query<{ n: number }>('select coalesce(max(id), 0)::int as n from ingestion_runs');
  return row!.n;
}

/**
 * The rerun comes after the abandonment limit (RUN_ABANDONED_AFTER_SECONDS): a killed process stops heartbeating,
 * so age its runs' last heartbeat instead of waiting five minutes.
 */
async function ageKilledRuns(t: TestDatabase, ids: number[]): Promise<void> {
  await t.db.query(
    `update ingestion_runs set started_at = started_at - make_interval(secs => $2::int), heartbeat_at = heartbeat_at - make_interval(secs => $2::int) where id = any($1::bigint[]) and status = 'running'`,
    [ids, RUN_ABANDONED_AFTER_SECONDS + 60],
  );
}

/** Killed runs: never `ok`; closed by the rerun as abandoned (`error`, finished at their last heartbeat). Nothing left `running`. */
function expectKilledRunsClosed(
  killed: { id: number }[],
  runs: { id: number; run_type: string; status: string; finished_at: Date | null; meta: Record<string, unknown> }[],
): void {
  for (const k of killed) {
    const now = runs.find((r) => r.id === k.id)!;
    expect(now.status, `killed run ${k.id} (${now.run_type})`).not.toBe('ok');
    expect({ status: now.status, abandoned: now.meta.abandoned, finished: now.finished_at !== null }, `killed run ${k.id} (${now.run_type})`).toEqual({
      status: 'error',
      abandoned: true,
      finished: true,
    });
  }
  expect(
    runs.filter((r) => r.status === 'running').map((r) => r.id),
    'runs left running',
  ).toEqual([]);
}

const tally = (runs: { run_type: string; status: string }[]) => {
  const m: Record<string, number> = {};
  for (const r of runs) m[`${r.run_type}:${r.status}`] = (m[`${r.run_type}:${r.status}`] ?? 0) + 1;
  return m;
};

/** A kill target: some raw rows exist, and well before the end. */
const randomTarget = (from: number, total: number) => from + 1 + Math.floor(Math.random() * Math.max(1, (total - from) * 0.7));

/**
 * Kill a collector `kills` times at random points (a first run, then resumes), then rerun it to the end.
 * Returns where each kill landed, the runs the kills left behind and how long the rerun took.
 */
async function killThenRerun(
  t: TestDatabase,
  run: { file: string; command: 'backfill' | 'live'; flags: string[]; env: Record<string, string>; dir: string; links: string[]; total: number; kills: number },
) {
  const runsBefore = await maxRunId(t);
  const killedAt: number[] = [];
  for (let k = 0; k < run.kills; k++) {
    const child = spawnCollector(run.file, run.command, run.flags, { ...run.env, FAULT_EDITED: k === 0 ? '0' : '1' }, run.dir);
    const at = await killAt(child, t.db, run.links, randomTarget(await rawCount(t.db, run.links), run.total));
    if (at === null) throw new Error(`the collector finished before the kill point:\n${child.output()}`);
    killedAt.push(at);
  }
  const killedRuns = await runsSince(t, runsBefore);
  expect(
    killedRuns.filter((r) => r.status !== 'running'),
    'a killed run recorded an end it never saw',
  ).toEqual([]);
  await ageKilledRuns(
    t,
    killedRuns.map((r) => r.id),
  );
  const started = Date.now();
  await runToEnd(spawnCollector(run.file, run.command, run.flags, { ...run.env, FAULT_EDITED: '1' }, run.dir));
  return { killedAt, killedRuns, runsBefore, rerunMs: Date.now() - started };
}

describePostgres('fault: collector killed -9 during backfill and during catch-up', (t) => {
  it(`backfill: ${ROUNDS} rounds of ${CHANNELS}×${PER_CHANNEL} posts, kill -9 mid-run, rerun completes with no gap and no duplicate`, async () => {
    const { dir, cleanup } = scratch();
    try {
      const figures: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const first = new Date(Date.UTC(2026, 0, 1 + round));
        // 20 posts before `since` and 20 at/after `until` must stay out
        const feed = buildFeed(`faultbf${round}x`, CHANNELS, PER_CHANNEL + 40, first);
        const since = new Date(first.getTime() + 20 * 60_000);
        const until = new Date(first.getTime() + (PER_CHANNEL + 20) * 60_000);
        const expected = expectedFrom(feed, (d) => d >= since && d < until);
        const links = expected.map((e) => e.link);
        const total = CHANNELS * PER_CHANNEL;
        const file = writeFeed(dir, `backfill-${round}`, feed);
        const flags = ['--channels', links.join(','), '--since', since.toISOString(), '--until', until.toISOString(), '--batch-size', '50'];
        const env = baseEnv(t.url!, dir);
        // the last round is killed twice: once on the first run, once while resuming
        const { killedAt, killedRuns, runsBefore, rerunMs } = await killThenRerun(t, {
          file,
          command: 'backfill',
          flags,
          env,
          dir,
          links,
          total,
          kills: round === ROUNDS - 1 ? 2 : 1,
        });

        const f = await verify(t, expected);
        const runs = await runsSince(t, runsBefore);
        const finalRun = runs[runs.length - 1]!;
        expect(finalRun.run_type).toBe('backfill');
        expect(finalRun.status).toBe('ok');
        // usually the killed channel's checkpoint is resumed (none when the kill fell between two channels)
        const resumed = finalRun.meta.resumed_channels as string[];
        expect(resumed.every((l) => links.includes(l))).toBe(true);
        expectKilledRunsClosed(killedRuns, runs);
        const checkpoints = await t.db.query<{ n: number; done: number }>(
          `select count(*)::int as n, count(completed_at)::int as done from backfill_checkpoints where channel_link = any($1::text[])`,
          [links],
        );
        expect(checkpoints[0]).toEqual({ n: CHANNELS, done: CHANNELS });
        figures.push(
          `round ${round}: killed at ${killedAt.join(' then ')} of ${total} raw rows; rerun ${rerunMs} ms (resumed ${resumed.length} channel checkpoint(s)); raw ${f.raw} (edited text ${f.editedRaw}), versions ${f.versions} (${f.twoVersionRows} rows with 2), jobs ${f.jobs}; runs ${JSON.stringify(tally(runs))}`,
        );
      }
      console.log(`[fault] collector kill: backfill, ${CHANNELS} channels × ${PER_CHANNEL} posts in window (+40 outside) per round\n  ${figures.join('\n  ')}`);
    } finally {
      cleanup();
    }
  });

  it(`catch-up (live): ${ROUNDS} rounds of ${CHANNELS}×${PER_CHANNEL} posts, kill -9 mid-catch-up, rerun completes with no gap and no duplicate`, async () => {
    const { dir, cleanup } = scratch();
    try {
      const figures: string[] = [];
      const SEEDED = 60;
      for (let round = 0; round < ROUNDS; round++) {
        // the newest post is 10 minutes old: all of it is before the catch-up target (now − 2 min)
        const first = new Date(Date.now() - (PER_CHANNEL + 10) * 60_000);
        const feed = buildFeed(`faultcu${round}x`, CHANNELS, PER_CHANNEL, first);
        const expected = expectedFrom(feed, () => true);
        const links = expected.map((e) => e.link);
        const total = CHANNELS * PER_CHANNEL;
        const file = writeFeed(dir, `catchup-${round}`, feed);
        const env = {
          ...baseEnv(t.url!, dir),
          RECOVERY_CATCHUP_CHUNK_HOURS: '1',
          RECOVERY_CATCHUP_OVERLAP_MINUTES: '10',
          RECOVERY_CATCHUP_QUEUE_LOW_WATERMARK: '100000000',
        };
        // what was stored before the collector went down: the oldest SEEDED posts of every channel
        const seedUntil = new Date(first.getTime() + SEEDED * 60_000);
        await runToEnd(
          spawnCollector(
            file,
            'backfill',
            ['--channels', links.join(','), '--until', seedUntil.toISOString(), '--batch-size', '50'],
            { ...env, FAULT_PAGE_DELAY_MS: '0' },
            dir,
          ),
        );
        expect(await rawCount(t.db, links)).toBe(CHANNELS * SEEDED);
        const flags = ['--channels', links.join(',')];
        const { killedAt, killedRuns, runsBefore, rerunMs } = await killThenRerun(t, {
          file,
          command: 'live',
          flags,
          env,
          dir,
          links,
          total,
          kills: round === ROUNDS - 1 ? 2 : 1,
        });

        const f = await verify(t, expected);
        const runs = await runsSince(t, runsBefore);
        const rerunRuns = runs.filter((r) => !killedRuns.some((k) => k.id === r.id));
        const cursors = [...(await loadCatchupCursors(t.db, links)).values()];
        expect(cursors).toHaveLength(links.length);
        for (const c of cursors) expect([c.status, c.readUntil.getTime()]).toEqual(['ok', c.target.getTime()]);
        expect(rerunRuns.find((r) => r.run_type === 'catchup')?.status).toBe('ok');
        expect(rerunRuns.find((r) => r.run_type === 'live')?.status).toBe('cancelled');
        expectKilledRunsClosed(killedRuns, runs);
        figures.push(
          `round ${round}: ${SEEDED}/channel stored before; killed at ${killedAt.join(' then ')} of ${total} raw rows; rerun ${rerunMs} ms (slices ${String(rerunRuns.find((r) => r.run_type === 'catchup')?.meta.slices)}); raw ${f.raw} (edited text ${f.editedRaw}), versions ${f.versions} (${f.twoVersionRows} rows with 2), jobs ${f.jobs}; runs ${JSON.stringify(tally(runs))}`,
        );
      }
      console.log(`[fault] collector kill: catch-up, ${CHANNELS} channels × ${PER_CHANNEL} posts per round\n  ${figures.join('\n  ')}`);
    } finally {
      cleanup();
    }
  });
});
