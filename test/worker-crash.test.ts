import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres } from './support/databases.ts';
import { post } from './support/assignments.ts';
import { startFakeBotApi } from './support/fake-bot-api.ts';
import { drain, postAndEnqueue, workerConfig, workerProcessEnv } from './support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

describePostgres('worker killed between send and record', (t) => {
  it('the message reached Telegram, the process died before recording it: after a restart it is not sent again', async () => {
    const env = workerProcessEnv(t.url!, bot.url);
    await postAndEnqueue(t.db, [{ channel: 't.me/cocoassignments', messageId: 1, text: post('cocoassignments', 0) }]);
    const child = spawn(process.execPath, ['bin/tutordex.js', 'worker', '--broadcast'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Telegram accepts the message; the worker is killed -9 before the answer reaches it
    bot.failWhen((call) => {
      if (call.method === 'sendMessage') child.kill('SIGKILL');
      return { status: 500 };
    });
    expect(await exited).toBe('SIGKILL');
    bot.failWhen(null);
    expect(bot.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
    expect(await t.db.query(`select status from deliveries`)).toEqual([{ status: 'sending' }]);
    expect(await t.db.query(`select status from telegram_extractions`)).toEqual([{ status: 'ok' }]);

    await new Promise((r) => setTimeout(r, 2100)); // past the 2 s lease below
    const { result } = await drain(t.db, workerConfig({ ...env, DELIVERY_SENDING_LEASE_SECONDS: '2', TELEGRAM_BOT_TIMEOUT_SECONDS: '1' }), { broadcast: true });
    expect(result.delivery).toMatchObject({ sent: 0 });
    expect(bot.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
    expect(await t.db.query(`select status, error_json ->> 'type' as type from deliveries`)).toEqual([{ status: 'uncertain', type: 'interrupted_mid_send' }]);
  }, 60_000);
});
