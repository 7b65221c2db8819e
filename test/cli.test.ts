import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.ts';
import { openPglite } from '../src/db/index.ts';
import { enqueue } from '../src/queue/index.ts';
import { insertRaw } from './support/raw.ts';
import { describePostgres } from './support/databases.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-cli-'));
  dirs.push(dir);
  const code = await runCli(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    errStream: { write: (t: string) => err.push(t) },
    env: { TUTORDEX_DATA_DIR: path.join(dir, 'db'), ...env },
    cwd: dir,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('cli usage errors', () => {
  it('unknown command: usage hint and exit 2', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'frobnicate'");
    expect(r.err).toContain('tutordex --help');
  });

  it('unknown flag: exit 2', async () => {
    const r = await cli(['queue', 'stats', '--colour']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--colour'");
  });

  it('--help exits 0 and lists the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['db', 'queue', 'config', 'start']) expect(r.out).toContain(c);
  });

  it('a bad environment value: one line naming the variable, exit 2', async () => {
    const r = await cli(['queue', 'stats'], { EXTRACTION_WORKER_BATCH_SIZE: 'lots' });
    expect(r.code).toBe(2);
    expect(r.err).toBe('tutordex: EXTRACTION_WORKER_BATCH_SIZE="lots" is invalid; expected an integer from 1 to 1000');
  });

  it('an unreachable database: one line, exit 1, password never shown', async () => {
    const r = await cli(['queue', 'stats'], { DATABASE_URL: 'postgres://app:s3cretpw@127.0.0.1:1/tutordex' });
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^tutordex: cannot connect to Postgres at postgres:\/\/app:\[redacted\]@127\.0\.0\.1:1\/tutordex: /);
    expect(r.err).not.toContain('s3cretpw');
  });

  it('--debug adds the stack trace; without it there is none', async () => {
    const env = { DATABASE_URL: 'postgres://app:s3cretpw@127.0.0.1:1/tutordex' };
    const plain = await cli(['queue', 'stats'], env);
    expect(plain.err).not.toMatch(/\n\s+at /);
    const debug = await cli(['--debug', 'queue', 'stats'], env);
    expect(debug.err).toMatch(/\n\s+at /);
    expect(debug.err).not.toContain('s3cretpw');
  });
});

describe('tutordex config', () => {
  it('prints every variable with its source and redacts secrets', async () => {
    const r = await cli(['config'], {
      SESSION_STRING: '1BVtsOK8Bu-super-secret',
      GROUP_BOT_TOKEN: '123:AAsecret-token',
      EXTRACTION_PIPELINE_VERSION: 'v9',
      SUPABASE_ENABLED: '1',
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/EXTRACTION_PIPELINE_VERSION\s+v9\s+env/);
    expect(r.out).toMatch(/SESSION_STRING\s+\[redacted\]\s+env/);
    expect(r.out).toContain('note: SUPABASE_ENABLED is not needed: the database is always on');
    expect(r.out).toContain('database: embedded PGlite in');
    expect(r.out).not.toContain('super-secret');
    expect(r.out).not.toContain('AAsecret-token');
    const json = JSON.parse((await cli(['config', '--json'], { LLM_API_KEY: 'sk-abcdef' })).out);
    expect(json.settings.find((s: { name: string }) => s.name === 'LLM_API_KEY').value).toBe('[redacted]');
  });
});

describe('db migrate and queue stats on the embedded database', () => {
  it('migrate applies then reports up to date; stats show the queue', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-cli-'));
    dirs.push(dir);
    const env = { TUTORDEX_DATA_DIR: path.join(dir, 'db') };
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t), errStream: { write: (t: string) => err.push(t) }, env, cwd: dir });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const first = await run(['db', 'migrate']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/applied 001_core_tables\napplied 002_queue_functions/);
    expect((await run(['db', 'migrate'])).out).toMatch(/^schema is up to date \(migration \d+\)/);
    const empty = await run(['queue', 'stats']);
    expect(empty.out).toContain('queue is empty');

    const db = await openPglite({ dataDir: env.TUTORDEX_DATA_DIR });
    await insertRaw(db, 't.me/agency', [1, 2, 3]);
    await enqueue(db, { pipelineVersion: 'v1', channelLink: 't.me/agency', messageIds: [1, 2, 3] });
    await db.query(`update telegram_extractions set status = 'ok' where message_id = 1`);
    await db.close();

    const stats = await run(['queue', 'stats']);
    expect(stats.code).toBe(0);
    const lines = stats.out.split('\n');
    expect(lines[0]).toMatch(/^pipeline_version\s+pending\s+processing\s+ok\s+failed\s+skipped\s+total\s+oldest pending$/);
    expect(lines[2]).toMatch(/^v1\s+2\s+0\s+1\s+0\s+0\s+3\s+\d+s ago$/);
    const json = JSON.parse((await run(['queue', 'stats', '--json', '--version', 'v1'])).out);
    expect(json.map((r: { status: string; count: number }) => [r.status, r.count])).toEqual([
      ['ok', 1],
      ['pending', 2],
    ]);
  });
});

describePostgres('queue stats over DATABASE_URL', (t) => {
  it('reads the shared Postgres queue', async () => {
    await insertRaw(t.db, 't.me/agency', [1]);
    await enqueue(t.db, { pipelineVersion: 'pg', channelLink: 't.me/agency', messageIds: [1] });
    const r = await cli(['queue', 'stats'], { DATABASE_URL: t.url! });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\npg\s+1\s+0\s+0\s+0\s+0\s+1/);
  });
});
