import { expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/cli/main.ts';
import type { SourcePurpose } from '../../src/cli/runtime.ts';
import { makeMessage, MemorySource } from '../../src/telegram/memory.ts';
import { describePostgres } from '../support/databases.ts';
import { channel } from '../support/collector.ts';

/**
 * Issue 15, fault suite: the collector must not lose a post (1) made in the last two minutes before a restart,
 * (2) made while the connection was down mid-run (Telegram never replays those updates), in (3) the default
 * single-login setup (one session: `tutordex login --save` wrote only TG_SESSION, no second session). The real
 * `tutordex live` command on real Postgres, Telegram replaced by the in-memory source.
 */

const CHANNELS = ['gapfaulta', 'gapfaultb', 'gapfaultc', 'gapfaultd'].map(channel);
const HISTORY = Number(process.env.FAULT_GAP_HISTORY ?? 300); // posts per channel before the restart
const DURING_DISCONNECT = Number(process.env.FAULT_GAP_DISCONNECT_POSTS ?? 40); // per channel

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describePostgres('fault: posts around a restart and a mid-run disconnect, single-login setup', (t) => {
  it(`${CHANNELS.length} channels: ${HISTORY} posts each (the newest in the last 2 minutes before the restart), then ${DURING_DISCONNECT} each while the connection is down – 0 lost`, async () => {
    const now = Date.now();
    const source = new MemorySource();
    const expected = new Map<string, Set<number>>();
    for (const c of CHANNELS) {
      // one post every 2 minutes for ~10 hours, then three in the last two minutes (110 s, 45 s and 3 s before)
      const ages = [...Array.from({ length: HISTORY - 3 }, (_, i) => (HISTORY - i) * 120_000), 110_000, 45_000, 3_000];
      source.addChannel(
        c,
        ages.map((age, i) => makeMessage({ id: i + 1, date: new Date(now - age), text: `${c.channelLink} post ${i + 1}` })),
      );
      expected.set(c.channelLink, new Set(ages.map((_, i) => i + 1)));
    }
    const purposes: SourcePurpose[] = [];
    const env = {
      DATABASE_URL: t.url!,
      EXTRACTION_PIPELINE_VERSION: 'gapfault',
      // the default single-login setup: one session, no SESSION_STRING_RECOVERY, no tutordex_recovery.session
      TELEGRAM_API_ID: '12345',
      TELEGRAM_API_HASH: 'abcdef0123456789hash',
      SESSION_STRING: '1BVtsOK8Bu-gapfault-session',
      RECOVERY_CATCHUP_QUEUE_LOW_WATERMARK: '100000000',
      RECOVERY_CATCHUP_CHECK_INTERVAL_SECONDS: '5',
      RECOVERY_GAP_CHECK_MINUTES: '0', // only reconnects trigger a gap check here: the disconnect must be detected
      LOG_LEVEL: 'silent',
    };
    const count = async () => (await t.db.query<{ n: number }>(`select count(*)::int as n from telegram_messages_raw`))[0]!.n;
    const live = (signal: AbortSignal) => {
      const io: CliIO = {
        out: () => {},
        err: () => {},
        errStream: { write: () => true },
        env,
        cwd: process.cwd(),
        signal,
        telegramSource: (purpose) => (purposes.push(purpose), source),
      };
      return runCli(['live', '--channels', CHANNELS.map((c) => c.channelLink).join(',')], io);
    };

    // before the restart: everything older than 30 minutes was collected
    const before = new AbortController();
    const backfill = runCli(['backfill', '--channels', CHANNELS.map((c) => c.channelLink).join(','), '--until', new Date(now - 30 * 60_000).toISOString()], {
      out: () => {},
      err: () => {},
      errStream: { write: () => true },
      env,
      cwd: process.cwd(),
      signal: before.signal,
      telegramSource: () => source,
    });
    expect(await backfill).toBe(0);
    const stored = await count();
    expect(stored).toBeLessThan(CHANNELS.length * HISTORY);

    // the restart: live, whose catch-up must read up to the moment the tail listens
    const abort = new AbortController();
    const started = Date.now();
    const running = live(abort.signal);
    for (;;) {
      const [run] = await t.db.query<{ status: string }>(`select status from ingestion_runs where run_type = 'catchup' order by id desc limit 1`);
      if (run && run.status !== 'running') break;
      if (Date.now() - started > 120_000) throw new Error('the catch-up did not finish within 120 s');
      await sleep(50);
    }
    const catchupMs = Date.now() - started;
    const afterRestart = await count();

    // mid-run disconnect: posts keep coming, no update reaches the tail; then the connection is back
    source.dropConnection();
    for (let i = 0; i < DURING_DISCONNECT; i++) {
      for (const c of CHANNELS) {
        const id = HISTORY + 1 + i;
        source.post(c.channelLink, makeMessage({ id, date: new Date(), text: `${c.channelLink} while down ${id}` }));
        expected.get(c.channelLink)!.add(id);
      }
    }
    await sleep(200);
    const duringDisconnect = (await count()) - afterRestart;
    const reconnectedAt = Date.now();
    source.restoreConnection();
    const total = [...expected.values()].reduce((n, s) => n + s.size, 0);
    while ((await count()) < total && Date.now() - reconnectedAt < 60_000) await sleep(50);
    const healedMs = Date.now() - reconnectedAt;
    // and the stream is live again
    const lastId = HISTORY + DURING_DISCONNECT + 1;
    for (const c of CHANNELS) {
      source.post(c.channelLink, makeMessage({ id: lastId, date: new Date(), text: `${c.channelLink} after ${lastId}` }));
      expected.get(c.channelLink)!.add(lastId);
    }
    await source.settle();
    abort.abort();
    expect(await running).toBe(0);
    const posted = [...expected.values()].reduce((n, s) => n + s.size, 0);

    const rows = await t.db.query<{ channel_link: string; message_id: number }>(`select channel_link, message_id from telegram_messages_raw`);
    const got = new Map<string, Set<number>>();
    for (const r of rows) got.set(r.channel_link, (got.get(r.channel_link) ?? new Set()).add(Number(r.message_id)));
    let lost = 0;
    let lostLastTwoMinutes = 0;
    for (const [link, ids] of expected) {
      for (const id of ids) {
        if (got.get(link)?.has(id)) continue;
        lost++;
        if (id > HISTORY - 3 && id <= HISTORY) lostLastTwoMinutes++;
      }
    }
    const unexpected = rows.length - [...got.entries()].reduce((n, [link, ids]) => n + [...ids].filter((id) => expected.get(link)?.has(id)).length, 0);
    const jobs = (await t.db.query<{ n: number }>(`select count(*)::int as n from telegram_extractions where pipeline_version = 'gapfault'`))[0]!.n;
    const runs = await t.db.query<{ run_type: string; status: string; meta: Record<string, unknown> }>(
      `select run_type, status, meta from ingestion_runs order by id`,
    );
    console.log(
      `[fault] collector gaps: ${CHANNELS.length} channels, ${rows.length} raw rows of ${posted} posted (stored before the restart ${stored}); ` +
        `restart: catch-up ${catchupMs} ms, last-two-minutes posts lost ${lostLastTwoMinutes}; ` +
        `disconnect: ${DURING_DISCONNECT * CHANNELS.length} posts while down (${duringDisconnect} heard), all stored ${healedMs} ms after the reconnect; ` +
        `lost ${lost}, unexpected rows ${unexpected}, jobs ${jobs}; sources asked for ${JSON.stringify(purposes)}; runs ${JSON.stringify(runs.map((r) => `${r.run_type}:${r.status}`))}`,
    );
    expect(lost).toBe(0);
    expect(unexpected).toBe(0);
    expect(rows.length).toBe(posted);
    expect(jobs).toBe(posted);
    expect(duringDisconnect).toBe(0); // the source really dropped them
    // single login: the catch-up ran, through the tail's own source (no second session was asked for)
    expect(purposes).toEqual(['collector']);
    expect(runs.map((r) => [r.run_type, r.status])).toEqual([
      ['backfill', 'ok'],
      ['live', 'cancelled'],
      ['catchup', 'ok'],
    ]);
    expect(runs.find((r) => r.run_type === 'live')!.meta).toMatchObject({ shared_session: true, gapFilled: DURING_DISCONNECT * CHANNELS.length });
  });
});
