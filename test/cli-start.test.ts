import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { loadSamplePosts } from '../src/telegram/sample-feed.ts';
import { describeEachDatabase, type TestDatabase } from './support/databases.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { assertNoSecrets } from './support/secrets.ts';

/**
 * `tutordex start` and the bundled sample feed (issue 14 #2), run as the real CLI in child processes (a `.env` in
 * the working directory, as a user has it), against the fake Bot API and on both database drivers.
 */

const BIN = fileURLToPath(new URL('../bin/tutordex.js', import.meta.url));
const TOKEN = '123456:AAbottokensecret';
const SESSION = '1BVtsOK8Bu-super-secret';
const API_HASH = 'abcdef0123456789hash';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-start-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** `node bin/tutordex.js …` in `cwd` (its `.env` is read from there) with only `env` beyond PATH and HOME. */
function tutordex(args: string[], o: { cwd: string; env?: Record<string, string>; dotenv?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  if (o.dotenv)
    writeFileSync(
      path.join(o.cwd, '.env'),
      Object.entries(o.dotenv)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: o.cwd, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      assertNoSecrets(`tutordex ${args.join(' ')}`, `${out}\n${err}`);
      resolve({ code, out: out.trimEnd(), err: err.trimEnd() });
    });
  });
}

/** Row counts of every table: what a refused run must leave exactly as it was. */
async function tableCounts(db: Database): Promise<Record<string, number>> {
  const tables = await db.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) counts[name] = (await db.query<{ n: number }>(`select count(*)::int as n from ${name}`))[0]!.n;
  return counts;
}

/**
 * Where the child process writes: this file's Postgres database (DATABASE_URL), or an embedded database in a
 * fresh data directory (PGlite has one owner, so it is opened only while no child runs).
 */
function target(t: TestDatabase) {
  const cwd = scratch();
  const dataDir = path.join(cwd, 'data', 'db');
  const env: Record<string, string> = t.driver === 'postgres' ? { DATABASE_URL: t.url! } : { TUTORDEX_DATA_DIR: dataDir };
  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    if (t.driver === 'postgres') return fn(t.db);
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  return { cwd, dataDir, env, withDb };
}

/** `tutordex serve` in-process on the target; returns the bodies of `paths`. */
async function served(env: Record<string, string>, cwd: string, paths: string[]): Promise<string[]> {
  const abort = new AbortController();
  let resolveUrl: (u: string) => void = () => {};
  const url = new Promise<string>((r) => (resolveUrl = r));
  const io: CliIO = {
    out: (s) => void (/http:\/\/[\d.:]+/.test(s) && resolveUrl(/http:\/\/[\d.:]+/.exec(s)![0])),
    err: () => {},
    errStream: { write: () => true },
    env: { LOG_LEVEL: 'silent', ...env },
    cwd,
    signal: abort.signal,
  };
  const running = runCli(['serve', '--port', '0'], io);
  const base = await Promise.race([url, running.then((code) => Promise.reject(new Error(`serve exited ${code}`)))]);
  try {
    return await Promise.all(paths.map(async (p) => (await fetch(`${base}${p}`)).text()));
  } finally {
    abort.abort();
    expect(await running).toBe(0);
  }
}

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const SAMPLE_ARGS = ['start', '--replay-interval', '0', '--exit-when-idle', '--no-web'];

describeEachDatabase('tutordex start and the bundled sample feed (issue 14 #2)', (t) => {
  it('issue 14 #2: a bot token and EXTRACTION_WORKER_BROADCAST=1 in .env but no channels: start refuses naming what is missing; nothing sent, nothing written', async () => {
    const tg = target(t);
    bot.reset();
    const r = await tutordex(SAMPLE_ARGS, {
      cwd: tg.cwd,
      env: tg.env,
      dotenv: {
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_BOT_API_URL: bot.url,
        BROADCAST_CHAT_ID: '@tutordex_real',
        EXTRACTION_WORKER_BROADCAST: '1',
        EXTRACTION_WORKER_DMS: '1',
      },
    });
    expect(bot.calls.filter((c) => c.method === 'sendMessage')).toEqual([]);
    expect(bot.calls).toEqual([]); // not even getMe: no bot ran
    expect(r.code, r.out).toBe(2);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      /^tutordex: Telegram is only partly configured \(set: TELEGRAM_BOT_TOKEN, EXTRACTION_WORKER_BROADCAST, EXTRACTION_WORKER_DMS\); missing: CHANNEL_LIST, TELEGRAM_API_ID, TELEGRAM_API_HASH, a session /,
    );
    if (t.driver === 'pglite') expect(existsSync(tg.dataDir)).toBe(false);
    else expect(Object.entries(await tableCounts(t.db)).filter(([name, n]) => name !== 'schema_migrations' && n > 0)).toEqual([]);
  }, 120_000);

  it('issue 14 #2: the sample refuses a database that holds a real channel, and writes nothing into it', async () => {
    const tg = target(t);
    const before = await tg.withDb(async (db) => {
      await db.query(
        `insert into telegram_channels (channel_link, channel_id, agency_telegram_channel_name) values ('t.me/realagency', '-1001', 'Real Agency')`,
      );
      await db.query(
        `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json) values ('t.me/realagency', 1, now(), 'P5 Math @ Bishan', '{}')`,
      );
      return tableCounts(db);
    });
    const r = await tutordex(SAMPLE_ARGS, { cwd: tg.cwd, env: tg.env });
    expect(r.code, r.out).toBe(1);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      /^tutordex: the bundled sample feed only runs on an empty database or one it seeded itself: .* holds 1 channel that is not the sample's \(t\.me\/realagency\)/,
    );
    expect(await tg.withDb(tableCounts)).toEqual(before);
  }, 120_000);

  it('issue 14 #2: the sample refuses a database that holds tutors, and writes nothing into it', async () => {
    const tg = target(t);
    const before = await tg.withDb(async (db) => {
      await db.query(`insert into tutors (chat_id, display_name, subjects, levels) values (4242, 'A real tutor', '{math}', '{p5}')`);
      return tableCounts(db);
    });
    const r = await tutordex(SAMPLE_ARGS, { cwd: tg.cwd, env: tg.env });
    expect(r.code, r.out).toBe(1);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^tutordex: the bundled sample feed only runs on an empty database or one it seeded itself: .* holds 1 tutor/);
    expect(await tg.withDb(tableCounts)).toEqual(before);
  }, 120_000);

  it('issue 14 #2: a fresh start runs the sample with its channels named as sample (dashboard and /assignments) and sends nothing; a real start into that database then refuses and says how to start clean', async () => {
    const tg = target(t);
    bot.reset();
    // issue 15 #4: another database's unfinished catch-up state in the working directory, claiming every sample
    // channel read up to an hour from now (it made a fresh database skip its history)
    const ahead = new Date(Date.now() + 3_600_000).toISOString();
    mkdirSync(path.join(tg.cwd, 'state'));
    writeFileSync(
      path.join(tg.cwd, 'state', 'recovery_catchup_state.json'),
      JSON.stringify({
        version: 1,
        created_at: ahead,
        pipeline_version: 'v1',
        target_iso: ahead,
        cursors: Object.fromEntries(loadSamplePosts().map((p) => [p.channel, ahead])),
        status: 'running',
        last_update_at: ahead,
        errors: [],
      }),
    );
    const r = await tutordex(SAMPLE_ARGS, { cwd: tg.cwd, env: tg.env });
    expect(r.code, r.err).toBe(0);
    // issue 15 #5: idle means the catch-up finished too (it was never cut short)
    const catchups = await tg.withDb((db) => db.query<{ status: string }>(`select status from ingestion_runs where run_type = 'catchup' order by id`));
    expect(catchups).toEqual([{ status: 'ok' }]);
    expect(await tg.withDb((db) => db.query(`select status from collector_catchup where status <> 'ok'`))).toEqual([]);
    expect(r.out).toContain(
      'source: bundled sample feed: 16 sample channels (t.me/sample_…), 77 real agency posts; nothing is sent (no broadcast, no DMs, no tutor bot)',
    );
    expect(r.out).toContain('broadcast off, DMs off');
    const counts = await tg.withDb(async (db) => {
      const channels = await db.query<{ channel_link: string; title: string }>(
        `select channel_link, agency_telegram_channel_name as title from telegram_channels`,
      );
      expect(channels).toHaveLength(16);
      for (const c of channels) {
        expect(c.channel_link).toMatch(/^t\.me\/sample_[a-z0-9_]+$/);
        expect(c.title).toMatch(/ \(sample\)$/);
      }
      expect(await db.query(`select distinct channel_link from telegram_messages_raw where channel_link not like 't.me/sample\\_%'`)).toEqual([]);
      expect(await db.query(`select count(*)::int as n from deliveries`)).toEqual([{ n: 0 }]);
      return tableCounts(db);
    });
    expect(counts.telegram_messages_raw).toBe(77);
    expect(bot.calls).toEqual([]);

    const [agencies, page] = await served(tg.env, tg.cwd, ['/api/agencies', '/assignments']);
    const shown = (JSON.parse(agencies!) as { agencies: { agency: string; channel_link: string }[] }).agencies;
    expect(shown.length).toBeGreaterThan(0);
    for (const a of shown) expect(a.agency, a.channel_link).toMatch(/ \(sample\)$/);
    const names = [...page!.matchAll(/<p class="meta">.*? · ([^<·]+?)(?: · [^<]*)?<\/p>/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toMatch(/\(sample\)$/);

    // Telegram configured now, same database: the real run must not mix with the sample
    const real = await tutordex(['start', '--no-web'], {
      cwd: tg.cwd,
      env: tg.env,
      dotenv: { TELEGRAM_API_ID: '12345', TELEGRAM_API_HASH: API_HASH, SESSION_STRING: SESSION, CHANNEL_LIST: 't.me/realagency' },
      timeoutMs: 60_000,
    });
    expect(real.code, real.out).toBe(1);
    expect(real.err.split('\n')).toHaveLength(1);
    expect(real.err).toMatch(
      /^tutordex: .* holds the bundled sample feed \(16 sample channels\): a real run would mix sample assignments into what tutors see; /,
    );
    expect(real.err).toMatch(t.driver === 'pglite' ? /delete the embedded database .*data\/db/ : /an empty database/);
    expect(await tg.withDb(tableCounts)).toEqual(counts);
  }, 240_000);
});

describe('tutordex start with Telegram half-configured (issue 14 #2)', () => {
  const SESSION_HINT = 'a session (SESSION_STRING, or the TG_SESSION file tutordex.session: tutordex login --save writes it)';
  const cases: { name: string; dotenv: Record<string, string>; args?: string[]; set: string | null; missing: string }[] = [
    {
      name: 'CHANNEL_LIST without credentials or a session',
      dotenv: { CHANNEL_LIST: 't.me/realagency' },
      set: 'CHANNEL_LIST',
      missing: `TELEGRAM_API_ID, TELEGRAM_API_HASH, ${SESSION_HINT}`,
    },
    {
      name: 'a session without API id and hash or channels',
      dotenv: { SESSION_STRING: SESSION },
      set: 'SESSION_STRING',
      missing: 'CHANNEL_LIST, TELEGRAM_API_ID, TELEGRAM_API_HASH',
    },
    {
      name: 'channels and credentials without a session',
      dotenv: { CHANNELS: '@realagency', TG_API_ID: '12345', TELEGRAM_API_HASH: API_HASH },
      set: 'CHANNELS, TG_API_ID, TELEGRAM_API_HASH',
      missing: SESSION_HINT,
    },
    {
      name: 'credentials and a session without channels',
      dotenv: { TELEGRAM_API_ID: '12345', TELEGRAM_API_HASH: API_HASH, SESSION_STRING: SESSION },
      set: 'TELEGRAM_API_ID, TELEGRAM_API_HASH, SESSION_STRING',
      missing: 'CHANNEL_LIST',
    },
    {
      name: 'a bot token alone',
      dotenv: { GROUP_BOT_TOKEN: TOKEN },
      set: 'GROUP_BOT_TOKEN',
      missing: `CHANNEL_LIST, TELEGRAM_API_ID, TELEGRAM_API_HASH, ${SESSION_HINT}`,
    },
    { name: 'DMs on alone', dotenv: { ENABLE_DMS: '1' }, set: 'ENABLE_DMS', missing: `CHANNEL_LIST, TELEGRAM_API_ID, TELEGRAM_API_HASH, ${SESSION_HINT}` },
    {
      name: '--no-sample with nothing configured',
      dotenv: {},
      args: ['--no-sample'],
      set: null,
      missing: `CHANNEL_LIST, TELEGRAM_API_ID, TELEGRAM_API_HASH, ${SESSION_HINT}`,
    },
  ];
  it.each(cases)(
    'issue 14 #2: $name → exit 2, one line naming what is missing, nothing written',
    async ({ dotenv, args = [], set, missing }) => {
      const cwd = scratch();
      const dataDir = path.join(cwd, 'db');
      const r = await tutordex([...SAMPLE_ARGS, ...args], { cwd, env: { TUTORDEX_DATA_DIR: dataDir }, dotenv });
      expect(r.code, r.out).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toBe(
        set === null
          ? `tutordex: Telegram is not configured (--no-sample); missing: ${missing}`
          : `tutordex: Telegram is only partly configured (set: ${set}); missing: ${missing}. The bundled sample feed runs only when no Telegram setting is set.`,
      );
      expect(existsSync(dataDir)).toBe(false);
    },
    60_000,
  );
});
