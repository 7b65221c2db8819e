/**
 * Ingestion: raw upsert throughput (our batched upsert with edit guard and version history) on PGlite and
 * Postgres, and enqueue-from-raw (`tutordex enqueue`, paged, one statement per page) against a plain
 * INSERT … SELECT of the same rows, in the same run on the same database.
 */
import { runEnqueue, silentLog } from '../src/collector/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { migrate, openPglite, openPostgres, type Database } from '../src/db/index.ts';
import { rawRowFromMessage, upsertRawMessages } from '../src/raw/index.ts';
import { makeMessage } from '../src/telegram/memory.ts';
import { fmt, machine, printTable, ratioOf, scratchDatabase, type SummaryRow } from './support.ts';

const BATCH = 1000;
const T0 = Date.UTC(2026, 0, 1);
const text = 'Sec 3 A-Math @ Bishan, $50/h, Tue 7pm. Female tutor preferred, min 2 years experience. Code A1234';

async function upsertThroughput(db: Database, n: number, channels: number): Promise<number> {
  const perChannel = Math.ceil(n / channels);
  const started = performance.now();
  for (let c = 0; c < channels; c++) {
    const ch = { channelLink: `t.me/bench_agency_${c}`, channelId: String(c + 1), title: null };
    for (let from = 1; from <= perChannel; from += BATCH) {
      const rows = [];
      for (let id = from; id < from + BATCH && id <= perChannel; id++) {
        rows.push(rawRowFromMessage(ch, makeMessage({ id, date: new Date(T0 + id * 60_000), text: `${text} #${id}`, views: id })));
      }
      await upsertRawMessages(db, rows);
    }
  }
  return (perChannel * channels) / ((performance.now() - started) / 1000);
}

async function enqueueComparison(db: Database, channels: number): Promise<{ ours: number; plain: number; rows: number }> {
  const links = Array.from({ length: channels }, (_, c) => `t.me/bench_agency_${c}`);
  const config = { ...loadConfig({ env: {}, envFile: null }), pipelineVersion: 'bench-enqueue' };
  const ctx = { db, config, log: silentLog, signal: new AbortController().signal };
  let started = performance.now();
  const result = await runEnqueue(ctx, { channels: links, window: { since: null, until: null }, maxMessages: null, force: false, pageSize: 5000 });
  const ours = (performance.now() - started) / 1000;
  started = performance.now();
  const [plain] = await db.query<{ n: number }>(
    `with ins as (
       insert into telegram_extractions (raw_id, pipeline_version, status, channel_link, message_id, message_date)
       select id, 'bench-plain', 'pending', channel_link, message_id, message_date from telegram_messages_raw
        where channel_link = any($1::text[]) and deleted_at is null
       returning 1)
     select count(*) as n from ins`,
    [links],
  );
  const plainSeconds = (performance.now() - started) / 1000;
  if (plain!.n !== result.totals.total_enqueued) throw new Error(`enqueue counted ${result.totals.total_enqueued}, plain insert ${plain!.n}`);
  return { ours: result.totals.total_enqueued / ours, plain: plain!.n / plainSeconds, rows: plain!.n };
}

export async function ingestBenchmark(): Promise<SummaryRow[]> {
  const N = Number(process.env.BENCH_INGEST_ROWS ?? 100_000);
  const NLITE = Number(process.env.BENCH_INGEST_PGLITE_ROWS ?? 50_000);
  console.log(`ingest benchmark: raw upsert in batches of ${BATCH}; enqueue-from-raw of ${fmt(N)} rows; ${machine()}`);
  const scratch = await scratchDatabase('ingest');
  let pgInsert = 0;
  let pgRefresh = 0;
  let enq: Awaited<ReturnType<typeof enqueueComparison>>;
  try {
    const db = await openPostgres({ url: scratch.url, label: 'bench', max: 2 });
    await migrate(db);
    pgInsert = await upsertThroughput(db, N, 4);
    pgRefresh = await upsertThroughput(db, N, 4); // re-seeing the same messages (a repeated backfill)
    enq = await enqueueComparison(db, 4);
    await db.close();
  } finally {
    await scratch.drop();
  }
  const lite = await openPglite({ dataDir: null });
  await migrate(lite);
  const liteInsert = await upsertThroughput(lite, NLITE, 4);
  const liteEnq = await enqueueComparison(lite, 4);
  await lite.close();

  printTable(
    ['measurement', 'rows/s', 'note'],
    [
      ['raw upsert, Postgres, new messages', fmt(pgInsert), `target ≥ 20,000/s → ${pgInsert >= 20_000 ? 'MET' : 'NOT MET'}`],
      ['raw upsert, Postgres, re-seen messages', fmt(pgRefresh), 'repeated backfill / catch-up overlap'],
      [`raw upsert, PGlite, new messages (${fmt(NLITE)})`, fmt(liteInsert), ''],
      [
        `enqueue-from-raw, Postgres (${fmt(enq.rows)} rows)`,
        fmt(enq.ours),
        `${(enq.ours / enq.plain).toFixed(2)}× of plain INSERT … SELECT (target ≥ 0.5 → ${enq.ours / enq.plain >= 0.5 ? 'MET' : 'NOT MET'})`,
      ],
      ['plain INSERT … SELECT, Postgres (baseline)', fmt(enq.plain), '1.00×'],
      [
        `enqueue-from-raw, PGlite (${fmt(liteEnq.rows)} rows)`,
        fmt(liteEnq.ours),
        `${(liteEnq.ours / liteEnq.plain).toFixed(2)}× of plain INSERT … SELECT (${fmt(liteEnq.plain)}/s)`,
      ],
    ],
  );
  return [
    {
      suite: 'ingest',
      measurement: `raw upsert, Postgres, new messages (${fmt(N)})`,
      value: `${fmt(pgInsert)} rows/s`,
      baseline: 'target 20,000 rows/s',
      ratio: ratioOf(pgInsert, 20_000),
    },
    {
      suite: 'ingest',
      measurement: 'raw upsert, Postgres, re-seen messages',
      value: `${fmt(pgRefresh)} rows/s`,
      baseline: `new messages ${fmt(pgInsert)} rows/s`,
      ratio: ratioOf(pgRefresh, pgInsert),
    },
    {
      suite: 'ingest',
      measurement: `raw upsert, PGlite, new messages (${fmt(NLITE)})`,
      value: `${fmt(liteInsert)} rows/s`,
      baseline: `Postgres ${fmt(pgInsert)} rows/s`,
      ratio: ratioOf(liteInsert, pgInsert),
    },
    {
      suite: 'ingest',
      measurement: `enqueue-from-raw, Postgres (${fmt(enq.rows)} rows)`,
      value: `${fmt(enq.ours)} rows/s`,
      baseline: `plain INSERT … SELECT ${fmt(enq.plain)} rows/s`,
      ratio: ratioOf(enq.ours, enq.plain),
    },
    {
      suite: 'ingest',
      measurement: `enqueue-from-raw, PGlite (${fmt(liteEnq.rows)} rows)`,
      value: `${fmt(liteEnq.ours)} rows/s`,
      baseline: `plain INSERT … SELECT ${fmt(liteEnq.plain)} rows/s`,
      ratio: ratioOf(liteEnq.ours, liteEnq.plain),
    },
  ];
}
