/**
 * Queue throughput: claim + complete of no-op jobs, our queue vs graphile-worker and pg-boss in their fastest
 * documented configurations, on the same Postgres in the same run. Each figure is the drain time of a pre-filled queue: workers are started
 * and idle first, the jobs are committed in one transaction, the clock runs from that commit until every job is
 * completed in the database.
 */
import { Logger, makeWorkerUtils, run, type Runner } from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { migrate, openPglite, openPostgres, type Database } from '../src/db/index.ts';
import { claim, complete, enqueue, waitForWork } from '../src/queue/index.ts';
import { fmt, machine, median, printTable, ratioOf, scratchDatabase, type SummaryRow } from './support.ts';

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHANNEL = 't.me/bench';

async function fillRaw(db: Database, n: number): Promise<void> {
  await db.query(
    `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json)
     select $1, m, now(), 'post', '{}'::jsonb from generate_series(1, $2::integer) as m`,
    [CHANNEL, n],
  );
}

/** Start `workers` claim loops (idle, waiting for NOTIFY), enqueue `n` jobs, return jobs/s of the drain. */
async function drainOurs(handles: Database[], version: string, n: number, batch: number): Promise<number> {
  let remaining = n;
  let started = 0;
  const stop = new AbortController();
  const loops = handles.map(async (db) => {
    while (remaining > 0) {
      const jobs = await claim(db, version, batch);
      if (jobs.length === 0) {
        if (remaining > 0) await waitForWork(db, version, { timeoutMs: 20, signal: stop.signal });
        continue;
      }
      await complete(
        db,
        jobs.map((j) => ({ id: j.id, attempt: j.attempt, canonical: null })),
      );
      remaining -= jobs.length;
    }
  });
  const ids = Array.from({ length: n }, (_, i) => String(i + 1));
  await enqueue(handles[0]!, { pipelineVersion: version, channelLink: CHANNEL, messageIds: ids });
  started = performance.now();
  await Promise.all(loops);
  stop.abort();
  return n / ((performance.now() - started) / 1000);
}

async function oursOnPostgres(workers: number, batch: number): Promise<number[]> {
  const scratch = await scratchDatabase('ours');
  const results: number[] = [];
  try {
    const setup = await openPostgres({ url: scratch.url, label: 'bench', max: 1 });
    await migrate(setup);
    await fillRaw(setup, JOBS);
    const handles = await Promise.all(Array.from({ length: workers }, () => openPostgres({ url: scratch.url, label: 'bench', max: 1 })));
    for (let r = 0; r < ROUNDS; r++) results.push(await drainOurs(handles, `bench-${r}`, JOBS, batch));
    await Promise.all([...handles, setup].map((h) => h.close()));
  } finally {
    await scratch.drop();
  }
  return results;
}

async function oursOnPglite(batch: number): Promise<number[]> {
  const db = await openPglite({ dataDir: null });
  const results: number[] = [];
  try {
    await migrate(db);
    await fillRaw(db, JOBS);
    for (let r = 0; r < ROUNDS; r++) results.push(await drainOurs([db], `bench-${r}`, JOBS, batch));
  } finally {
    await db.close();
  }
  return results;
}

async function graphile(concurrency: number): Promise<number[]> {
  const scratch = await scratchDatabase('graphile');
  const results: number[] = [];
  try {
    const logger = new Logger(() => () => {});
    // our own pool, ended before the database is dropped (a pool graphile ends lazily crashed the run on drop)
    const pgPool = new pg.Pool({ connectionString: scratch.url, max: concurrency + 4 });
    pgPool.on('error', () => {});
    pgPool.on('connect', (client) => client.on('error', () => {}));
    const utils = await makeWorkerUtils({ pgPool, logger });
    await utils.migrate();
    for (let r = 0; r < ROUNDS; r++) {
      let done = 0;
      let finished: () => void = () => {};
      const allDone = new Promise<void>((resolve) => (finished = resolve));
      const runner: Runner = await run({
        pgPool,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        logger,
        taskList: { noop: async () => {} },
        preset: { worker: { localQueue: { size: 50 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // let it boot and go idle
      runner.events.on('job:complete', () => {
        if (++done === JOBS) finished();
      });
      const jobs = Array.from({ length: JOBS }, (_, i) => ({ identifier: 'noop', payload: { i } }));
      // one transaction for all jobs, like our single enqueue call
      await utils.withPgClient(async (client) => {
        await client.query('begin');
        for (let i = 0; i < jobs.length; i += 1000) {
          await client.query('select graphile_worker.add_jobs(array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))', [
            JSON.stringify(jobs.slice(i, i + 1000).map((j) => ({ identifier: j.identifier, payload: j.payload }))),
          ]);
        }
        await client.query('commit');
      });
      const started = performance.now();
      await allDone;
      // completions are batched: wait until the database agrees every job is gone
      for (;;) {
        const left = await utils.withPgClient((c) => c.query('select count(*)::int as n from graphile_worker._private_jobs'));
        if (left.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      results.push(JOBS / ((performance.now() - started) / 1000));
      await runner.stop();
    }
    await utils.release();
    await pgPool.end();
  } finally {
    await scratch.drop();
  }
  return results;
}

const PGBOSS_BATCH = Number(process.env.BENCH_PGBOSS_BATCH ?? 100);
/** pg-boss 10 rejects anything below 0.5 s (MIN_POLLING_INTERVAL_MS = 500). */
const PGBOSS_POLL_SECONDS = 0.5;

/**
 * pg-boss 10: one PgBoss instance, `workers` calls to work() (v10 removed teamSize/teamConcurrency; its docs say
 * each work() call adds a polling worker), batchSize PGBOSS_BATCH, the minimum polling interval, maintenance and
 * cron scheduling off. pg-boss 10 has no LISTEN/NOTIFY wake-up and its worker sleeps out the rest of the polling
 * interval after every fetch, full or not; with `notify` the handler calls the documented notifyWorker(id) after
 * each batch so the worker fetches again at once.
 */
async function pgBoss(workers: number, notify: boolean): Promise<{ rates: number[]; pickupMs: number[] }> {
  const scratch = await scratchDatabase('pgboss');
  const results: number[] = [];
  const pickupMs: number[] = [];
  // our own pool, ended before the database is dropped (pg-boss's own pool left connections behind on stop())
  const pool = new pg.Pool({ connectionString: scratch.url, max: workers + 2, application_name: 'pgboss' });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const boss = new PgBoss({ db: { executeSql: (text, values) => pool.query(text, values) }, supervise: false, schedule: false });
  boss.on('error', (err) => console.error('pg-boss error:', err.message));
  try {
    await boss.start();
    const db = boss.getDb();
    for (let r = 0; r < ROUNDS; r++) {
      const queue = `noop-${r}`;
      await boss.createQueue(queue);
      let done = 0;
      let firstAt = 0;
      let finished: () => void = () => {};
      const allDone = new Promise<void>((resolve) => (finished = resolve));
      for (let w = 0; w < workers; w++) {
        const ref: { id?: string } = {};
        ref.id = await boss.work(queue, { batchSize: PGBOSS_BATCH, pollingIntervalSeconds: PGBOSS_POLL_SECONDS }, async (jobs) => {
          if (done === 0) firstAt = performance.now();
          done += jobs.length;
          if (done >= JOBS) finished();
          if (notify && ref.id) boss.notifyWorker(ref.id);
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // let the workers boot and go idle
      // insert() is one statement, so all jobs commit together, like our single enqueue call
      await boss.insert(Array.from({ length: JOBS }, (_, i) => ({ name: queue, data: { i } })));
      const started = performance.now();
      await allDone;
      // complete() runs after the handler without being awaited: wait until the database agrees every job is done
      for (;;) {
        const left = await db.executeSql(`select count(*)::int as n from pgboss.job where name = $1 and state <> 'completed'`, [queue]);
        if (left.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      results.push(JOBS / ((performance.now() - started) / 1000));
      pickupMs.push(firstAt - started);
      await boss.offWork(queue);
    }
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true, timeout: 1000 }).catch((e) => console.error('pg-boss stop failed:', e));
    await pool.end();
    await scratch.drop();
  }
  return { rates: results, pickupMs };
}

export async function queueBenchmark(): Promise<SummaryRow[]> {
  console.log(`queue benchmark: ${fmt(JOBS)} no-op jobs, ${ROUNDS} rounds each (median shown), ${machine()}`);
  const batch = Number(process.env.BENCH_QUEUE_BATCH ?? 100);
  const graphile4 = median(await graphile(4));
  const ours1 = median(await oursOnPostgres(1, batch));
  const ours4 = median(await oursOnPostgres(4, batch));
  const ours4small = median(await oursOnPostgres(4, 20));
  const pglite1 = median(await oursOnPglite(batch));
  const boss = [await pgBoss(1, false), await pgBoss(4, false), await pgBoss(4, true)];
  const [boss1, boss4, boss4notify] = boss.map((b) => median(b.rates)) as [number, number, number];
  const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}×`;
  const row = (label: string, x: number) => [label, fmt(x), ratio(x, graphile4), ratio(x, ours4)];
  const bossLabel = `batchSize ${PGBOSS_BATCH}, pollingIntervalSeconds ${PGBOSS_POLL_SECONDS} (min), maintenance/cron off`;
  const rows: (string | number)[][] = [
    row('graphile-worker 0.17.3, concurrency 4, localQueue 50, batched completion (baseline)', graphile4),
    row(`tutordex queue, Postgres, 1 worker, claim ${batch} + batch complete`, ours1),
    row(`tutordex queue, Postgres, 4 workers, claim ${batch} + batch complete`, ours4),
    row(`tutordex queue, Postgres, 4 workers, claim 20 + batch complete`, ours4small),
    row(`tutordex queue, PGlite (embedded), 1 worker, claim ${batch}`, pglite1),
    row(`pg-boss 10.4.2, 1 worker (work() ×1), ${bossLabel}`, boss1),
    row(`pg-boss 10.4.2, 4 workers (work() ×4), ${bossLabel}`, boss4),
    row(`pg-boss 10.4.2, 4 workers (work() ×4), ${bossLabel}, notifyWorker after each batch`, boss4notify),
  ];
  printTable(['system', 'jobs/s', 'vs graphile', 'vs tutordex 4 workers'], rows);
  const pickups = boss.map((b) => `${Math.round(median(b.pickupMs))} ms`).join(' / ');
  console.log(`\npg-boss commit → first batch in a handler (median; 1 worker / 4 workers / 4 workers + notifyWorker): ${pickups}`);
  console.log('(pg-boss 10 polls, no LISTEN/NOTIFY: idle workers find new jobs at their next poll, included in the drain time above)');
  const target = ours4 / graphile4;
  console.log(`\ntarget: tutordex with 4 workers ≥ 1.5× graphile-worker's fastest → ${target.toFixed(2)}× ${target >= 1.5 ? 'MET' : 'NOT MET'}`);
  const graphileBase = `graphile-worker ${fmt(graphile4)} jobs/s`;
  const summary = (measurement: string, x: number): SummaryRow => ({
    suite: 'queue',
    measurement,
    value: `${fmt(x)} jobs/s`,
    baseline: graphileBase,
    ratio: ratioOf(x, graphile4),
  });
  return [
    summary(`tutordex, 1 worker (${fmt(JOBS)} no-op jobs)`, ours1),
    { ...summary(`tutordex, 4 workers (${fmt(JOBS)} no-op jobs)`, ours4), baseline: `${graphileBase}; target ≥ 1.5× → ${target >= 1.5 ? 'MET' : 'NOT MET'}` },
    summary('tutordex, PGlite, 1 worker', pglite1),
    summary('pg-boss 10.4.2, 1 worker', boss1),
    summary('pg-boss 10.4.2, 4 workers', boss4),
    summary('pg-boss 10.4.2, 4 workers + notifyWorker', boss4notify),
  ];
}
