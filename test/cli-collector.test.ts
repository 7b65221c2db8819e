import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.ts';
import { catchupSourceFor, telegramSource } from '../src/cli/runtime.ts';
import { silentLog } from '../src/collector/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { openPglite } from '../src/db/index.ts';
import { makeMessage, MemorySource } from '../src/telegram/memory.ts';
import { sourceWith } from './support/collector.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

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
      expect(
        r.err
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('tutordex:') || l.startsWith('error:'))[0],
        argv.join(' '),
      ).toMatch(message);
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
    expect(r.err.trim()).toBe(
      'tutordex: missing Telegram credentials: set TELEGRAM_API_ID and TELEGRAM_API_HASH (from my.telegram.org), then create a session with tutordex login',
    );
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
    expect(r.out).toMatch(/^run 1 ok: scanned=(\d+) written=\1 new=\1 changed=0 unchanged=0 enqueued=\d+ channels_done=2 files_imported=2 files_refused=0\n/);
    expect(r.out.split('\n').slice(1)).toEqual(['chat-a', 'chat-b'].map((d) => `  imported: ${path.join(fixtures, 'folder', d, 'result.json')}`));
    const again = await ws.run(['import', path.join(fixtures, 'folder'), '--no-enqueue']);
    expect(again.code).toBe(0);
    // issue 15 #11: an unchanged re-import says nothing changed (it reported every row as updated)
    expect(again.out).toMatch(/^run 2 ok: scanned=(\d+) written=\1 new=0 changed=0 unchanged=\1 enqueued=0 channels_done=2 files_imported=2 files_refused=0\n/);
    const db = await openPglite({ dataDir: ws.env.TUTORDEX_DATA_DIR! });
    const rows = await db.query<{ channel_link: string; n: number }>(
      'select channel_link, count(*) as n from telegram_messages_raw group by channel_link order by channel_link',
    );
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
    expect(again.out).toMatch(/^run 2 ok: scanned=(\d+) written=\1 new=0 changed=1 unchanged=\d+ enqueued=1 channels_done=1 files_imported=1 files_refused=0$/);
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

describe('tutordex import: whole-account exports (issue 15 #8)', () => {
  const account = path.resolve('test/fixtures/desktop-export/account/result.json');
  const counts = async (dataDir: string) => {
    const db = await openPglite({ dataDir });
    try {
      return {
        raw: await db.query<{ channel_link: string; n: number }>('select channel_link, count(*)::int as n from telegram_messages_raw group by 1 order by 1'),
        runs: await db.query<{ status: string }>('select status from ingestion_runs order by id'),
      };
    } finally {
      await db.close();
    }
  };

  it('without --channel: refused with one line per chat and how to pick one; nothing written', async () => {
    const ws = workspace();
    const r = await ws.run(['import', account]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toEqual([
      `tutordex: ${account} holds 4 chats (it is a whole-account export); nothing was imported: name the one to import with --channel 3333333333 (or --channel "Tutors Lounge"):`,
      '  3333333333  public_supergroup       "Tutors Lounge"  3 messages',
      '  42          personal_chat           "Some Admin"     1 message',
      '  99          saved_messages          (no name)        0 messages',
      '  5555555555  private_channel (left)  "Gone Channel"   1 message',
    ]);
    expect(await counts(ws.env.TUTORDEX_DATA_DIR!)).toEqual({ raw: [], runs: [] });
  });

  it('--channel imports that one chat, named by t.me/c/<id>, -100<id>, the bare id or its exact name; an unknown one lists the chats', async () => {
    const ws = workspace();
    const gone = await ws.run(['import', account, '--channel', 't.me/c/5555555555']);
    expect(gone.code, gone.err).toBe(0);
    expect(gone.out).toBe('run 1 ok: scanned=1 written=1 new=1 changed=0 unchanged=0 enqueued=1 channels_done=1 files_imported=1 files_refused=0');
    const lounge = await ws.run(['import', account, '--channel', 'Tutors Lounge']);
    expect(lounge.out).toMatch(/^run 2 ok: scanned=2 written=2 new=2 /);
    for (const ref of ['-1003333333333', '3333333333']) {
      const again = await ws.run(['import', account, '--channel', ref]);
      expect(again.out, ref).toMatch(/ new=0 changed=0 unchanged=2 /);
    }
    const unknown = await ws.run(['import', account, '--channel', 'Tutors lounge']);
    expect(unknown.code).toBe(1);
    expect(unknown.err.split('\n')[0]).toBe(
      `tutordex: --channel Tutors lounge: no chat has that name; ${account} holds 4 chats (name one by its id or its exact name):`,
    );
    expect(unknown.err.trimEnd().split('\n')).toHaveLength(5);
    expect(await counts(ws.env.TUTORDEX_DATA_DIR!)).toEqual({
      raw: [
        { channel_link: 't.me/c/3333333333', n: 2 },
        { channel_link: 't.me/c/5555555555', n: 1 },
      ],
      runs: [{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }, { status: 'ok' }],
    });
  });

  it('--channel @username picks the chat whose id an earlier backfill stored for it', async () => {
    const source = new MemorySource();
    source.addChannel({ channelLink: 't.me/tutorslounge', channelId: '3333333333', title: 'Tutors Lounge' }, [
      makeMessage({ id: 40, date: new Date('2024-04-01T00:00:00Z'), text: 'a later post' }),
    ]);
    const ws = workspace(source);
    const before = await ws.run(['import', account, '--channel', '@tutorslounge']);
    expect(before.code).toBe(1);
    expect(before.err).toMatch(
      /^tutordex: --channel @tutorslounge: no chat has that name, and a Telegram Desktop export does not record usernames \(nor was t\.me\/tutorslounge collected before\)/,
    );
    expect((await ws.run(['backfill', '--channels', '@tutorslounge'])).code).toBe(0);
    const r = await ws.run(['import', account, '--channel', '@TutorsLounge']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^run 2 ok: scanned=2 written=2 new=2 /);
    expect((await counts(ws.env.TUTORDEX_DATA_DIR!)).raw).toEqual([{ channel_link: 't.me/tutorslounge', n: 3 }]);
  });
});

describe('tutordex import: old exports and folders with files that cannot be read (issue 15 #9)', () => {
  const fixtures = path.resolve('test/fixtures/desktop-export');
  const old = path.join(fixtures, 'old', 'result.json');
  const oldExport =
    /an export from an old Telegram Desktop version: message id 2 \(messages\[1\]\) has "date" in local time and no "date_unixtime", .*; pass --timezone with that computer's time zone, e\.g\. --timezone Asia\/Singapore or --timezone \+08:00$/;
  const state = async (dataDir: string) => {
    const db = await openPglite({ dataDir });
    try {
      return {
        raw: await db.query<{ channel_link: string; message_id: number; message_date: Date; edit_date: Date | null }>(
          'select channel_link, message_id, message_date, edit_date from telegram_messages_raw order by channel_link, message_id',
        ),
        channels: (await db.query<{ channel_link: string }>('select channel_link from telegram_channels order by 1')).map((c) => c.channel_link),
        runs: await db.query<{ status: string; meta: Record<string, unknown> }>('select status, meta from ingestion_runs order by id'),
      };
    } finally {
      await db.close();
    }
  };

  it('an old export: refused without --timezone (one line, nothing written), read in that zone with it; a bad zone is one line, exit 2', async () => {
    const ws = workspace();
    const refused = await ws.run(['import', old]);
    expect(refused.code).toBe(1);
    expect(refused.err.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.err.trimEnd()).toMatch(new RegExp(`^tutordex: ${old.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${oldExport.source}`));
    for (const bad of ['Mars/Base', '+15:00', '08:00', 'Singapore Time']) {
      const r = await ws.run(['import', old, '--timezone', bad]);
      expect([r.code, r.err.trimEnd().split('\n').length], bad).toEqual([2, 1]);
      expect(r.err, bad).toMatch(
        /^tutordex: --timezone: ".*" is not a (time zone \(expected an IANA name such as Asia\/Singapore, or an offset such as \+08:00\)|UTC offset)/,
      );
    }
    expect(await state(ws.env.TUTORDEX_DATA_DIR!)).toEqual({ raw: [], channels: [], runs: [] });

    const ok = await ws.run(['import', old, '--timezone', 'Asia/Singapore']);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe('run 1 ok: scanned=3 written=3 new=3 changed=0 unchanged=0 enqueued=3 channels_done=1 files_imported=1 files_refused=0');
    const { raw, runs } = await state(ws.env.TUTORDEX_DATA_DIR!);
    expect(raw.map((m) => [m.channel_link, m.message_id, m.message_date.toISOString(), m.edit_date?.toISOString() ?? null])).toEqual([
      ['t.me/c/7777777777', 2, '2021-03-04T10:22:10.000Z', null],
      ['t.me/c/7777777777', 3, '2021-03-05T01:15:00.000Z', '2021-03-05T02:00:30.000Z'],
      ['t.me/c/7777777777', 4, '2021-03-05T16:05:00.000Z', null],
    ]);
    expect(runs[0]!.meta).toMatchObject({ timezone: 'Asia/Singapore', files_refused: 0 });
    // the same instants from the same export read with the offset instead of the zone name
    const offset = await ws.run(['import', old, '--timezone', '+08:00']);
    expect(offset.out).toMatch(/ new=0 changed=0 unchanged=3 /);
  });

  it('a folder: each file that cannot be read is refused alone with its reason, the others are imported; the summary lists both, exit 1', async () => {
    const ws = workspace();
    const dir = path.join(ws.dir, 'exports');
    const file = (name: string, text: string) => {
      mkdirSync(path.join(dir, name), { recursive: true });
      writeFileSync(path.join(dir, name, 'result.json'), text);
      return path.join(dir, name, 'result.json');
    };
    const alpha = file('1-alpha', readFileSync(path.join(fixtures, 'folder', 'chat-a', 'result.json'), 'utf8'));
    const gamma = file('2-gamma', readFileSync(old, 'utf8'));
    // a current export whose first messages are fine and whose end is missing: nothing of it may be written
    const beta = readFileSync(path.join(fixtures, 'folder', 'chat-b', 'result.json'), 'utf8');
    const cut = file(
      '3-cut',
      `{"name": "Tuition Delta", "type": "public_channel", "id": 4444444444, ${beta.slice(beta.indexOf('"messages"'), beta.indexOf('"id": 105'))}`,
    );

    const r = await ws.run(['import', dir]);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^run 1 ok: scanned=8 written=8 new=8 changed=0 unchanged=0 enqueued=\d+ channels_done=1 files_imported=1 files_refused=2$/);
    expect(lines[1]).toBe(`  imported: ${alpha}`);
    expect(lines[2]).toMatch(new RegExp(`^  refused: ${gamma.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${oldExport.source}`));
    expect(lines[3]).toBe(`  refused: ${cut}: not complete JSON: it ends unexpectedly at byte ${readFileSync(cut).length} (truncated export?)`);
    expect(lines).toHaveLength(4);
    expect(r.err.trimEnd().split('\n').at(-1)).toBe('tutordex: 2 of 3 export files refused (listed above); the others were imported');
    let s = await state(ws.env.TUTORDEX_DATA_DIR!);
    expect([...new Set(s.raw.map((m) => m.channel_link))]).toEqual(['t.me/c/1111111111']);
    expect(s.channels).toEqual(['t.me/c/1111111111']);
    expect(s.runs).toHaveLength(1);
    expect(s.runs[0]).toMatchObject({ status: 'ok', meta: { files_imported: 1, files_refused: 2, files: [alpha] } });
    expect((s.runs[0]!.meta.refused_files as { file: string }[]).map((f) => f.file)).toEqual([gamma, cut]);

    // with the zone the old export is read too; the cut one is still refused
    const again = await ws.run(['import', dir, '--timezone', 'Asia/Singapore']);
    expect(again.code).toBe(1);
    expect(again.out.split('\n')[0]).toMatch(/^run 2 ok: scanned=11 written=11 new=3 changed=0 unchanged=8 .* files_imported=2 files_refused=1$/);
    expect(again.err).toContain('tutordex: 1 of 3 export files refused (listed above); the others were imported');
    s = await state(ws.env.TUTORDEX_DATA_DIR!);
    expect([...new Set(s.raw.map((m) => m.channel_link))]).toEqual(['t.me/c/1111111111', 't.me/c/7777777777']);
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
  const configFor = (env: Record<string, string>) =>
    loadConfig({ env: { TELEGRAM_API_ID: '12345', TELEGRAM_API_HASH: 'abcdef0123456789hash', ...env }, envFile: null });

  it("with no second session the catch-up reads through the tail's own source (login --save writes only the main session)", () => {
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
