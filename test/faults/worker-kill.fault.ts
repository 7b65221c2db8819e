import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres } from '../support/databases.ts';
import { EXAMPLES } from '../support/assignments.ts';
import { startFakeBotApi } from '../support/fake-bot-api.ts';
import { drain, postAndEnqueue, workerConfig, workerProcessEnv } from '../support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const JOBS = Number(process.env.FAULT_WORKER_JOBS ?? 2000);
const KILLS = Number(process.env.FAULT_WORKER_KILLS ?? 5);

describePostgres('fault: worker killed -9 mid-batch with broadcasts and DMs on', (t) => {
  it(`${JOBS} jobs, ${KILLS} random kill points: every job done exactly once, no duplicate send`, async () => {
    const env = workerProcessEnv(t.url!, bot.url, {
      EXTRACTION_WORKER_BROADCAST: '1',
      EXTRACTION_WORKER_DMS: '1',
      EXTRACTION_STALE_PROCESSING_SECONDS: '2',
      // a job may sit in every killed batch: this scenario is about kills, not the stale-requeue limit
      EXTRACTION_STALE_REQUEUE_LIMIT: String(KILLS + 1),
      DELIVERY_SENDING_LEASE_SECONDS: '2',
      TELEGRAM_BOT_TIMEOUT_SECONDS: '1',
      DUPLICATE_DETECTION_ENABLED: '0',
      LOG_LEVEL: 'error',
    });
    // a daily DM limit far above the batch: this scenario is about kills, not the limit
    await t.db.query(
      `insert into tutors (chat_id, subjects, levels, dm_daily_limit) values (9001, '{MATH}', '{Secondary}', 100000), (9002, '{ENGLISH}', '{Primary}', 100000)`,
    );
    // every post is its own assignment: its own channel
    const posts = Array.from({ length: JOBS }, (_, i) => ({ channel: `t.me/faultagency${i}`, messageId: 1, text: EXAMPLES[i % EXAMPLES.length]!.raw }));
    for (let i = 0; i < posts.length; i += 500) await postAndEnqueue(t.db, posts.slice(i, i + 500));

    const killedAt: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(process.execPath, ['bin/tutordex.js', 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const [{ n: before }] = (await t.db.query<{ n: number }>(
        `select count(*)::int as n from telegram_extractions where status in ('ok', 'skipped', 'failed')`,
      )) as [{ n: number }];
      const target = before + Math.max(20, Math.floor(((JOBS - before) / (KILLS - k + 1)) * Math.random()));
      for (;;) {
        const [{ n }] = (await t.db.query<{ n: number }>(
          `select count(*)::int as n from telegram_extractions where status in ('ok', 'skipped', 'failed')`,
        )) as [{ n: number }];
        if (n >= target || n >= JOBS) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      await exited;
      killedAt.push(target);
    }
    // restart: a clean worker finishes the queue and the outbox (stale jobs and mid-send rows reconciled)
    await new Promise((r) => setTimeout(r, 2500));
    await drain(t.db, workerConfig(env), { broadcast: true, dms: true }, { intervals: { staleMs: 100, heartbeatMs: 1000, maintenanceMs: 600_000 } });

    const statuses = await t.db.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from telegram_extractions group by status order by status`,
    );
    const done = statuses.filter((s) => ['ok', 'skipped'].includes(s.status)).reduce((a, s) => a + s.n, 0);
    const deliveries = await t.db.query<{ status: string; n: number }>(`select status, count(*)::int as n from deliveries group by status order by status`);
    const sends = bot.calls.filter((c) => c.method === 'sendMessage' && c.status === 200);
    const perTarget = new Map<string, number>();
    for (const c of sends) {
      const key = `${String(c.chatId)} ${JSON.stringify((c.body.reply_markup as unknown) ?? null)}`;
      perTarget.set(key, (perTarget.get(key) ?? 0) + 1);
    }
    const duplicates = [...perTarget.values()].filter((n) => n > 1).length;
    const rows = (await t.db.query<{ n: number }>(`select count(*)::int as n from deliveries`))[0]!.n;
    const uncertain = deliveries.find((d) => d.status === 'uncertain')?.n ?? 0;
    const sent = deliveries.find((d) => d.status === 'sent')?.n ?? 0;
    console.log(
      `[fault] worker kill -9 ×${KILLS} at ${killedAt.join(', ')} of ${JOBS} jobs: jobs ${JSON.stringify(statuses)}; deliveries ${JSON.stringify(deliveries)}; ` +
        `Bot API accepted ${sends.length} messages for ${rows} outbox rows; duplicate sends ${duplicates}; uncertain (crash mid-send, not re-sent) ${uncertain}`,
    );
    expect(done).toBe(JOBS);
    expect(statuses.find((s) => s.status === 'processing')).toBeUndefined();
    expect(duplicates).toBe(0);
    expect(sent + uncertain).toBe(rows);
    expect(sends.length).toBeGreaterThanOrEqual(sent);
  });
});
