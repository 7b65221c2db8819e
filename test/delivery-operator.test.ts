import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLog } from '../src/collector/index.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { createBotClient, createDispatcher, queueBroadcasts, requestBroadcastSync } from '../src/delivery/index.ts';
import { cliWorkspace } from './support/cli.ts';
import { describeEachDatabase } from './support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from './support/fake-bot-api.ts';

// Issue 14 #7: an uncertain broadcast (sent or not, its message id unknown) can be settled by the operator, and an
// edit or delete requested meanwhile is then applied. `tutordex deliveries list|resolve`.
const TOKEN = '123456:secret-token-value';
const CHANNEL = '@tutordex_test';
const FRESHNESS = { greenHours: 24, yellowHours: 36, orangeHours: 48 };

let bot: FakeBotApi;
beforeAll(async () => {
  bot = await startFakeBotApi();
});
afterAll(async () => bot.close());

async function seedAssignment(db: Database, code: string): Promise<number> {
  const [ag] = await db.query<{ id: number }>(
    `insert into agencies (channel_link, agency_display_name) values ($1, $1) on conflict (channel_link) do update set agency_display_name = excluded.agency_display_name returning id`,
    ['t.me/tutoranywhr'],
  );
  const [a] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, assignment_code, academic_display_text, rate_min, rate_max, postal_code, source_last_seen, published_at, message_link)
     values ($1, $2, 'open', $2, 'P5 Maths', 40, 50, '{"730001"}', now(), now(), 'https://t.me/tutoranywhr/1') returning id`,
    [ag!.id, code],
  );
  return Number(a!.id);
}

describeEachDatabase('tutordex deliveries: settling uncertain messages', (t) => {
  /**
   * The CLI on this test's database: the same Postgres database, or the workspace's own embedded one (closed while
   * the CLI runs: one PGlite per data directory at a time).
   */
  async function workspace() {
    const ws = cliWorkspace();
    if (t.driver === 'postgres') return { run: (argv: string[]) => ws.run(argv, { DATABASE_URL: t.url! }), db: () => t.db, close: async () => {} };
    const target = { kind: 'pglite' as const, dataDir: path.join(ws.dir, 'db') };
    let db = await openDatabase(target);
    return {
      run: async (argv: string[]) => {
        await db.close();
        try {
          return await ws.run(argv);
        } finally {
          db = await openDatabase(target);
        }
      },
      db: () => db as Database,
      close: () => db.close(),
    };
  }
  const dispatcher = (db: Database) =>
    createDispatcher({
      db,
      client: createBotClient({ token: TOKEN, apiUrl: bot.url, timeoutSeconds: 5 }),
      log: silentLog,
      leaseOwner: 'test:1',
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      freshness: FRESHNESS,
    });

  it('issue 14 #7: list shows uncertain rows with the edit or delete waiting on them; --found applies it, --resend sends once more, --lost fails it', async () => {
    bot.reset();
    const w = await workspace();
    try {
      const a1 = await seedAssignment(w.db(), 'A1');
      const a2 = await seedAssignment(w.db(), 'A2');
      const a3 = await seedAssignment(w.db(), 'A3');
      for (const a of [a1, a2, a3]) await queueBroadcasts(w.db(), a, [CHANNEL]);
      bot.misbehaveNext('sendMessage', { drop: true }, 3); // each posted, then the connection reset: all uncertain
      const d = () => dispatcher(w.db());
      expect(await d().runOnce()).toMatchObject({ uncertain: 3, sent: 0 });
      expect(bot.messages(CHANNEL)).toHaveLength(3); // Telegram has all three

      await w.db().query(`update assignments set academic_display_text = 'P5 Maths (edited)' where id = $1`, [a1]);
      await requestBroadcastSync(w.db(), a1, 'edit');
      await w.db().query(`update assignments set status = 'closed' where id = $1`, [a2]);
      await requestBroadcastSync(w.db(), a2, 'delete');

      const list = await w.run(['deliveries', 'list']);
      expect(list.code, list.err).toBe(0);
      expect(list.out).toMatch(/\n\s*1\s+broadcast\s+@tutordex_test\s+1 \(open\)\s+maybe_delivered\s+edit\s/);
      expect(list.out).toMatch(/\n\s*2\s+broadcast\s+@tutordex_test\s+2 \(closed\)\s+maybe_delivered\s+delete\s/);
      expect(list.out).toContain('3 uncertain deliveries');
      expect(list.out).toContain('tutordex deliveries resolve <id> --found <message-id> | --resend | --lost');
      const json = JSON.parse((await w.run(['deliveries', 'list', '--json'])).out) as Array<{ id: number; syncAction: string | null }>;
      expect(json.map((r) => [r.id, r.syncAction]).sort()).toEqual([
        [1, 'edit'],
        [2, 'delete'],
        [3, null],
      ]);

      // The operator finds messages 1 and 2 in the channel, and decides to re-send the third.
      expect((await w.run(['deliveries', 'resolve', '1', '--found', '1'])).out).toBe('delivery 1 recorded as sent (message 1)');
      expect((await w.run(['deliveries', 'resolve', '2', '--found', '2'])).out).toBe(
        'delivery 2 recorded as sent (message 2); the assignment is closed, so the message will be deleted',
      );
      expect((await w.run(['deliveries', 'resolve', '3', '--resend'])).out).toBe('delivery 3 queued to be sent again');
      const stats = await d().runOnce();
      expect(stats).toMatchObject({ edited: 1, deleted: 1, sent: 1 });
      expect(bot.messages(CHANNEL).map((m) => m.messageId)).toEqual([1, 3, 4]); // 2 deleted, 4 the re-send (3 is the duplicate the operator chose)
      expect(bot.messages(CHANNEL)[0]!.text.startsWith('<b>P5 Maths (edited)</b>')).toBe(true);
      const rows = await w
        .db()
        .query<{ id: number; status: string; telegram_message_id: number | null; deleted_at: Date | null }>(
          `select id, status, telegram_message_id, deleted_at from deliveries order by id`,
        );
      expect(rows.map((r) => [Number(r.id), r.status, r.telegram_message_id == null ? null : Number(r.telegram_message_id), r.deleted_at != null])).toEqual([
        [1, 'sent', 1, false],
        [2, 'sent', 2, true],
        [3, 'sent', 4, false],
      ]);

      // --lost on a fresh uncertain row; then every wrong use is one line, exit 1, nothing changed
      await queueBroadcasts(w.db(), await seedAssignment(w.db(), 'A4'), [CHANNEL]);
      bot.misbehaveNext('sendMessage', { drop: true });
      expect(await d().runOnce()).toMatchObject({ uncertain: 1 });
      expect((await w.run(['deliveries', 'resolve', '4', '--lost'])).out).toBe('delivery 4 recorded as not delivered (failed)');
      for (const [argv, message] of [
        [['deliveries', 'resolve', '4', '--lost'], 'tutordex: delivery 4 is failed, not uncertain: nothing to resolve'],
        [['deliveries', 'resolve', '99', '--resend'], 'tutordex: no delivery with id 99'],
        [['deliveries', 'resolve', '1'], 'tutordex: say what you found in the chat: exactly one of --found <message-id>, --resend, --lost'],
        [
          ['deliveries', 'resolve', '1', '--resend', '--lost'],
          'tutordex: say what you found in the chat: exactly one of --found <message-id>, --resend, --lost',
        ],
        [['deliveries', 'resolve', 'x', '--lost'], 'tutordex: the delivery id must be a positive integer, got "x"'],
        [['deliveries', 'resolve', '1', '--found', '0'], 'tutordex: --found must be a positive integer, got "0"'],
        [['deliveries', 'list', '--status', 'odd'], 'tutordex: --status must be one of pending, sending, sent, failed, skipped, uncertain, got "odd"'],
      ] as const) {
        const r = await w.run([...argv]);
        expect([r.code, r.err]).toEqual([1, message]);
      }
      expect((await w.run(['deliveries', 'list'])).out).toBe('no uncertain deliveries');
    } finally {
      await w.close();
    }
  });
});
