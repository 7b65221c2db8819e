import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scrubSecrets } from '../src/config/index.ts';
import { MemorySource } from '../src/telegram/memory.ts';
import type { ChannelEvent, ResolvedChannel, Subscription } from '../src/telegram/index.ts';
import { cliWorkspace } from './support/cli.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';

// Issue 14 #14: no secret reaches any output, whatever the debug setting.
const TOKEN = '987654321:AAHsecretBotTokenValue-never-printed';
const BIN = path.resolve(import.meta.dirname, '../bin/tutordex.js');

let api: FakeBotApi;
const dirs: string[] = [];
beforeAll(async () => {
  api = await startFakeBotApi();
});
afterAll(async () => {
  await api.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('secrets stay out of every output (issue 14 #14)', () => {
  it('scrubSecrets masks any Telegram bot token, configured or not', () => {
    expect(scrubSecrets(`GET http://h/bot${TOKEN}/getUpdates`, [])).toBe('GET http://h/bot[redacted]/getUpdates');
    expect(scrubSecrets('message 1234567:abc is not a token', [])).toBe('message 1234567:abc is not a token');
  });

  it("issue 14 #14: with DEBUG=grammy* the tutor bot prints grammY's debug lines without the bot token", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-debug-'));
    dirs.push(dir);
    api.reset();
    const child = spawn(process.execPath, [BIN, 'bot'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        DEBUG: 'grammy*',
        TUTORDEX_DATA_DIR: path.join(dir, 'db'),
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_BOT_API_URL: api.url,
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const waitFor = async (what: string, ok: () => boolean, ms: number) => {
        const end = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr: ${err.slice(-500)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await waitFor('the bot to poll', () => api.calls.some((c) => c.method === 'getUpdates'), 60_000);
      // A proxy or a local Bot API server in front of Telegram that echoes the request path in its error: grammY
      // prints the description under grammy:error, the token in it.
      api.failNext('getUpdates', { status: 404, description: `Not Found: POST /bot${TOKEN}/getUpdates` });
      await waitFor('grammY error lines', () => /grammy:error.*Not Found/.test(err), 30_000);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(err).toMatch(/grammy:core Calling getUpdates/); // debug output is there: it is scrubbed, not silenced
    expect(err).toMatch(/grammy:error/);
    expect(err, err).toContain('[redacted]');
    expect(`${out}\n${err}`).not.toContain(TOKEN);
    expect(`${out}\n${err}`).not.toContain(TOKEN.split(':')[1]);
  }, 120_000);

  afterEach(() => api.reset());

  it('issue 14 #14: a collector error printed by start is scrubbed', async () => {
    const hash = 'f00dfacecafe0123456789abcdef0123';
    class FailingSource extends MemorySource {
      override async subscribe(_channels: ResolvedChannel[], _onEvent: (e: ChannelEvent) => Promise<void>): Promise<Subscription> {
        throw new Error(`auth failed for api_hash=${hash}`);
      }
    }
    const source = new FailingSource().addChannel({ channelLink: 't.me/agency_a', channelId: '101', title: 'Agency A' });
    const ws = cliWorkspace({ TELEGRAM_API_ID: '12345', TELEGRAM_API_HASH: hash, SESSION_STRING: '1BVtsOK8Bu-secret-session' });
    const ctrl = new AbortController();
    const errs: string[] = [];
    const running = ws.run(
      ['start', '--no-web'],
      { CHANNEL_LIST: 't.me/agency_a', RECOVERY_CATCHUP_ENABLED: '0' },
      { telegramSource: () => source, signal: ctrl.signal, err: (s) => errs.push(s) },
    );
    const end = Date.now() + 60_000;
    while (!errs.some((e) => e.includes('collector stopped')) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    ctrl.abort();
    const r = await running;
    expect(r.err).toContain('tutordex: collector stopped: auth failed for api_hash=[redacted]');
    expect(r.err).not.toContain(hash);
  }, 90_000);
});
