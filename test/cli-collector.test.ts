import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.ts';
import { catchupSourceFor, telegramSource } from '../src/cli/runtime.ts';
import { silentLog } from '../src/collector/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { openPglite } from '../src/db/index.ts';
import type { MemorySource } from '../src/telegram/memory.ts';
import { sourceWith } from './support/collector.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workspace(source?: MemorySource) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-clic-'));
  dirs.push(dir);
  const env: Record<string, string> = { TUTORDEX_DATA_DIR: path.join(dir, 'db'), EXTRACTION_PIPELINE_VERSION: 'v1' };
  const run = async (argv: string[], extraEnv: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      errStream: { write: (t: string) => err.push(t) },
      env: { ...env, ...extraEnv },
      cwd: dir,
      ...(source ? { telegramSource: () => source } : {}),
    };
    const code = await runCli(argv, io);
    return { code, out: out.join('\n'), err: err.join('') };
  };
  return { dir, env, run };
}

describe('collector commands (embedded database, in-memory Telegram)', () => {
  it('backfill → status → enqueue for a new version', async () => {
    const ws = workspace(sourceWith({ alpha: 30, bravo: 5 }));
    const b = await ws.run(['backfill', '--channels', '@Alpha,t.me/bravo', '--since', '2026-03-01T00:10:00Z', '--batch-size', '20']);
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/^run 1 ok: scanned=21 written=21 enqueued=21 channels_done=2$/);
    expect(b.err).toMatch(/backfill t\.me\/alpha\s+21 read/); // progress lines (not a TTY)

    const s = await ws.run(['status']);
    expect(s.code).toBe(0);
    expect(s.out).toContain('run 1: backfill ok');
    expect(s.out).toMatch(/t\.me\/alpha\s+21\s+21\s+0\s+0\s+10/);
    expect(s.out).toMatch(/\nv1\s+21\s+0\s+0\s+0\s+0\s+21/);

    const e = await ws.run(['enqueue', '--channels', 't.me/alpha', '--max-messages', '5'], { EXTRACTION_PIPELINE_VERSION: 'v2' });
    expect(e.code).toBe(0);
    expect(e.out).toBe('run 2 ok: scanned=5 enqueued=5');
    const typed = await ws.run(['status', '--run-type', 'backfill', '--json']);
    expect(JSON.parse(typed.out).run.id).toBe(1);

    // issue 15 #11: without --channels (and no CHANNEL_LIST) a reparse takes every channel in the raw log
    const all = await ws.run(['enqueue'], { EXTRACTION_PIPELINE_VERSION: 'v3', CHANNEL_LIST: '' });
    expect(all.err).not.toMatch(/no channels provided/);
    expect(all.code).toBe(0);
    expect(all.out).toBe('run 3 ok: scanned=21 enqueued=21');
  });

  it('issue 15 #11: enqueue on an empty raw log says so, exit 1', async () => {
    const ws = workspace(sourceWith({ alpha: 3 }));
    const r = await ws.run(['enqueue'], { CHANNEL_LIST: '' });
    expect([r.code, r.err]).toEqual([1, 'tutordex: the raw log is empty: nothing to enqueue (collect first: backfill, live or import)']);
  });

  it('bad input: one line, non-zero exit, nothing written', async () => {
    const ws = workspace(sourceWith({ alpha: 3 }));
    const cases: [string[], number, RegExp][] = [
      [['backfill', '--channels', 't.me/alpha', '--since', '2026-01-01'], 2, /^tutordex: --since: "2026-01-01" has no timezone/],
      [['backfill', '--channels', 't.me/alpha', '--since', '2026-02-01T00:00:00Z', '--until', '2026-01-01T00:00:00Z'], 2, /must be earlier than --until/],
      [['backfill'], 1, /^tutordex: no channels provided: set CHANNEL_LIST in \.env or pass --channels$/],
      [['backfill', '--channels', 't.me/+abcdef'], 2, /invite links cannot be collected/],
      [['backfill', '--channels', 't.me/unknown_chan'], 1, /t\.me\/unknown_chan/],
      [['backfill', '--channels', 't.me/alpha', '--batch-size', '5'], 2, /--batch-size must be between 20 and 1000/],
      [['enqueue', '--channels', 't.me/alpha', '--page-size', 'lots'], 2, /--page-size must be a whole number/],
      [['status', '--run-type', 'weekly'], 2, /--run-type must be one of backfill, tail, live, catchup, enqueue, import/],
      [['status'], 1, /^tutordex: no ingestion runs found$/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await ws.run(argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err.trim().split('\n').filter((l) => l.startsWith('tutordex:') || l.startsWith('error:'))[0], argv.join(' ')).toMatch(message);
    }
    const db = await openPglite({ dataDir: ws.env.TUTORDEX_DATA_DIR! });
    expect(await db.query('select count(*) as n from telegram_messages_raw')).toEqual([{ n: 0 }]);
    expect(await db.query('select count(*) as n from ingestion_runs')).toEqual([{ n: 0 }]);
    await db.close();
  });

  it('missing Telegram credentials name the variables', async () => {
    const ws = workspace();
    const r = await ws.run(['backfill', '--channels', 't.me/alpha']);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe('tutordex: missing Telegram credentials: set TELEGRAM_API_ID and TELEGRAM_API_HASH (from my.telegram.org), then create a session with tutordex login');
    const login = await ws.run(['login'], { TELEGRAM_API_ID: '123' });
    expect(login.err.trim()).toBe('tutordex: missing Telegram credentials: set TELEGRAM_API_HASH (from my.telegram.org)');
  });
});

describe('tutordex import', () => {
  const fixtures = path.resolve('test/fixtures/desktop-export');

  it('imports a folder of exports into raw (+ queue); a re-import changes nothing', async () => {
    const ws = workspace();
    const r = await ws.run(['import', path.join(fixtures, 'folder')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^run 1 ok: scanned=(\d+) written=\1 new=\1 changed=0 unchanged=0 enqueued=\d+ channels_done=2$/);
    const again = await ws.run(['import', path.join(fixtures, 'folder'), '--no-enqueue']);
    expect(again.code).toBe(0);
    // issue 15 #11: an unchanged re-import says nothing changed (it reported every row as updated)
    expect(again.out).toMatch(/^run 2 ok: scanned=(\d+) written=\1 new=0 changed=0 unchanged=\1 enqueued=0 channels_done=2$/);
    const db = await openPglite({ dataDir: ws.env.TUTORDEX_DATA_DIR! });
    const rows = await db.query<{ channel_link: string; n: number }>('select channel_link, count(*) as n from telegram_messages_raw group by channel_link order by channel_link');
    expect(rows.map((x) => x.channel_link)).toEqual(['t.me/c/1111111111', 't.me/c/2222222222']);
    const [{ n }] = (await db.query<{ n: number }>('select count(*) as n from telegram_messages_raw')) as [{ n: number }];
    expect(r.out).toContain(`scanned=${n} written=${n}`);
    await db.close();
  });

  it('issue 15 #11: a re-import of an export with one message edited reports exactly that one as changed', async () => {
    const ws = workspace();
    const original = path.join(fixtures, 'folder', 'chat-a', 'result.json');
    expect((await ws.run(['import', original])).code).toBe(0);
    const edited = path.join(ws.dir, 'edited.json');
    const text = readFileSync(original, 'utf8');
    expect(text).toContain('"Hello world"');
    // the agency edited it after the first export: new text, and Telegram's edit date
    writeFileSync(
      edited,
      text
        .replace('"text": "Hello world",', '"text": "Hello world, edited", "edited": "2024-01-02T08:00:00", "edited_unixtime": "1704153600",')
        .replace('"text": "Hello world"\n', '"text": "Hello world, edited"\n'),
    );
    const again = await ws.run(['import', edited]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/^run 2 ok: scanned=(\d+) written=\1 new=0 changed=1 unchanged=\d+ enqueued=1 channels_done=1$/);
  });

  it('names the channel with --channel; a malformed export is one line with file and position, nothing written', async () => {
    const ws = workspace();
    const ok = await ws.run(['import', path.join(fixtures, 'folder', 'chat-a', 'result.json'), '--channel', '@TuitionAlpha']);
    expect(ok.code, ok.err).toBe(0);
    const bad = await ws.run(['import', path.join(fixtures, 'errors', 'truncated.json')]);
    expect(bad.code).toBe(1);
    expect(bad.err.trim()).toMatch(/^tutordex: .*truncated\.json.*(byte|line)/);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    const missing = await ws.run(['import', path.join(fixtures, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('nope.json');
    const db = await openPglite({ dataDir: ws.env.TUTORDEX_DATA_DIR! });
    expect(await db.query('select distinct channel_link from telegram_messages_raw')).toEqual([{ channel_link: 't.me/tuitionalpha' }]);
    expect(await db.query(`select run_type, status from ingestion_runs order by id`)).toEqual([{ run_type: 'import', status: 'ok' }]);
    await db.close();
  });
});

describe('waiting for Telegram credentials', () => {
  it('with COLLECTOR_WAIT_FOR_TELEGRAM_CREDS the tail logs and waits instead of exiting, and stops on a signal', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-wait-'));
    dirs.push(dir);
    const abort = new AbortController();
    const err: string[] = [];
    const running = runCli(['tail', '--channels', '@alpha_chan'], {
      out: () => {},
      err: (t) => err.push(t),
      errStream: { write: (t: string) => err.push(t) },
      env: { TUTORDEX_DATA_DIR: path.join(dir, 'db'), COLLECTOR_WAIT_FOR_TELEGRAM_CREDS: '1' },
      cwd: dir,
      signal: abort.signal,
    });
    for (let i = 0; i < 200 && !err.join('').includes('collector_missing_telegram_credentials'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(err.join('')).toContain('"missing":["TELEGRAM_API_ID","TELEGRAM_API_HASH"]');
    abort.abort();
    expect(await running).toBe(0);
  });
});

describe('issue 15 #2: the catch-up in the default single-login setup', () => {
  const io = (cwd: string): CliIO => ({ out: () => {}, err: () => {}, errStream: { write: () => true }, env: {}, cwd });
  const configFor = (env: Record<string, string>) => loadConfig({ env: { TELEGRAM_API_ID: '12345', TELEGRAM_API_HASH: 'abcdef0123456789hash', ...env }, envFile: null });

  it('with no second session the catch-up reads through the tail\'s own source (login --save writes only the main session)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-single-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'tutordex.session'), '1BVtsOK8Bu-main-session'); // what `tutordex login --save` wrote
    const config = configFor({});
    const tail = telegramSource(config, io(dir), 'collector', silentLog);
    expect(catchupSourceFor(config, io(dir), tail, silentLog)).toBe(tail);
  });

  it('a second session (string or an existing TG_SESSION_RECOVERY file) gets its own source', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-two-'));
    dirs.push(dir);
    const withString = configFor({ SESSION_STRING: '1BVtsOK8Bu-main', SESSION_STRING_RECOVERY: '1BVtsOK8Bu-second' });
    const tail = telegramSource(withString, io(dir), 'collector', silentLog);
    const own = catchupSourceFor(withString, io(dir), tail, silentLog);
    expect(own).not.toBe(tail);
    expect(own.kind).toBe('gramjs');
    writeFileSync(path.join(dir, 'tutordex_recovery.session'), '1BVtsOK8Bu-second-file');
    const withFile = configFor({ SESSION_STRING: '1BVtsOK8Bu-main' });
    const tail2 = telegramSource(withFile, io(dir), 'collector', silentLog);
    expect(catchupSourceFor(withFile, io(dir), tail2, silentLog)).not.toBe(tail2);
  });
});
