import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres } from '../support/databases.ts';
import { EXAMPLES } from '../support/assignments.ts';
import { startFakeBotApi } from '../support/fake-bot-api.ts';
import { postAndEnqueue, workerProcessEnv } from '../support/worker.ts';

let bot: Awaited<ReturnType<typeof startFakeBotApi>>;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

const ASSIGNMENTS = Number(process.env.FAULT_BOT_ASSIGNMENTS ?? 40);
const OUTAGE_SECONDS = Number(process.env.FAULT_BOT_OUTAGE_SECONDS ?? 60);
const CHANNELS = ['@tutordex_fault_a', '@tutordex_fault_b'];

const count = async (db: { query<T>(sql: string): Promise<T[]> }, sql: string) => (await db.query<{ n: number }>(sql))[0]?.n ?? 0;

describePostgres('fault: Bot API answering 429 to 1 call in 3, then down for a minute', (t) => {
  it(`${ASSIGNMENTS} assignments to ${CHANNELS.length} channels + tutor DMs: every message delivered exactly once, in order per chat`, async () => {
    let sendCalls = 0;
    bot.failWhen((call) => (call.method === 'sendMessage' && ++sendCalls % 3 === 0 ? { status: 429, retryAfter: 1 } : null));
    await t.db.query(
      `insert into tutors (chat_id, subjects, levels, dm_daily_limit) select 7000 + g, '{MATH,ENGLISH,SCIENCE,CHEMISTRY,PHYSICS}', '{Primary,Secondary,JC}', 100000 from generate_series(1, 6) g`,
    );
    const posts = Array.from({ length: ASSIGNMENTS }, (_, i) => ({
      channel: `t.me/botfaultagency${i}`,
      messageId: 1,
      text: EXAMPLES[i % EXAMPLES.length]!.raw,
    }));
    await postAndEnqueue(t.db, posts);

    const env = workerProcessEnv(t.url!, bot.url, {
      EXTRACTION_WORKER_BROADCAST: '1',
      EXTRACTION_WORKER_DMS: '1',
      BROADCAST_CHAT_ID: CHANNELS.join(','),
      DUPLICATE_DETECTION_ENABLED: '0',
      DELIVERY_MAX_ATTEMPTS: '3',
      // one job at a time, so outbox ids are allocated in commit order and "in order per chat" is exact (with
      // concurrent jobs, two transactions may commit in the other order than their ids; neither order is wrong)
      EXTRACTION_WORKER_CONCURRENCY: '1',
      LOG_LEVEL: 'error',
    });
    const started = Date.now();
    const child = spawn(process.execPath, ['bin/tutordex.js', 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      // the outage starts once every job has queued its messages and about a third of them are out
      for (;;) {
        const total = await count(t.db, `select count(*)::int as n from deliveries`);
        const sent = await count(t.db, `select count(*)::int as n from deliveries where status = 'sent'`);
        const jobsLeft = await count(t.db, `select count(*)::int as n from telegram_extractions where status in ('pending', 'processing')`);
        if (jobsLeft === 0 && total > 0 && sent >= total / 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await bot.setOutage('refuse');
      const outageStarted = Date.now();
      const sentAtOutage = await count(t.db, `select count(*)::int as n from deliveries where status = 'sent'`);
      await new Promise((r) => setTimeout(r, OUTAGE_SECONDS * 1000));
      const failedDuringOutage = await count(t.db, `select count(*)::int as n from deliveries where status in ('failed', 'uncertain')`);
      // rows whose last try was refused (a refused connection never arrives, so the fake cannot count it)
      const refused = await count(t.db, `select count(*)::int as n from deliveries where status = 'pending' and error_json->>'reached_telegram' = 'no'`);
      await bot.setOutage(false);
      const outageEnded = Date.now();
      for (;;) {
        const open = await count(t.db, `select count(*)::int as n from deliveries where status in ('pending', 'sending')`);
        const jobsLeft = await count(t.db, `select count(*)::int as n from telegram_extractions where status in ('pending', 'processing')`);
        if (open === 0 && jobsLeft === 0) break;
        if (Date.now() - outageEnded > 120_000) throw new Error(`outbox did not drain within 120 s of the outage ending (${open} open)`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const drainedAt = Date.now();

      const rows = await t.db.query<{
        id: number;
        recipient: string;
        kind: string;
        status: string;
        telegram_message_id: number | null;
        message_html: string;
        attempts: number;
      }>(`select id, recipient, kind, status, telegram_message_id, message_html, attempts from deliveries order by id`);
      const byChat = new Map<string, typeof rows>();
      for (const r of rows) byChat.set(r.recipient, [...(byChat.get(r.recipient) ?? []), r]);
      let outOfOrder = 0;
      let mismatched = 0;
      for (const [chat, list] of byChat) {
        const ids = list.map((r) => Number(r.telegram_message_id));
        for (let i = 1; i < ids.length; i++) if (!(ids[i]! > ids[i - 1]!)) outOfOrder++;
        // what the chat shows, in order, is exactly the outbox rows in id order: nothing missing, nothing twice
        const shown = bot.messages(chat).map((m) => m.text);
        if (JSON.stringify(shown) !== JSON.stringify(list.map((r) => r.message_html))) mismatched++;
      }
      const accepted = bot.calls.filter((c) => c.method === 'sendMessage' && c.status === 200).length;
      const limited = bot.calls.filter((c) => c.method === 'sendMessage' && c.status === 429).length;
      const statuses = Object.fromEntries(
        (await t.db.query<{ status: string; n: number }>(`select status, count(*)::int as n from deliveries group by status order by status`)).map((s) => [
          s.status,
          s.n,
        ]),
      );
      console.log(
        `[fault] bot api: ${rows.length} outbox rows to ${byChat.size} chats (${rows.filter((r) => r.kind === 'broadcast').length} broadcasts, ${rows.filter((r) => r.kind === 'dm').length} DMs); ` +
          `${limited} answers 429 (1 in 3), ${refused} rows waiting on refused connections at the end of a ${OUTAGE_SECONDS} s outage that began after ${sentAtOutage} sends (${((outageStarted - started) / 1000).toFixed(1)} s in); ` +
          `failed during outage ${failedDuringOutage}; drained ${((drainedAt - outageEnded) / 1000).toFixed(1)} s after it ended; deliveries ${JSON.stringify(statuses)}; ` +
          `Bot API accepted ${accepted}; chats out of order ${outOfOrder}; chats whose history differs from the outbox ${mismatched}`,
      );
      expect(rows.length).toBeGreaterThan(ASSIGNMENTS * CHANNELS.length);
      expect(statuses).toEqual({ sent: rows.length });
      expect(accepted).toBe(rows.length);
      expect(outOfOrder).toBe(0);
      expect(mismatched).toBe(0);
      expect(limited).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
      expect(failedDuringOutage).toBe(0);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
